import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalAddress, ipAllowed } from './ip-address.ts';

test('addresses are put in the one form the IP check compares', () => {
  assert.equal(canonicalAddress(' 10.1.2.3 '), '10.1.2.3');
  assert.equal(canonicalAddress('::FFFF:10.1.2.3'), '10.1.2.3');
  assert.equal(canonicalAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalAddress('fe80::1%eth0'), 'fe80::1%eth0');
  for (const bad of ['', 'localhost', '10.0.0.0/8', '300.1.1.1', '2001:db8::1::2']) assert.equal(canonicalAddress(bad), null, bad);
});

test('the caller is allowed when its address, in canonical form, is on the list', () => {
  assert.ok(ipAllowed('::ffff:127.0.0.1', ['127.0.0.1']));
  assert.ok(ipAllowed('2001:db8::1', ['2001:DB8:0::1']));
  assert.ok(!ipAllowed('10.1.2.4', ['10.1.2.3', '2001:db8::1']));
  assert.ok(!ipAllowed('127.0.0.1', []));
});
