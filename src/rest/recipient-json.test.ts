import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRecipient } from '../core/recipient-input.ts';
import { readMobile } from '../import/phone-number.ts';
import { recipientBody, restRecipientOf, splitMobile } from './recipient-json.ts';
import { RestError } from './errors.ts';

test('a stored mobile is split at its country calling code, and the parts join back to the same number', () => {
  const cases: [string, string, string][] = [
    ['+393331234567', '+39', '3331234567'],
    ['+14155550123', '+1', '4155550123'],
    ['+447911123456', '+44', '7911123456'],
    ['+35312345678', '+353', '12345678'],
    ['+4407911123456', '+44', '07911123456'], // a trunk 0 kept as it was written: never "corrected"
    ['+80012345678', '+800', '12345678'], // non-geographic
    ['+99912345678', '', '+99912345678'], // no such calling code: answered whole
  ];
  for (const [stored, prefix, number] of cases) {
    assert.deepEqual(splitMobile(stored), { MobileNumber: number, MobilePrefix: prefix }, stored);
    const checked = checkRecipient(recipientBody({ MobilePrefix: prefix, MobileNumber: number }).input);
    assert.ok(checked.ok && checked.value.mobile === stored, `${stored} round trip gave ${checked.ok ? checked.value.mobile : checked.reason}`);
  }
  assert.deepEqual(splitMobile(null), { MobileNumber: null, MobilePrefix: null });
});

test('MobilePrefix is the country code with or without + or 00, as the bulk import reads it; a prefix alone is no number', () => {
  const mobileOf = (body: Record<string, string | null>, country: string | null = null): string | null | false => {
    const checked = checkRecipient(recipientBody(body).input, { country });
    return checked.ok ? checked.value.mobile : false;
  };
  for (const prefix of ['39', '+39', '0039', ' +39 ']) {
    assert.equal(mobileOf({ MobilePrefix: prefix, MobileNumber: '333 123 4567' }), '+393331234567', prefix);
    // The list's country does not change it: the prefix is the country code, not part of a national number.
    assert.equal(mobileOf({ MobilePrefix: prefix, MobileNumber: '3331234567' }, 'DE'), '+393331234567', `${prefix} on a DE list`);
    assert.deepEqual(readMobile(prefix, '3331234567', 2, 'DE'), { ok: true, mobile: '+393331234567' }, 'the bulk import reads it so');
  }
  assert.equal(mobileOf({ MobilePrefix: null, MobileNumber: '+393331234567' }), '+393331234567');
  assert.equal(mobileOf({ MobilePrefix: '', MobileNumber: '3331234567' }, 'IT'), '+393331234567', 'no prefix: a national number of the list');
  assert.equal(mobileOf({ MobilePrefix: '', MobileNumber: '3331234567' }), false, 'no prefix and no country: refused');
  assert.equal(recipientBody({ MobilePrefix: '+39', MobileNumber: '' }).input.mobile, null, 'a prefix alone is no number');
  assert.equal(mobileOf({ Email: 'a@example.com', MobilePrefix: '+39', MobileNumber: '' }), null);
});

test('a recipient answered carries all 39 fields with their descriptions, in MailUp member order', () => {
  const r = restRecipientOf({
    id: 18, accountId: 1, email: 'ann@example.com', mobile: null, name: null, fields: { 1: 'Ann', 27: 'x', 50: 'beyond the REST fields' },
    createdAt: new Date(), updatedAt: new Date(),
  });
  assert.deepEqual(Object.keys(r), ['Email', 'Fields', 'MobileNumber', 'MobilePrefix', 'Name', 'idRecipient']);
  assert.equal(r.Fields.length, 39);
  assert.deepEqual(r.Fields[0], { Description: 'nome', Id: 1, Value: 'Ann' });
  assert.deepEqual(r.Fields[26], { Description: 'campo27', Id: 27, Value: 'x' });
  assert.equal(r.Fields[1]!.Value, '');
  assert.equal(r.Name, '');
  assert.equal(r.MobileNumber, null);
});

test('a recipient body: members in any case, read-only ones ignored, anything else refused by name', () => {
  const body = recipientBody({
    email: 'Ann@Example.com', NAME: 'Ann', MobilePrefix: '+39', mobilenumber: '3331234567', idRecipient: 7, Status: 'OPTIN',
    Fields: [{ Description: 'nome', Id: 1, Value: 'Ann' }, { id: 6, value: 20121 }, { Id: 2, Value: null }],
  });
  assert.deepEqual(body.input, { id: 7, email: 'Ann@Example.com', mobile: '3331234567', mobilePrefix: '+39', name: 'Ann', fields: { 1: 'Ann', 6: '20121', 2: '' } });
  const refused = (value: Record<string, unknown>, message: RegExp): void => {
    assert.throws(() => recipientBody(value), (err: unknown) => err instanceof RestError && err.status === 400 && message.test(err.message));
  };
  refused({ Email: 'a@b.it', Nmae: 'x' }, /Unknown member "Nmae"/);
  refused({ Email: 7 }, /Email must be a string/);
  refused({ Email: 'a@b.it', Fields: {} }, /Fields must be an array/);
  refused({ Email: 'a@b.it', Fields: [{ Id: 40, Value: 'x' }] }, /Fields\[0\]\.Id must be a whole number from 1 to 39, not the number 40/);
  refused({ Email: 'a@b.it', Fields: [{ Value: 'x' }] }, /Fields\[0\]\.Id .* not missing/);
  refused({ Email: 'a@b.it', Fields: [{ Id: 1, Value: true }] }, /Fields\[0\]\.Value must be a string/);
  refused({ Email: 'a@b.it', Fields: [{ Id: 1, Value: 'a' }, { Id: 1, Value: 'b' }] }, /Id 1 is given twice/);
  refused({ Email: 'a@b.it', Fields: [{ Id: 1, Value: 'a', Colour: 'red' }] }, /Unknown member "Colour"/);
  refused({ Email: 'a@b.it', idRecipient: '7' }, /idRecipient must be a positive whole number/);
});
