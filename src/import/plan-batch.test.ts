import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBatch, prepareBatch } from './plan-batch.ts';
import { readRejectedRow } from './rejected-row.ts';
import type { PriorRecipient } from '../model/batch.ts';
import type { FeedRow, ImportOptions } from '../model/records.ts';

const options = (over: Partial<ImportOptions> = {}): ImportOptions => ({
  groupIds: [7], importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false,
  forceOptIn: false, replaceGroups: false, idConfirmNL: 0, ...over,
});
let n = 0;
const row = (email: string, number = '', fields: Record<number, string> = {}): FeedRow =>
  ({ row: ++n, email, prefix: '', number, name: '', fields });

test('new recipients count as New on each channel they have, rejects count in none', () => {
  const opts = options();
  const batch = prepareBatch([row('a@x.it', '+393330000001'), row('b@x.it'), row('broken')], opts);
  assert.deepEqual(batch.keys, { emails: ['a@x.it', 'b@x.it'], mobiles: [] });
  const plan = planBatch(batch, new Map(), opts);
  assert.deepEqual(plan.counters, { newEmail: 2, newMobile: 1, existingEmail: 0, existingMobile: 0, optOutEmail: 0, optOutMobile: 0 });
  assert.equal(plan.rejects.length, 1);
  assert.equal(plan.rejects[0]!.reason, 'invalid e-mail address');
  assert.equal(readRejectedRow(plan.rejects[0]!.raw).email, 'broken');
  assert.deepEqual(plan.recipients.map((r) => [r.id, r.email, r.mobile, r.subscriptions.map((s) => `${s.channel}:${s.status}`)]), [
    [null, 'a@x.it', '+393330000001', ['email:subscribed', 'sms:subscribed']],
    [null, 'b@x.it', null, ['email:subscribed']],
  ]);
});

test('existing recipients count as Existing, opted-out ones as OptOut, and unchanged states write nothing', () => {
  const opts = options({ asOptOut: true });
  const prior = new Map<string, PriorRecipient>([
    ['e:a@x.it', { id: 5, email: 'a@x.it', mobile: null, emailState: { status: 'subscribed' }, smsState: { status: 'none' } }],
    ['e:b@x.it', { id: 6, email: 'b@x.it', mobile: null, emailState: { status: 'pending' }, smsState: { status: 'none' } }],
  ]);
  const plan = planBatch(prepareBatch([row('a@x.it'), row('b@x.it')], opts), prior, opts);
  // a: subscribed -> unsubscribed (OptOut); b: pending stays pending without asPending (Existing).
  assert.deepEqual(plan.counters, { newEmail: 0, newMobile: 0, existingEmail: 1, existingMobile: 0, optOutEmail: 1, optOutMobile: 0 });
  assert.deepEqual(plan.recipients.map((r) => [r.id, r.subscriptions]), [
    [5, [{ channel: 'email', status: 'unsubscribed', reason: 'import', requestConfirmation: false }]],
    [6, []],
  ]);
});

test('a recipient repeated in one batch is written once and counts as Existing the second time', () => {
  const opts = options({ ConfirmEmail: true });
  const plan = planBatch(prepareBatch([row('a@x.it', '', { 1: 'first' }), row('A@X.IT', '', { 2: 'second' })], opts), new Map(), opts);
  assert.equal(plan.recipients.length, 1);
  assert.deepEqual(plan.recipients[0]!.fields, { 1: 'first', 2: 'second' });
  assert.deepEqual(plan.recipients[0]!.subscriptions, [{ channel: 'email', status: 'pending', reason: null, requestConfirmation: true }]);
  assert.deepEqual(plan.counters, { newEmail: 1, newMobile: 0, existingEmail: 1, existingMobile: 0, optOutEmail: 0, optOutMobile: 0 });
});

test('ConfirmEmail makes the e-mail channel pending but never the SMS channel', () => {
  const opts = options({ ConfirmEmail: true });
  const plan = planBatch(prepareBatch([row('a@x.it', '+393330000002')], opts), new Map(), opts);
  assert.deepEqual(plan.recipients[0]!.subscriptions.map((s) => [s.channel, s.status, s.requestConfirmation]), [
    ['email', 'pending', true], ['sms', 'subscribed', false],
  ]);
});

test('SMS-only rows are matched by mobile number', () => {
  const opts = options({ importType: 2 });
  const batch = prepareBatch([row('ignored@x.it', '+393330000003')], opts);
  assert.deepEqual(batch.keys, { emails: [], mobiles: ['+393330000003'] });
  const prior = new Map<string, PriorRecipient>([
    ['m:+393330000003', { id: 9, email: 'known@x.it', mobile: '+393330000003', emailState: { status: 'subscribed' }, smsState: { status: 'unsubscribed', reason: 'bounce' } }],
  ]);
  const plan = planBatch(batch, prior, opts);
  assert.deepEqual(plan.recipients.map((r) => [r.id, r.email, r.subscriptions]), [[9, 'known@x.it', []]]);
  assert.deepEqual(plan.counters.optOutMobile, 1);
});
