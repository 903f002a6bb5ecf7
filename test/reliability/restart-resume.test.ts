// test-stores: sqlite (the data directory's lock is what tells a restarted embedded server that no other worker lives)
/**
 * A restart after SIGKILL resumes the import at once. The killed server leaves its lease in the
 * database; the next server on the data directory holds the directory's lock, so it knows that
 * lease's owner is dead, frees it at start-up, and its worker claims the import straight away
 * instead of waiting LEASE_SECONDS for the lease to expire. The import then ends exactly like an
 * uninterrupted run: every distinct address once, counters as the feed says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  importSnapshot, mixedFeed, processRow, startChildServer, startDemoImport, stopChildServer, storeOf, waitForProcessRow,
} from '../helpers/child-server.ts';

const ROWS = 60_000;
/** The lease a crashed server leaves; resuming must not wait for it. */
const LEASE_SECONDS = 60;
/**
 * How soon the restarted server must have merged a batch, counted from when it listens: a third of
 * the lease, so a server that waited for the lease fails by far, while a loaded machine (where
 * starting the import thread and merging one 5,000-row batch took 6.5 s) passes.
 */
const RESUME_WITHIN_MS = 20_000;

/** What mixedFeed(ROWS) holds: distinct valid addresses, rows repeating one, and invalid rows. */
function feedFacts(rows: number): { distinct: number; repeats: number; invalid: number } {
  const seen = new Set<number>();
  let repeats = 0;
  let invalid = 0;
  for (let i = 0; i < rows; i++) {
    if (i % 1000 === 999) {
      invalid++;
      continue;
    }
    const n = i % 7 === 6 ? i - 3 : i;
    if (seen.has(n)) repeats++;
    else seen.add(n);
  }
  return { distinct: seen.size, repeats, invalid };
}

test('after SIGKILL mid-merge a restarted server resumes the import at once, not after the lease, and ends exact', { timeout: 600_000 }, async (t) => {
  const crashedDir = mkdtempSync(join(tmpdir(), 'mailup-resume-'));
  const referenceDir = mkdtempSync(join(tmpdir(), 'mailup-resume-ref-'));
  const env = { LEASE_SECONDS: String(LEASE_SECONDS) };
  try {
    const reference = await startChildServer(referenceDir, env);
    const refId = await startDemoImport(reference, mixedFeed(ROWS));
    await waitForProcessRow(referenceDir, refId, (p) => p.status === 3);
    await stopChildServer(reference, 'SIGTERM');

    const first = await startChildServer(crashedDir, env);
    const id = await startDemoImport(first, mixedFeed(ROWS));
    await waitForProcessRow(crashedDir, id, (p) => p.checkpoint >= 5000 || p.status !== 2);
    await stopChildServer(first, 'SIGKILL');
    const killed = await processRow(crashedDir, id);
    assert.equal(killed.status, 2, 'the import was still running when the server was killed');
    assert.ok(killed.checkpoint < ROWS, `killed mid-import (checkpoint ${killed.checkpoint})`);
    assert.notEqual(killed.lease_owner, null, 'the killed server left its lease behind');

    const restartedAt = Date.now();
    const second = await startChildServer(crashedDir, env);
    const listeningAt = Date.now();
    let resumedAt: number;
    try {
      await waitForProcessRow(crashedDir, id, (p) => p.checkpoint > killed.checkpoint || p.status !== 2, LEASE_SECONDS * 1000 + 30_000);
      resumedAt = Date.now();
      await waitForProcessRow(crashedDir, id, (p) => p.status === 3);
    } finally {
      await stopChildServer(second, 'SIGTERM');
    }
    const resumeMs = resumedAt - listeningAt;
    t.diagnostic(`resumed ${resumeMs} ms after the restarted server listened, ${resumedAt - restartedAt} ms after it was started (LEASE_SECONDS=${LEASE_SECONDS})`);
    assert.ok(resumeMs < RESUME_WITHIN_MS, `the import resumed ${resumeMs} ms after the restart, not within ${RESUME_WITHIN_MS} ms (LEASE_SECONDS=${LEASE_SECONDS})`);

    // Exact: every distinct address once, each row counted once, as in an uninterrupted run.
    const facts = feedFacts(ROWS);
    const [counts] = await (await storeOf(crashedDir)).query<{ recipients: number }>('SELECT count(*) AS recipients FROM recipient');
    assert.equal(Number(counts!.recipients), facts.distinct, 'one recipient per distinct address');
    const [done] = await (await storeOf(crashedDir)).query<Record<string, number | null>>(
      'SELECT status, checkpoint, new_email, existing_email, rejected, lease_owner FROM import_process WHERE id = ?', [id]);
    assert.deepEqual(
      { ...done, status: Number(done!.status), checkpoint: Number(done!.checkpoint), new_email: Number(done!.new_email),
        existing_email: Number(done!.existing_email), rejected: Number(done!.rejected) },
      { status: 3, checkpoint: ROWS, new_email: facts.distinct, existing_email: facts.repeats, rejected: facts.invalid, lease_owner: null });
    assert.deepEqual(await importSnapshot(crashedDir), await importSnapshot(referenceDir));
  } finally {
    rmSync(crashedDir, { recursive: true, force: true });
    rmSync(referenceDir, { recursive: true, force: true });
  }
});
