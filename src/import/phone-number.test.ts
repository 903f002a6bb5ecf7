import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCountryWithPlan, NO_COUNTRY_REASON, readMobile } from './phone-number.ts';

const national = (number: string, country: string | null) => readMobile('', number, 1, country);

test('+ and 00 introduce a country code, whatever the list\'s country', () => {
  assert.deepEqual(national('+39 333 1234567', 'DE'), { ok: true, mobile: '+393331234567' });
  assert.deepEqual(national('0049 171 7654321', 'IT'), { ok: true, mobile: '+491717654321' });
  assert.deepEqual(national('+0018889624587', null), { ok: true, mobile: '+18889624587' }, 'read as before: leading zeros of the code dropped');
  assert.deepEqual(readMobile('+49', '171 7654321', 2, 'IT'), { ok: true, mobile: '+491717654321' }, 'a Prefix given is the country code');
  assert.deepEqual(readMobile('39', '3331234567', 2, null), { ok: true, mobile: '+393331234567' }, 'a Prefix without + is a country code too, as before');
});

test('a national number drops its trunk prefix as its country\'s plan says', () => {
  assert.deepEqual(national('0171 7654321', 'DE'), { ok: true, mobile: '+491717654321' });
  assert.deepEqual(national('07911 123456', 'GB'), { ok: true, mobile: '+447911123456' });
  assert.deepEqual(national('06 12345678', 'NL'), { ok: true, mobile: '+31612345678' });
});

test('a national number without a trunk prefix (Italy has none) is read whole', () => {
  assert.deepEqual(national('3331234567', 'IT'), { ok: true, mobile: '+393331234567' });
  assert.deepEqual(national('(333) 123.45-67', 'IT'), { ok: true, mobile: '+393331234567' });
  assert.deepEqual(national('1717654321', 'DE'), { ok: true, mobile: '+491717654321' }, 'the trunk prefix may be left out');
  assert.deepEqual(readMobile('', '3331234567', 2, 'IT'), { ok: true, mobile: '+393331234567' }, 'an empty Prefix: a national number');
});

test('a number not valid in the list\'s country is rejected with the country named', () => {
  assert.deepEqual(national('0171 765', 'DE'), { ok: false, reason: 'invalid mobile number: not a valid number in DE' }, 'too short');
  assert.deepEqual(national('0171 76543210123', 'DE'), { ok: false, reason: 'invalid mobile number: not a valid number in DE' }, 'too long');
  assert.deepEqual(national('12345', 'IT'), { ok: false, reason: 'invalid mobile number: not a valid number in IT' });
  assert.deepEqual(national('333abc4567', 'IT'), { ok: false, reason: 'invalid mobile number' });
});

test('without a country code on a list without a country, a number is rejected, never guessed', () => {
  assert.deepEqual(national('333-0000003', null), { ok: false, reason: NO_COUNTRY_REASON });
  assert.deepEqual(national('0171 7654321', null), { ok: false, reason: NO_COUNTRY_REASON });
  assert.deepEqual(national('', null), { ok: true, mobile: null }, 'no number is no number');
});

test('isCountryWithPlan: ISO 3166 alpha-2 codes in upper case that have a numbering plan', () => {
  assert.deepEqual(['IT', 'DE', 'GB', 'US'].map(isCountryWithPlan), [true, true, true, true]);
  assert.deepEqual(['it', 'ITA', 'XX', 'UK', '', '39'].map(isCountryWithPlan), [false, false, false, false, false, false]);
});
