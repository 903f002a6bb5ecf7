/**
 * The AccountStore contract (src/store/accounts.ts), run against the adapter TEST_STORE names
 * (npm test runs it on both): accounts and their console users, checked through the interface
 * alone, so that SQLite and PostgreSQL can only pass together by behaving the same.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountWithList, contractSuite, unwrap } from './store-fixture.ts';

const suite = contractSuite('accounts');

describe('accounts', () => {
  test('account numbers start at 1001 and follow on; an explicit number is kept; a taken one is refused', async () => {
    const first = await suite.store.accounts.createAccount({ passwordHash: 'h1', name: 'One' });
    const second = await suite.store.accounts.createAccount({ passwordHash: 'h2', name: 'Two', wsEnabled: false });
    assert.equal(first.id, 1001, 'the first account of a fresh database');
    assert.equal(second.id, first.id + 1);
    assert.deepEqual([first.wsUser, first.wsEnabled, first.ipCheck, first.allowedIps, first.name, first.passwordHash], ['a1001', true, false, [], 'One', 'h1']);
    assert.deepEqual([second.wsUser, second.wsEnabled, second.ipCheck, second.allowedIps], [`a${second.id}`, false, false, []]);
    assert.ok(first.createdAt instanceof Date && Math.abs(first.createdAt.getTime() - Date.now()) < 60_000, String(first.createdAt));
    const chosen = await suite.store.accounts.createAccount({ id: 990_000, passwordHash: 'h3', name: 'Chosen' });
    assert.equal(chosen.wsUser, 'a990000');
    await assert.rejects(suite.store.accounts.createAccount({ id: 990_000, passwordHash: 'other', name: 'Twin' }));
    assert.equal((await suite.store.accounts.getAccount(990_000))?.name, 'Chosen');
    assert.equal((await suite.store.accounts.getAccount(990_000))?.passwordHash, 'h3', 'the refused twin changed nothing');
    // A number chosen by the suite.store is never a taken one.
    const next = await suite.store.accounts.createAccount({ passwordHash: 'h4', name: 'Next' });
    assert.ok(![first.id, second.id, chosen.id].includes(next.id) && next.id > 1000, String(next.id));
  });

  test('getAccount and findAccountByWsUser give the stored account, or null', async () => {
    const account = await suite.store.accounts.createAccount({ passwordHash: 'find-me', name: 'Findable' });
    assert.deepEqual(await suite.store.accounts.getAccount(account.id), account);
    assert.deepEqual(await suite.store.accounts.findAccountByWsUser(account.wsUser), account);
    assert.equal(await suite.store.accounts.getAccount(123_456_789), null);
    assert.equal(await suite.store.accounts.findAccountByWsUser('a123456789'), null);
    assert.equal(await suite.store.accounts.findAccountByWsUser(String(account.id)), null, 'the number alone is not the WS user');
  });

  test('updateAccount changes only what it is given and answers the account; null for an unknown one', async () => {
    const account = await suite.store.accounts.createAccount({ passwordHash: 'before', name: 'Update me' });
    const other = await suite.store.accounts.createAccount({ passwordHash: 'other', name: 'Bystander' });
    const changed = await suite.store.accounts.updateAccount(account.id, { ipCheck: true, allowedIps: ['10.0.0.1', '::1'], name: 'Renamed' });
    assert.deepEqual([changed?.ipCheck, changed?.allowedIps, changed?.name, changed?.passwordHash, changed?.wsEnabled], [true, ['10.0.0.1', '::1'], 'Renamed', 'before', true]);
    const disabled = await suite.store.accounts.updateAccount(account.id, { wsEnabled: false, passwordHash: 'after' });
    assert.deepEqual([disabled?.wsEnabled, disabled?.passwordHash, disabled?.ipCheck, disabled?.allowedIps, disabled?.name], [false, 'after', true, ['10.0.0.1', '::1'], 'Renamed']);
    const emptied = await suite.store.accounts.updateAccount(account.id, { allowedIps: [], ipCheck: false });
    assert.deepEqual([emptied?.allowedIps, emptied?.ipCheck], [[], false]);
    assert.deepEqual(await suite.store.accounts.updateAccount(account.id, {}), await suite.store.accounts.getAccount(account.id), 'no changes: the account as it is');
    assert.deepEqual(await suite.store.accounts.getAccount(account.id), { ...account, passwordHash: 'after', wsEnabled: false, name: 'Renamed' });
    assert.equal(await suite.store.accounts.updateAccount(123_456_789, { name: 'nobody' }), null);
    assert.deepEqual(await suite.store.accounts.getAccount(other.id), other, 'another account is untouched');
  });

  test('listAccounts lists every account in number order (the admin CLI prints it so)', async () => {
    const made = [await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Listed 1' }), await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Listed 2' })];
    const all = await suite.store.accounts.listAccounts();
    const ids = all.map((a) => a.id);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
    assert.equal(new Set(ids).size, ids.length);
    for (const a of made) assert.deepEqual(all.find((x) => x.id === a.id), a);
  });
});

describe('lookups by name', () => {
  test('a name no account or console user has finds nothing, whatever characters it holds (a NUL included)', async () => {
    // The doors hand these names over as they come (a Basic-auth user, a console sign-in form,
    // GetIdUser's userName in the HTTP GET binding), so a lookup must answer, not fail.
    const account = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Odd names' });
    await suite.store.accounts.createConsoleUser(account.id, 'alice', 'h');
    for (const name of ['alice\u0000', 'ali\u0000ce', '\u0000', 'ALICE', 'alice ', '%', 'alice\u{1F600}']) {
      assert.equal(await suite.store.accounts.findConsoleUser(account.id, name), null, JSON.stringify(name));
    }
    for (const wsUser of [`${account.wsUser}\u0000`, '\u0000', account.wsUser.toUpperCase(), ` ${account.wsUser}`]) {
      assert.equal(await suite.store.accounts.findAccountByWsUser(wsUser), null, JSON.stringify(wsUser));
    }
  });
});

describe('console users', () => {
  test('console users see every list, or the ones they are given', async () => {
    const a = await accountWithList(suite.store, 'Console');
    const all = await suite.store.accounts.createConsoleUser(a.accountId, 'admin', 'h-admin');
    const some = await suite.store.accounts.createConsoleUser(a.accountId, 'clerk', 'h-clerk', [a.listId]);
    const none = await suite.store.accounts.createConsoleUser(a.accountId, 'nobody', 'h', []);
    assert.deepEqual([all.accountId, all.username, all.passwordHash, all.listIds], [a.accountId, 'admin', 'h-admin', null]);
    assert.deepEqual(some.listIds, [a.listId]);
    assert.deepEqual(none.listIds, [], 'no lists is not every list');
    assert.notEqual(all.id, some.id);
    assert.deepEqual(await suite.store.accounts.findConsoleUser(a.accountId, 'clerk'), some);
    assert.deepEqual(await suite.store.accounts.getConsoleUser(a.accountId, some.id), some);
    assert.deepEqual(await suite.store.accounts.getConsoleUser(a.accountId, none.id), none);
    assert.equal(await suite.store.accounts.findConsoleUser(a.accountId, 'stranger'), null);
    assert.equal(await suite.store.accounts.getConsoleUser(a.accountId, 987_654_321), null);
  });

  test('a user name is unique within its account only', async () => {
    const a = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Names A' });
    const b = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Names B' });
    const first = await suite.store.accounts.createConsoleUser(a.id, 'editor', 'h1');
    await assert.rejects(suite.store.accounts.createConsoleUser(a.id, 'editor', 'h2'));
    assert.equal((await suite.store.accounts.findConsoleUser(a.id, 'editor'))?.passwordHash, 'h1', 'the refused twin changed nothing');
    const other = await suite.store.accounts.createConsoleUser(b.id, 'editor', 'h3');
    assert.notEqual(other.id, first.id);
    assert.equal((await suite.store.accounts.findConsoleUser(b.id, 'editor'))?.id, other.id);
  });

  test('a new console user is enabled, with the time it was created', async () => {
    const a = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Fresh users' });
    const user = await suite.store.accounts.createConsoleUser(a.id, 'fresh', 'h');
    assert.equal(user.enabled, true);
    assert.ok(user.createdAt instanceof Date && Math.abs(user.createdAt.getTime() - Date.now()) < 60_000, String(user.createdAt));
  });

  test('listConsoleUsers gives the account\'s users in the order they were created, and no one else\'s', async () => {
    const a = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Listing A' });
    const b = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Listing B' });
    const zed = await suite.store.accounts.createConsoleUser(a.id, 'Zed', 'h1');
    const amy = await suite.store.accounts.createConsoleUser(a.id, 'amy', 'h2', [1, 2]);
    await suite.store.accounts.createConsoleUser(b.id, 'outsider', 'h3');
    assert.deepEqual(await suite.store.accounts.listConsoleUsers(a.id), [zed, amy]);
    assert.deepEqual(await suite.store.accounts.listConsoleUsers(123_456_789), []);
  });

  test('updateConsoleUser changes only what it is given; not-found for another account or an unknown id', async () => {
    const a = await accountWithList(suite.store, 'Updates');
    const b = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Updates B' });
    await suite.store.accounts.createConsoleUser(a.accountId, 'boss', 'h-boss');
    const user = await suite.store.accounts.createConsoleUser(a.accountId, 'editor', 'h-old');
    const newPassword = await suite.store.accounts.updateConsoleUser(a.accountId, user.id, { passwordHash: 'h-new' });
    assert.deepEqual(newPassword, { ok: true, user: { ...user, passwordHash: 'h-new' } });
    const limited = await suite.store.accounts.updateConsoleUser(a.accountId, user.id, { listIds: [a.listId], enabled: false });
    assert.deepEqual(limited, { ok: true, user: { ...user, passwordHash: 'h-new', listIds: [a.listId], enabled: false } });
    const none = await suite.store.accounts.updateConsoleUser(a.accountId, user.id, { listIds: [] });
    assert.ok(none.ok && none.user.listIds !== null && none.user.listIds.length === 0, 'no lists is not every list');
    const widened = await suite.store.accounts.updateConsoleUser(a.accountId, user.id, { listIds: null, enabled: true });
    assert.deepEqual(widened, { ok: true, user: { ...user, passwordHash: 'h-new' } });
    assert.deepEqual(await suite.store.accounts.updateConsoleUser(a.accountId, user.id, {}), widened, 'no changes: the user as it is');
    assert.deepEqual(await suite.store.accounts.updateConsoleUser(b.id, user.id, { enabled: false }), { ok: false, reason: 'not-found' });
    assert.deepEqual(await suite.store.accounts.updateConsoleUser(a.accountId, 987_654_321, { enabled: false }), { ok: false, reason: 'not-found' });
    assert.deepEqual(await suite.store.accounts.getConsoleUser(a.accountId, user.id), { ...user, passwordHash: 'h-new' });
  });

  test('keepAnAdministrator refuses a write only to the last enabled user who sees every list', async () => {
    const a = await accountWithList(suite.store, 'Last admin');
    const first = await suite.store.accounts.createConsoleUser(a.accountId, 'first', 'h');
    const second = await suite.store.accounts.createConsoleUser(a.accountId, 'second', 'h');
    const clerk = await suite.store.accounts.createConsoleUser(a.accountId, 'clerk', 'h', [a.listId]);
    const keep = { keepAnAdministrator: true };
    // Two administrators: either may go, not both.
    assert.equal((await suite.store.accounts.updateConsoleUser(a.accountId, first.id, { enabled: false }, keep)).ok, true);
    assert.deepEqual(await suite.store.accounts.updateConsoleUser(a.accountId, second.id, { enabled: false }, keep), { ok: false, reason: 'last-administrator' });
    assert.deepEqual(await suite.store.accounts.updateConsoleUser(a.accountId, second.id, { listIds: [a.listId] }, keep), { ok: false, reason: 'last-administrator' });
    assert.deepEqual(await suite.store.accounts.deleteConsoleUser(a.accountId, second.id, keep), { ok: false, reason: 'last-administrator' });
    assert.deepEqual(await suite.store.accounts.getConsoleUser(a.accountId, second.id), second, 'nothing changed');
    // Users who are not administrators are never held back; without the option nothing is.
    assert.equal((await suite.store.accounts.updateConsoleUser(a.accountId, clerk.id, { enabled: false }, keep)).ok, true);
    assert.equal((await suite.store.accounts.updateConsoleUser(a.accountId, first.id, { passwordHash: 'h2' }, keep)).ok, true, 'a disabled one');
    assert.equal((await suite.store.accounts.updateConsoleUser(a.accountId, second.id, { enabled: false })).ok, true);
    assert.equal((await suite.store.accounts.updateConsoleUser(a.accountId, second.id, { enabled: true })).ok, true);
  });

  test('keepAnAdministrator holds when two writes race to remove the last two administrators', async () => {
    const a = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Race' });
    const other = await suite.fx.open();
    for (let round = 0; round < 5; round++) {
      const x = await suite.store.accounts.createConsoleUser(a.id, `x${round}`, 'h');
      const y = await suite.store.accounts.createConsoleUser(a.id, `y${round}`, 'h');
      const keep = { keepAnAdministrator: true };
      const results = await Promise.all([
        suite.store.accounts.updateConsoleUser(a.id, x.id, { enabled: false }, keep),
        other.accounts.deleteConsoleUser(a.id, y.id, keep),
      ]);
      assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
      const admins = (await suite.store.accounts.listConsoleUsers(a.id)).filter((u) => u.enabled && u.listIds === null);
      assert.equal(admins.length, 1, `round ${round}`);
      // Back to no administrator for the next round.
      for (const u of admins) await suite.store.accounts.deleteConsoleUser(a.id, u.id);
    }
  });

  test('deleteConsoleUser removes the user and its sessions, answers it as it was; not-found after', async () => {
    const a = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Deletes' });
    const b = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Deletes B' });
    const user = await suite.store.accounts.createConsoleUser(a.id, 'leaver', 'h');
    const raw = unwrap(suite.store);
    const idHash = 'ab'.repeat(32);
    await raw.sessions.createConsoleSession({ idHash, userId: user.id, accountId: a.id, csrfToken: 't', expiresAt: new Date(Date.now() + 3600_000), ip: '', userAgent: '' });
    assert.deepEqual(await suite.store.accounts.deleteConsoleUser(b.id, user.id), { ok: false, reason: 'not-found' }, 'another account');
    assert.deepEqual(await suite.store.accounts.deleteConsoleUser(a.id, user.id), { ok: true, user });
    assert.equal(await suite.store.accounts.getConsoleUser(a.id, user.id), null);
    assert.equal(await raw.sessions.findConsoleSession(idHash, new Date()), null);
    assert.deepEqual(await suite.store.accounts.deleteConsoleUser(a.id, user.id), { ok: false, reason: 'not-found' });
    // The name is free again.
    assert.equal((await suite.store.accounts.createConsoleUser(a.id, 'leaver', 'h')).username, 'leaver');
  });

  test("another account's id never reaches a console user", async () => {
    const a = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Owner' });
    const b = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Intruder' });
    const user = await suite.store.accounts.createConsoleUser(a.id, 'private', 'h');
    assert.equal(await suite.store.accounts.findConsoleUser(b.id, 'private'), null);
    assert.equal(await suite.store.accounts.getConsoleUser(b.id, user.id), null);
    assert.equal(await suite.store.accounts.findConsoleUser(a.id + 1_000_000, 'private'), null);
  });
});
