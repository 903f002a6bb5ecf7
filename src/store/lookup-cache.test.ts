import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLookupCache } from './lookup-cache.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

// Two connections to one SQLite file: `other` plays the admin CLI, a process the cache cannot see.
const dir = mkdtempSync(join(tmpdir(), 'lookup-cache-'));
const file = join(dir, 'mailup.db');
let direct: SqliteStore;
let other: SqliteStore;

before(() => {
  direct = new SqliteStore(file);
  other = new SqliteStore(file);
});

after(async () => {
  await direct.close();
  await other.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a change made by another process shows once the entry expires', async () => {
  const cached = withLookupCache(direct, 300);
  const account = await direct.createAccount({ passwordHash: 'h', name: 'Shop' });
  const list = await direct.createList(account.id, 'News');
  assert.equal((await cached.findAccountByWsUser(account.wsUser))?.wsEnabled, true);
  assert.equal((await cached.getList(account.id, list.id))?.name, 'News');

  await other.updateAccount(account.id, { wsEnabled: false });
  await other.renameList(account.id, list.id, 'Offers');
  assert.equal((await cached.findAccountByWsUser(account.wsUser))?.wsEnabled, true, 'still the row read before');
  assert.equal((await cached.getList(account.id, list.id))?.name, 'News');

  await sleep(350);
  assert.equal((await cached.findAccountByWsUser(account.wsUser))?.wsEnabled, false);
  assert.equal((await cached.getList(account.id, list.id))?.name, 'Offers');
});

test('a change made through the cached store shows at once', async () => {
  const cached = withLookupCache(direct, 60_000);
  const account = await cached.createAccount({ passwordHash: 'h', name: 'Shop' });
  const list = await cached.createList(account.id, 'News');
  await cached.findAccountByWsUser(account.wsUser);
  await cached.getList(account.id, list.id);

  await cached.updateAccount(account.id, { passwordHash: 'new' });
  await cached.renameList(account.id, list.id, 'Offers');
  assert.equal((await cached.findAccountByWsUser(account.wsUser))?.passwordHash, 'new');
  assert.equal((await cached.getList(account.id, list.id))?.name, 'Offers');
});

test('what was not found is not remembered', async () => {
  const cached = withLookupCache(direct, 60_000);
  const account = await direct.createAccount({ passwordHash: 'h', name: 'Shop' });
  assert.equal(await cached.getList(account.id, 999_999), null);
  assert.equal(await cached.findAccountByWsUser('a999999'), null);
  const list = await other.createList(account.id, 'Made elsewhere');
  const created = await other.createAccount({ id: 999_999, passwordHash: 'h', name: 'Elsewhere' });
  assert.equal((await cached.getList(account.id, list.id))?.name, 'Made elsewhere');
  assert.equal((await cached.findAccountByWsUser(created.wsUser))?.id, 999_999);
});

test('a read that began before a write does not put the old row back', async () => {
  const cached = withLookupCache(direct, 60_000);
  const account = await direct.createAccount({ passwordHash: 'old', name: 'Shop' });
  const reading = cached.findAccountByWsUser(account.wsUser);
  const writing = cached.updateAccount(account.id, { passwordHash: 'new' });
  assert.equal((await reading)?.passwordHash, 'old');
  await writing;
  assert.equal((await cached.findAccountByWsUser(account.wsUser))?.passwordHash, 'new');
});

test('the other methods are the store\'s own, and 0 turns the cache off', async () => {
  const cached = withLookupCache(direct, 60_000);
  assert.equal(cached.kind, 'sqlite');
  assert.equal(cached.getProcess, cached.getProcess, 'bound once');
  const account = await cached.createAccount({ passwordHash: 'h', name: 'Shop' });
  assert.deepEqual(await cached.getAccount(account.id), await direct.getAccount(account.id));
  assert.equal(withLookupCache(direct, 0), direct);
});
