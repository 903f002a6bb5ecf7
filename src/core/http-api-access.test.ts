import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalHttpApiEntry, httpApiAllows, MAX_HTTP_API_ENTRIES, parseHttpApiAllowList } from './http-api-access.ts';

test('entries: addresses and CIDR ranges in the one form the check compares; anything else is null', () => {
  const cases: [string, string | null][] = [
    ['127.0.0.1', '127.0.0.1'], [' 10.0.0.0/8 ', '10.0.0.0/8'], ['::FFFF:10.1.2.3', '10.1.2.3'], ['2001:DB8:0:0::/32', '2001:db8::/32'],
    ['0.0.0.0/0', '0.0.0.0/0'], ['::/0', '::/0'], ['10.0.0.0/33', null], ['::1/129', null], ['10.0.0.0/', null], ['10.0.0.0/-1', null],
    ['10.0.0.0/1.5', null], ['example.com', null], ['10.0.0/8', null], ['', null], ['fe80::1%eth0/64', null],
  ];
  for (const [input, expected] of cases) assert.equal(canonicalHttpApiEntry(input), expected, input);
});

test('parsing a list: each entry once, blanks skipped, every bad entry named, a bound on the count', () => {
  assert.deepEqual(parseHttpApiAllowList(['127.0.0.1', '', ' ::1 ', '127.0.0.1']), { ok: true, entries: ['127.0.0.1', '::1'] });
  assert.deepEqual(parseHttpApiAllowList(['x', '127.0.0.1', '1.2.3.4/40']), { ok: false, reason: 'invalid-entry', invalid: ['x', '1.2.3.4/40'] });
  const many = Array.from({ length: MAX_HTTP_API_ENTRIES + 1 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  assert.deepEqual(parseHttpApiAllowList(many), { ok: false, reason: 'too-many', max: MAX_HTTP_API_ENTRIES });
});

test('the check: exact addresses, ranges of either family, mapped IPv4 callers; an empty list admits nobody', () => {
  const account = { httpApiIps: ['127.0.0.1', '192.0.2.0/24', '2001:db8::/32', '::1'] };
  const expect: [string, boolean][] = [
    ['127.0.0.1', true], ['::ffff:127.0.0.1', true], ['127.0.0.2', false], ['192.0.2.200', true], ['192.0.3.1', false],
    ['2001:db8:ffff::1', true], ['2001:db9::1', false], ['::1', true], ['0:0:0:0:0:0:0:1', true], ['garbage', false], ['', false],
  ];
  for (const [ip, allowed] of expect) assert.equal(httpApiAllows(account, ip), allowed, ip);
  assert.equal(httpApiAllows({ httpApiIps: [] }, '127.0.0.1'), false);
  assert.equal(httpApiAllows({ httpApiIps: ['0.0.0.0/0'] }, '203.0.113.5'), true);
});
