/**
 * The ListStore contract (src/store/lists.ts), run against the adapter TEST_STORE names (npm test
 * runs it on both): an account's lists and their groups. The store keeps names as it is given
 * them (trimming and cutting are the core's); group names count as the same regardless of ASCII
 * case; every method that takes an account id keeps to that account's lists.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contractSuite } from './store-fixture.ts';

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

  test("listLists: the account's lists in id order with their groups; a filter of ids never reaches another account's", async () => {
    const [account, other] = await twoAccounts('Listing');
    const first = await suite.store.lists.createList(account, 'First');
    const second = await suite.store.lists.createList(account, 'Second');
    const theirs = await suite.store.lists.createList(other, 'Theirs');
    const g1 = (await suite.store.lists.createGroup(first.id, 'G1')).group;
    const g2 = (await suite.store.lists.createGroup(first.id, 'G2')).group;
    await suite.store.lists.createGroup(theirs.id, 'Not yours');
    assert.deepEqual(await suite.store.lists.listLists(account), [{ ...first, groups: [g1, g2] }, { ...second, groups: [] }]);
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
