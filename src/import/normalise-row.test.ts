import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelsOf, normaliseRow } from './normalise-row.ts';
import { NO_COUNTRY_REASON, readMobile } from './phone-number.ts';
import type { FeedRow } from '../model/records.ts';

const row = (over: Partial<FeedRow>): FeedRow => ({ row: 1, email: '', prefix: '', number: '', name: '', fields: {}, ...over });

test('importType selects the channels: 1/4 e-mail, 2/5 SMS, 3/6 both', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(channelsOf), [
    { email: true, sms: false }, { email: false, sms: true }, { email: true, sms: true },
    { email: true, sms: false }, { email: false, sms: true }, { email: true, sms: true },
  ]);
});

test('mobile numbers with a country code take one international form for both input types', () => {
  const read = (prefix: string, number: string, type: number) => readMobile(prefix, number, type, null);
  assert.deepEqual(read('', '+0018889624587', 1), { ok: true, mobile: '+18889624587' });
  assert.deepEqual(read('+001', '8889624587', 2), { ok: true, mobile: '+18889624587' });
  assert.deepEqual(read('0039', '333 123-4567', 2), { ok: true, mobile: '+393331234567' });
  assert.deepEqual(read('', '+39 (333) 1234567', 1), { ok: true, mobile: '+393331234567' });
  assert.deepEqual(read('', '', 1), { ok: true, mobile: null });
  assert.deepEqual(read('', '+12', 1), { ok: false, reason: 'invalid mobile number' });
  assert.deepEqual(read('', '+abc123456', 1), { ok: false, reason: 'invalid mobile number' });
  assert.deepEqual(read('', '+1234567890123456', 1), { ok: false, reason: 'invalid mobile number' });
});

test("a row's number without a country code is read in the list's country, and rejected without one", () => {
  const sms = { importType: 2, mobileInputType: 1 };
  const it = normaliseRow(row({ number: '333 1234567' }), sms, 'IT');
  assert.equal(it.ok && it.value.mobile, '+393331234567');
  assert.deepEqual(normaliseRow(row({ number: '333-0000003' }), sms), { ok: false, reason: NO_COUNTRY_REASON });
  assert.deepEqual(normaliseRow(row({ number: '12345' }), sms, 'IT'), { ok: false, reason: 'invalid mobile number: not a valid number in IT' });
});

test('e-mail addresses are trimmed and lower-cased; invalid or too long ones reject the row', () => {
  const ok = normaliseRow(row({ email: '  Anna.Rossi@Example.COM ' }), { importType: 3, mobileInputType: 1 });
  assert.deepEqual(ok, { ok: true, value: { row: 1, email: 'anna.rossi@example.com', mobile: null, name: null, fields: {} } });
  assert.deepEqual(normaliseRow(row({ email: 'not an email' }), { importType: 1, mobileInputType: 1 }), { ok: false, reason: 'invalid e-mail address' });
  const long = `${'x'.repeat(45)}@ex.com`;
  assert.equal(normaliseRow(row({ email: long }), { importType: 1, mobileInputType: 1 }).ok, false);
});

test('a row with nothing to import on the selected channels is rejected with the reason', () => {
  assert.deepEqual(normaliseRow(row({ number: '+393331234567' }), { importType: 1, mobileInputType: 1 }), { ok: false, reason: 'no e-mail address' });
  assert.deepEqual(normaliseRow(row({ email: 'a@b.it' }), { importType: 2, mobileInputType: 1 }), { ok: false, reason: 'no mobile number' });
  assert.deepEqual(normaliseRow(row({}), { importType: 3, mobileInputType: 1 }), { ok: false, reason: 'no e-mail address or mobile number' });
  // importType 2 drops the e-mail; 1 drops the mobile.
  const sms = normaliseRow(row({ email: 'a@b.it', number: '+393331234567' }), { importType: 2, mobileInputType: 1 });
  assert.deepEqual(sms.ok && [sms.value.email, sms.value.mobile], [null, '+393331234567']);
  const mail = normaliseRow(row({ email: 'a@b.it', number: '+393331234567' }), { importType: 1, mobileInputType: 1 });
  assert.deepEqual(mail.ok && [mail.value.email, mail.value.mobile], ['a@b.it', null]);
});

test('empty fields are kept with importType 1-3 and cleared with 4-6; white space clears always', () => {
  const fields = { 1: 'Anna', 2: '', 3: ' ' };
  const keep = normaliseRow(row({ email: 'a@b.it', fields }), { importType: 1, mobileInputType: 1 });
  assert.deepEqual(keep.ok && keep.value.fields, { 1: 'Anna', 3: '' });
  const clear = normaliseRow(row({ email: 'a@b.it', fields }), { importType: 4, mobileInputType: 1 });
  assert.deepEqual(clear.ok && clear.value.fields, { 1: 'Anna', 2: '', 3: '' });
});

test('fields may hold 200 ASCII characters or 100 others', () => {
  const ascii = normaliseRow(row({ email: 'a@b.it', fields: { 1: 'a'.repeat(200) } }), { importType: 1, mobileInputType: 1 });
  assert.equal(ascii.ok, true);
  const tooLong = normaliseRow(row({ email: 'a@b.it', fields: { 1: 'a'.repeat(201) } }), { importType: 1, mobileInputType: 1 });
  assert.deepEqual(tooLong, { ok: false, reason: 'campo1 longer than the allowed length' });
  const accented = normaliseRow(row({ email: 'a@b.it', fields: { 2: 'à'.repeat(101) } }), { importType: 1, mobileInputType: 1 });
  assert.equal(accented.ok, false);
  assert.equal(normaliseRow(row({ email: 'a@b.it', fields: { 2: 'à'.repeat(100) } }), { importType: 1, mobileInputType: 1 }).ok, true);
});
