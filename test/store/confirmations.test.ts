/**
 * The ConfirmationStore contract (src/store/confirmations.ts), run against the adapter TEST_STORE
 * names (npm test runs it on both): confirmation messages, the requests an import queues, Send
 * Now's claims and outcomes, ConfirmationSent, confirm links and the outbox. Every method that
 * takes an account id keeps to that account's rows. Time is the `now`/`at` the caller gives.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfirmationRequestRow, NewConfirmationMessage } from '../../src/store/confirmations.ts';
import { accountWithList, contractSuite, mergeRecipients, recipientId, startedProcess, unique, unwrap } from './store-fixture.ts';

const suite = contractSuite('confirmations');

type Account = Awaited<ReturnType<typeof accountWithList>>;

/**
 * An import with ConfirmEmail into the account's list (a fresh account unless given): each address
 * gets a pending e-mail subscription and a queued confirmation request. Finished unless told not to.
 */
async function importWithRequests(emails: readonly string[], options: { account?: Account; idConfirmNL?: number; finish?: boolean; confirmEmail?: boolean } = {}) {
  const raw = unwrap(suite.store);
  const a = options.account ?? await accountWithList(suite.store, unique('Confirm'));
  const p = await startedProcess(suite.store, a, Math.max(1, emails.length), { ConfirmEmail: options.confirmEmail ?? true, idConfirmNL: options.idConfirmNL ?? 0 });
  await mergeRecipients(suite.store, p.lease, emails.map((email, i) => ({
    email, name: `Name ${i}`, fields: { 1: `f${i}`, 4: 'x' }, emailStatus: 'pending' as const, confirm: options.confirmEmail ?? true,
  })), { lastRow: Math.max(1, emails.length) });
  if (options.finish !== false) await raw.processes.finishProcess(p.lease);
  const requests = await raw.confirmations.listConfirmationRequests(a.accountId, p.process.id);
  return { ...a, processId: p.process.id, lease: p.lease, requests };
}

const message = (n: string, isDefault = false): NewConfirmationMessage => ({
  isDefault, sender: `Lists ${n} <lists@example.com>`, subject: `Confirm ${n}`, html: `<p>${n} {link}</p>`, text: `${n} {link}`,
});

const statuses = async (accountId: number, processId: number): Promise<string[]> =>
  (await unwrap(suite.store).confirmations.listConfirmationRequests(accountId, processId)).map((r) => r.status);

const processOf = async (accountId: number, processId: number) => (await unwrap(suite.store).processes.getProcess(accountId, processId))!;

const T0 = new Date('2031-03-01T10:00:00.000Z');
const later = (ms: number): Date => new Date(T0.getTime() + ms);
const lease = (now: Date, limit = 100, leaseMs = 60_000) => ({ limit, leaseMs, now });

describe('confirmation messages', () => {
  test("create, exists, get (0 = the default), list and set the default, never across accounts", async () => {
    const a = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Messages' });
    const b = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Messages other' });
    const m1 = await suite.store.confirmations.createConfirmationMessage(a.id, message('one', true));
    const m2 = await suite.store.confirmations.createConfirmationMessage(a.id, message('two'));
    assert.ok(Number.isInteger(m1) && Number.isInteger(m2) && m1 !== m2);

    assert.equal(await suite.store.confirmations.confirmationMessageExists(a.id, m1), true);
    assert.equal(await suite.store.confirmations.confirmationMessageExists(b.id, m1), false);
    assert.equal(await suite.store.confirmations.confirmationMessageExists(a.id, 987_654_321), false);

    const two = await suite.store.confirmations.getConfirmationMessage(a.id, m2);
    assert.deepEqual({ ...two!, createdAt: null }, { id: m2, accountId: a.id, ...message('two'), createdAt: null });
    assert.ok(two!.createdAt instanceof Date);
    assert.equal((await suite.store.confirmations.getConfirmationMessage(a.id, 0))?.id, m1, 'idConfirmNL 0 is the default message');
    assert.equal(await suite.store.confirmations.getConfirmationMessage(b.id, m2), null);
    assert.equal(await suite.store.confirmations.getConfirmationMessage(b.id, 0), null, 'an account without messages has no default');
    assert.equal(await suite.store.confirmations.getConfirmationMessage(a.id, 987_654_321), null);

    assert.deepEqual((await suite.store.confirmations.listConfirmationMessages(a.id)).map((m) => [m.id, m.isDefault]), [[m1, true], [m2, false]]);
    assert.deepEqual(await suite.store.confirmations.listConfirmationMessages(b.id), []);

    assert.equal(await suite.store.confirmations.setDefaultConfirmationMessage(b.id, m2), false, "another account's message");
    assert.equal(await suite.store.confirmations.setDefaultConfirmationMessage(a.id, 987_654_321), false);
    assert.equal((await suite.store.confirmations.getConfirmationMessage(a.id, 0))?.id, m1, 'refused: nothing changed');
    assert.equal(await suite.store.confirmations.setDefaultConfirmationMessage(a.id, m2), true);
    assert.equal((await suite.store.confirmations.getConfirmationMessage(a.id, 0))?.id, m2);
    assert.deepEqual((await suite.store.confirmations.listConfirmationMessages(a.id)).map((m) => [m.id, m.isDefault]), [[m1, false], [m2, true]], 'one default');

    // Another account's default is its own.
    const mb = await suite.store.confirmations.createConfirmationMessage(b.id, message('b', true));
    assert.equal(await suite.store.confirmations.setDefaultConfirmationMessage(b.id, mb), true);
    assert.equal((await suite.store.confirmations.getConfirmationMessage(a.id, 0))?.id, m2);
  });
});

describe('requests: claims, outcomes and ConfirmationSent', () => {
  test('claims hand out due requests up to the limit, marked sending; sent outcomes settle the finished process', async () => {
    const imp = await importWithRequests(['c1@x.it', 'c2@x.it', 'c3@x.it'], { idConfirmNL: 5 });
    const other = await accountWithList(suite.store, unique('Claim other'));
    assert.equal(await suite.store.confirmations.pendingConfirmations(imp.accountId, imp.processId), 3);
    assert.equal(await suite.store.confirmations.pendingConfirmations(other.accountId, imp.processId), 0, "another account's process");
    const none = await suite.store.confirmations.claimConfirmations(other.accountId, imp.processId, lease(T0));
    assert.deepEqual(none, { requests: [], cancelled: 0, settled: [], heldElsewhere: null }, "another account's id claims nothing");
    assert.deepEqual(await statuses(imp.accountId, imp.processId), ['queued', 'queued', 'queued']);

    const first = await suite.store.confirmations.claimConfirmations(imp.accountId, null, lease(T0, 2));
    assert.deepEqual([first.requests.length, first.cancelled, first.settled], [2, 0, []]);
    const listName = (await suite.store.lists.getList(imp.accountId, imp.listId))!.name;
    for (const claimed of first.requests) {
      const n = ['c1@x.it', 'c2@x.it', 'c3@x.it'].indexOf(claimed.email!);
      assert.ok(n >= 0, claimed.email!);
      assert.deepEqual(claimed, {
        requestId: imp.requests[n]!.requestId, processId: imp.processId, recipientId: await recipientId(suite.fx.db, imp.accountId, claimed.email!), listId: imp.listId,
        listName, email: claimed.email, name: `Name ${n}`, fields: { 1: `f${n}`, 4: 'x' }, messageId: 5, attempts: 0, sender: null,
      });
    }
    assert.deepEqual((await statuses(imp.accountId, imp.processId)).sort(), ['queued', 'sending', 'sending']);
    const second = await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(T0));
    assert.equal(second.requests.length, 1, 'the one left; claimed ones are not handed out again');
    assert.ok(!first.requests.some((r) => r.requestId === second.requests[0]!.requestId));
    const meanwhile = await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(later(1000)));
    assert.deepEqual(meanwhile.requests, []);
    assert.deepEqual(meanwhile.heldElsewhere?.requests, 3, 'what others hold is reported');
    assert.equal(await suite.store.confirmations.pendingConfirmations(imp.accountId, imp.processId), 3, 'sending is not sent');

    const sentAt = later(2000);
    assert.deepEqual(await suite.store.confirmations.completeConfirmations(first.requests.map((r) => r.requestId), { status: 'sent', at: sentAt, attempts: 1 }), []);
    assert.equal((await processOf(imp.accountId, imp.processId)).confirmationSentAt, null, 'one request is still unsent');
    assert.equal(await suite.store.confirmations.pendingConfirmations(imp.accountId, imp.processId), 1);
    assert.deepEqual(await suite.store.confirmations.completeConfirmations(second.requests.map((r) => r.requestId), { status: 'sent', at: later(3000), attempts: 2 }), [imp.processId]);
    assert.deepEqual((await processOf(imp.accountId, imp.processId)).confirmationSentAt, later(3000));
    assert.equal(await suite.store.confirmations.pendingConfirmations(imp.accountId, imp.processId), 0);
    const rows = await suite.store.confirmations.listConfirmationRequests(imp.accountId, imp.processId);
    const last = second.requests[0]!.requestId;
    assert.deepEqual(rows.map((r) => [r.email, r.status, r.attempts, r.lastError, r.nextAttemptAt, r.sentAt]), imp.requests.map((r) =>
      [r.email, 'sent', r.requestId === last ? 2 : 1, null, null, r.requestId === last ? later(3000) : sentAt]));
    assert.deepEqual(await suite.store.confirmations.completeConfirmations([], { status: 'sent', at: sentAt, attempts: 1 }), []);
  });

  test('renewing a claim keeps it; a renewal after the claim was taken over or completed touches nothing', async () => {
    const imp = await importWithRequests(['renew1@x.it', 'renew2@x.it']);
    const claimed = await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(T0, 10, 5_000));
    const ids = claimed.requests.map((r) => r.requestId);
    assert.equal(claimed.heldElsewhere, null, 'its own claims are not held elsewhere');
    assert.equal(await suite.store.confirmations.renewConfirmationClaims(ids, later(9_000)), 2);
    const held = await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(later(6_000)));
    assert.deepEqual(held.requests, [], 'renewed past the original expiry');
    assert.deepEqual(held.heldElsewhere, { requests: 2, until: later(9_000) });
    assert.equal(await suite.store.confirmations.renewConfirmationClaims([], later(20_000)), 0);

    await suite.store.confirmations.completeConfirmations([ids[0]!], { status: 'sent', at: later(7_000), attempts: 1 });
    const taken = await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(later(10_000)));
    assert.deepEqual(taken.requests.map((r) => r.requestId), [ids[1]], 'the lapsed claim is taken over');
    assert.equal(await suite.store.confirmations.renewConfirmationClaims(ids, later(30_000)), 1, 'only the request still being sent');
    assert.deepEqual((await statuses(imp.accountId, imp.processId)).sort(), ['sending', 'sent']);
  });

  test('a claim whose time ran out is handed out again', async () => {
    const imp = await importWithRequests(['expiry@x.it']);
    const claimed = await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(T0, 10, 5_000));
    assert.equal(claimed.requests.length, 1);
    assert.deepEqual((await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(later(4_000)))).requests, []);
    const again = await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(later(6_000)));
    assert.deepEqual(again.requests.map((r) => r.requestId), claimed.requests.map((r) => r.requestId));
  });

  test('requests of one recipient and list come out next to each other', async () => {
    const a = await accountWithList(suite.store, unique('Adjacent'));
    const emails = ['x@x.it', 'y@x.it', 'z@x.it'];
    const p1 = await importWithRequests(emails, { account: a });
    const p2 = await importWithRequests([...emails].reverse(), { account: a });
    const claimed = await suite.store.confirmations.claimConfirmations(a.accountId, null, lease(T0));
    assert.equal(claimed.requests.length, 6);
    assert.deepEqual(new Set(claimed.requests.map((r) => r.processId)), new Set([p1.processId, p2.processId]));
    const order = claimed.requests.map((r) => `${r.recipientId}:${r.listId}`);
    for (const key of new Set(order)) {
      const at = order.flatMap((k, i) => (k === key ? [i] : []));
      assert.equal(at.at(-1)! - at[0]!, at.length - 1, `requests of ${key} are next to each other: ${order.join(' ')}`);
    }
  });

  test('failures: a transient one is retried from its time, a permanent one never until requeued; both are listed', async () => {
    const imp = await importWithRequests(['soon@x.it', 'never@x.it', 'fine@x.it']);
    const other = await accountWithList(suite.store, unique('Failure other'));
    const claimed = await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(T0));
    const id = (email: string): number => claimed.requests.find((r) => r.email === email)!.requestId;
    const retryAt = later(60_000);
    assert.deepEqual(await suite.store.confirmations.completeConfirmations([id('soon@x.it')], { status: 'failed', error: '451 try later', retryAt, attempts: 1 }), []);
    assert.deepEqual(await suite.store.confirmations.completeConfirmations([id('never@x.it')], { status: 'failed', error: '550 no such user', retryAt: null, attempts: 3 }), []);
    assert.deepEqual(await suite.store.confirmations.completeConfirmations([id('fine@x.it')], { status: 'sent', at: later(1000), attempts: 1 }), [], 'failures are unsent');
    assert.equal((await processOf(imp.accountId, imp.processId)).confirmationSentAt, null);
    assert.equal(await suite.store.confirmations.pendingConfirmations(imp.accountId, imp.processId), 2);

    const failures = await suite.store.confirmations.confirmationFailures(imp.accountId, imp.processId);
    assert.deepEqual(failures.map((f) => [f.email, f.permanent, f.error, f.attempts, f.nextAttemptAt]), [
      ['never@x.it', true, '550 no such user', 3, null],
      ['soon@x.it', false, '451 try later', 1, retryAt],
    ], 'newest first');
    assert.deepEqual([failures[0]!.requestId, failures[0]!.processId, failures[0]!.listId], [id('never@x.it'), imp.processId, imp.listId]);
    assert.deepEqual((await suite.store.confirmations.confirmationFailures(imp.accountId, null, { limit: 1 })).map((f) => f.email), ['never@x.it']);
    assert.deepEqual(await suite.store.confirmations.confirmationFailures(other.accountId, imp.processId), []);
    assert.deepEqual(await suite.store.confirmations.confirmationFailures(other.accountId, null), []);
    const rows = await suite.store.confirmations.listConfirmationRequests(imp.accountId, imp.processId);
    assert.deepEqual(rows.map((r) => [r.email, r.status, r.lastError, r.nextAttemptAt]), [
      ['soon@x.it', 'failed', '451 try later', retryAt], ['never@x.it', 'failed', '550 no such user', null], ['fine@x.it', 'sent', null, null],
    ]);

    assert.deepEqual((await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(later(30_000)))).requests, [], 'not due yet');
    const retried = await suite.store.confirmations.claimConfirmations(imp.accountId, imp.processId, lease(later(61_000)));
    assert.deepEqual(retried.requests.map((r) => [r.email, r.attempts]), [['soon@x.it', 1]], 'the transient failure, with its attempts so far');
    assert.deepEqual(await suite.store.confirmations.completeConfirmations([id('soon@x.it')], { status: 'sent', at: later(62_000), attempts: 1 }), []);

    assert.equal(await suite.store.confirmations.requeueFailedConfirmations(other.accountId, null), 0, 'another account requeues nothing');
    assert.equal(await suite.store.confirmations.requeueFailedConfirmations(other.accountId, imp.processId), 0);
    assert.equal((await suite.store.confirmations.listConfirmationRequests(imp.accountId, imp.processId))[1]!.status, 'failed');
    assert.equal(await suite.store.confirmations.requeueFailedConfirmations(imp.accountId, imp.processId), 1);
    assert.deepEqual(await statuses(imp.accountId, imp.processId), ['sent', 'queued', 'sent']);
    const requeued = await suite.store.confirmations.claimConfirmations(imp.accountId, null, lease(later(63_000)));
    assert.deepEqual(requeued.requests.map((r) => [r.email, r.attempts]), [['never@x.it', 3]]);
    assert.deepEqual(await suite.store.confirmations.completeConfirmations([id('never@x.it')], { status: 'sent', at: later(64_000), attempts: 1 }), [imp.processId]);
    assert.equal(await suite.store.confirmations.requeueFailedConfirmations(imp.accountId, null), 0);
  });

  test('requeueFailedConfirmations leaves transient failures and other processes alone when given a process', async () => {
    const a = await accountWithList(suite.store, unique('Requeue'));
    const p1 = await importWithRequests(['one@x.it', 'two@x.it'], { account: a });
    const p2 = await importWithRequests(['three@x.it'], { account: a });
    const claimed = await suite.store.confirmations.claimConfirmations(a.accountId, null, lease(T0));
    const id = (email: string): number => claimed.requests.find((r) => r.email === email)!.requestId;
    await suite.store.confirmations.completeConfirmations([id('one@x.it')], { status: 'failed', error: 'transient', retryAt: later(60_000), attempts: 1 });
    await suite.store.confirmations.completeConfirmations([id('two@x.it'), id('three@x.it')], { status: 'failed', error: 'permanent', retryAt: null, attempts: 1 });
    assert.equal(await suite.store.confirmations.requeueFailedConfirmations(a.accountId, p1.processId), 1);
    assert.deepEqual(await statuses(a.accountId, p1.processId), ['failed', 'queued']);
    assert.deepEqual(await statuses(a.accountId, p2.processId), ['failed']);
    assert.equal(await suite.store.confirmations.requeueFailedConfirmations(a.accountId, null), 1);
    assert.deepEqual(await statuses(a.accountId, p2.processId), ['queued']);
  });

  test('a claim cancels the requests whose recipient is no longer pending, and settles a process left with none unsent', async () => {
    const imp = await importWithRequests(['now-subscribed@x.it', 'now-gone@x.it']);
    const other = await importWithRequests(['elsewhere@x.it']);
    for (const [email, status] of [['now-subscribed@x.it', 'subscribed'], ['now-gone@x.it', 'unsubscribed']] as const) {
      await suite.fx.db.execute("UPDATE subscription SET email_status = ? WHERE recipient_id = ? AND list_id = ?",
        [status, await recipientId(suite.fx.db, imp.accountId, email), imp.listId]);
    }
    const claimed = await suite.store.confirmations.claimConfirmations(imp.accountId, null, lease(T0));
    assert.deepEqual([claimed.requests, claimed.cancelled, claimed.settled], [[], 2, [imp.processId]]);
    assert.deepEqual(await statuses(imp.accountId, imp.processId), ['cancelled', 'cancelled']);
    assert.notEqual((await processOf(imp.accountId, imp.processId)).confirmationSentAt, null);
    assert.equal(await suite.store.confirmations.pendingConfirmations(imp.accountId, imp.processId), 0);
    assert.deepEqual(await statuses(other.accountId, other.processId), ['queued'], "another account's requests are not touched");
  });

  test('settleConfirmationProcesses: finished ConfirmEmail processes with nothing unsent, those that queued none included', async () => {
    const a = await accountWithList(suite.store, unique('Settle'));
    const empty = await importWithRequests([], { account: a });
    const unsent = await importWithRequests(['waiting@x.it'], { account: a });
    const plain = await importWithRequests(['plain@x.it'], { account: a, confirmEmail: false });
    const running = await importWithRequests([], { account: a, finish: false });
    const at = later(5000);
    const other = await accountWithList(suite.store, unique('Settle other'));
    assert.deepEqual(await suite.store.confirmations.settleConfirmationProcesses(other.accountId, empty.processId, at), [], "another account's id settles nothing");
    assert.deepEqual(await suite.store.confirmations.settleConfirmationProcesses(other.accountId, null, at), []);
    assert.equal((await processOf(a.accountId, empty.processId)).confirmationSentAt, null);

    assert.deepEqual(await suite.store.confirmations.settleConfirmationProcesses(a.accountId, unsent.processId, at), [], 'a request is unsent');
    assert.deepEqual(await suite.store.confirmations.settleConfirmationProcesses(a.accountId, null, at), [empty.processId]);
    assert.deepEqual((await processOf(a.accountId, empty.processId)).confirmationSentAt, at);
    assert.deepEqual(await suite.store.confirmations.settleConfirmationProcesses(a.accountId, null, later(9000)), [], 'settled once');
    assert.deepEqual((await processOf(a.accountId, empty.processId)).confirmationSentAt, at);
    for (const p of [unsent, plain, running]) assert.equal((await processOf(a.accountId, p.processId)).confirmationSentAt, null);
    await unwrap(suite.store).processes.finishProcess(running.lease);
    assert.deepEqual(await suite.store.confirmations.settleConfirmationProcesses(a.accountId, running.processId, at), [running.processId], 'once finished');
  });

  test('confirmationSummary: the requests of each ConfirmEmail process of the account by state', async () => {
    const a = await accountWithList(suite.store, unique('Summary'));
    const p1 = await importWithRequests(['s1@x.it', 's2@x.it', 's3@x.it', 's4@x.it', 's5@x.it'], { account: a });
    const plain = await importWithRequests(['p@x.it'], { account: a, confirmEmail: false });
    const p2 = await importWithRequests([], { account: a });
    const first = await suite.store.confirmations.claimConfirmations(a.accountId, p1.processId, lease(T0, 4));
    const [sent, retrying, failed] = first.requests;
    assert.equal(first.requests.length, 4);
    await suite.store.confirmations.completeConfirmations([sent!.requestId], { status: 'sent', at: later(1), attempts: 1 });
    await suite.store.confirmations.completeConfirmations([retrying!.requestId], { status: 'failed', error: 'later', retryAt: later(60_000), attempts: 1 });
    await suite.store.confirmations.completeConfirmations([failed!.requestId], { status: 'failed', error: 'never', retryAt: null, attempts: 1 });
    assert.equal((await suite.store.confirmations.confirmSubscription(sent!.requestId, sent!.recipientId, a.listId, later(2))).result, 'confirmed');

    const summaries = await suite.store.confirmations.confirmationSummary(a.accountId, null);
    assert.deepEqual(summaries.map((s) => s.processId).sort((x, y) => x - y), [p1.processId, p2.processId], 'ConfirmEmail processes only');
    assert.ok(!summaries.some((s) => s.processId === plain.processId));
    const [one] = await suite.store.confirmations.confirmationSummary(a.accountId, p1.processId);
    assert.deepEqual(one, {
      processId: p1.processId, listId: a.listId, processStatus: 3, requests: 5, queued: 1, sending: 1, sent: 1, retrying: 1, failed: 1,
      cancelled: 0, confirmed: 1, confirmationSentAt: null,
    });
    const [none] = await suite.store.confirmations.confirmationSummary(a.accountId, p2.processId);
    assert.deepEqual([none!.requests, none!.queued, none!.sent], [0, 0, 0]);
    assert.equal((await suite.store.confirmations.confirmationSummary(a.accountId, null, { limit: 1 })).length, 1);
    const other = await accountWithList(suite.store, unique('Summary other'));
    assert.deepEqual(await suite.store.confirmations.confirmationSummary(other.accountId, p1.processId), []);
    assert.deepEqual(await suite.store.confirmations.confirmationSummary(other.accountId, null), []);
  });

  test('listConfirmationRequests: oldest first, paged, by process or for the account, never another account\'s', async () => {
    const a = await accountWithList(suite.store, unique('Requests'));
    const p1 = await importWithRequests(['r1@x.it', 'r2@x.it'], { account: a });
    const p2 = await importWithRequests(['r3@x.it'], { account: a });
    const all = await suite.store.confirmations.listConfirmationRequests(a.accountId, null);
    assert.deepEqual(all.map((r) => [r.email, r.processId]), [['r1@x.it', p1.processId], ['r2@x.it', p1.processId], ['r3@x.it', p2.processId]]);
    const ids = all.map((r) => r.requestId);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
    const r1: ConfirmationRequestRow = all[0]!;
    assert.deepEqual({ ...r1, createdAt: null }, {
      requestId: ids[0], processId: p1.processId, recipientId: await recipientId(suite.fx.db, a.accountId, 'r1@x.it'), listId: a.listId, email: 'r1@x.it',
      status: 'queued', attempts: 0, lastError: null, nextAttemptAt: null, createdAt: null, sentAt: null, confirmedAt: null,
    });
    assert.ok(r1.createdAt instanceof Date);
    assert.deepEqual((await suite.store.confirmations.listConfirmationRequests(a.accountId, p2.processId)).map((r) => r.email), ['r3@x.it']);
    assert.deepEqual((await suite.store.confirmations.listConfirmationRequests(a.accountId, null, { limit: 2 })).map((r) => r.email), ['r1@x.it', 'r2@x.it']);
    assert.deepEqual((await suite.store.confirmations.listConfirmationRequests(a.accountId, null, { limit: 2, offset: 2 })).map((r) => r.email), ['r3@x.it']);
    const other = await accountWithList(suite.store, unique('Requests other'));
    assert.deepEqual(await suite.store.confirmations.listConfirmationRequests(other.accountId, p1.processId), []);
    assert.deepEqual(await suite.store.confirmations.listConfirmationRequests(other.accountId, null), []);
  });
});

describe('confirm links', () => {
  test('a pending subscription becomes subscribed, once; a replayed link says when', async () => {
    const imp = await importWithRequests(['link@x.it', 'second@x.it']);
    const [request] = imp.requests;
    const listName = (await suite.store.lists.getList(imp.accountId, imp.listId))!.name;
    const at = later(10_000);
    const confirmed = await suite.store.confirmations.confirmSubscription(request!.requestId, request!.recipientId, imp.listId, at);
    assert.deepEqual(confirmed, { result: 'confirmed', email: 'link@x.it', listName, confirmedAt: at });
    const [subscription] = await suite.fx.db.query<{ status: string; confirmed_at: string }>(
      "SELECT status, confirmed_at FROM subscription_channel WHERE recipient_id = ? AND list_id = ? AND channel = 'email'", [request!.recipientId, imp.listId]);
    assert.deepEqual([subscription!.status, new Date(subscription!.confirmed_at).getTime()], ['subscribed', at.getTime()]);
    assert.deepEqual((await suite.store.confirmations.listConfirmationRequests(imp.accountId, imp.processId))[0]!.confirmedAt, at);
    const replay = await suite.store.confirmations.confirmSubscription(request!.requestId, request!.recipientId, imp.listId, later(20_000));
    assert.deepEqual(replay, { result: 'already-confirmed', email: 'link@x.it', listName, confirmedAt: at });
  });

  test('nothing changes for a subscription that is not pending, or a link whose parts do not belong together', async () => {
    const imp = await importWithRequests(['sub@x.it', 'unsub@x.it', 'stay@x.it']);
    const other = await importWithRequests(['stay@x.it']);
    const listName = (await suite.store.lists.getList(imp.accountId, imp.listId))!.name;
    const [sub, unsub, stay] = imp.requests;
    for (const [r, status] of [[sub!, 'subscribed'], [unsub!, 'unsubscribed']] as const) {
      await suite.fx.db.execute("UPDATE subscription SET email_status = ? WHERE recipient_id = ? AND list_id = ?", [status, r.recipientId, imp.listId]);
    }
    assert.deepEqual(await suite.store.confirmations.confirmSubscription(sub!.requestId, sub!.recipientId, imp.listId, T0),
      { result: 'already-subscribed', email: 'sub@x.it', listName, confirmedAt: null });
    assert.deepEqual(await suite.store.confirmations.confirmSubscription(unsub!.requestId, unsub!.recipientId, imp.listId, T0),
      { result: 'unsubscribed', email: 'unsub@x.it', listName, confirmedAt: null });
    const [unsubRow] = await suite.fx.db.query<{ status: string }>("SELECT status FROM subscription_channel WHERE recipient_id = ? AND list_id = ? AND channel = 'email'", [unsub!.recipientId, imp.listId]);
    assert.equal(unsubRow!.status, 'unsubscribed', 'an unsubscribed recipient is not subscribed by an old link');

    // A request with another recipient, another list, or another account's recipient: not found, nothing changes.
    const [theirs] = other.requests;
    for (const [requestId, recipient, list] of [
      [stay!.requestId, sub!.recipientId, imp.listId], [stay!.requestId, stay!.recipientId, other.listId],
      [stay!.requestId, theirs!.recipientId, other.listId], [theirs!.requestId, stay!.recipientId, imp.listId], [987_654_321, stay!.recipientId, imp.listId],
    ] as const) {
      assert.equal((await suite.store.confirmations.confirmSubscription(requestId, recipient, list, T0)).result, 'not-found', JSON.stringify([requestId, recipient, list]));
    }
    const pending = await suite.fx.db.query<{ status: string }>("SELECT status FROM subscription_channel WHERE recipient_id IN (?, ?) AND channel = 'email'", [stay!.recipientId, theirs!.recipientId]);
    assert.deepEqual(pending.map((p) => p.status), ['pending', 'pending']);
  });
});

describe('the outbox', () => {
  test('one entry per request; entries without a request are all kept; listed newest first per account', async () => {
    const imp = await importWithRequests(['out@x.it']);
    const other = await accountWithList(suite.store, unique('Outbox other'));
    const entry = (recipient: string, requestId: number | null) => ({
      accountId: imp.accountId, requestId, sender: 'Lists <lists@example.com>', recipient, subject: `To ${recipient}`, html: '<p>Hi</p>', text: 'Hi',
    });
    const first = await suite.store.confirmations.writeOutbox(entry('out@x.it', imp.requests[0]!.requestId));
    const again = await suite.store.confirmations.writeOutbox({ ...entry('out@x.it', imp.requests[0]!.requestId), subject: 'A second time' });
    assert.equal(again, first, 'the entry already written for the request');
    const loose1 = await suite.store.confirmations.writeOutbox(entry('loose@x.it', null));
    const loose2 = await suite.store.confirmations.writeOutbox(entry('loose@x.it', null));
    assert.notEqual(loose1, loose2);
    const box = await suite.store.confirmations.listOutbox(imp.accountId);
    assert.deepEqual(box.map((m) => m.id), [loose2, loose1, first]);
    assert.deepEqual({ ...box[2]!, createdAt: null }, { id: first, ...entry('out@x.it', imp.requests[0]!.requestId), createdAt: null });
    assert.ok(box[2]!.createdAt instanceof Date);
    assert.deepEqual((await suite.store.confirmations.listOutbox(imp.accountId, { limit: 2 })).map((m) => m.id), [loose2, loose1]);
    assert.deepEqual((await suite.store.confirmations.listOutbox(imp.accountId, { limit: 2, offset: 2 })).map((m) => m.id), [first]);
    assert.deepEqual(await suite.store.confirmations.listOutbox(other.accountId), []);
  });
});

describe('requests queued by a single-recipient call', () => {
  /** A recipient pending on `lists` with one process-less request on the first (sender and further lists as given). */
  async function singleRequest(a: Account, lists: readonly number[], email: string, sender: string | null) {
    const made = await unwrap(suite.store).recipients.applyRecipientChange(a.accountId, { email }, () => ({
      write: {
        data: { email }, leaveLists: [], joinGroups: [], leaveGroups: [],
        subscriptions: lists.map((listId) => ({ listId, channel: 'email' as const, status: 'pending' as const, reason: null })),
        confirmations: [{ listId: lists[0]!, alsoListIds: lists.slice(1), sender }],
      },
      answer: null,
    }));
    assert.ok(made.ok);
    return { recipientId: made.recipientId!, requestId: made.requestIds[0]! };
  }

  test('claims can be limited to given requests; a process-less request carries its sender and the default message (0)', async () => {
    const imp = await importWithRequests(['queued@x.it'], { account: await accountWithList(suite.store, unique('Single')) });
    const single = await singleRequest(imp, [imp.listId], 'single@x.it', '"Shop" <shop@example.com>');
    const claim = await suite.store.confirmations.claimConfirmations(imp.accountId, null, { ...lease(T0), requestIds: [single.requestId] });
    assert.deepEqual(claim.requests.map((r) => [r.requestId, r.processId, r.messageId, r.sender, r.email]),
      [[single.requestId, 0, 0, '"Shop" <shop@example.com>', 'single@x.it']]);
    assert.equal(claim.heldElsewhere, null, 'only the given requests are looked at');
    assert.deepEqual(await statuses(imp.accountId, imp.processId), ['queued'], "the import's request was left alone");
    assert.deepEqual((await suite.store.confirmations.claimConfirmations(imp.accountId, null, { ...lease(T0), requestIds: [single.requestId] })).requests, []);
    const rest = await suite.store.confirmations.claimConfirmations(imp.accountId, null, lease(T0));
    assert.deepEqual(rest.requests.map((r) => [r.processId, r.sender]), [[imp.processId, null]], 'an account-wide claim takes what is left');
    assert.deepEqual(rest.heldElsewhere?.requests, 1, 'the single request is held by the first claim');
  });

  test('a request for several lists confirms every one of them still pending with one link', async () => {
    const a = await accountWithList(suite.store, unique('Several'));
    const second = await unwrap(suite.store).lists.createList(a.accountId, unique('Several 2'));
    const third = await unwrap(suite.store).lists.createList(a.accountId, unique('Several 3'));
    const single = await singleRequest(a, [a.listId, second.id, third.id], 'multi@x.it', null);
    // Meanwhile the recipient unsubscribed from the third list: that one stays unsubscribed.
    await unwrap(suite.store).recipients.applyRecipientChange(a.accountId, { email: 'multi@x.it' }, () => ({
      write: { data: {}, leaveLists: [], joinGroups: [], leaveGroups: [], confirmations: [], subscriptions: [{ listId: third.id, channel: 'email', status: 'unsubscribed', reason: 'user' }] },
      answer: null,
    }));
    const outcome = await suite.store.confirmations.confirmSubscription(single.requestId, single.recipientId, a.listId, T0);
    assert.equal(outcome.result, 'confirmed');
    const state = (await unwrap(suite.store).recipients.getRecipient(a.accountId, { id: single.recipientId }))!;
    assert.deepEqual(state.subscriptions.map((s) => [s.listId, s.status, s.confirmedAt?.toISOString() ?? null]), [
      [a.listId, 'subscribed', T0.toISOString()], [second.id, 'subscribed', T0.toISOString()], [third.id, 'unsubscribed', null],
    ]);
  });
});
