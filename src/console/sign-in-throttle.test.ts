import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignInThrottle } from './sign-in-throttle.ts';

test('after three failures each attempt waits twice as long; success clears it; keys are separate', () => {
  let now = 1_000_000;
  const throttle = new SignInThrottle(() => now);
  const key = SignInThrottle.key('A1001', 'alice', '127.0.0.1');
  assert.equal(key, SignInThrottle.key('a1001 ', 'alice', '127.0.0.1'));
  for (let i = 0; i < 2; i++) throttle.failed(key);
  assert.equal(throttle.retryAfter(key), 0);
  throttle.failed(key);
  assert.equal(throttle.retryAfter(key), 1000);
  now += 1000;
  assert.equal(throttle.retryAfter(key), 0);
  throttle.failed(key);
  assert.equal(throttle.retryAfter(key), 2000);
  throttle.failed(key);
  assert.equal(throttle.retryAfter(key), 4000);
  assert.equal(throttle.retryAfter(SignInThrottle.key('a1001', 'alice', '10.0.0.9')), 0);
  throttle.succeeded(key);
  assert.equal(throttle.retryAfter(key), 0);
});

test('the delay is capped, and an hour without failures forgets them', () => {
  let now = 0;
  const throttle = new SignInThrottle(() => now);
  for (let i = 0; i < 40; i++) throttle.failed('k');
  assert.equal(throttle.retryAfter('k'), 5 * 60_000);
  now += 3600_001;
  assert.equal(throttle.retryAfter('k'), 0);
  throttle.failed('k');
  assert.equal(throttle.retryAfter('k'), 0);
});

test('the map stays bounded under a flood of made-up names', () => {
  const throttle = new SignInThrottle(() => 0, 100);
  for (let i = 0; i < 1000; i++) for (let j = 0; j < 3; j++) throttle.failed(`user-${i}`);
  assert.equal(throttle.retryAfter('user-999'), 1000);
  assert.equal(throttle.retryAfter('user-0'), 0);
});
