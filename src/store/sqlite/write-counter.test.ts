import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { prepare } from './prepare.ts';
import { SqliteStore } from './sqlite-store.ts';
import { newWriteCount, WriteCounter } from './write-counter.ts';

const dir = mkdtempSync(join(tmpdir(), 'write-counter-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a statement on its own counts at once; inside a transaction, when the outermost one ends, rolled back or not', () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
  const writes = new WriteCounter();
  const insert = prepare(db, 'INSERT INTO t (v) VALUES (?)', writes);
  const select = prepare(db, 'SELECT count(*) AS n FROM t', writes);
  const returning = prepare(db, 'DELETE FROM t WHERE v = ? RETURNING v', writes);

  insert.run(1);
  assert.equal(writes.value, 1);
  select.get();
  select.all();
  assert.equal(writes.value, 1, 'reads are not counted');
  assert.deepEqual(returning.get(1), { v: 1 });
  assert.equal(writes.value, 2, 'a write with RETURNING counts too');

  const outer = db.transaction(() => {
    insert.run(2);
    db.transaction(() => insert.run(3))();
    writes.transactionEnded(db.inTransaction);
    assert.equal(writes.value, 2, 'not counted while the outer transaction is open: no other connection sees it yet');
  });
  outer();
  assert.equal(writes.value, 2);
  writes.transactionEnded(db.inTransaction);
  assert.equal(writes.value, 3, 'one count for the whole transaction');

  assert.throws(() => db.transaction(() => {
    insert.run(4);
    throw new Error('rolled back');
  })());
  writes.transactionEnded(db.inTransaction);
  assert.equal(writes.value, 4, 'a rolled-back transaction counts too: a needless fresh read, never a stale one');
  writes.transactionEnded(db.inTransaction);
  assert.equal(writes.value, 4, 'a transaction that wrote nothing is not counted');
  db.close();
});

test('counters sharing a count add to one number', () => {
  const count = newWriteCount();
  const a = new WriteCounter(count);
  const b = new WriteCounter(count);
  a.wrote(false);
  b.wrote(false);
  assert.equal(a.value, 2);
  assert.equal(b.value, 2);
  assert.equal(new WriteCounter().value, 0);
});

test('SqliteStore: committed writes change the data version, reads do not; a store of another process does not change it', async () => {
  const file = join(dir, 'version.db');
  const count = newWriteCount();
  const main = new SqliteStore(file, { writeCount: count });
  const importThread = new SqliteStore(file, { writeCount: count });
  const otherProcess = new SqliteStore(file);
  try {
    const changes = async (fn: () => Promise<unknown>): Promise<boolean> => {
      const before = main.dataVersion();
      await fn();
      return main.dataVersion() !== before;
    };
    let accountId = 0;
    assert.ok(await changes(async () => (accountId = (await main.createAccount({ passwordHash: 'h', name: 'Shop' })).id)), 'a transaction');
    const list = await main.createList(accountId, 'News');
    assert.ok(await changes(() => main.updateAccount(accountId, { name: 'Shop 2' })), 'a single statement');
    assert.ok(await changes(() => importThread.createGroup(list.id, 'Promo')), 'a write through the other thread\'s store');
    assert.ok(!(await changes(() => main.getAccount(accountId))));
    assert.ok(!(await changes(() => main.listLists(accountId))));
    assert.ok(!(await changes(() => main.getProcess(accountId, 1))));
    assert.ok(!(await changes(() => otherProcess.updateAccount(accountId, { name: 'Shop 3' }))), 'another process\'s writes are not seen');
    assert.equal((await main.getAccount(accountId))?.name, 'Shop 3');
  } finally {
    await main.close();
    await importThread.close();
    await otherProcess.close();
  }
});
