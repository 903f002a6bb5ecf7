import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { prepare } from './prepare.ts';
import { SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'data-version-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('prepare reports every run of a statement that can write, and no read', () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
  let writes = 0;
  const wrote = (): void => {
    writes++;
  };
  const insert = prepare(db, 'INSERT INTO t (v) VALUES (?)', wrote);
  const select = prepare(db, 'SELECT count(*) AS n FROM t', wrote);
  const returning = prepare(db, 'DELETE FROM t WHERE v = ? RETURNING v', wrote);

  insert.run(1);
  assert.equal(writes, 1);
  assert.deepEqual(select.get(), { n: 1 });
  select.all();
  assert.deepEqual([...select.iterate()], [{ n: 1 }]);
  assert.equal(writes, 1, 'reads are not reported');
  assert.deepEqual(returning.get(1), { v: 1 });
  assert.equal(writes, 2, 'a write with RETURNING is reported too');
  insert.run(2);
  assert.deepEqual([...returning.iterate(2)], [{ v: 2 }]);
  assert.equal(writes, 4, 'and when iterated');
  assert.throws(() => db.transaction(() => {
    insert.run(3);
    throw new Error('rolled back');
  })());
  assert.equal(writes, 5, 'a write rolled back is reported too: a needless fresh read, never a stale one');
  assert.throws(() => prepare(db, 'INSERT INTO t (nope) VALUES (1)', wrote));
  db.close();
});

test('SqliteStore: every committed write changes the data version, whichever connection made it; reads do not', async () => {
  const file = join(dir, 'version.db');
  const main = new SqliteStore(file);
  // The import thread and the admin CLI each have a connection of their own to the same file.
  const importThread = new SqliteStore(file);
  const adminCli = new SqliteStore(file);
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
    assert.ok(await changes(() => importThread.createGroup(list.id, 'Promo')), 'a write through the other thread\'s connection');
    assert.ok(await changes(() => adminCli.updateAccount(accountId, { name: 'Shop 3' })), 'a write by another process');
    assert.ok(await changes(() => main.updateAccount(accountId, { name: 'Shop 4' })), 'and after it, this connection\'s own again');
    assert.ok(!(await changes(() => main.getAccount(accountId))));
    assert.ok(!(await changes(() => main.listLists(accountId))));
    assert.ok(!(await changes(() => main.getProcess(accountId, 1))));
    assert.ok(!(await changes(() => importThread.getAccount(accountId))), 'reads elsewhere do not change it either');
    assert.equal(main.dataVersion(), main.dataVersion());
  } finally {
    await main.close();
    await importThread.close();
    await adminCli.close();
  }
});
