/**
 * The BatchMergeStore contract (src/store/merge.ts), run against the adapter TEST_STORE names
 * (npm test runs it on both): one batch of an import applied in one transaction, with the prior
 * state read from the process's own account and list only.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { emailKey, mobileKey, type BatchPlan, type PriorRecipient } from '../../src/model/batch.ts';
import { zeroCounters, type ImportProcess } from '../../src/model/records.ts';
import { LeaseLostError, type Lease } from '../../src/store/processes.ts';
import { claim, contractSuite, defaultOptions, feedRow, mergeRecipients, noWrites, recipientId, runningProcess, startedProcess, storeFeed } from './store-fixture.ts';

const suite = contractSuite('merge');

describe('merging a batch', () => {
  test('prior state, inserts, field patches, subscriptions, groups, confirmations, rejects and counters in one commit', async () => {
    const p = await runningProcess(suite.store, 4, { ConfirmEmail: true });
    const keysFirst = { emails: ['anna@x.it', 'bruno@x.it'], mobiles: ['+393330000001'] };
    let seen: ReadonlyMap<string, PriorRecipient> | null = null;
    const first = await suite.store.merge.mergeBatch(p.lease, keysFirst, 2, (prior): BatchPlan => {
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
    assert.deepEqual([first.id, first.checkpoint, first.counters.newEmail, first.counters.newMobile, first.rejected, first.status], [p.process.id, 2, 1, 2, 1, 2]);
    assert.equal(await suite.store.confirmations.pendingConfirmations(p.accountId, p.process.id), 1);
    assert.deepEqual(await suite.store.processes.rejectReport(p.accountId, p.process.id), [{ processId: p.process.id, row: 2, raw: 'email="bad"', reason: 'invalid e-mail address' }]);

    // The second batch sees what the first wrote, by e-mail and by mobile.
    let prior: ReadonlyMap<string, PriorRecipient> = new Map();
    const second = await suite.store.merge.mergeBatch(p.lease, { emails: ['anna@x.it'], mobiles: ['+393330000001'] }, 4, (known): BatchPlan => {
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
    assert.deepEqual([second.checkpoint, second.counters.newEmail, second.counters.existingEmail, second.rejected], [4, 1, 2, 1]);

    const rows = await suite.fx.db.query<{ email: string | null; mobile: string; name: string | null; fields: string }>(
      'SELECT email, mobile, name, fields FROM recipient WHERE account_id = ? ORDER BY id', [p.accountId]);
    assert.deepEqual(rows.map((r) => ({ ...r, fields: JSON.parse(r.fields) as unknown })), [
      { email: 'anna@x.it', mobile: '+393330000009', name: 'Anna', fields: { 1: '', 3: 'C' } },
      { email: null, mobile: '+393330000001', name: null, fields: {} },
    ]);
    const subscriptions = await suite.fx.db.query('SELECT r.email, s.channel, s.status, s.reason, s.process_id FROM subscription_channel s JOIN recipient r ON r.id = s.recipient_id WHERE r.account_id = ? ORDER BY r.id, s.channel', [p.accountId]);
    assert.deepEqual(subscriptions, [
      { email: 'anna@x.it', channel: 'email', status: 'subscribed', reason: null, process_id: p.process.id },
      { email: 'anna@x.it', channel: 'sms', status: 'subscribed', reason: null, process_id: p.process.id },
      { email: null, channel: 'sms', status: 'subscribed', reason: null, process_id: p.process.id },
    ]);
    const groups = await suite.fx.db.query<{ n: number }>('SELECT count(*) AS n FROM membership m JOIN recipient r ON r.id = m.recipient_id WHERE r.account_id = ?', [p.accountId]);
    assert.equal(Number(groups[0]!.n), 4, 'both recipients joined both groups');
    const requests = await suite.store.confirmations.listConfirmationRequests(p.accountId, p.process.id);
    assert.deepEqual(requests.map((r) => [r.email, r.status, r.listId]), [['anna@x.it', 'queued', p.listId]]);
    await suite.store.processes.finishProcess(p.lease);
  });

  test("replaceGroups leaves the list's other groups and keeps other lists' groups", async () => {
    const p = await runningProcess(suite.store, 1, {});
    const [g1, g2] = p.groupIds;
    const otherList = await suite.store.lists.createList(p.accountId, 'Other');
    const elsewhere = (await suite.store.lists.createGroup(otherList.id, 'Elsewhere')).group.id;
    const make = (id: number | null) => ({
      id, email: 'g@x.it', mobile: null, name: null, fields: {}, joinGroups: true,
      subscriptions: id === null ? [{ channel: 'email' as const, status: 'subscribed' as const, reason: null, requestConfirmation: false }] : [],
    });
    await suite.store.merge.mergeBatch(p.lease, { emails: ['g@x.it'], mobiles: [] }, 1, () => ({ recipients: [make(null)], rejects: [], counters: zeroCounters() }));
    const id = await recipientId(suite.fx.db, p.accountId, 'g@x.it');
    await suite.fx.db.execute('INSERT INTO membership (recipient_id, group_id) VALUES (?, ?)', [id, elsewhere]);
    await suite.store.processes.finishProcess(p.lease);

    // A second import into the list with only group 2 and replaceGroups.
    const feed = await storeFeed(suite.store, p.accountId, [feedRow(1, 'g@x.it')]);
    const created = await suite.store.processes.createProcesses(p.accountId, feed, [{ listId: p.listId, options: defaultOptions({ groupIds: [g2!], replaceGroups: true }) }], { start: true });
    assert.ok(created.ok);
    const lease = await claim(suite.store, created.processes[0]!.id, 'replace-owner');
    await suite.store.merge.mergeBatch(lease, { emails: ['g@x.it'], mobiles: [] }, 1, () => ({ recipients: [make(id)], rejects: [], counters: zeroCounters() }));
    const memberships = (await suite.fx.db.query<{ group_id: number }>('SELECT group_id FROM membership WHERE recipient_id = ? ORDER BY group_id', [id])).map((m) => Number(m.group_id));
    assert.deepEqual(memberships, [g2, elsewhere].sort((x, y) => x! - y!));
    assert.ok(!memberships.includes(g1!));
    await suite.store.processes.finishProcess(lease);
  });

  test('an update keeps the e-mail address it does not change and stores one it gives or changes', async () => {
    const p = await runningProcess(suite.store, 3);
    await mergeRecipients(suite.store, p.lease, [
      { email: 'keep@x.it', mobile: '+393330000101', smsStatus: 'subscribed', emailStatus: 'subscribed' },
      { mobile: '+393330000102', smsStatus: 'subscribed' },
    ], { lastRow: 1 });
    const keep = await recipientId(suite.fx.db, p.accountId, 'keep@x.it');
    await suite.store.merge.mergeBatch(p.lease, { emails: ['keep@x.it'], mobiles: ['+393330000102'] }, 2, (prior): BatchPlan => {
      const known = prior.get(emailKey('keep@x.it'))!;
      const mobileOnly = prior.get(mobileKey('+393330000102'))!;
      return {
        recipients: [
          // The same address: the recipient keeps it, its other values change.
          { id: known.id, email: 'keep@x.it', mobile: '+393330000111', name: 'Kept', fields: {}, joinGroups: false, subscriptions: [] },
          // A recipient known by its number is given an address.
          { id: mobileOnly.id, email: 'given@x.it', mobile: null, name: null, fields: {}, joinGroups: false, subscriptions: [] },
        ],
        rejects: [], counters: zeroCounters(),
      };
    });
    const given = await recipientId(suite.fx.db, p.accountId, 'given@x.it');
    await suite.store.merge.mergeBatch(p.lease, { emails: ['given@x.it'], mobiles: [] }, 3, (prior): BatchPlan => ({
      // An address changed outright.
      recipients: [{ id: prior.get(emailKey('given@x.it'))!.id, email: 'changed@x.it', mobile: null, name: null, fields: {}, joinGroups: false, subscriptions: [] }],
      rejects: [], counters: zeroCounters(),
    }));
    const rows = await suite.fx.db.query<{ id: number; email: string | null; mobile: string; name: string | null }>(
      'SELECT id, email, mobile, name FROM recipient WHERE account_id = ? ORDER BY id', [p.accountId]);
    assert.deepEqual(rows.map((r) => [Number(r.id), r.email, r.mobile, r.name]), [
      [keep, 'keep@x.it', '+393330000111', 'Kept'],
      [given, 'changed@x.it', '+393330000102', null],
    ]);
    await suite.store.processes.finishProcess(p.lease);
  });

  test('a batch that throws while planning writes nothing and keeps the lease', async () => {
    const p = await runningProcess(suite.store, 2);
    await assert.rejects(suite.store.merge.mergeBatch(p.lease, { emails: ['boom@x.it'], mobiles: [] }, 2, () => {
      throw new Error('planning failed');
    }), /planning failed/);
    const after = await suite.store.processes.getProcess(p.accountId, p.process.id);
    assert.deepEqual([after!.checkpoint, after!.status], [0, 2]);
    const merged: ImportProcess = await suite.store.merge.mergeBatch(p.lease, { emails: [], mobiles: [] }, 2, noWrites);
    assert.equal(merged.checkpoint, 2);
    await suite.store.processes.finishProcess(p.lease);
  });

  test('the prior state comes from the process\'s account and list only; another account\'s recipient is never touched', async () => {
    // Account B knows shared@x.it and +393471111111, subscribed on its list.
    const b = await runningProcess(suite.store, 2);
    await mergeRecipients(suite.store, b.lease, [
      { email: 'shared@x.it', name: 'B', fields: { 1: 'b' }, emailStatus: 'subscribed' },
      { mobile: '+393471111111', smsStatus: 'subscribed' },
    ], { lastRow: 2 });
    await suite.store.processes.finishProcess(b.lease);
    const bShared = await recipientId(suite.fx.db, b.accountId, 'shared@x.it');

    // Account A imports the same identities: nothing of B's is prior state to it.
    const a = await runningProcess(suite.store, 2);
    let prior: ReadonlyMap<string, PriorRecipient> | null = null;
    await suite.store.merge.mergeBatch(a.lease, { emails: ['shared@x.it'], mobiles: ['+393471111111'] }, 2, (known): BatchPlan => {
      prior = known;
      return {
        recipients: [
          { id: null, email: 'shared@x.it', mobile: null, name: 'A', fields: { 1: 'a' }, joinGroups: true,
            subscriptions: [{ channel: 'email', status: 'unsubscribed', reason: 'import', requestConfirmation: false }] },
          { id: null, email: null, mobile: '+393471111111', name: null, fields: {}, joinGroups: true,
            subscriptions: [{ channel: 'sms', status: 'unsubscribed', reason: 'import', requestConfirmation: false }] },
        ],
        rejects: [], counters: zeroCounters(),
      };
    });
    assert.equal(prior!.size, 0, "another account's recipients are not this import's prior state");
    const aShared = await recipientId(suite.fx.db, a.accountId, 'shared@x.it');
    assert.notEqual(aShared, bShared);
    const ofB = await suite.fx.db.query<{ name: string | null; fields: string; status: string; list_id: number }>(
      'SELECT r.name, r.fields, s.status, s.list_id FROM recipient r JOIN subscription_channel s ON s.recipient_id = r.id WHERE r.account_id = ? ORDER BY r.id, s.channel', [b.accountId]);
    assert.deepEqual(ofB.map((r) => ({ ...r, fields: JSON.parse(r.fields) as unknown })), [
      { name: 'B', fields: { 1: 'b' }, status: 'subscribed', list_id: b.listId },
      { name: null, fields: {}, status: 'subscribed', list_id: b.listId },
    ]);
    const bGroups = await suite.fx.db.query<{ n: number }>('SELECT count(*) AS n FROM membership m JOIN "group" g ON g.id = m.group_id JOIN list l ON l.id = g.list_id WHERE l.account_id = ? AND m.recipient_id IN (SELECT id FROM recipient WHERE account_id = ?)', [a.accountId, b.accountId]);
    assert.equal(Number(bGroups[0]!.n), 0, "A's groups got none of B's recipients");

    // A second list of account A: the recipient is known, its state on this list is none.
    const second = await suite.store.lists.createList(a.accountId, 'Second');
    await suite.store.processes.finishProcess(a.lease);
    const onSecond = await startedProcess(suite.store, { accountId: a.accountId, listId: second.id, groupIds: [] }, 1);
    let known: ReadonlyMap<string, PriorRecipient> = new Map();
    await suite.store.merge.mergeBatch(onSecond.lease, { emails: ['shared@x.it'], mobiles: [] }, 1, (k) => {
      known = k;
      return noWrites();
    });
    const seen = known.get(emailKey('shared@x.it'));
    assert.deepEqual([seen?.id, seen?.emailState, seen?.smsState], [aShared, { status: 'none' }, { status: 'none' }]);
    await suite.store.processes.finishProcess(onSecond.lease);
  });

  test('a lease lost to another worker: LeaseLostError and no write', async () => {
    const p = await runningProcess(suite.store, 1);
    const short: Lease = { ...p.lease, leaseMs: 1 };
    await suite.store.processes.renewLease(short);
    const taken = await claim(suite.store, p.process.id, 'new-owner');
    await assert.rejects(suite.store.merge.mergeBatch(p.lease, { emails: ['lost@x.it'], mobiles: [] }, 1, () => ({
      recipients: [{ id: null, email: 'lost@x.it', mobile: null, name: null, fields: {}, subscriptions: [{ channel: 'email', status: 'subscribed', reason: null, requestConfirmation: false }], joinGroups: true }],
      rejects: [{ row: 1, raw: 'x', reason: 'y' }], counters: { ...zeroCounters(), newEmail: 1 },
    })), LeaseLostError);
    const unchanged = await suite.store.processes.getProcess(p.accountId, p.process.id);
    assert.deepEqual([unchanged!.checkpoint, unchanged!.counters.newEmail, unchanged!.rejected, unchanged!.status], [0, 0, 0, 2]);
    assert.deepEqual(await suite.fx.db.query('SELECT id FROM recipient WHERE account_id = ?', [p.accountId]), []);
    // The new holder merges.
    const merged = await suite.store.merge.mergeBatch(taken, { emails: [], mobiles: [] }, 1, noWrites);
    assert.equal(merged.checkpoint, 1);
    await suite.store.processes.finishProcess(taken);
  });
});
