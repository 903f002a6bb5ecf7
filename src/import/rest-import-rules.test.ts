/**
 * The two import-engine options REST bulk imports add (spec 2.7): ConfirmEmail asking only
 * recipients new to the list (`confirmNewOnly`), and fields a row leaves out being cleared
 * (`clearMissingFieldsUpTo`, REST clearMissingOrEmptyFields). Expectations are written out from
 * the spec's words, not computed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseRow } from './normalise-row.ts';
import { applySubscriptionRules, type ImportFlags } from './subscription-rules.ts';
import type { FeedRow } from '../model/records.ts';
import type { PriorState } from '../model/subscription.ts';

const flags = (over: Partial<ImportFlags>): ImportFlags => ({
  asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, ...over,
});
const keep = (status: 'subscribed' | 'pending') => ({ status, reason: null, requestConfirmation: false, changed: false });
const pendingWithRequest = { status: 'pending', reason: null, requestConfirmation: true, changed: true };

test('confirmNewOnly: ConfirmEmail makes new recipients pending with a request, and leaves subscribed and pending ones alone', () => {
  const rest = flags({ ConfirmEmail: true, confirmNewOnly: true });
  assert.deepEqual(applySubscriptionRules({ status: 'none' }, rest), pendingWithRequest);
  assert.deepEqual(applySubscriptionRules({ status: 'subscribed' }, rest), keep('subscribed'));
  assert.deepEqual(applySubscriptionRules({ status: 'pending' }, rest), keep('pending'));
  const unsubscribed: PriorState = { status: 'unsubscribed', reason: 'user' };
  assert.deepEqual(applySubscriptionRules(unsubscribed, rest), { status: 'unsubscribed', reason: 'user', requestConfirmation: false, changed: false });
  // Without confirmNewOnly (SOAP), ConfirmEmail asks subscribed and pending ones again.
  assert.deepEqual(applySubscriptionRules({ status: 'subscribed' }, flags({ ConfirmEmail: true })), pendingWithRequest);
  assert.deepEqual(applySubscriptionRules({ status: 'pending' }, flags({ ConfirmEmail: true })), pendingWithRequest);
});

test('confirmNewOnly does not change opting out: asOptOut with asPending unsubscribes subscribed and pending recipients', () => {
  const optOut = flags({ ConfirmEmail: true, confirmNewOnly: true, asOptOut: true, asPending: true });
  const unsubscribedByImport = { status: 'unsubscribed', reason: 'import', requestConfirmation: false, changed: true };
  for (const prior of [{ status: 'none' }, { status: 'subscribed' }, { status: 'pending' }] as const) {
    assert.deepEqual(applySubscriptionRules(prior, optOut), unsubscribedByImport, prior.status);
  }
});

const row = (fields: Record<number, string>): FeedRow => ({ row: 1, email: 'a@b.it', prefix: '', number: '', name: '', fields });

test('clearMissingFieldsUpTo clears every field up to the number that the row leaves out, and empty ones with importType 6', () => {
  const cleared = normaliseRow(row({ 2: 'kept', 3: '' }), { importType: 6, mobileInputType: 2, clearMissingFieldsUpTo: 5 });
  assert.deepEqual(cleared.ok && cleared.value.fields, { 1: '', 2: 'kept', 3: '', 4: '', 5: '' });
  const allOut = normaliseRow(row({}), { importType: 6, mobileInputType: 2, clearMissingFieldsUpTo: 39 });
  assert.equal(allOut.ok && Object.keys(allOut.value.fields).length, 39);
  // Without it (the REST default, and SOAP), fields left out or empty keep their value.
  const kept = normaliseRow(row({ 2: 'kept', 3: '' }), { importType: 3, mobileInputType: 2 });
  assert.deepEqual(kept.ok && kept.value.fields, { 2: 'kept' });
});

test('rejectKind names what each reason normaliseRow gives is about', async () => {
  const { rejectKind } = await import('./normalise-row.ts');
  const reasonOf = (r: FeedRow, importType = 3): string => {
    const result = normaliseRow(r, { importType, mobileInputType: 2 });
    assert.ok(!result.ok);
    return result.reason;
  };
  const base = { row: 1, email: '', prefix: '', number: '', name: '', fields: {} };
  assert.equal(rejectKind(reasonOf({ ...base, email: 'not an address' })), 'invalid-email');
  assert.equal(rejectKind(reasonOf({ ...base, email: `${'x'.repeat(60)}@b.it` })), 'invalid-email');
  assert.equal(rejectKind(reasonOf({ ...base, email: 'a@b.it', number: '+12' })), 'invalid-mobile');
  assert.equal(rejectKind(reasonOf({ ...base, email: 'a@b.it', number: '12' })), 'no-prefix', 'no country code, no list country');
  assert.equal(rejectKind(reasonOf(base)), 'no-email');
  assert.equal(rejectKind(reasonOf(base, 1)), 'no-email');
  assert.equal(rejectKind(reasonOf(base, 2)), 'no-mobile');
  assert.equal(rejectKind(reasonOf({ ...base, email: 'a@b.it', fields: { 3: 'x'.repeat(201) } })), 'other');
});
