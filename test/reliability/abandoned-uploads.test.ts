/**
 * A server killed (SIGKILL) while a feed streams in leaves the chunks it stored, in a feed that
 * is not complete and that no request will ever complete or delete. After a restart that partial
 * feed is deleted, with its chunks, once its lease has run out: six upload-rate windows after the
 * dead server last renewed it, found by the sweep at start-up or the one every half lease
 * (src/import/abandoned-feeds.ts). Complete feeds, and the import made of one, are untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mixedFeed, processRow, startChildServer, startDemoImport, stopChildServer, waitForProcessRow } from '../helpers/child-server.ts';
import { startTrickledUpload, storedFeeds, waitForFeeds } from '../helpers/uploads.ts';

/** A one-second rate window: the lease on a partial feed lasts 6 s, and the sweep runs every 3 s. */
const WINDOW_S = 1;
const LEASE_MS = 6 * WINDOW_S * 1000;
const SWEEP_MS = LEASE_MS / 2;
/** Slack for a busy machine on top of the time the rules allow. */
const SLACK_MS = 10_000;

test('SIGKILL during an upload: after a restart the partial feed and its chunks are deleted within a lease and a sweep', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-sigkill-upload-'));
  const env = { UPLOAD_RATE_WINDOW_SECONDS: String(WINDOW_S) };
  try {
    const server = await startChildServer(dir, env);
    // A finished import: its feed is complete and must survive.
    const imported = await startDemoImport(server, mixedFeed(300));
    await waitForProcessRow(dir, imported, (p) => p.status === 3, 60_000);
    const before = await storedFeeds(dir);
    assert.deepEqual(before.partial, { feeds: 0, chunks: 0 });

    // 20,000 subscribers: about 12,000 sent at once (two chunks of 5,000 stored), the rest at
    // 8 KB/s, well above the minimum rate, so the server is still reading when it is killed.
    const upload = startTrickledUpload(server, { rows: 20_000, fastShare: 0.6, bytesPerSecond: 8192 });
    await waitForFeeds(dir, (s) => s.partial.chunks >= 2, 60_000);
    assert.equal(await stopChildServer(server, 'SIGKILL'), null);
    await upload.reply;
    const left = await storedFeeds(dir);
    assert.equal(left.partial.feeds, 1, 'the killed upload left its feed');
    assert.ok(left.partial.chunks >= 2, 'and its chunks');

    const restarted = await startChildServer(dir, env);
    try {
      const started = performance.now();
      const after = await waitForFeeds(dir, (s) => s.partial.feeds === 0 && s.partial.chunks === 0, LEASE_MS + SWEEP_MS + SLACK_MS);
      const ms = performance.now() - started;
      assert.deepEqual(after.complete, before.complete, 'complete feeds are untouched');
      assert.equal((await processRow(dir, imported)).status, 3);
      assert.equal(restarted.child.exitCode, null, `the restarted server is still running:\n${restarted.output()}`);
      // The lease was renewed by the dead server at most a third of it before the kill.
      assert.ok(ms < LEASE_MS + SWEEP_MS + SLACK_MS, `deleted ${ms.toFixed(0)} ms after the restart`);
    } finally {
      await stopChildServer(restarted, 'SIGTERM');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
