/**
 * The ListStore contract (src/store/lists.ts), run against the adapter TEST_STORE names (npm test
 * runs it on both): an account's lists and their groups. The store keeps names as it is given
 * them (trimming and cutting are the core's); group names count as the same regardless of ASCII
 * case; every method that takes an account id keeps to that account's lists.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contractSuite, mergeRecipients, runningProcess, startedProcess, unwrap, defaultOptions, storeFeed, feedRow } from './store-fixture.ts';

const suite = contractSuite('lists');

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function twoAccounts(name: string): Promise<[number, number]> {
  const a = await suite.store.accounts.createAccount({ passwordHash: 'h', name: `${name} A` });
  const b = await suite.store.accounts.createAccount({ passwordHash: 'h', name: `${name} B` });
  return [a.id, b.id];
}

describe('lists', () => {
  test('createList: a given GUID is kept in lower case, a missing one is made; names are kept as given', async () => {
    const [account] = await twoAccounts('Create');
    const list = await suite.store.lists.createList(account, 'News', 'ABCDEF01-2345-6789-ABCD-EF0123456789');
    assert.deepEqual([list.accountId, list.name, list.guid], [account, 'News', 'abcdef01-2345-6789-abcd-ef0123456789']);
    const made = await suite.store.lists.createList(account, '  Spaced <name> "quoted" é  ');
    const again = await suite.store.lists.createList(account, 'Another');
    assert.match(made.guid, GUID);
    assert.notEqual(made.guid, again.guid);
    assert.equal(made.name, '  Spaced <name> "quoted" é  ');
    assert.deepEqual(await suite.store.lists.getList(account, made.id), made);
  });

  test('a GUID is unique across accounts, whatever its case', async () => {
    const [a, b] = await twoAccounts('Guid');
    const guid = '0b6e7c1a-3f52-4c1e-9d7a-5a8f2e6c4b10';
    await suite.store.lists.createList(a, 'First', guid);
    await assert.rejects(suite.store.lists.createList(b, 'Copy', guid.toUpperCase()));
    assert.deepEqual((await suite.store.lists.listLists(b)).map((l) => l.name), [], 'the refused list was not made');
  });

  test('getList and renameList keep to the account; rename answers the renamed list', async () => {
    const [account, other] = await twoAccounts('Rename');
    const list = await suite.store.lists.createList(account, 'News');
    assert.deepEqual(await suite.store.lists.getList(account, list.id), list);
    assert.equal(await suite.store.lists.getList(other, list.id), null);
    assert.equal(await suite.store.lists.getList(account, 987_654_321), null);
    assert.equal(await suite.store.lists.renameList(other, list.id, 'Stolen'), null);
    assert.equal((await suite.store.lists.getList(account, list.id))?.name, 'News', "another account's rename changed nothing");
    assert.deepEqual(await suite.store.lists.renameList(account, list.id, 'Daily'), { ...list, name: 'Daily' });
    assert.deepEqual(await suite.store.lists.getList(account, list.id), { ...list, name: 'Daily' });
    assert.equal(await suite.store.lists.renameList(account, 987_654_321, 'Nothing'), null);
  });

  test("listLists: the account's lists in id order with their country and groups; a filter of ids never reaches another account's", async () => {
    const [account, other] = await twoAccounts('Listing');
    const first = await suite.store.lists.createList(account, 'First');
    const second = await suite.store.lists.createList(account, 'Second');
    const theirs = await suite.store.lists.createList(other, 'Theirs');
    const g1 = (await suite.store.lists.createGroup(first.id, 'G1')).group;
    const g2 = (await suite.store.lists.createGroup(first.id, 'G2')).group;
    await suite.store.lists.createGroup(theirs.id, 'Not yours');
    await suite.store.lists.setListCountry(account, second.id, 'IT');
    await suite.store.lists.setListCountry(other, theirs.id, 'DE');
    assert.deepEqual(await suite.store.lists.listLists(account), [{ ...first, country: null, groups: [g1, g2] }, { ...second, country: 'IT', groups: [] }]);
    assert.deepEqual((await suite.store.lists.listLists(other)).map((l) => [l.id, l.country]), [[theirs.id, 'DE']]);
    assert.deepEqual(await suite.store.lists.listLists(account, null), await suite.store.lists.listLists(account));
    assert.deepEqual((await suite.store.lists.listLists(account, [second.id])).map((l) => l.id), [second.id]);
    assert.deepEqual(await suite.store.lists.listLists(account, []), [], 'an empty filter is no list, not every list');
    assert.deepEqual((await suite.store.lists.listLists(account, [theirs.id, second.id])).map((l) => l.id), [second.id]);
    assert.deepEqual((await suite.store.lists.listLists(other)).map((l) => l.id), [theirs.id]);
  });
});

describe('groups', () => {
  test('group names are unique per list regardless of ASCII case, as SQLite NOCASE compares them', async () => {
    const [account] = await twoAccounts('Groups');
    const list = await suite.store.lists.createList(account, 'L');
    const created = await suite.store.lists.createGroup(list.id, 'Customers');
    assert.deepEqual([created.created, created.group.listId, created.group.name], [true, list.id, 'Customers']);
    const again = await suite.store.lists.createGroup(list.id, 'CUSTOMERS');
    assert.deepEqual([again.created, again.group], [false, created.group], 'the existing group, with its own spelling');
    // Only ASCII letters fold: É and é are different names.
    const upper = await suite.store.lists.createGroup(list.id, 'École');
    const lower = await suite.store.lists.createGroup(list.id, 'école');
    assert.deepEqual([upper.created, lower.created], [true, true]);
    // The suite.store keeps what it is given: spaces are the core's business.
    const spaced = await suite.store.lists.createGroup(list.id, ' Customers ');
    assert.deepEqual([spaced.created, spaced.group.name], [true, ' Customers ']);
    // The same name in another list is another group.
    const elsewhere = await suite.store.lists.createGroup((await suite.store.lists.createList(account, 'M')).id, 'customers');
    assert.equal(elsewhere.created, true);
    assert.deepEqual((await suite.store.lists.getGroups(list.id)).map((g) => g.name), ['Customers', 'École', 'école', ' Customers ']);
    assert.equal((await suite.store.lists.listLists(account, [list.id]))[0]!.groups.length, 4);
  });

  test('getGroups: the groups of the list in creation order; none for a list without groups', async () => {
    const [account] = await twoAccounts('GetGroups');
    const list = await suite.store.lists.createList(account, 'L');
    const empty = await suite.store.lists.createList(account, 'Empty');
    const made = [(await suite.store.lists.createGroup(list.id, 'Zeta')).group, (await suite.store.lists.createGroup(list.id, 'Alpha')).group];
    assert.deepEqual(await suite.store.lists.getGroups(list.id), made);
    assert.deepEqual(await suite.store.lists.getGroups(empty.id), []);
    assert.deepEqual(await suite.store.lists.getGroups(987_654_321), []);
  });

  test("getGroup: the group when it belongs to a list of the account; never another account's", async () => {
    const [account, other] = await twoAccounts('GetGroup');
    const list = await suite.store.lists.createList(account, 'L');
    const { group } = await suite.store.lists.createGroup(list.id, 'Mine');
    assert.deepEqual(await suite.store.lists.getGroup(account, group.id), group);
    assert.equal(await suite.store.lists.getGroup(other, group.id), null);
    assert.equal(await suite.store.lists.getGroup(account, 987_654_321), null);
  });

  test('renameGroup: renamed, or not-found (unknown, or another account), or duplicate (regardless of ASCII case)', async () => {
    const [account, other] = await twoAccounts('RenameGroup');
    const list = await suite.store.lists.createList(account, 'L');
    const otherList = await suite.store.lists.createList(account, 'M');
    const vip = (await suite.store.lists.createGroup(list.id, 'VIP')).group;
    const staff = (await suite.store.lists.createGroup(list.id, 'Staff')).group;
    await suite.store.lists.createGroup(otherList.id, 'Partners');

    assert.deepEqual(await suite.store.lists.renameGroup(account, staff.id, 'vip'), { ok: false, reason: 'duplicate' });
    assert.deepEqual(await suite.store.lists.renameGroup(other, staff.id, 'Stolen'), { ok: false, reason: 'not-found' });
    assert.deepEqual(await suite.store.lists.renameGroup(account, 987_654_321, 'X'), { ok: false, reason: 'not-found' });
    assert.deepEqual(await suite.store.lists.getGroups(list.id), [vip, staff], 'refused renames changed nothing');

    assert.deepEqual(await suite.store.lists.renameGroup(account, vip.id, 'V.I.P.'), { ok: true, group: { ...vip, name: 'V.I.P.' } });
    assert.deepEqual(await suite.store.lists.renameGroup(account, staff.id, 'STAFF'), { ok: true, group: { ...staff, name: 'STAFF' } }, 'its own name in another case');
    assert.deepEqual(await suite.store.lists.renameGroup(account, staff.id, 'Partners'), { ok: true, group: { ...staff, name: 'Partners' } }, "another list's name is free");
    assert.deepEqual((await suite.store.lists.getGroups(list.id)).map((g) => g.name), ['V.I.P.', 'Partners']);
    assert.deepEqual((await suite.store.lists.createGroup(list.id, 'v.i.p.')).created, false, 'the new name is the one that counts');
    assert.deepEqual((await suite.store.lists.createGroup(list.id, 'VIP')).created, true, 'the old name is free again');
  });
});

describe('group notes and deletion', () => {
  test('createGroup keeps notes for a new group only; setGroupNotes replaces them within the account', async () => {
    const [account, other] = await twoAccounts('Notes');
    const list = await suite.store.lists.createList(account, 'L');
    const plain = await suite.store.lists.createGroup(list.id, 'Plain');
    assert.equal(plain.group.notes, '', 'no notes: empty');
    const noted = await suite.store.lists.createGroup(list.id, 'Noted', 'Shop "é" <b>\nsecond line');
    assert.equal(noted.group.notes, 'Shop "é" <b>\nsecond line');
    const again = await suite.store.lists.createGroup(list.id, 'NOTED', 'other notes');
    assert.deepEqual([again.created, again.group.notes], [false, 'Shop "é" <b>\nsecond line'], "an existing group keeps its own notes");
    assert.deepEqual(await suite.store.lists.setGroupNotes(account, plain.group.id, 'now noted'), { ...plain.group, notes: 'now noted' });
    assert.equal(await suite.store.lists.setGroupNotes(other, plain.group.id, 'stolen'), null, "another account's group");
    assert.equal(await suite.store.lists.setGroupNotes(account, 987_654_321, 'x'), null);
    assert.deepEqual((await suite.store.lists.getGroups(list.id)).map((g) => g.notes), ['now noted', 'Shop "é" <b>\nsecond line']);
    assert.deepEqual(await suite.store.lists.renameGroup(account, plain.group.id, 'Renamed'), { ok: true, group: { ...plain.group, name: 'Renamed', notes: 'now noted' } });
  });

  test("deleteGroup removes the group and its memberships, keeps the recipients' subscriptions, and keeps to the account", async () => {
    const p = await runningProcess(suite.store, 2);
    const [kept, gone] = p.groupIds as [number, number];
    await mergeRecipients(suite.store, p.lease, [{ email: 'a@x.it', emailStatus: 'subscribed' }, { email: 'b@x.it', emailStatus: 'subscribed' }]);
    await unwrap(suite.store).processes.finishProcess(p.lease);
    const other = (await twoAccounts('DeleteOther'))[0];
    assert.deepEqual(await suite.store.lists.deleteGroup(other, gone), { ok: false, reason: 'not-found' }, "another account's group");
    const group = await suite.store.lists.getGroup(p.accountId, gone);
    assert.deepEqual(await suite.store.lists.deleteGroup(p.accountId, gone), { ok: true, group });
    assert.equal(await suite.store.lists.getGroup(p.accountId, gone), null);
    assert.deepEqual((await suite.store.lists.getGroups(p.listId)).map((g) => g.id), [kept]);
    const members = async (groupId: number): Promise<number> =>
      Number((await suite.fx.db.query<{ n: number }>('SELECT count(*) AS n FROM membership WHERE group_id = ?', [groupId]))[0]!.n);
    assert.deepEqual([await members(gone), await members(kept)], [0, 2]);
    const subscribed = await suite.fx.db.query<{ n: number }>("SELECT count(*) AS n FROM subscription_channel WHERE list_id = ? AND status = 'subscribed'", [p.listId]);
    assert.equal(Number(subscribed[0]!.n), 2, 'the recipients stay on the list');
    assert.deepEqual(await suite.store.lists.deleteGroup(p.accountId, gone), { ok: false, reason: 'not-found' }, 'already deleted');
    assert.equal((await suite.store.lists.createGroup(p.listId, 'Two')).created, true, 'its name is free again');
  });

  test('deleteGroup refuses a group that a prepared or running import names, and allows it once the import has ended', async () => {
    const [account] = await twoAccounts('DeleteInUse');
    const raw = unwrap(suite.store);
    const list = await raw.lists.createList(account, 'L');
    const group = async (name: string): Promise<number> => (await raw.lists.createGroup(list.id, name)).group.id;
    const [prepared, running, free] = [await group('Prepared'), await group('Running'), await group('Free')];
    const feed = await storeFeed(raw, account, [feedRow(1, 'a@x.it')]);
    const made = await raw.processes.createProcesses(account, feed, [{ listId: list.id, options: defaultOptions({ groupIds: [free + 1000, prepared] }) }], { start: false });
    assert.ok(made.ok);
    assert.deepEqual(await suite.store.lists.deleteGroup(account, prepared), { ok: false, reason: 'in-use' }, 'a prepared import names it');
    const started = await startedProcess(suite.store, { accountId: account, listId: list.id, groupIds: [running] }, 1);
    assert.deepEqual(await suite.store.lists.deleteGroup(account, running), { ok: false, reason: 'in-use' }, 'a running import names it');
    assert.ok(await raw.lists.getGroup(account, running), 'refused deletions changed nothing');
    assert.equal((await suite.store.lists.deleteGroup(account, free)).ok, true, 'a group no import names');
    await raw.processes.finishProcess(started.lease);
    assert.equal((await suite.store.lists.deleteGroup(account, running)).ok, true, 'its import has ended');
    assert.deepEqual(await suite.store.lists.deleteGroup(account, prepared), { ok: false, reason: 'in-use' }, 'the prepared one still names it');
  });
  test('getListCountry/setListCountry: a new list has none; set, changed and cleared within the account only', async () => {
    const [a, b] = await twoAccounts('Country');
    const list = await suite.store.lists.createList(a, 'Mobiles');
    assert.equal(await suite.store.lists.getListCountry(a, list.id), null, 'a new list has no country');
    assert.equal(await suite.store.lists.setListCountry(a, list.id, 'IT'), true);
    assert.equal(await suite.store.lists.getListCountry(a, list.id), 'IT');
    assert.equal(await suite.store.lists.setListCountry(b, list.id, 'DE'), false, 'another account cannot set it');
    assert.equal(await suite.store.lists.getListCountry(b, list.id), null, 'nor read it');
    assert.equal(await suite.store.lists.getListCountry(a, list.id), 'IT', 'and it is unchanged');
    assert.equal(await suite.store.lists.setListCountry(a, list.id, 'DE'), true);
    assert.equal(await suite.store.lists.getListCountry(a, list.id), 'DE');
    assert.equal(await suite.store.lists.setListCountry(a, list.id, null), true);
    assert.equal(await suite.store.lists.getListCountry(a, list.id), null, 'cleared');
    assert.equal(await suite.store.lists.setListCountry(a, 999_999_999, 'IT'), false, 'no such list');
    assert.equal(await suite.store.lists.getListCountry(a, 999_999_999), null);
  });
});
