/**
 * An import started over REST survives a SIGKILL of the server like any other (issue: "an import
 * started over REST survives a SIGKILL of the worker and reports exact counts"): the server, a
 * real child process, is killed in the middle of the merge, restarted on the same store (the
 * SQLite file, or the PostgreSQL database with TEST_STORE=postgres), and the import resumes from
 * its checkpoint. `GET Console/Import/{id}` then reports exact counts, and the store holds exactly
 * what an uninterrupted run of the same import holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  importSnapshot, processRow, startChildServer, stopChildServer, waitForProcessRow, type ChildServer,
} from '../helpers/child-server.ts';
import { REST_BASE } from '../helpers/rest.ts';
import { demoToken, type ImportStatus } from './import-helpers.ts';

const ROWS = 30_000;

/** Valid rows, rows repeating an earlier one (every 7th) and rows with a bad address (every 1000th), with what they count. */
function mixedRecipients(rows: number): { body: string; created: number; updated: number; invalid: number } {
  const seen = new Set<number>();
  let updated = 0;
  let invalid = 0;
  const parts: string[] = [];
  for (let i = 0; i < rows; i++) {
    if (i % 1000 === 999) {
      invalid++;
      parts.push(JSON.stringify({ Email: `broken-${i}` }));
      continue;
    }
    const n = i % 7 === 6 ? i - 3 : i;
    if (seen.has(n)) updated++;
    else seen.add(n);
    parts.push(JSON.stringify({
      Name: `User ${n}`, Email: `user${n}@example.com`, MobileNumber: `333${String(n).padStart(7, '0')}`, MobilePrefix: '+39',
      Fields: [{ Id: 1, Value: `Name ${n}` }, { Id: 2, Value: i % 2 ? '' : `Row ${i}` }],
    }));
  }
  return { body: `[${parts.join(',')}]`, created: seen.size, updated, invalid };
}

/** The demo list's id, from the banner. */
const demoListId = (server: ChildServer): number => Number(/idList (\d+)/.exec(server.output())![1]);

async function rest<T>(server: ChildServer, token: string, method: string, path: string, body?: string): Promise<T> {
  const res = await fetch(`${server.url}${REST_BASE}/Console${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as T;
}

/** Starts the REST import of `body` into the demo list (ConfirmEmail, so confirmation requests are part of what must come out exact). */
async function startRestImport(server: ChildServer, token: string, body: string): Promise<number> {
  return rest<number>(server, token, 'POST', `/List/${demoListId(server)}/Recipients?ConfirmEmail=true`, body);
}

async function waitCompleted(server: ChildServer, token: string, id: number): Promise<ImportStatus> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const status = await rest<ImportStatus>(server, token, 'GET', `/Import/${id}`);
    if (status.Completed) return status;
    if (Date.now() > deadline) throw new Error(`import ${id} did not complete: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a REST import killed with SIGKILL mid-merge resumes after a restart and reports exact counts', { timeout: 600_000 }, async () => {
  const crashedDir = mkdtempSync(join(tmpdir(), 'mailup-rest-crash-'));
  const referenceDir = mkdtempSync(join(tmpdir(), 'mailup-rest-reference-'));
  const env = { LEASE_SECONDS: '2' };
  const feed = mixedRecipients(ROWS);
  const expected = (id: number): ImportStatus => ({
    idImport: id, Completed: true, CreatedRecipients: feed.created, UpdatedRecipients: feed.updated,
    ValidRecipients: ROWS - feed.invalid, NotValidRecipients: feed.invalid, ImportedRecipients: ROWS - feed.invalid,
  });
  try {
    const reference = await startChildServer(referenceDir, env);
    const referenceToken = await demoToken(reference);
    const refId = await startRestImport(reference, referenceToken, feed.body);
    assert.deepEqual(await waitCompleted(reference, referenceToken, refId), expected(refId));
    await stopChildServer(reference, 'SIGTERM');

    const first = await startChildServer(crashedDir, env);
    const token = await demoToken(first);
    const id = await startRestImport(first, token, feed.body);
    const atKill = await waitForProcessRow(crashedDir, id, (p) => p.checkpoint >= 5000 || p.status !== 2);
    await stopChildServer(first, 'SIGKILL');
    assert.equal(atKill.status, 2, 'the import was still running when the server was killed');
    assert.ok(atKill.checkpoint < ROWS, `killed mid-merge (checkpoint ${atKill.checkpoint})`);
    const killed = await processRow(crashedDir, id);
    assert.equal(killed.status, 2);
    assert.notEqual(killed.lease_owner, null, 'the killed server left its lease behind');

    const second = await startChildServer(crashedDir, env);
    try {
      // The access token was issued before the crash: it is kept in the store, as a client expects.
      const midway = await rest<ImportStatus>(second, token, 'GET', `/Import/${id}`);
      assert.ok(midway.ValidRecipients + midway.NotValidRecipients <= ROWS);
      assert.deepEqual(await waitCompleted(second, token, id), expected(id), 'exact counts after the crash');
    } finally {
      await stopChildServer(second, 'SIGTERM');
    }
    assert.deepEqual(await importSnapshot(crashedDir), await importSnapshot(referenceDir));
  } finally {
    rmSync(crashedDir, { recursive: true, force: true });
    rmSync(referenceDir, { recursive: true, force: true });
  }
});
