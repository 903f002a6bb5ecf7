/**
 * The Store contract, run against the adapter TEST_STORE names (npm test runs it on both): what
 * every method promises to the layers above, checked through the interface alone, so that SQLite
 * and PostgreSQL can only pass together by behaving the same.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { emailKey, mobileKey } from '../../src/model/batch.ts';
import { LeaseLostError } from '../../src/store/processes.ts';
import type { Store } from '../../src/store/store.ts';
import type { BatchPlan, PriorRecipient } from '../../src/model/batch.ts';
import { type ImportProcess, zeroCounters } from '../../src/model/records.ts';
import type { Lease } from '../../src/store/processes.ts';
import { accountWithList, defaultOptions, feedRow, storeFeed, storeFixture, type StoreFixture } from './store-fixture.ts';

let fx: StoreFixture;
let store: Store;
before(async () => {
  fx = await storeFixture();
  store = fx.store;
});
after(() => fx.close());

/** Waits until `check` holds (leases expire by the clock, so the test polls rather than sleeps a guess). */
async function eventually<T>(attempt: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Claims the given process for `owner`. Claims take the oldest claimable process, so others'
 * (left running by earlier tests) are held until ours comes, then given back.
 */
async function claim(processId: number, owner: string): Promise<Lease> {
  const others: Lease[] = [];
  try {
    return await eventually(async () => {
      const l = await store.processes.claimProcess(owner, 60_000);
      if (l && l.process.id !== processId) {
        others.push(l);
        return null;
      }
      return l;
    });
  } finally {
    for (const l of others) await store.processes.releaseLease(l);
  }
}

/** A started process with its lease, on a feed of `rows` rows. */
async function runningProcess(rows = 3, overrides: Parameters<typeof defaultOptions>[0] = {}) {
  const a = await accountWithList(store, `Acct ${Math.random().toString(36).slice(2, 8)}`);
  const feed = await storeFeed(store, a.accountId, Array.from({ length: rows }, (_, i) => feedRow(i + 1, `r${i}@x.it`)));
  const created = await store.processes.createProcesses(a.accountId, feed, [{ listId: a.listId, options: defaultOptions({ groupIds: a.groupIds, ...overrides }) }], { start: true });
  assert.ok(created.ok);
  const lease = await claim(created.processes[0]!.id, `owner-${a.accountId}`);
  return { ...a, feed, process: created.processes[0]!, lease };
}

const noWrites = (): BatchPlan => ({ recipients: [], rejects: [], counters: zeroCounters() });

describe('accounts, lists and groups', () => {
  test('account numbers start at 1001 and follow on; an explicit number is kept; a taken one is refused', async () => {
    const first = await store.accounts.createAccount({ passwordHash: 'h1', name: 'One' });
    const second = await store.accounts.createAccount({ passwordHash: 'h2', name: 'Two', wsEnabled: false });
    assert.ok(first.id >= 1001);
    assert.equal(second.id, first.id + 1);
    assert.deepEqual([second.wsUser, second.wsEnabled, second.ipCheck, second.allowedIps], [`a${second.id}`, false, false, []]);
    const chosen = await store.accounts.createAccount({ id: 990_000, passwordHash: 'h3', name: 'Chosen' });
    assert.equal(chosen.wsUser, 'a990000');
    await assert.rejects(store.accounts.createAccount({ id: 990_000, passwordHash: 'other', name: 'Twin' }));
    assert.equal((await store.accounts.getAccount(990_000))?.name, 'Chosen');
    assert.equal((await store.accounts.findAccountByWsUser('a990000'))?.passwordHash, 'h3');
    const changed = await store.accounts.updateAccount(990_000, { ipCheck: true, allowedIps: ['10.0.0.1', '::1'], name: 'Renamed' });
    assert.deepEqual([changed?.ipCheck, changed?.allowedIps, changed?.name, changed?.passwordHash], [true, ['10.0.0.1', '::1'], 'Renamed', 'h3']);
    assert.equal(await store.accounts.updateAccount(123_456_789, { name: 'nobody' }), null);
    assert.ok((await store.accounts.listAccounts()).some((a) => a.id === 990_000));
  });

  test('console users see every list, or the ones they are given', async () => {
    const a = await accountWithList(store, 'Console');
    const all = await store.accounts.createConsoleUser(a.accountId, 'admin', 'h');
    const some = await store.accounts.createConsoleUser(a.accountId, 'clerk', 'h', [a.listId]);
    assert.equal(all.listIds, null);
    assert.deepEqual((await store.accounts.findConsoleUser(a.accountId, 'clerk'))?.listIds, [a.listId]);
    assert.equal((await store.accounts.getConsoleUser(a.accountId, some.id))?.username, 'clerk');
    assert.equal(await store.accounts.findConsoleUser(a.accountId + 1, 'admin'), null);
  });

  test('GUIDs are kept in lower case; lists belong to their account; renaming stays within it', async () => {
    const account = await store.accounts.createAccount({ passwordHash: 'h', name: 'Lists' });
    const other = await store.accounts.createAccount({ passwordHash: 'h', name: 'Other' });
    const list = await store.lists.createList(account.id, 'News', 'ABCDEF01-2345-6789-ABCD-EF0123456789');
    assert.equal(list.guid, 'abcdef01-2345-6789-abcd-ef0123456789');
    assert.equal(await store.lists.getList(other.id, list.id), null);
    assert.equal(await store.lists.renameList(other.id, list.id, 'Stolen'), null);
    assert.equal((await store.lists.renameList(account.id, list.id, 'Daily'))?.name, 'Daily');
    const second = await store.lists.createList(account.id, 'Second');
    assert.deepEqual((await store.lists.listLists(account.id)).map((l) => l.name), ['Daily', 'Second']);
    assert.deepEqual((await store.lists.listLists(account.id, [second.id])).map((l) => l.id), [second.id]);
  });

  test('group names are unique per list regardless of ASCII case, as SQLite NOCASE compares them', async () => {
    const account = await store.accounts.createAccount({ passwordHash: 'h', name: 'Groups' });
    const list = await store.lists.createList(account.id, 'L');
    const created = await store.lists.createGroup(list.id, 'Customers');
    const again = await store.lists.createGroup(list.id, 'CUSTOMERS');
    assert.deepEqual([created.created, again.created, again.group], [true, false, created.group]);
    // Only ASCII letters fold: É and é are different names.
    const upper = await store.lists.createGroup(list.id, 'École');
    const lower = await store.lists.createGroup(list.id, 'école');
    assert.deepEqual([upper.created, lower.created], [true, true]);
    assert.deepEqual((await store.lists.getGroups(list.id)).map((g) => g.name), ['Customers', 'École', 'école']);
    const lists = await store.lists.listLists(account.id);
    assert.equal(lists[0]!.groups.length, 3);
  });

  test('settings are written once; a second value does not replace the first', async () => {
    assert.equal(await store.settings.getSetting('contract.secret'), null);
    assert.equal(await store.settings.setSettingIfAbsent('contract.secret', 'first'), 'first');
    assert.equal(await store.settings.setSettingIfAbsent('contract.secret', 'second'), 'first');
    assert.equal(await store.settings.getSetting('contract.secret'), 'first');
  });
});

describe('feeds', () => {
  test('rows come back from any row to the end of its chunk, exactly as stored; an aborted feed is gone', async () => {
    const account = await store.accounts.createAccount({ passwordHash: 'h', name: 'Feeds' });
    const rows = Array.from({ length: 25 }, (_, i) => feedRow(i + 1, i === 3 ? '' : `f${i}@x.it`, {
      prefix: i % 2 ? '+39' : '', number: i % 3 ? `33300${i}` : '', name: `Näme "${i}" <&>`, fields: i % 5 ? { 1: `v${i}`, 3: '' } : {},
    }));
    const feed = await storeFeed(store, account.id, rows, 10);
    assert.deepEqual([feed.totalRows, feed.chunkCount, feed.accountId], [25, 3, account.id]);
    assert.deepEqual(await store.feeds.readFeedRows(feed.id, 1), rows.slice(0, 10));
    assert.deepEqual(await store.feeds.readFeedRows(feed.id, 14), rows.slice(13, 20));
    assert.deepEqual(await store.feeds.readFeedRows(feed.id, 21), rows.slice(20));
    assert.deepEqual(await store.feeds.readFeedRows(feed.id, 26), []);

    const writer = store.feeds.openFeedWriter(account.id);
    await writer.append([feedRow(1, 'gone@x.it')]);
    await writer.abort();
    const empty = store.feeds.openFeedWriter(account.id);
    await empty.abort();
  });
});

describe('processes and the start queue', () => {
  test('the first process runs, the others wait in order; one running import per account with -601/-602 reasons', async () => {
    const a = await accountWithList(store, 'Queue');
    const second = await store.lists.createList(a.accountId, 'Second');
    const feed = await storeFeed(store, a.accountId, [feedRow(1, 'q@x.it'), feedRow(2, 'q2@x.it')]);
    const created = await store.processes.createProcesses(a.accountId, feed, [
      { listId: a.listId, options: defaultOptions() }, { listId: second.id, options: defaultOptions({ asPending: true }) },
    ], { start: true });
    assert.ok(created.ok);
    const [running, waiting] = created.processes;
    assert.deepEqual([running!.status, running!.queued, running!.totalContacts, running!.startDate instanceof Date], [2, false, 2, true]);
    assert.deepEqual([waiting!.status, waiting!.queued, waiting!.options.asPending], [1, true, true]);

    // Busy: by the running process's list (-601 same list, -602 another).
    const idle = await store.processes.createProcesses(a.accountId, feed, [{ listId: second.id, options: defaultOptions() }], { start: false });
    assert.ok(idle.ok);
    assert.deepEqual(await store.processes.pendingProcessIds(a.accountId), [idle.processes[0]!.id]);
    assert.deepEqual(await store.processes.startProcesses(a.accountId, [idle.processes[0]!.id]), { ok: false, reason: 'busy-other-list' });
    assert.deepEqual(await store.processes.createProcesses(a.accountId, feed, [{ listId: a.listId, options: defaultOptions() }], { start: true }),
      { ok: false, reason: 'busy-same-list' });
    assert.deepEqual(await store.processes.startProcesses(a.accountId, [running!.id]), { ok: false, reason: 'not-startable' });
    assert.deepEqual(await store.processes.startProcesses(a.accountId + 1000, [idle.processes[0]!.id]), { ok: false, reason: 'not-found' });
    const processes = await store.processes.listProcesses(a.accountId);
    assert.deepEqual(processes.map((p) => p.id), [idle.processes[0]!.id, waiting!.id, running!.id], 'newest first');

    // Finishing the running one starts the next in the queue, in the same transaction.
    const lease = await claim(running!.id, 'queue-owner');
    await store.processes.finishProcess(lease);
    const [done, next] = await Promise.all([store.processes.getProcess(a.accountId, running!.id), store.processes.getProcess(a.accountId, waiting!.id)]);
    assert.deepEqual([done!.status, done!.endDate instanceof Date, next!.status, next!.queued], [3, true, 2, false]);
    assert.equal(await store.processes.getProcess(a.accountId + 1000, running!.id), null);
  });
});

describe('leases', () => {
  test('a claimed process is nobody else\'s until its lease expires; the old holder then writes nothing', async () => {
    const p = await runningProcess(3);
    assert.equal(p.lease.process.id, p.process.id);
    // A second worker finds nothing of this process while the lease holds.
    const others: Lease[] = [];
    for (let l = await store.processes.claimProcess('other-owner', 60_000); l; l = await store.processes.claimProcess('other-owner', 60_000)) others.push(l);
    assert.ok(others.every((l) => l.process.id !== p.process.id));
    for (const l of others) await store.processes.releaseLease(l);
    assert.equal(await store.processes.renewLease(p.lease), true);

    // Let it expire: shorten it by renewing with a tiny lease, then wait for another claim to take it.
    const short: Lease = { ...p.lease, leaseMs: 1 };
    assert.equal(await store.processes.renewLease(short), true);
    const taken = await claim(p.process.id, 'new-owner');
    assert.equal(taken.process.id, p.process.id);
    assert.equal(await store.processes.renewLease(p.lease), false);
    await assert.rejects(store.merge.mergeBatch(p.lease, { emails: ['r0@x.it'], mobiles: [] }, 1, () => ({
      recipients: [{ id: null, email: 'r0@x.it', mobile: null, name: null, fields: {}, subscriptions: [], joinGroups: false }],
      rejects: [], counters: { ...zeroCounters(), newEmail: 1 },
    })), LeaseLostError);
    await assert.rejects(store.processes.finishProcess(p.lease), LeaseLostError);
    const unchanged = await store.processes.getProcess(p.accountId, p.process.id);
    assert.deepEqual([unchanged!.checkpoint, unchanged!.counters.newEmail, unchanged!.status], [0, 0, 2]);

    // Released: claimable again at once.
    await store.processes.releaseLease(taken);
    const again = await claim(p.process.id, 'third-owner');
    await store.processes.failProcess(again, 'stopped by the test');
    const failed = await store.processes.getProcess(p.accountId, p.process.id);
    assert.deepEqual([failed!.status, failed!.failureReason], [4, 'stopped by the test']);
  });
});

describe('merging a batch', () => {
  test('prior state, inserts, field patches, subscriptions, groups, confirmations, rejects and counters in one commit', async () => {
    const p = await runningProcess(4, { ConfirmEmail: true });
    const keysFirst = { emails: ['anna@x.it', 'bruno@x.it'], mobiles: ['+393330000001'] };
    let seen: ReadonlyMap<string, PriorRecipient> | null = null;
    const first = await store.merge.mergeBatch(p.lease, keysFirst, 2, (prior): BatchPlan => {
      seen = prior;
      return {
        recipients: [
          { id: null, email: 'anna@x.it', mobile: '+393330000009', name: 'Anna', fields: { 1: 'A', 2: '' }, joinGroups: true,
            subscriptions: [{ channel: 'email', status: 'pending', reason: null, requestConfirmation: true }, { channel: 'sms', status: 'subscribed', reason: null, requestConfirmation: false }] },
          { id: null, email: null, mobile: '+393330000001', name: null, fields: {}, joinGroups: true,
            subscriptions: [{ channel: 'sms', status: 'subscribed', reason: null, requestConfirmation: false }] },
        ],
        rejects: [{ row: 2, raw: 'email="bad"', reason: 'invalid e-mail address' }],
        counters: { ...zeroCounters(), newEmail: 1, newMobile: 2 },
      };
    });
    assert.equal(seen!.size, 0, 'nothing known before the first batch');
    assert.deepEqual([first.checkpoint, first.counters.newEmail, first.counters.newMobile, first.rejected, await store.confirmations.pendingConfirmations(p.accountId, p.process.id)], [2, 1, 2, 1, 1]);
    assert.deepEqual(await store.processes.rejectReport(p.accountId, p.process.id), [{ processId: p.process.id, row: 2, raw: 'email="bad"', reason: 'invalid e-mail address' }]);

    // The second batch sees what the first wrote, by e-mail and by mobile.
    let prior: ReadonlyMap<string, PriorRecipient> = new Map();
    const second = await store.merge.mergeBatch(p.lease, { emails: ['anna@x.it'], mobiles: ['+393330000001'] }, 4, (known): BatchPlan => {
      prior = known;
      const anna = known.get(emailKey('anna@x.it'))!;
      return {
        recipients: [
          // Fields: '' clears a stored value, a field not named keeps its value, a new one is added.
          { id: anna.id, email: 'anna@x.it', mobile: null, name: null, fields: { 1: '', 3: 'C' }, joinGroups: false,
            subscriptions: [{ channel: 'email', status: 'unsubscribed', reason: 'import', requestConfirmation: false }] },
          // The same recipient twice in one batch: the later subscription wins, as in SQLite.
          { id: anna.id, email: 'anna@x.it', mobile: null, name: null, fields: { 1: '', 3: 'C' }, joinGroups: false,
            subscriptions: [{ channel: 'email', status: 'subscribed', reason: null, requestConfirmation: false }] },
        ],
        rejects: [],
        counters: { ...zeroCounters(), existingEmail: 2 },
      };
    });
    const anna = prior.get(emailKey('anna@x.it'))!;
    assert.deepEqual([anna.email, anna.mobile, anna.emailState, anna.smsState],
      ['anna@x.it', '+393330000009', { status: 'pending' }, { status: 'subscribed' }]);
    const mobileOnly = prior.get(mobileKey('+393330000001'))!;
    assert.deepEqual([mobileOnly.email, mobileOnly.emailState, mobileOnly.smsState], [null, { status: 'none' }, { status: 'subscribed' }]);
    assert.deepEqual([second.checkpoint, second.counters.newEmail, second.counters.existingEmail], [4, 1, 2]);

    const rows = await fx.db.query<{ email: string | null; mobile: string; name: string | null; fields: string }>(
      'SELECT email, mobile, name, fields FROM recipient WHERE account_id = ? ORDER BY id', [p.accountId]);
    assert.deepEqual(rows.map((r) => ({ ...r, fields: JSON.parse(r.fields) as unknown })), [
      { email: 'anna@x.it', mobile: '+393330000009', name: 'Anna', fields: { 1: '', 3: 'C' } },
      { email: null, mobile: '+393330000001', name: null, fields: {} },
    ]);
    const subscriptions = await fx.db.query('SELECT r.email, s.channel, s.status, s.reason FROM subscription s JOIN recipient r ON r.id = s.recipient_id WHERE r.account_id = ? ORDER BY r.id, s.channel', [p.accountId]);
    assert.deepEqual(subscriptions, [
      { email: 'anna@x.it', channel: 'email', status: 'subscribed', reason: null },
      { email: 'anna@x.it', channel: 'sms', status: 'subscribed', reason: null },
      { email: null, channel: 'sms', status: 'subscribed', reason: null },
    ]);
    const groups = await fx.db.query<{ n: number }>('SELECT count(*) AS n FROM membership m JOIN recipient r ON r.id = m.recipient_id WHERE r.account_id = ?', [p.accountId]);
    assert.equal(Number(groups[0]!.n), 4, 'both recipients joined both groups');
    const requests = await store.confirmations.listConfirmationRequests(p.accountId, p.process.id);
    assert.deepEqual(requests.map((r) => [r.email, r.status]), [['anna@x.it', 'queued']]);
  });

  test('replaceGroups leaves the list\'s other groups and keeps other lists\' groups', async () => {
    const p = await runningProcess(1, {});
    const [g1, g2] = p.groupIds;
    const otherList = await store.lists.createList(p.accountId, 'Other');
    const elsewhere = (await store.lists.createGroup(otherList.id, 'Elsewhere')).group.id;
    const make = (id: number | null) => ({
      id, email: 'g@x.it', mobile: null, name: null, fields: {}, joinGroups: true,
      subscriptions: id === null ? [{ channel: 'email' as const, status: 'subscribed' as const, reason: null, requestConfirmation: false }] : [],
    });
    await store.merge.mergeBatch(p.lease, { emails: ['g@x.it'], mobiles: [] }, 1, () => ({ recipients: [make(null)], rejects: [], counters: zeroCounters() }));
    const [{ id }] = await fx.db.query<{ id: number }>('SELECT id FROM recipient WHERE account_id = ? AND email = ?', [p.accountId, 'g@x.it']) as [{ id: number }];
    await fx.db.execute('INSERT INTO membership (recipient_id, group_id) VALUES (?, ?)', [id, elsewhere]);
    await store.processes.finishProcess(p.lease);

    // A second import into the list with only group 2 and replaceGroups.
    const feed = await storeFeed(store, p.accountId, [feedRow(1, 'g@x.it')]);
    const created = await store.processes.createProcesses(p.accountId, feed, [{ listId: p.listId, options: defaultOptions({ groupIds: [g2!], replaceGroups: true }) }], { start: true });
    assert.ok(created.ok);
    const lease = await claim(created.processes[0]!.id, 'replace-owner');
    await store.merge.mergeBatch(lease, { emails: ['g@x.it'], mobiles: [] }, 1, () => ({ recipients: [make(id)], rejects: [], counters: zeroCounters() }));
    const memberships = (await fx.db.query<{ group_id: number }>('SELECT group_id FROM membership WHERE recipient_id = ? ORDER BY group_id', [id])).map((m) => m.group_id);
    assert.deepEqual(memberships, [g2, elsewhere].sort((x, y) => x! - y!));
    assert.ok(!memberships.includes(g1!));
    await store.processes.finishProcess(lease);
  });

  test('a batch that throws while planning writes nothing and keeps the lease', async () => {
    const p = await runningProcess(2);
    await assert.rejects(store.merge.mergeBatch(p.lease, { emails: ['boom@x.it'], mobiles: [] }, 2, () => {
      throw new Error('planning failed');
    }), /planning failed/);
    const after = await store.processes.getProcess(p.accountId, p.process.id);
    assert.deepEqual([after!.checkpoint, after!.status], [0, 2]);
    const merged: ImportProcess = await store.merge.mergeBatch(p.lease, { emails: [], mobiles: [] }, 2, noWrites);
    assert.equal(merged.checkpoint, 2);
    await store.processes.finishProcess(p.lease);
  });
});
