/**
 * The lookup cache (src/store/lookup-cache.ts) over the store TEST_STORE names: two handles on
 * one database, `other` playing the admin CLI (or another API process), whose changes the cache
 * cannot see until its entries expire.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLookupCache } from '../../src/store/lookup-cache.ts';
import type { Store } from '../../src/store/store.ts';
import { TEST_STORE } from '../helpers/test-database.ts';
import { storeFixture, type StoreFixture } from './store-fixture.ts';

let fx: StoreFixture;
let direct: Store;
let other: Store;

before(async () => {
  fx = await storeFixture();
  direct = fx.store;
  other = await fx.open();
});

after(() => fx?.close());

test('a change made by another process shows once the entry expires', async () => {
  const cached = withLookupCache(direct, 300);
  const account = await direct.accounts.createAccount({ passwordHash: 'h', name: 'Shop' });
  const list = await direct.lists.createList(account.id, 'News');
  assert.equal((await cached.accounts.findAccountByWsUser(account.wsUser))?.wsEnabled, true);
  assert.equal((await cached.lists.getList(account.id, list.id))?.name, 'News');

  await other.accounts.updateAccount(account.id, { wsEnabled: false });
  await other.lists.renameList(account.id, list.id, 'Offers');
  assert.equal((await cached.accounts.findAccountByWsUser(account.wsUser))?.wsEnabled, true, 'still the row read before');
  assert.equal((await cached.lists.getList(account.id, list.id))?.name, 'News');

  await sleep(350);
  assert.equal((await cached.accounts.findAccountByWsUser(account.wsUser))?.wsEnabled, false);
  assert.equal((await cached.lists.getList(account.id, list.id))?.name, 'Offers');
});

test('a change made through the cached store shows at once', async () => {
  const cached = withLookupCache(direct, 60_000);
  const account = await cached.accounts.createAccount({ passwordHash: 'h', name: 'Shop' });
  const list = await cached.lists.createList(account.id, 'News');
  await cached.accounts.findAccountByWsUser(account.wsUser);
  await cached.lists.getList(account.id, list.id);

  await cached.accounts.updateAccount(account.id, { passwordHash: 'new' });
  await cached.lists.renameList(account.id, list.id, 'Offers');
  assert.equal((await cached.accounts.findAccountByWsUser(account.wsUser))?.passwordHash, 'new');
  assert.equal((await cached.lists.getList(account.id, list.id))?.name, 'Offers');
});

test('what was not found is not remembered', async () => {
  const cached = withLookupCache(direct, 60_000);
  const account = await direct.accounts.createAccount({ passwordHash: 'h', name: 'Shop' });
  assert.equal(await cached.lists.getList(account.id, 999_999), null);
  assert.equal(await cached.accounts.findAccountByWsUser('a999999'), null);
  const list = await other.lists.createList(account.id, 'Made elsewhere');
  const created = await other.accounts.createAccount({ id: 999_999, passwordHash: 'h', name: 'Elsewhere' });
  assert.equal((await cached.lists.getList(account.id, list.id))?.name, 'Made elsewhere');
  assert.equal((await cached.accounts.findAccountByWsUser(created.wsUser))?.id, 999_999);
});

test('a read that began before a write does not put the old row back', async () => {
  const cached = withLookupCache(direct, 60_000);
  const account = await direct.accounts.createAccount({ passwordHash: 'old', name: 'Shop' });
  const reading = cached.accounts.findAccountByWsUser(account.wsUser);
  const writing = cached.accounts.updateAccount(account.id, { passwordHash: 'new' });
  assert.equal((await reading)?.passwordHash, 'old');
  await writing;
  assert.equal((await cached.accounts.findAccountByWsUser(account.wsUser))?.passwordHash, 'new');
});

test("the other methods are the store's own, and 0 turns the cache off", async () => {
  const cached = withLookupCache(direct, 60_000);
  assert.equal(cached.kind, TEST_STORE);
  assert.equal(cached.processes.getProcess, cached.processes.getProcess, 'bound once');
  assert.equal(cached.processes, direct.processes, "the parts it does not cache are the store's own");
  const account = await cached.accounts.createAccount({ passwordHash: 'h', name: 'Shop' });
  assert.deepEqual(await cached.accounts.getAccount(account.id), await direct.accounts.getAccount(account.id));
  assert.equal(withLookupCache(direct, 0), direct);
});
