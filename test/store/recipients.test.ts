/**
 * The RecipientStore contract (src/store/recipients.ts), run against the adapter TEST_STORE names
 * (npm test runs it on both): one recipient read and changed at a time, in one transaction under
 * the account's subscribers lock, never reaching another account's rows; and the paged listings of
 * a list's recipients by state and of a group's members.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlannedChange, RecipientState, RecipientWritePlan } from '../../src/store/recipients.ts';
import { accountWithList, contractSuite, mergeRecipients, startedProcess, unique, unwrap } from './store-fixture.ts';

const suite = contractSuite('recipients');

/** A plan that writes `w` (nothing else) whatever the prior state, and answers that state. */
const writes = (w: Partial<RecipientWritePlan>) => (prior: RecipientState | null): PlannedChange<RecipientState | null> => ({
  write: { data: {}, subscriptions: [], leaveLists: [], joinGroups: [], leaveGroups: [], confirmations: [], ...w },
  answer: prior,
});

describe('finding lists and recipients', () => {
  test("findListById: any account's list by id alone; null for an unknown id", async () => {
    const a = await accountWithList(suite.store, unique('Find'));
    const list = await suite.store.recipients.findListById(a.listId);
    assert.deepEqual([list?.id, list?.accountId], [a.listId, a.accountId]);
    assert.equal(await suite.store.recipients.findListById(987_654_321), null);
  });

  test('getRecipient: by id, e-mail or mobile (the oldest with the number), with subscriptions on every list and every group; never across accounts', async () => {
    const a = await accountWithList(suite.store, unique('Get'));
    const b = await accountWithList(suite.store, unique('Get other'));
    const second = await unwrap(suite.store).lists.createList(a.accountId, unique('Second list'));
    const made = await suite.store.recipients.applyRecipientChange(a.accountId, { email: 'ann@x.it' }, writes({
      data: { email: 'ann@x.it', mobile: '+393331112222', name: 'Ann', fields: { 1: 'A', 3: '' } },
      subscriptions: [
        { listId: a.listId, channel: 'email', status: 'pending', reason: null, requestIp: '192.0.2.7' },
        { listId: a.listId, channel: 'sms', status: 'subscribed', reason: null },
        { listId: second.id, channel: 'email', status: 'unsubscribed', reason: 'user' },
      ],
      joinGroups: [a.groupIds[1]!],
      confirmations: [{ listId: a.listId, alsoListIds: [], sender: null }],
    }));
    assert.ok(made.ok);
    assert.equal(made.answer, null, 'the plan saw no recipient');
    const id = made.recipientId!;
    const byEmail = await suite.store.recipients.getRecipient(a.accountId, { email: 'ann@x.it' });
    assert.ok(byEmail);
    assert.deepEqual({ ...byEmail.recipient, createdAt: null, updatedAt: null }, {
      id, accountId: a.accountId, email: 'ann@x.it', mobile: '+393331112222', name: 'Ann', fields: { 1: 'A' }, createdAt: null, updatedAt: null,
    }, 'a new recipient keeps no empty field');
    assert.deepEqual(byEmail.subscriptions.map((s) => [s.listId, s.channel, s.status, s.reason, s.requestIp, s.lastRequestAt !== null]), [
      [a.listId, 'email', 'pending', null, '192.0.2.7', true],
      [a.listId, 'sms', 'subscribed', null, null, true],
      [second.id, 'email', 'unsubscribed', 'user', null, false],
    ]);
    assert.deepEqual(byEmail.groupIds, [a.groupIds[1]]);
    assert.deepEqual(await suite.store.recipients.getRecipient(a.accountId, { id }), byEmail);
    assert.deepEqual(await suite.store.recipients.getRecipient(a.accountId, { mobile: '+393331112222' }), byEmail);
    // A newer recipient with the same number: the mobile still finds the oldest.
    await suite.store.recipients.applyRecipientChange(a.accountId, { email: 'twin@x.it' }, writes({ data: { email: 'twin@x.it', mobile: '+393331112222' } }));
    assert.equal((await suite.store.recipients.getRecipient(a.accountId, { mobile: '+393331112222' }))?.recipient.id, id);
    for (const key of [{ id }, { email: 'ann@x.it' }, { mobile: '+393331112222' }]) {
      assert.equal(await suite.store.recipients.getRecipient(b.accountId, key), null, `another account: ${JSON.stringify(key)}`);
    }
    assert.equal(await suite.store.recipients.getRecipient(a.accountId, { email: 'nobody@x.it' }), null);
    assert.equal(await suite.store.recipients.getRecipient(a.accountId, { email: 'nul\u0000@x.it' }), null, 'a value no engine stores finds nobody');
  });
});

describe('changing one recipient', () => {
  test('an update patches the data, upserts subscriptions outside any import, and queues process-less requests', async () => {
    const a = await accountWithList(suite.store, unique('Change'));
    const created = await suite.store.recipients.applyRecipientChange(a.accountId, { email: 'bo@x.it' }, writes({
      data: { email: 'bo@x.it', fields: { 1: 'one', 2: 'two' } },
      subscriptions: [{ listId: a.listId, channel: 'email', status: 'subscribed', reason: null, requestIp: '198.51.100.1' }],
    }));
    assert.ok(created.ok && created.created);
    let seen: RecipientState | null = null;
    const updated = await suite.store.recipients.applyRecipientChange(a.accountId, { email: 'bo@x.it' }, (prior) => {
      seen = prior;
      return writes({
        data: { mobile: '+441234567890', name: 'Bo', fields: { 1: '', 3: 'three' } },
        subscriptions: [{ listId: a.listId, channel: 'email', status: 'pending', reason: null }],
        joinGroups: a.groupIds,
        confirmations: [{ listId: a.listId, alsoListIds: [], sender: '"Shop" <shop@example.com>' }],
      })(prior);
    });
    assert.ok(updated.ok);
    assert.deepEqual([updated.recipientId, updated.created, updated.requestIds.length], [created.recipientId, false, 1]);
    assert.equal((seen as RecipientState | null)?.recipient.fields[2], 'two', 'the plan sees the stored recipient');
    const state = (await suite.store.recipients.getRecipient(a.accountId, { id: created.recipientId! }))!;
    assert.deepEqual([state.recipient.email, state.recipient.mobile, state.recipient.name, state.recipient.fields],
      ['bo@x.it', '+441234567890', 'Bo', { 1: '', 2: 'two', 3: 'three' }], "'' clears a field, one not named keeps its value");
    assert.deepEqual(state.subscriptions.map((s) => [s.status, s.requestIp]), [['pending', '198.51.100.1']], 'the recorded address stays unless given');
    assert.deepEqual(state.groupIds, [...a.groupIds].sort((x, y) => x - y));
    const [request] = await unwrap(suite.store).confirmations.listConfirmationRequests(a.accountId, null);
    assert.deepEqual([request?.requestId, request?.processId, request?.status, request?.recipientId],
      [updated.requestIds[0], 0, 'queued', created.recipientId], 'queued by no import: process 0');
    const rows = await suite.fx.db.query<{ process_id: unknown }>('SELECT process_id FROM subscription_channel WHERE recipient_id = ?', [created.recipientId]);
    assert.deepEqual(rows.map((r) => r.process_id), [null], 'a single-recipient change is no import');
  });

  test('a plan that writes nothing changes nothing; an e-mail another recipient has is refused with nothing written', async () => {
    const a = await accountWithList(suite.store, unique('Refuse'));
    const none = await suite.store.recipients.applyRecipientChange(a.accountId, { email: 'ghost@x.it' }, () => ({ write: null, answer: 'no' }));
    assert.deepEqual(none, { ok: true, answer: 'no', recipientId: null, created: false, requestIds: [] });
    assert.equal(await suite.store.recipients.getRecipient(a.accountId, { email: 'ghost@x.it' }), null);
    const first = await suite.store.recipients.applyRecipientChange(a.accountId, { email: 'one@x.it' }, writes({ data: { email: 'one@x.it' } }));
    const second = await suite.store.recipients.applyRecipientChange(a.accountId, { email: 'two@x.it' }, writes({ data: { email: 'two@x.it', name: 'Two' } }));
    assert.ok(first.ok && second.ok);
    const taken = await suite.store.recipients.applyRecipientChange(a.accountId, { id: second.recipientId! }, writes({
      data: { email: 'one@x.it', name: 'Renamed' }, joinGroups: [a.groupIds[0]!],
    }));
    assert.deepEqual(taken, { ok: false, reason: 'email-taken' });
    const two = (await suite.store.recipients.getRecipient(a.accountId, { id: second.recipientId! }))!;
    assert.deepEqual([two.recipient.email, two.recipient.name, two.groupIds], ['two@x.it', 'Two', []]);
    // Another account may have the address.
    const b = await accountWithList(suite.store, unique('Refuse other'));
    assert.ok((await suite.store.recipients.applyRecipientChange(b.accountId, { email: 'one@x.it' }, writes({ data: { email: 'one@x.it' } }))).ok);
  });

  test('leaving a list takes its subscriptions and its groups only; leaving a group keeps the list', async () => {
    const a = await accountWithList(suite.store, unique('Leave'));
    const other = await unwrap(suite.store).lists.createList(a.accountId, unique('Other list'));
    const otherGroup = (await unwrap(suite.store).lists.createGroup(other.id, 'Other group')).group;
    const made = await suite.store.recipients.applyRecipientChange(a.accountId, { email: 'cy@x.it' }, writes({
      data: { email: 'cy@x.it' },
      subscriptions: [
        { listId: a.listId, channel: 'email', status: 'subscribed', reason: null },
        { listId: other.id, channel: 'email', status: 'subscribed', reason: null },
      ],
      joinGroups: [...a.groupIds, otherGroup.id],
    }));
    const id = made.ok ? made.recipientId! : 0;
    await suite.store.recipients.applyRecipientChange(a.accountId, { id }, writes({ leaveGroups: [a.groupIds[0]!] }));
    assert.deepEqual((await suite.store.recipients.getRecipient(a.accountId, { id }))!.groupIds, [a.groupIds[1]!, otherGroup.id].sort((x, y) => x - y));
    await suite.store.recipients.applyRecipientChange(a.accountId, { id }, writes({ leaveLists: [a.listId] }));
    const state = (await suite.store.recipients.getRecipient(a.accountId, { id }))!;
    assert.deepEqual(state.subscriptions.map((s) => s.listId), [other.id]);
    assert.deepEqual(state.groupIds, [otherGroup.id]);
  });

  test('single changes and an import batch of the same account take turns: one recipient, whatever the interleaving', async () => {
    const a = await accountWithList(suite.store, unique('Race'));
    const second = await suite.fx.open();
    const p = await startedProcess(suite.store, a, 1);
    const email = 'race@x.it';
    const single = (store: typeof suite.store, n: number) => store.recipients.applyRecipientChange(a.accountId, { email }, (prior) => ({
      write: {
        data: prior === null ? { email, fields: { [n]: `v${n}` } } : { fields: { [n]: `v${n}` } },
        subscriptions: [{ listId: a.listId, channel: 'email', status: 'subscribed', reason: null }],
        leaveLists: [], joinGroups: [], leaveGroups: [], confirmations: [],
      },
      answer: prior?.recipient.id ?? null,
    }));
    const results = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => single(i % 2 === 0 ? suite.store : second, i + 1)),
      mergeRecipients(suite.store, p.lease, [{ email, name: 'From the import', emailStatus: 'subscribed' }], { lastRow: 1 }),
    ]);
    assert.ok(results.slice(0, 8).every((r) => 'ok' in r && r.ok), JSON.stringify(results.slice(0, 8)));
    const rows = await suite.fx.db.query<{ id: number }>('SELECT id FROM recipient WHERE account_id = ? AND email = ?', [a.accountId, email]);
    assert.equal(rows.length, 1);
    const state = (await suite.store.recipients.getRecipient(a.accountId, { email }))!;
    assert.deepEqual(Object.keys(state.recipient.fields).map(Number).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8], 'no change was lost');
    assert.equal(state.recipient.name, 'From the import');
  });
});

describe('removing and reading groups', () => {
  test("removeRecipient: everything about it goes, its outbox messages stay unlinked; another account's recipient is not touched", async () => {
    const a = await accountWithList(suite.store, unique('Remove'));
    const b = await accountWithList(suite.store, unique('Remove other'));
    const made = await suite.store.recipients.applyRecipientChange(a.accountId, { email: 'dee@x.it' }, writes({
      data: { email: 'dee@x.it' },
      subscriptions: [{ listId: a.listId, channel: 'email', status: 'pending', reason: null }],
      joinGroups: a.groupIds, confirmations: [{ listId: a.listId, alsoListIds: [], sender: null }],
    }));
    assert.ok(made.ok);
    const raw = unwrap(suite.store);
    const outboxId = await raw.confirmations.writeOutbox({
      accountId: a.accountId, requestId: made.requestIds[0]!, sender: 's@x.it', recipient: 'dee@x.it', subject: 's', html: 'h', text: 't',
    });
    assert.equal(await suite.store.recipients.removeRecipient(b.accountId, made.recipientId!), false);
    assert.equal(await suite.store.recipients.removeRecipient(a.accountId, 987_654_321), false);
    assert.equal(await suite.store.recipients.removeRecipient(a.accountId, made.recipientId!), true);
    assert.equal(await suite.store.recipients.getRecipient(a.accountId, { email: 'dee@x.it' }), null);
    assert.deepEqual(await raw.confirmations.listConfirmationRequests(a.accountId, null), []);
    const [message] = await raw.confirmations.listOutbox(a.accountId);
    assert.deepEqual([message?.id, message?.requestId], [outboxId, null]);
    for (const table of ['subscription', 'membership']) {
      assert.deepEqual(await suite.fx.db.query(`SELECT 1 FROM ${table} WHERE recipient_id = ?`, [made.recipientId]), [], table);
    }
    assert.equal(await suite.store.recipients.removeRecipient(a.accountId, made.recipientId!), false, 'once');
  });

  test('recipientGroups: its groups of that list, in id order; nothing of another list or account', async () => {
    const a = await accountWithList(suite.store, unique('Groups'));
    const b = await accountWithList(suite.store, unique('Groups other'));
    const other = await unwrap(suite.store).lists.createList(a.accountId, unique('Groups list 2'));
    const otherGroup = (await unwrap(suite.store).lists.createGroup(other.id, 'Elsewhere')).group;
    const made = await suite.store.recipients.applyRecipientChange(a.accountId, { email: 'eve@x.it' }, writes({
      data: { email: 'eve@x.it' }, joinGroups: [a.groupIds[1]!, a.groupIds[0]!, otherGroup.id],
    }));
    const id = made.ok ? made.recipientId! : 0;
    assert.deepEqual((await suite.store.recipients.recipientGroups(a.accountId, id, a.listId)).map((g) => [g.id, g.listId]),
      [...a.groupIds].sort((x, y) => x - y).map((g) => [g, a.listId]));
    assert.deepEqual((await suite.store.recipients.recipientGroups(a.accountId, id, other.id)).map((g) => g.name), ['Elsewhere']);
    assert.deepEqual(await suite.store.recipients.recipientGroups(b.accountId, id, a.listId), []);
    assert.deepEqual(await suite.store.recipients.recipientGroups(a.accountId, id, b.listId), []);
  });
});

describe('listing recipients', () => {
  /** An account whose list has five recipients in various states and groups. */
  async function population() {
    const a = await accountWithList(suite.store, unique('Listing'));
    const people = [
      { email: 'anna@x.it', name: 'Anna', fields: { 1: 'Rome' }, email_: 'subscribed', group: 0 },
      { email: 'bruno@x.it', name: 'Bruno', fields: { 1: 'Milan' }, email_: 'subscribed', group: 1 },
      { email: 'carla@x.it', name: null, fields: { 1: 'Rome', 2: 'VIP' }, email_: 'subscribed', group: 0 },
      { email: 'dario@x.it', name: 'Dario', fields: {}, email_: 'unsubscribed', group: 0 },
      { email: 'elena@x.it', name: 'Elena', fields: { 1: 'Turin' }, email_: 'pending', group: null },
    ] as const;
    const ids: Record<string, number> = {};
    for (const p of people) {
      const made = await unwrap(suite.store).recipients.applyRecipientChange(a.accountId, { email: p.email }, writes({
        data: { email: p.email, name: p.name, fields: p.fields },
        subscriptions: [{ listId: a.listId, channel: 'email', status: p.email_, reason: p.email_ === 'unsubscribed' ? 'user' : null }],
        joinGroups: p.group === null ? [] : [a.groupIds[p.group]!],
      }));
      ids[p.email] = made.ok ? made.recipientId! : 0;
    }
    // An SMS-only subscriber of the list.
    await unwrap(suite.store).recipients.applyRecipientChange(a.accountId, { mobile: '+393330000077' }, writes({
      data: { mobile: '+393330000077', name: 'Sms' }, subscriptions: [{ listId: a.listId, channel: 'sms', status: 'subscribed', reason: null }],
    }));
    return { ...a, ids };
  }

  const page = (filter: any[] = [], order: any[] = [], offset = 0, limit = 20) => ({ filter, order, offset, limit });
  const emails = (p: { items: readonly { email: string | null }[] } | null) => p?.items.map((i) => i.email);

  test('by state and channel, in id order by default, with the total and the subscriptions of each item on the list', async () => {
    const a = await population();
    const subscribed = await suite.store.recipients.listRecipients(a.accountId, { listId: a.listId, status: 'subscribed', channel: 'email' }, page());
    assert.deepEqual(emails(subscribed), ['anna@x.it', 'bruno@x.it', 'carla@x.it']);
    assert.equal(subscribed!.total, 3);
    assert.deepEqual(subscribed!.items[0]!.subscriptions.map((s) => [s.listId, s.channel, s.status]), [[a.listId, 'email', 'subscribed']]);
    assert.deepEqual(emails(await suite.store.recipients.listRecipients(a.accountId, { listId: a.listId, status: 'subscribed', channel: null }, page())),
      ['anna@x.it', 'bruno@x.it', 'carla@x.it', null], 'either channel');
    assert.deepEqual(emails(await suite.store.recipients.listRecipients(a.accountId, { listId: a.listId, status: 'unsubscribed', channel: 'email' }, page())), ['dario@x.it']);
    assert.deepEqual(emails(await suite.store.recipients.listRecipients(a.accountId, { listId: a.listId, status: 'pending', channel: 'email' }, page())), ['elena@x.it']);
    assert.deepEqual(emails(await suite.store.recipients.listRecipients(a.accountId, { listId: a.listId, status: null, channel: 'email' }, page())),
      ['anna@x.it', 'bruno@x.it', 'carla@x.it', 'dario@x.it', 'elena@x.it'], 'in any state');
    const group = await suite.store.recipients.listRecipients(a.accountId, { groupId: a.groupIds[0]! }, page());
    assert.deepEqual(emails(group), ['anna@x.it', 'carla@x.it', 'dario@x.it'], 'a group lists its members in any state');
    assert.deepEqual(group!.items[2]!.subscriptions.map((s) => s.status), ['unsubscribed']);
  });

  test('filters: equality and Contains on e-mail, name, fields and id, case-sensitive, all together', async () => {
    const a = await population();
    const scope = { listId: a.listId, status: 'subscribed' as const, channel: 'email' as const };
    const run = async (filter: any[]) => emails(await suite.store.recipients.listRecipients(a.accountId, scope, page(filter)));
    assert.deepEqual(await run([{ attribute: 'email', op: 'equals', value: 'bruno@x.it' }]), ['bruno@x.it']);
    assert.deepEqual(await run([{ attribute: 'name', op: 'contains', value: 'n' }]), ['anna@x.it', 'bruno@x.it']);
    assert.deepEqual(await run([{ attribute: 'name', op: 'contains', value: 'N' }]), [], 'case-sensitive');
    assert.deepEqual(await run([{ attribute: 1, op: 'equals', value: 'Rome' }]), ['anna@x.it', 'carla@x.it']);
    assert.deepEqual(await run([{ attribute: 1, op: 'equals', value: 'Rome' }, { attribute: 2, op: 'contains', value: 'IP' }]), ['carla@x.it']);
    assert.deepEqual(await run([{ attribute: 'id', op: 'equals', value: a.ids['bruno@x.it']! }]), ['bruno@x.it']);
    assert.deepEqual(await run([{ attribute: 'email', op: 'contains', value: '\u0000' }]), [], 'a value no engine stores matches nobody');
    const filtered = await suite.store.recipients.listRecipients(a.accountId, scope, page([{ attribute: 'email', op: 'contains', value: '@' }], [], 0, 1));
    assert.deepEqual([filtered!.total, filtered!.items.length], [3, 1], 'the total counts every match, not the page');
  });

  test('order: by name, field or e-mail, asc or desc (nulls first ascending), then id; paged by offset', async () => {
    const a = await population();
    const scope = { listId: a.listId, status: 'subscribed' as const, channel: null };
    const run = async (order: any[], offset = 0, limit = 20) => emails(await suite.store.recipients.listRecipients(a.accountId, scope, page([], order, offset, limit)));
    assert.deepEqual(await run([{ attribute: 'name', direction: 'asc' }]), ['carla@x.it', 'anna@x.it', 'bruno@x.it', null]);
    assert.deepEqual(await run([{ attribute: 'name', direction: 'desc' }]), [null, 'bruno@x.it', 'anna@x.it', 'carla@x.it']);
    assert.deepEqual(await run([{ attribute: 1, direction: 'asc' }, { attribute: 'email', direction: 'desc' }]), [null, 'bruno@x.it', 'carla@x.it', 'anna@x.it']);
    assert.deepEqual(await run([{ attribute: 'email', direction: 'asc' }], 1, 2), ['anna@x.it', 'bruno@x.it']);
    assert.deepEqual(await run([{ attribute: 'email', direction: 'asc' }], 10, 2), []);
  });

  test("another account's list or group, or an unknown one, is no listing", async () => {
    const a = await population();
    const b = await accountWithList(suite.store, unique('Listing other'));
    assert.equal(await suite.store.recipients.listRecipients(b.accountId, { listId: a.listId, status: 'subscribed', channel: null }, page()), null);
    assert.equal(await suite.store.recipients.listRecipients(b.accountId, { groupId: a.groupIds[0]! }, page()), null);
    assert.equal(await suite.store.recipients.listRecipients(a.accountId, { groupId: 987_654_321 }, page()), null);
    const empty = await suite.store.recipients.listRecipients(b.accountId, { listId: b.listId, status: 'subscribed', channel: null }, page());
    assert.deepEqual(empty, { total: 0, items: [] });
  });
});
