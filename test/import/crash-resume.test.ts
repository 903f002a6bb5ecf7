/**
 * Crash safety with real processes: a server killed with SIGKILL in the middle of an import is
 * restarted on the same store (the SQLite file, or the PostgreSQL database with TEST_STORE=postgres),
 * the worker reclaims the process (with SQLite at once, test/reliability/restart-resume.test.ts; with
 * PostgreSQL when its lease expires) and resumes from the checkpoint. The result must equal an uninterrupted run of the same import:
 * same recipients, subscriptions, memberships, rejects and counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  importSnapshot, mixedFeed, processRow, startChildServer, startDemoImport, stopChildServer, waitForProcessRow,
} from '../helpers/child-server.ts';

const ROWS = 30_000;

test('an import killed with SIGKILL resumes after restart and ends exactly like an uninterrupted run', { timeout: 600_000 }, async () => {
  const crashedDir = mkdtempSync(join(tmpdir(), 'mailup-crash-'));
  const referenceDir = mkdtempSync(join(tmpdir(), 'mailup-reference-'));
  const env = { LEASE_SECONDS: '2' };
  try {
    const reference = await startChildServer(referenceDir, env);
    const refId = await startDemoImport(reference, mixedFeed(ROWS), { ConfirmEmail: true });
    await waitForProcessRow(referenceDir, refId, (p) => p.status === 3);
    await stopChildServer(reference, 'SIGTERM');

    const first = await startChildServer(crashedDir, env);
    const id = await startDemoImport(first, mixedFeed(ROWS), { ConfirmEmail: true });
    const atKill = await waitForProcessRow(crashedDir, id, (p) => p.checkpoint >= 5000 || p.status !== 2);
    await stopChildServer(first, 'SIGKILL');
    assert.equal(atKill.status, 2, 'the process was still running when the server was killed');
    assert.ok(atKill.checkpoint < ROWS, `killed mid-import (checkpoint ${atKill.checkpoint})`);
    const killed = await processRow(crashedDir, id);
    assert.equal(killed.status, 2, 'after SIGKILL the process is left running with a lease that will expire');
    assert.notEqual(killed.lease_owner, null);

    const second = await startChildServer(crashedDir, env);
    try {
      await waitForProcessRow(crashedDir, id, (p) => p.status === 3);
    } finally {
      await stopChildServer(second, 'SIGTERM');
    }
    assert.deepEqual(await importSnapshot(crashedDir), await importSnapshot(referenceDir));
  } finally {
    rmSync(crashedDir, { recursive: true, force: true });
    rmSync(referenceDir, { recursive: true, force: true });
  }
});
