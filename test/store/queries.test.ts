/**
 * The QueryStore contract (src/store/queries.ts), run against the adapter TEST_STORE names (npm
 * test runs it on both): the read-only views the console pages through, keyset paged, each kept to
 * the account it is asked for. test/console/recipient-search.test.ts checks the recipient search,
 * the list statistics and the export against a plain-SQL oracle on a larger data set.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RejectReportRow } from '../../src/model/batch.ts';
import type { KeysetPage } from '../../src/store/queries.ts';
import type { Store } from '../../src/store/store.ts';
import {
  accountWithList, claim, contractCoverage, defaultOptions, feedRow, mergeRecipients, recipientId, startedProcess, storeFeed, storeFixture, unwrap,
  type StoreFixture,
} from './store-fixture.ts';

let fx: StoreFixture;
let store: Store;
type Account = Awaited<ReturnType<typeof accountWithList>>;
/** Account A: list L (groups g1, g2) with four recipients and a finished ConfirmEmail import with rejects; an empty list L2. */
let a: Account;
let emptyList: number;
let importId: number;
let b: Account;
const outboxOfA: number[] = [];
let outboxOfB: number;

before(async () => {
  fx = await storeFixture();
  store = fx.store;
  const raw = unwrap(store);
  a = await accountWithList(raw, 'Queries');
  b = await accountWithList(raw, 'Queries other');
  emptyList = (await raw.lists.createList(a.accountId, 'Empty')).id;
  const p = await startedProcess(raw, a, 6, { ConfirmEmail: true });
  importId = p.process.id;
  await mergeRecipients(raw, p.lease, [
    { email: 'anna@x.it', mobile: '+393330000001', name: 'Anna', fields: { 1: 'A', 3: 'three' }, emailStatus: 'subscribed', smsStatus: 'subscribed' },
    { email: 'bruno@x.it', name: 'Bruno', fields: { 2: 'B' }, emailStatus: 'pending', confirm: true },
    { email: 'carla@x.it', emailStatus: 'unsubscribed' },
    { mobile: '+393330000004', smsStatus: 'subscribed', joinGroups: false },
  ], { lastRow: 6, rejects: [1, 3, 4, 6].map((row) => ({ row, raw: `email="bad${row}"`, reason: `reason ${row}` })) });
  await raw.processes.finishProcess(p.lease);
  // B knows anna@x.it too.
  const pb = await startedProcess(raw, b, 1);
  await mergeRecipients(raw, pb.lease, [{ email: 'anna@x.it', name: 'Not A', emailStatus: 'subscribed' }], { lastRow: 1, rejects: [{ row: 1, raw: 'x', reason: 'y' }] });
  await raw.processes.finishProcess(pb.lease);
  const entry = (accountId: number, n: number) => ({
    accountId, requestId: null, sender: 'Lists <lists@example.com>', recipient: `o${n}@x.it`, subject: `Message ${n}`, html: '<p>Hi</p>', text: 'Hi',
  });
  for (let n = 0; n < 5; n++) outboxOfA.push(await raw.confirmations.writeOutbox(entry(a.accountId, n)));
  outboxOfB = await raw.confirmations.writeOutbox(entry(b.accountId, 99));
});
after(() => fx?.close());
contractCoverage('queries');

const ids = <T extends { id: number }>(page: KeysetPage<T>): [number[], boolean, boolean] => [page.items.map((i) => i.id), page.hasNext, page.hasPrevious];
const emptyPage = [[], false, false];
const NONE = { subscribed: 0, pending: 0, unsubscribed: 0 };

describe('import processes', () => {
  test('consoleProcesses: newest first, keyset paged both ways, by status and list, never another account\'s', async () => {
    const raw = unwrap(store);
    const acc = await accountWithList(raw, 'Console processes');
    const list2 = (await raw.lists.createList(acc.accountId, 'Second')).id;
    const feed = await storeFeed(raw, acc.accountId, [feedRow(1, 'p@x.it')]);
    const make = async (listId: number, start: boolean): Promise<number> => {
      const r = await raw.processes.createProcesses(acc.accountId, feed, [{ listId, options: defaultOptions() }], { start });
      assert.ok(r.ok);
      return r.processes[0]!.id;
    };
    const p1 = await make(acc.listId, true);
    await raw.processes.finishProcess(await claim(raw, p1, 'console'));
    const p2 = await make(acc.listId, true);
    await raw.processes.failProcess(await claim(raw, p2, 'console'), 'failed by the test');
    const p3 = await make(acc.listId, true);
    const p4 = await make(list2, false);
    const p5 = await make(acc.listId, false);
    const page = (query: Partial<Parameters<Store['queries']['consoleProcesses']>[1]>) =>
      store.queries.consoleProcesses(acc.accountId, { status: 'all', listIds: null, limit: 2, ...query });

    const first = await page({});
    assert.deepEqual(ids(first), [[p5, p4], true, false]);
    assert.deepEqual(first.items[0], { ...(await raw.processes.getProcess(acc.accountId, p5))!, confirmationsPending: 0 });
    assert.deepEqual(ids(await page({ olderThan: p4 })), [[p3, p2], true, true]);
    assert.deepEqual(ids(await page({ olderThan: p2 })), [[p1], false, true]);
    assert.deepEqual(ids(await page({ newerThan: p1 })), [[p3, p2], true, true]);
    assert.deepEqual(ids(await page({ newerThan: p3 })), [[p5, p4], true, false], 'back to the first page');
    assert.deepEqual(ids(await page({ limit: 10 })), [[p5, p4, p3, p2, p1], false, false]);

    assert.deepEqual(ids(await page({ status: 'waiting', limit: 10 })), [[p5, p4], false, false]);
    assert.deepEqual(ids(await page({ status: 'running', limit: 10 })), [[p3], false, false]);
    assert.deepEqual(ids(await page({ status: 'completed', limit: 10 })), [[p1], false, false]);
    assert.deepEqual(ids(await page({ status: 'failed', limit: 10 })), [[p2], false, false]);
    assert.deepEqual(ids(await page({ listIds: [list2], limit: 10 })), [[p4], false, false]);
    assert.deepEqual(ids(await page({ listIds: [acc.listId], status: 'waiting', limit: 10 })), [[p5], false, false]);
    assert.deepEqual(ids(await page({ listIds: [], limit: 10 })), emptyPage, 'no lists, no processes');

    assert.deepEqual(ids(await store.queries.consoleProcesses(b.accountId, { status: 'all', listIds: [acc.listId, list2], limit: 10 })), emptyPage);
    assert.ok(!(await store.queries.consoleProcesses(b.accountId, { status: 'all', listIds: null, limit: 100 })).items.some((p) => p.accountId !== b.accountId));
  });
});

describe('lists and recipients', () => {
  test('listStats: subscriptions by channel and status, distinct recipients, and per group; another account gets nothing', async () => {
    const [stats] = await store.queries.listStats(a.accountId, [a.listId]);
    const [g1, g2] = a.groupIds;
    const listCounts = { email: { subscribed: 1, pending: 1, unsubscribed: 1 }, sms: { subscribed: 2, pending: 0, unsubscribed: 0 } };
    const groupCounts = { email: { subscribed: 1, pending: 1, unsubscribed: 1 }, sms: { subscribed: 1, pending: 0, unsubscribed: 0 } };
    assert.deepEqual(stats, {
      listId: a.listId, counts: listCounts, recipients: 4,
      groups: [{ groupId: g1, members: 3, counts: groupCounts }, { groupId: g2, members: 3, counts: groupCounts }],
    });
    const [withoutGroups] = await store.queries.listStats(a.accountId, [a.listId], { groups: false });
    assert.deepEqual(withoutGroups, { ...stats!, groups: [] });
    assert.deepEqual(await store.queries.listStats(a.accountId, [emptyList]), [{ listId: emptyList, counts: { email: NONE, sms: NONE }, recipients: 0, groups: [] }]);
    assert.deepEqual((await store.queries.listStats(a.accountId, [emptyList, a.listId, b.listId])).map((s) => s.listId).sort((x, y) => x - y), [a.listId, emptyList]);
    assert.deepEqual(await store.queries.listStats(b.accountId, [a.listId]), []);
    assert.deepEqual(await store.queries.listStats(a.accountId, []), []);
  });

  test('searchRecipients: pages in id order both ways; prefixes; filters; never another account\'s recipients', async () => {
    const anna = await recipientId(fx.db, a.accountId, 'anna@x.it');
    const bruno = await recipientId(fx.db, a.accountId, 'bruno@x.it');
    const carla = await recipientId(fx.db, a.accountId, 'carla@x.it');
    const [mobileOnly] = (await fx.db.query<{ id: number }>('SELECT id FROM recipient WHERE account_id = ? AND email IS NULL', [a.accountId])).map((r) => Number(r.id));
    const all = [anna, bruno, carla, mobileOnly!].sort((x, y) => x - y);

    const first = await store.queries.searchRecipients(a.accountId, {}, { limit: 3 });
    assert.deepEqual(ids(first), [all.slice(0, 3), true, false]);
    const annaRow = first.items.find((r) => r.id === anna)!;
    assert.deepEqual({ ...annaRow, cursor: null }, {
      id: anna, email: 'anna@x.it', mobile: '+393330000001', name: 'Anna', cursor: null,
      subscriptions: [{ listId: a.listId, channel: 'email', status: 'subscribed' }, { listId: a.listId, channel: 'sms', status: 'subscribed' }],
    });
    const next = await store.queries.searchRecipients(a.accountId, {}, { limit: 3, after: first.items.at(-1)!.cursor });
    assert.deepEqual(ids(next), [all.slice(3), false, true]);
    assert.deepEqual(ids(await store.queries.searchRecipients(a.accountId, {}, { limit: 3, before: next.items[0]!.cursor })), ids(first));

    const byEmail = await store.queries.searchRecipients(a.accountId, { emailPrefix: 'b' }, { limit: 10 });
    assert.deepEqual(byEmail.items.map((r) => r.email), ['bruno@x.it']);
    const byMobile = await store.queries.searchRecipients(a.accountId, { mobilePrefix: '+39333' }, { limit: 10 });
    assert.deepEqual(byMobile.items.map((r) => r.mobile), ['+393330000001', '+393330000004']);
    assert.deepEqual((await store.queries.searchRecipients(a.accountId, { listId: a.listId, status: 'pending' }, { limit: 10 })).items.map((r) => r.id), [bruno]);
    assert.deepEqual((await store.queries.searchRecipients(a.accountId, { listId: a.listId, channel: 'sms' }, { limit: 10 })).items.map((r) => r.id),
      [anna, mobileOnly].sort((x, y) => x! - y!));
    assert.deepEqual((await store.queries.searchRecipients(a.accountId, { groupId: a.groupIds[0] }, { limit: 10 })).items.map((r) => r.id), [anna, bruno, carla].sort((x, y) => x - y));
    assert.deepEqual(ids(await store.queries.searchRecipients(a.accountId, { listId: emptyList }, { limit: 10 })), emptyPage);
    // A cursor that does not fit the filter starts at the first page.
    assert.deepEqual(ids(await store.queries.searchRecipients(a.accountId, {}, { limit: 3, after: byEmail.items[0]!.cursor })), ids(first));
    assert.deepEqual(ids(await store.queries.searchRecipients(a.accountId, {}, { limit: 3, after: 'garbage' })), ids(first));

    // B sees its own anna@x.it only, and nothing through A's list or group.
    const theirs = await store.queries.searchRecipients(b.accountId, { emailPrefix: 'anna' }, { limit: 10 });
    assert.deepEqual(theirs.items.map((r) => [r.email, r.name]), [['anna@x.it', 'Not A']]);
    assert.ok(!(await store.queries.searchRecipients(b.accountId, {}, { limit: 100 })).items.some((r) => all.includes(r.id)));
    assert.deepEqual(ids(await store.queries.searchRecipients(b.accountId, { listId: a.listId }, { limit: 10 })), emptyPage);
    assert.deepEqual(ids(await store.queries.searchRecipients(b.accountId, { groupId: a.groupIds[0] }, { limit: 10 })), emptyPage);
    assert.deepEqual(ids(await store.queries.searchRecipients(b.accountId, { mobilePrefix: '+39333' }, { limit: 10 })), emptyPage);
  });

  test('a prefix no address starts with finds nothing, whatever characters it holds (a NUL included)', async () => {
    // The console's search box hands the text over as typed (lower-cased).
    for (const emailPrefix of ['anna\u0000', '\u0000', 'ann%', 'ann_', '\u{1F600}']) {
      assert.deepEqual(ids(await store.queries.searchRecipients(a.accountId, { emailPrefix }, { limit: 10 })), emptyPage, JSON.stringify(emailPrefix));
    }
    assert.deepEqual(ids(await store.queries.searchRecipients(a.accountId, { mobilePrefix: '+39\u0000' }, { limit: 10 })), emptyPage);
  });

  test('recipientDetail: fields, subscriptions, groups, imports and confirmation requests; null for another account', async () => {
    const bruno = await recipientId(fx.db, a.accountId, 'bruno@x.it');
    const detail = await store.queries.recipientDetail(a.accountId, bruno);
    assert.ok(detail);
    assert.deepEqual([detail.id, detail.accountId, detail.email, detail.mobile, detail.name, detail.fields], [bruno, a.accountId, 'bruno@x.it', null, 'Bruno', { 2: 'B' }]);
    assert.ok(detail.createdAt instanceof Date && detail.updatedAt instanceof Date);
    assert.deepEqual(detail.subscriptions.map((s) => [s.listId, s.channel, s.status, s.reason, s.processId, s.confirmedAt]),
      [[a.listId, 'email', 'pending', null, importId, null]]);
    assert.ok(detail.subscriptions[0]!.updatedAt instanceof Date);
    assert.deepEqual(detail.groups.map((g) => g.id), a.groupIds);
    assert.deepEqual(detail.imports.map((i) => [i.processId, i.listId, i.status, i.endDate instanceof Date]), [[importId, a.listId, 3, true]]);
    assert.deepEqual(detail.confirmations.map((c) => [c.processId, c.listId, c.status, c.attempts, c.lastError, c.sentAt, c.confirmedAt]),
      [[importId, a.listId, 'queued', 0, null, null, null]]);
    const carla = await store.queries.recipientDetail(a.accountId, await recipientId(fx.db, a.accountId, 'carla@x.it'));
    assert.deepEqual(carla!.subscriptions.map((s) => [s.status, s.reason]), [['unsubscribed', 'import']]);
    assert.deepEqual(carla!.confirmations, []);
    assert.equal(await store.queries.recipientDetail(b.accountId, bruno), null);
    assert.equal(await store.queries.recipientDetail(a.accountId, await recipientId(fx.db, b.accountId, 'anna@x.it')), null);
    assert.equal(await store.queries.recipientDetail(a.accountId, 987_654_321), null);
  });

  test('exportList: every recipient of the list once, in id order, from one snapshot; null for another account\'s list', async () => {
    const exported = await store.queries.exportList(a.accountId, a.listId);
    assert.ok(exported);
    assert.deepEqual(exported.fieldNumbers, [1, 2, 3]);
    // A recipient that joins the list while the export is read is not in it.
    const raw = unwrap(store);
    const late = await startedProcess(raw, a, 1);
    const rows = [];
    for await (const row of exported.rows) {
      if (rows.length === 0) await mergeRecipients(raw, late.lease, [{ email: 'late@x.it', emailStatus: 'subscribed' }], { lastRow: 1 });
      rows.push(row);
    }
    await raw.processes.finishProcess(late.lease);
    const anna = await recipientId(fx.db, a.accountId, 'anna@x.it');
    assert.deepEqual(rows.map((r) => [r.email, r.mobile, r.name, r.emailStatus, r.smsStatus, r.fields]), [
      ['anna@x.it', '+393330000001', 'Anna', 'subscribed', 'subscribed', { 1: 'A', 3: 'three' }],
      ['bruno@x.it', null, 'Bruno', 'pending', null, { 2: 'B' }],
      ['carla@x.it', null, null, 'unsubscribed', null, {}],
      [null, '+393330000004', null, null, 'subscribed', {}],
    ]);
    assert.equal(rows[0]!.id, anna);
    assert.ok(rows.every((r) => r.createdAt instanceof Date && r.updatedAt instanceof Date));
    const again = await store.queries.exportList(a.accountId, a.listId);
    let n = 0;
    for await (const r of again!.rows) {
      n++;
      if (r.email === 'late@x.it') break;
    }
    assert.equal(n, 5, 'a new export sees the late recipient');
    again!.close();
    again!.close();

    const unread = await store.queries.exportList(a.accountId, emptyList);
    assert.deepEqual(unread?.fieldNumbers, []);
    unread!.close();
    unread!.close();
    assert.equal(await store.queries.exportList(b.accountId, a.listId), null);
    assert.equal(await store.queries.exportList(a.accountId, 987_654_321), null);
    assert.equal((await store.lists.getList(a.accountId, a.listId))?.id, a.listId, 'the store is usable after the exports');
  });
});

describe('reject reports and the outbox', () => {
  const rows = (report: KeysetPage<RejectReportRow>): [number[], boolean, boolean] => [report.items.map((r) => r.row), report.hasNext, report.hasPrevious];

  test('rejectReportPage: the rows after a row, in row order; nothing for another account', async () => {
    assert.deepEqual(rows(await store.queries.rejectReportPage(a.accountId, importId, { limit: 2 })), [[1, 3], true, false]);
    assert.deepEqual(rows(await store.queries.rejectReportPage(a.accountId, importId, { afterRow: 3, limit: 2 })), [[4, 6], false, true]);
    assert.deepEqual(rows(await store.queries.rejectReportPage(a.accountId, importId, { afterRow: 4, limit: 5 })), [[6], false, true]);
    assert.deepEqual(rows(await store.queries.rejectReportPage(a.accountId, importId, { afterRow: 6, limit: 5 })), [[], false, true]);
    const [one] = (await store.queries.rejectReportPage(a.accountId, importId, { limit: 1 })).items;
    assert.deepEqual(one, { processId: importId, row: 1, raw: 'email="bad1"', reason: 'reason 1' });
    assert.deepEqual(rows(await store.queries.rejectReportPage(b.accountId, importId, { limit: 10 })), [[], false, false]);
  });

  test('rejectReportPage: a row past any row of a feed (the console takes up to 15 digits) gives an empty page', async () => {
    for (const afterRow of [2 ** 31, 999_999_999_999_999]) {
      assert.deepEqual(rows(await store.queries.rejectReportPage(a.accountId, importId, { afterRow, limit: 5 })), [[], false, true], String(afterRow));
    }
  });

  test('streamRejectReport: the whole report in row order; null for another account\'s process', async () => {
    const stream = await store.queries.streamRejectReport(a.accountId, importId);
    assert.ok(stream);
    const got: RejectReportRow[] = [];
    for await (const r of stream) got.push(r);
    assert.deepEqual(got, [1, 3, 4, 6].map((row) => ({ processId: importId, row, raw: `email="bad${row}"`, reason: `reason ${row}` })));
    assert.equal(await store.queries.streamRejectReport(b.accountId, importId), null);
    assert.equal(await store.queries.streamRejectReport(a.accountId, 987_654_321), null);
  });

  test('outboxPage: newest first, keyset paged both ways; getOutboxMessage: only the account\'s own', async () => {
    const newest = [...outboxOfA].reverse();
    const page = (query: { olderThan?: number; newerThan?: number }) => store.queries.outboxPage(a.accountId, { limit: 2, ...query });
    assert.deepEqual(ids(await page({})), [newest.slice(0, 2), true, false]);
    assert.deepEqual(ids(await page({ olderThan: newest[1] })), [newest.slice(2, 4), true, true]);
    assert.deepEqual(ids(await page({ olderThan: newest[3] })), [newest.slice(4), false, true]);
    assert.deepEqual(ids(await page({ newerThan: newest[4] })), [newest.slice(2, 4), true, true]);
    assert.deepEqual(ids(await page({ newerThan: newest[2] })), [newest.slice(0, 2), true, false]);
    assert.ok(!(await store.queries.outboxPage(b.accountId, { limit: 100 })).items.some((m) => outboxOfA.includes(m.id)));
    assert.deepEqual(ids(await store.queries.outboxPage(b.accountId, { limit: 100 })), [[outboxOfB], false, false]);

    const message = await store.queries.getOutboxMessage(a.accountId, outboxOfA[0]!);
    assert.deepEqual({ ...message!, createdAt: null }, {
      id: outboxOfA[0], accountId: a.accountId, requestId: null, sender: 'Lists <lists@example.com>', recipient: 'o0@x.it', subject: 'Message 0',
      html: '<p>Hi</p>', text: 'Hi', createdAt: null,
    });
    assert.ok(message!.createdAt instanceof Date);
    assert.equal(await store.queries.getOutboxMessage(b.accountId, outboxOfA[0]!), null);
    assert.equal(await store.queries.getOutboxMessage(a.accountId, outboxOfB), null);
    assert.equal(await store.queries.getOutboxMessage(a.accountId, 987_654_321), null);
  });
});
