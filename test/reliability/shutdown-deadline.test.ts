/**
 * SIGTERM waits for requests in flight, but not for ever: an upload trickling in just above the
 * minimum rate could keep the process alive as long as its client likes, past any supervisor's
 * patience (which would then SIGKILL it, leaving a partial feed). At SHUTDOWN_TIMEOUT_SECONDS the
 * upload is answered 503 (or its connection cut), its partial feed deleted, and the process exits
 * 0; complete feeds and finished imports are untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mixedFeed, processRow, startChildServer, startDemoImport, waitForProcessRow } from '../helpers/child-server.ts';
import { isShutdownAnswer, startTrickledUpload, storedFeeds, waitForFeeds } from '../helpers/uploads.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';

const DEADLINE_S = 2;
/** What the clean-up after the deadline may take (1 s for the 503s to go out, then the rest), with slack for a busy machine. */
const MARGIN_MS = 3000;

test('SIGTERM with an upload trickling in above the minimum rate: 503 or cut at SHUTDOWN_TIMEOUT_SECONDS, no partial feed, exit 0', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-shutdown-deadline-'));
  const server = await startChildServer(dir, { SHUTDOWN_TIMEOUT_SECONDS: String(DEADLINE_S) });
  try {
    const imported = await startDemoImport(server, mixedFeed(300));
    await waitForProcessRow(dir, imported, (p) => p.status === 3, 60_000);
    const before = await storedFeeds(dir);

    // 20,000 subscribers: about 12,000 at once (two chunks stored), the rest at 2 KB/s, twice the
    // default minimum of 1 KB/s: the body would take minutes more.
    const upload = startTrickledUpload(server, { rows: 20_000, fastShare: 0.6, bytesPerSecond: 2048 });
    await waitForFeeds(dir, (s) => s.partial.chunks >= 2, 60_000);

    const exited = once(server.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const signalled = performance.now();
    server.child.kill('SIGTERM');
    const bound = DEADLINE_S * 1000 + MARGIN_MS;
    const outcome = await Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), bound + 10_000).unref())]);
    const ms = performance.now() - signalled;
    t.diagnostic(`exited ${ms.toFixed(0)} ms after SIGTERM`);
    assert.notEqual(outcome, 'still running', `the process was still running ${((bound + 10_000) / 1000).toFixed(0)} s after SIGTERM`);
    assert.ok(ms < bound, `exited ${ms.toFixed(0)} ms after SIGTERM (deadline ${DEADLINE_S} s)`);
    assert.deepEqual(outcome, [0, null], `exit code and signal\n${server.output()}`);

    const reply = await upload.reply;
    t.diagnostic(`the trickling client got ${reply instanceof Error ? `a cut connection (${reply.message.slice(0, 80)})` : `HTTP ${reply.status}`}`);
    assert.ok(isShutdownAnswer(reply), `the trickling client got ${reply instanceof Error ? reply.message : `${reply.status} ${reply.body}`}`);
    if (!(reply instanceof Error)) assert.match(reply.body, /The server is shutting down; send the request again\./);

    const after = await storedFeeds(dir);
    assert.deepEqual(after.partial, { feeds: 0, chunks: 0 }, 'no partial feed is left');
    assert.deepEqual(after.complete, before.complete, 'complete feeds are untouched');
    assert.equal((await processRow(dir, imported)).status, 3);
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SHUTDOWN_TIMEOUT_SECONDS must be a whole number of seconds, at least 1; 25 by default', () => {
  for (const bad of ['0', '-5', '2.5', 'soon']) {
    assert.throws(() => loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: bad }), (err) =>
      err instanceof ConfigError && err.message === `SHUTDOWN_TIMEOUT_SECONDS must be an integer of at least 1, not "${bad}"`);
  }
  assert.equal(loadConfig({}).shutdownTimeoutMs, 25_000);
  assert.equal(loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: '90' }).shutdownTimeoutMs, 90_000);
});
