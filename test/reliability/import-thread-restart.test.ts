// test-stores: sqlite (the import thread exists only with the embedded store)
/**
 * The embedded import thread dies mid-import (terminated, as an out-of-memory error or a native
 * fault would end it). The server restarts the thread, and since the dead thread's lease is
 * released, the import resumes at once from its checkpoint, not when the lease (60 s here) runs
 * out, and ends with exact counters.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { ThreadedImportWorker } from '../../src/import/threaded-worker.ts';
import { callSoap, feedXml, resultFields, startTestService, waitForProcess, type TestService } from '../helpers/service.ts';
import { eventually } from '../store/store-fixture.ts';

const ROWS = 40_000;
/** Resuming must not wait for the lease: a third of it, so a server that waited fails by far. */
const RESUME_WITHIN_MS = 20_000;

let svc: TestService;
before(async () => {
  svc = await startTestService({ LEASE_SECONDS: '60' });
});
after(() => svc.close());

test('an import thread that dies mid-import is restarted and the import resumes at once, exactly', { timeout: 120_000 }, async () => {
  const worker = svc.service.worker;
  assert.ok(worker instanceof ThreadedImportWorker, 'the embedded store runs its worker in a thread');
  const a = await svc.addAccount();
  const feed = feedXml(Array.from({ length: ROWS }, (_, i) => ({ email: `thread${i}@example.com` })));
  const reply = await callSoap(svc.endpoint, 'StartImportProcesses', {
    listsIDs: a.list.id, listsGUIDs: a.list.guid, xmlDoc: feed, groupsIDs: '', importType: 3, mobileInputType: 1,
    asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
  }, { User: a.user, Password: a.password });
  const id = Number(/<processID>(\d+)<\/processID>/.exec(reply.result ?? '')?.[1]);
  assert.ok(id > 0, reply.body);

  const merging = await eventually(async () => {
    const p = await svc.service.store.processes.getProcess(a.account.id, id);
    return p !== null && p.checkpoint > 0 && p.checkpoint < ROWS ? p : null;
  });
  // The thread, as the handle holds it: ended here as a crash would end it.
  await (worker as unknown as { thread: Worker }).thread.terminate();
  const killedAt = Date.now();
  const atKill = (await svc.service.store.processes.getProcess(a.account.id, id))!;
  assert.equal(atKill.status, 2, 'still running when its thread died');
  assert.ok(atKill.checkpoint >= merging.checkpoint);

  await eventually(async () => {
    const p = await svc.service.store.processes.getProcess(a.account.id, id);
    return p !== null && (p.checkpoint > atKill.checkpoint || p.status !== 2) ? p : null;
  }, RESUME_WITHIN_MS);
  assert.ok(Date.now() - killedAt < RESUME_WITHIN_MS, `resumed ${Date.now() - killedAt} ms after the thread died`);

  const details = await waitForProcess(svc.endpoint, { User: a.user, Password: a.password }, a.list.id, a.list.guid, id, 60_000);
  const f = resultFields(details.result!);
  assert.deepEqual([f.StatusCode, f.TotalContacts, f.NewEmail, f.ExistingEmail], ['3', String(ROWS), String(ROWS), '0'],
    'every row counted once although a batch was cut off with the thread');
  const rows = await svc.db.query<{ n: number }>('SELECT count(*) AS n FROM recipient WHERE account_id = ?', [a.account.id]);
  assert.equal(Number(rows[0]!.n), ROWS);
});

