// test-stores: sqlite (SQLITE_MAX_SIZE makes SQLite fail as on a full disk; PostgreSQL has no such cap)
/**
 * A full disk during an import: the process ends in status 4 with the reason, the batch that hit
 * the limit leaves nothing behind, and the server keeps answering. SQLITE_MAX_SIZE caps the
 * database file, which makes SQLite fail exactly as it does on a full disk (SQLITE_FULL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callSoap, feedXml, resultFields, startTestService, waitForProcess } from '../helpers/service.ts';

test('a database that fills up fails the import with status 4 and a reason, and the server stays up', { timeout: 300_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailup-full-'));
  try {
    // Prepare a process while there is room.
    const first = await startTestService({ DATA_DIR: dataDir });
    const a = await first.addAccount();
    const auth = { User: a.user, Password: a.password };
    const feed = feedXml(Array.from({ length: 20_000 }, (_, i) => ({ email: `full${i}@example.com`, fields: ['x'.repeat(150)] })));
    const id = (await callSoap(first.endpoint, 'NewImportProcess', {
      idList: a.list.id, listGUID: a.list.guid, xmlDoc: feed, idGroups: '', importType: 3, mobileInputType: 1,
      asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
    }, auth)).returnCode!;
    assert.ok(id > 0);
    await first.close();

    // Leave a little room: the merge needs far more.
    const db = new Database(join(dataDir, 'mailup.db'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = Number(db.pragma('page_count', { simple: true })) * Number(db.pragma('page_size', { simple: true }));
    db.close();
    const svc = await startTestService({ DATA_DIR: dataDir, SQLITE_MAX_SIZE: String(bytes + 256 * 1024) });
    try {
      assert.equal((await callSoap(svc.endpoint, 'StartProcess', { idList: a.list.id, listGUID: a.list.guid, idProcess: id }, auth)).returnCode, 0);
      const done = resultFields((await waitForProcess(svc.endpoint, auth, a.list.id, a.list.guid, id, 120_000)).result!);
      assert.equal(done.StatusCode, '4');
      assert.equal(done.IsRunning, 'False');
      const process = await svc.service.store.processes.getProcess(a.account.id, id);
      assert.match(process!.failureReason ?? '', /full/i);
      // Counters and data match exactly the batches that were committed before the limit.
      const merged = process!.checkpoint;
      assert.ok(merged < 20_000);
      assert.equal(process!.counters.newEmail, merged);
      const count = new Database(join(dataDir, 'mailup.db'), { readonly: true });
      assert.equal((count.prepare('SELECT count(*) AS n FROM recipient').get() as { n: number }).n, merged);
      count.close();
      // The server still answers.
      assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, auth)).returnCode, 0);
    } finally {
      await svc.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
