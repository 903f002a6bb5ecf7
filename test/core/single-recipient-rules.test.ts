/**
 * The status matrix of single-recipient calls (src/core/recipients.ts, recipient-changes.ts), on
 * a real store (TEST_STORE; npm test runs it on both): every prior state of a recipient on a list
 * against every way a door subscribes or unsubscribes it. The expectations are written out below,
 * row by row, as docs/behaviour.md states them ("Single-recipient calls"); nothing here computes
 * one from the rules.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { unsubscribeRecipient } from '../../src/core/recipient-changes.ts';
import { subscribeRecipient, type SubscribeRequest } from '../../src/core/recipients.ts';
import type { UnsubscribeReason } from '../../src/model/subscription.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
let a: TestAccount;
before(async () => {
  svc = await startTestService();
  a = await svc.addAccount();
});
after(() => svc.close());

/** The calls of the matrix's columns: HTTP xmlSubscribe with Confirm 1 and 0; REST POST …/Recipient without and with ConfirmEmail; REST POST …/Subscribe/{id}. */
const CALLS: Record<string, Pick<SubscribeRequest, 'confirm' | 'forceOptIn' | 'keyMismatch' | 'alwaysUpdate'>> = {
  'http-confirm': { confirm: true, forceOptIn: true, keyMismatch: 'update' },
  'http-direct': { confirm: false, forceOptIn: true, keyMismatch: 'update' },
  'rest-post': { confirm: false, forceOptIn: false, keyMismatch: 'refuse', alwaysUpdate: true },
  'rest-post-confirm': { confirm: true, forceOptIn: false, keyMismatch: 'refuse', alwaysUpdate: true },
  'rest-subscribe-again': { confirm: false, forceOptIn: true, keyMismatch: 'refuse' },
};

/**
 * prior state | call | status after, `+req` when a confirmation request is queued | result.
 * S subscribed, P pending, U unsubscribed (its reason kept), - not on the list.
 */
const MATRIX = `
none             http-confirm          P+req  done
none             http-direct           S      done
none             rest-post             S      done
none             rest-post-confirm     P+req  done
none             rest-subscribe-again  S      done
subscribed       http-confirm          S      already-subscribed
subscribed       http-direct           S      already-subscribed
subscribed       rest-post             S      already-subscribed
subscribed       rest-post-confirm     S      already-subscribed
subscribed       rest-subscribe-again  S      already-subscribed
pending          http-confirm          P+req  done
pending          http-direct           S      done
pending          rest-post             S      done
pending          rest-post-confirm     P+req  done
pending          rest-subscribe-again  S      done
unsub:user       http-confirm          P+req  done
unsub:user       http-direct           S      done
unsub:user       rest-post             U      kept-unsubscribed
unsub:user       rest-post-confirm     U      kept-unsubscribed
unsub:user       rest-subscribe-again  S      done
unsub:import     http-confirm          P+req  done
unsub:import     http-direct           S      done
unsub:import     rest-post             U      kept-unsubscribed
unsub:import     rest-post-confirm     U      kept-unsubscribed
unsub:import     rest-subscribe-again  S      done
unsub:bounce     http-confirm          U      kept-unsubscribed
unsub:bounce     http-direct           U      kept-unsubscribed
unsub:bounce     rest-post             U      kept-unsubscribed
unsub:bounce     rest-post-confirm     U      kept-unsubscribed
unsub:bounce     rest-subscribe-again  U      kept-unsubscribed
unsub:complaint  http-confirm          U      kept-unsubscribed
unsub:complaint  http-direct           U      kept-unsubscribed
unsub:complaint  rest-post             U      kept-unsubscribed
unsub:complaint  rest-post-confirm     U      kept-unsubscribed
unsub:complaint  rest-subscribe-again  U      kept-unsubscribed
`;

const STATUS = { S: 'subscribed', P: 'pending', U: 'unsubscribed', '-': 'none' } as const;

let n = 0;
/** A fresh recipient of the account's list in the prior state; its id, or null for `none` (no recipient). */
async function recipientIn(prior: string): Promise<{ email: string; id: number | null }> {
  const email = `r${++n}@example.com`;
  if (prior === 'none') return { email, id: null };
  const [status, reason] = prior.split(':') as ['subscribed' | 'pending' | 'unsub', UnsubscribeReason | undefined];
  const made = await svc.service.store.recipients.applyRecipientChange(a.account.id, { email }, () => ({
    write: {
      data: { email }, leaveLists: [], joinGroups: [], leaveGroups: [], confirmations: [],
      subscriptions: [{ listId: a.list.id, channel: 'email', status: status === 'unsub' ? 'unsubscribed' : status, reason: reason ?? null }],
    },
    answer: null,
  }));
  assert.ok(made.ok);
  return { email, id: made.recipientId };
}

const rows = MATRIX.trim().split('\n').map((line) => line.trim().split(/\s+/) as [string, string, string, string]);

test('the written matrix covers every prior state and every call', () => {
  assert.equal(rows.length, 7 * Object.keys(CALLS).length);
});

for (const [prior, call, after, result] of rows) {
  test(`${prior} + ${call}: ${after}, ${result}`, async () => {
    const who = await recipientIn(prior);
    // Subscribe-again names an existing recipient by id; "none" there is one on another list only.
    let id = who.id;
    if (call === 'rest-subscribe-again' && id === null) {
      const other = await svc.service.store.lists.createList(a.account.id, `Elsewhere ${n}`);
      const made = await subscribeRecipient(svc.service.context.mail, { accountId: a.account.id, listIds: [other.id], recipient: { email: who.email }, ...CALLS['http-direct']! });
      assert.ok(made.ok);
      id = made.recipientId;
    }
    const outcome = await subscribeRecipient(svc.service.context.mail, {
      accountId: a.account.id, listIds: [a.list.id], ...CALLS[call]!,
      recipient: call === 'rest-subscribe-again' ? { id: id! } : { email: who.email },
    });
    assert.ok(outcome.ok, JSON.stringify(outcome));
    const [code, req] = after.split('+');
    const state = (await svc.service.store.recipients.getRecipient(a.account.id, { email: who.email }))!;
    const sub = state.subscriptions.find((s) => s.listId === a.list.id)!;
    assert.equal(sub.status, STATUS[code as keyof typeof STATUS]);
    if (prior.startsWith('unsub:') && sub.status === 'unsubscribed') assert.equal(sub.reason, prior.split(':')[1], 'the reason is kept');
    assert.equal(outcome.confirmation !== null, req === 'req', 'a confirmation request');
    assert.equal(outcome.result, result);
  });
}

const UNSUBSCRIBE = `
none             not-on-list           -
subscribed       unsubscribed          unsub:user
pending          unsubscribed          unsub:user
unsub:user       already-unsubscribed  unsub:user
unsub:import     already-unsubscribed  unsub:import
unsub:bounce     already-unsubscribed  unsub:bounce
unsub:complaint  already-unsubscribed  unsub:complaint
`;

for (const [prior, result, after] of UNSUBSCRIBE.trim().split('\n').map((l) => l.trim().split(/\s+/) as [string, string, string])) {
  test(`unsubscribe ${prior}: ${result}, then ${after}`, async () => {
    const who = await recipientIn(prior === 'none' ? 'unsub:user' : prior);
    // "none": a recipient of the account that is on another list only.
    const listId = prior === 'none' ? (await svc.service.store.lists.createList(a.account.id, `Unsub elsewhere ${n}`)).id : a.list.id;
    const outcome = await unsubscribeRecipient(svc.service.store, a.account.id, listId, { email: who.email });
    assert.ok(outcome.ok);
    assert.equal(outcome.result, result);
    const sub = (await svc.service.store.recipients.getRecipient(a.account.id, { email: who.email }))!.subscriptions.find((s) => s.listId === listId);
    assert.equal(sub === undefined ? '-' : `unsub:${sub.reason}`, after);
  });
}

test('key mismatch: an existing recipient with another mobile is refused by REST (nothing changes) and updated by HTTP', async () => {
  const email = 'keys@example.com';
  const first = await subscribeRecipient(svc.service.context.mail, { accountId: a.account.id, listIds: [a.list.id], recipient: { email, mobile: '+393330000001', fields: { 1: 'kept' } }, ...CALLS['rest-post']! });
  assert.ok(first.ok);
  const refused = await subscribeRecipient(svc.service.context.mail, { accountId: a.account.id, listIds: [a.list.id], recipient: { email, mobile: '+393330000002', fields: { 1: 'changed' } }, ...CALLS['rest-post']! });
  assert.deepEqual(refused, { ok: false, reason: 'key-mismatch' });
  assert.deepEqual((await svc.service.store.recipients.getRecipient(a.account.id, { email }))!.recipient.fields, { 1: 'kept' });
  const updated = await subscribeRecipient(svc.service.context.mail, { accountId: a.account.id, listIds: [a.list.id], recipient: { email, mobile: '+393330000002' }, ...CALLS['http-direct']! });
  assert.ok(updated.ok && updated.result === 'done');
  assert.equal((await svc.service.store.recipients.getRecipient(a.account.id, { email }))!.recipient.mobile, '+393330000002');
});
