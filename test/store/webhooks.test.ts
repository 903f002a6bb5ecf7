/**
 * The WebhookStore contract (src/store/webhooks.ts), run against the adapter TEST_STORE names (npm
 * test runs it on both): endpoints per account with a limit; delivery rows written by the
 * transactions that end imports and settle confirmations, for the endpoints subscribed to the
 * event; claims under a lease, one at a time per endpoint and import, in order; attempts recorded
 * only by the claim's owner; retries, giving up, resending; and two handles (two processes or
 * hosts) claiming at once never claim one delivery twice.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebhookEvent } from '../../src/model/webhook.ts';
import type { ClaimedDelivery } from '../../src/store/webhooks.ts';
import type { Store } from '../../src/store/store.ts';
import { contractSuite, runningProcess, startedProcess, unique, unwrap } from './store-fixture.ts';

const suite = contractSuite('webhooks');
const ALL: WebhookEvent[] = ['import.completed', 'import.failed', 'import.cancelled', 'confirmations.sent'];
const HOUR = 3_600_000;

async function endpoint(accountId: number, events: WebhookEvent[] = ALL, url = 'https://hooks.example.com/in') {
  const e = await unwrap(suite.store).webhooks.addEndpoint(accountId, { url, events, secret: `whsec_${unique('s').replace(' ', '')}` }, 10);
  assert.ok(e);
  return e;
}

/** Claims with a far horizon and keeps only the deliveries of `endpointIds` (other tests leave theirs behind). */
async function claimMine(store: Store, owner: string, endpointIds: readonly number[], now = new Date(), leaseMs = 60_000): Promise<ClaimedDelivery[]> {
  const mine: ClaimedDelivery[] = [];
  for (let round = 0; round < 20; round++) {
    const claimed = await store.webhooks.claimDeliveries(owner, { now, leaseMs, limit: 100 });
    mine.push(...claimed.filter((d) => endpointIds.includes(d.endpointId)));
    if (claimed.length < 100) break;
  }
  return mine;
}

describe('endpoints', () => {
  test('added with their events, listed oldest first with delivery counts, read and removed only by their account, at most the limit', async () => {
    const raw = unwrap(suite.store);
    const [mine, theirs] = [await raw.accounts.createAccount({ passwordHash: 'h', name: unique('W') }), await raw.accounts.createAccount({ passwordHash: 'h', name: unique('W') })];
    const first = await suite.store.webhooks.addEndpoint(mine.id, { url: 'https://a.example/x', events: ['import.failed', 'import.completed'], secret: 'whsec_AAAA' }, 2);
    assert.ok(first);
    assert.deepEqual({ ...first, id: 0, createdAt: null }, { id: 0, accountId: mine.id, url: 'https://a.example/x', events: ['import.failed', 'import.completed'], enabled: true, createdAt: null });
    assert.ok(Math.abs(first.createdAt.getTime() - Date.now()) < 60_000);
    const second = await suite.store.webhooks.addEndpoint(mine.id, { url: 'http://127.0.0.1:9/y', events: ALL, secret: 'whsec_BBBB' }, 2);
    assert.ok(second);
    assert.equal(await suite.store.webhooks.addEndpoint(mine.id, { url: 'https://c.example/', events: ALL, secret: 'whsec_C' }, 2), null, 'the limit');
    const listed = await suite.store.webhooks.listEndpoints(mine.id);
    assert.deepEqual(listed.map((e) => [e.id, e.deliveries]), [[first.id, { pending: 0, delivered: 0, given_up: 0 }], [second.id, { pending: 0, delivered: 0, given_up: 0 }]]);
    assert.ok(!('secret' in listed[0]!), 'listings carry no secret');
    assert.deepEqual(await suite.store.webhooks.getEndpoint(mine.id, first.id), first);
    assert.equal(await suite.store.webhooks.getEndpoint(theirs.id, first.id), null);
    assert.equal(await suite.store.webhooks.removeEndpoint(theirs.id, first.id), false);
    assert.equal(await suite.store.webhooks.removeEndpoint(mine.id, first.id), true);
    assert.equal(await suite.store.webhooks.removeEndpoint(mine.id, first.id), false);
    assert.deepEqual((await suite.store.webhooks.listEndpoints(mine.id)).map((e) => e.id), [second.id]);
    assert.deepEqual(await suite.store.webhooks.listEndpoints(theirs.id), []);
  });
});

describe('events are stored with the change that makes them', () => {
  test('finishing, failing and cancelling an import write one delivery per subscribed endpoint; removing the endpoint removes them', async () => {
    const raw = unwrap(suite.store);
    const done = await runningProcess(suite.store);
    const all = await endpoint(done.accountId);
    const failedOnly = await endpoint(done.accountId, ['import.failed']);
    await raw.processes.finishProcess(done.lease);
    const completed = await suite.store.webhooks.listDeliveries(done.accountId, all.id);
    assert.deepEqual(completed.map((d) => [d.event, d.processId, d.status, d.attempts, d.endpointId, d.accountId]),
      [['import.completed', done.process.id, 'pending', 0, all.id, done.accountId]]);
    assert.match(completed[0]!.messageId, /^msg_[0-9a-f]{32}$/);
    assert.deepEqual(await suite.store.webhooks.listDeliveries(done.accountId, failedOnly.id), [], 'not subscribed to import.completed');

    const failing = await startedProcess(suite.store, done);
    await raw.processes.failProcess(failing.lease, 'the feed is broken');
    assert.deepEqual((await suite.store.webhooks.listDeliveries(done.accountId, failedOnly.id)).map((d) => [d.event, d.processId]),
      [['import.failed', failing.process.id]]);

    const cancelled = await startedProcess(suite.store, done);
    const outcome = await raw.processes.cancelProcess(done.accountId, cancelled.process.id, 'cancelled by test');
    assert.ok(outcome.ok);
    assert.deepEqual((await suite.store.webhooks.listDeliveries(done.accountId, all.id)).map((d) => [d.event, d.processId]), [
      ['import.cancelled', cancelled.process.id], ['import.failed', failing.process.id], ['import.completed', done.process.id],
    ], 'newest first');
    assert.deepEqual((await suite.store.webhooks.listEndpoints(done.accountId)).map((e) => e.deliveries.pending), [3, 1]);
    assert.equal((await suite.store.webhooks.listDeliveries(done.accountId, all.id, { limit: 1 })).length, 1);
    assert.deepEqual(await suite.store.webhooks.listDeliveries(done.accountId + 100_000, all.id), [], "another account's endpoint");

    await raw.webhooks.removeEndpoint(done.accountId, all.id);
    assert.deepEqual(await claimMine(raw, 'sweeper', [all.id]), [], 'the deliveries went with the endpoint');
  });

  test("confirmations.sent is written when a process's ConfirmationSent turns True, after its import.completed", async () => {
    const raw = unwrap(suite.store);
    const p = await runningProcess(suite.store, 3, { ConfirmEmail: true });
    const e = await endpoint(p.accountId);
    await raw.processes.finishProcess(p.lease);
    assert.deepEqual(await raw.confirmations.settleConfirmationProcesses(p.accountId, p.process.id, new Date()), [p.process.id]);
    assert.deepEqual((await raw.webhooks.listDeliveries(p.accountId, e.id)).map((d) => d.event), ['confirmations.sent', 'import.completed']);
  });
});

describe('claims and attempts', () => {
  test('one delivery at a time per endpoint and import, in order; a lease keeps others off until it runs out', async () => {
    const raw = unwrap(suite.store);
    const p = await runningProcess(suite.store, 3, { ConfirmEmail: true });
    const e = await endpoint(p.accountId);
    await raw.processes.finishProcess(p.lease);
    await raw.confirmations.settleConfirmationProcesses(p.accountId, p.process.id, new Date());

    const [first, ...rest] = await claimMine(suite.store, 'one', [e.id]);
    assert.deepEqual(rest, [], 'confirmations.sent waits for import.completed');
    assert.deepEqual([first!.event, first!.url, first!.body, first!.leaseOwner, first!.secret.startsWith('whsec_')], ['import.completed', e.url, null, 'one', true]);
    assert.deepEqual(await claimMine(suite.store, 'two', [e.id]), [], 'held by the lease');
    const later = new Date(Date.now() + 61_000);
    const [taken] = await claimMine(suite.store, 'two', [e.id], later);
    assert.equal(taken?.id, first!.id, 'taken over once the lease ran out');

    assert.equal(await suite.store.webhooks.saveBody(first!.id, '{"a":1}'), '{"a":1}');
    assert.equal(await suite.store.webhooks.saveBody(first!.id, '{"b":2}'), '{"a":1}', 'the first body is kept');
    const at = new Date();
    assert.equal(await suite.store.webhooks.recordAttempt(first!.id, 'one', { delivered: true, at, responseCode: 200 }), false, 'the lost claim records nothing');
    assert.equal(await suite.store.webhooks.recordAttempt(first!.id, 'two', { delivered: true, at, responseCode: 204 }), true);
    const [second] = await claimMine(suite.store, 'three', [e.id], later);
    assert.deepEqual([second?.event, second?.processId], ['confirmations.sent', p.process.id], 'next in order once the first is delivered');
    const delivered = (await raw.webhooks.listDeliveries(p.accountId, e.id)).find((d) => d.id === first!.id)!;
    assert.deepEqual([delivered.status, delivered.attempts, delivered.responseCode, delivered.deliveredAt?.getTime(), delivered.lastError], ['delivered', 1, 204, at.getTime(), null]);
  });

  test('a failed attempt waits for its retry time; giving up lets the next one go; resending makes it due again with the same id', async () => {
    const raw = unwrap(suite.store);
    const p = await runningProcess(suite.store, 3, { ConfirmEmail: true });
    const e = await endpoint(p.accountId);
    await raw.processes.finishProcess(p.lease);
    await raw.confirmations.settleConfirmationProcesses(p.accountId, p.process.id, new Date());
    const now = new Date();
    const [d] = await claimMine(suite.store, 'a', [e.id], now);
    const retryAt = new Date(now.getTime() + HOUR);
    assert.ok(await suite.store.webhooks.recordAttempt(d!.id, 'a', { delivered: false, at: now, responseCode: 500, error: 'the endpoint answered 500', retryAt }));
    const failed = (await raw.webhooks.listDeliveries(p.accountId, e.id)).find((x) => x.id === d!.id)!;
    assert.deepEqual([failed.status, failed.attempts, failed.responseCode, failed.lastError, failed.nextAttemptAt.getTime()], ['pending', 1, 500, 'the endpoint answered 500', retryAt.getTime()]);
    assert.deepEqual(await claimMine(suite.store, 'b', [e.id], new Date(now.getTime() + HOUR - 1)), [], 'not due yet, and the next waits behind it');
    const [again] = await claimMine(suite.store, 'b', [e.id], retryAt);
    assert.deepEqual([again?.id, again?.attempts], [d!.id, 1]);
    assert.ok(await suite.store.webhooks.recordAttempt(d!.id, 'b', { delivered: false, at: retryAt, responseCode: null, error: 'timed out', retryAt: null }));
    const [next] = await claimMine(suite.store, 'b', [e.id], retryAt);
    assert.equal(next?.event, 'confirmations.sent', 'a given-up delivery no longer holds the next back');
    assert.ok(await suite.store.webhooks.recordAttempt(next!.id, 'b', { delivered: true, at: retryAt, responseCode: 200 }));

    assert.equal(await suite.store.webhooks.resendDelivery(p.accountId + 100_000, d!.id, retryAt), false, "another account's delivery");
    const resendAt = new Date(retryAt.getTime() + 1000);
    assert.equal(await suite.store.webhooks.resendDelivery(p.accountId, d!.id, resendAt), true);
    const resent = (await raw.webhooks.listDeliveries(p.accountId, e.id)).find((x) => x.id === d!.id)!;
    assert.deepEqual([resent.status, resent.messageId, resent.retrySince.getTime(), resent.nextAttemptAt.getTime()], ['pending', d!.messageId, resendAt.getTime(), resendAt.getTime()]);
    const [claimedAgain] = await claimMine(suite.store, 'c', [e.id], resendAt);
    assert.equal(claimedAgain?.id, d!.id);
    assert.equal(await suite.store.webhooks.resendDelivery(p.accountId, d!.id, resendAt), false, 'not while it is being sent');
    assert.deepEqual((await raw.webhooks.listEndpoints(p.accountId))[0]!.deliveries, { pending: 1, delivered: 1, given_up: 0 });
  });

  test('releasing every claim (a SQLite server starting) makes claimed deliveries claimable at once', async () => {
    const raw = unwrap(suite.store);
    const p = await runningProcess(suite.store);
    const e = await endpoint(p.accountId);
    await raw.processes.finishProcess(p.lease);
    const [d] = await claimMine(suite.store, 'dead', [e.id]);
    assert.ok(d);
    assert.deepEqual(await claimMine(suite.store, 'alive', [e.id]), []);
    assert.ok(await suite.store.webhooks.releaseAllClaims() >= 1);
    const [again] = await claimMine(suite.store, 'alive', [e.id]);
    assert.deepEqual([again?.id, again?.leaseOwner], [d.id, 'alive']);
    assert.equal(await raw.webhooks.recordAttempt(d.id, 'dead', { delivered: true, at: new Date(), responseCode: 200 }), false, 'the released claim records nothing');
  });

  test('two handles claiming at once never claim one delivery twice', async () => {
    const raw = unwrap(suite.store);
    const other = await suite.fx.open();
    const p = await runningProcess(suite.store);
    const endpoints = [];
    for (let i = 0; i < 10; i++) endpoints.push((await endpoint(p.accountId)).id);
    await raw.processes.finishProcess(p.lease);
    const seen: number[] = [];
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([claimMine(suite.store, 'left', endpoints), claimMine(other, 'right', endpoints)]);
      seen.push(...a.map((d) => d.id), ...b.map((d) => d.id));
    }
    assert.equal(seen.length, 10);
    assert.equal(new Set(seen).size, 10);
  });
});
