import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle } from './login-throttle.ts';

const policy = { freeAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, forgetAfterMs: 60_000, maxKeys: 4 };

test('delays grow after the free attempts, per user and per address, up to the cap', () => {
  let now = 0;
  const t = new LoginThrottle(policy, () => now);
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    delays.push(t.delayFor('a1001', '10.0.0.1'));
    t.recordFailure('a1001', '10.0.0.1');
  }
  assert.deepEqual(delays, [0, 0, 0, 100, 200, 400, 800, 1000]);
  // The same user from elsewhere is slowed (user key); another user from elsewhere is not.
  assert.equal(t.delayFor('a1001', '10.0.0.2'), 1000);
  assert.equal(t.delayFor('a2002', '10.0.0.2'), 0);
  // Guessing from one address slows every user tried from it, but nobody else.
  assert.equal(t.delayFor('a2002', '10.0.0.1'), 1000);
  // Forgotten after a quiet period; cleared by a success.
  now = 61_000;
  assert.equal(t.delayFor('a1001', '10.0.0.1'), 0);
  for (let i = 0; i < 5; i++) t.recordFailure('a3003', '10.0.0.3');
  assert.ok(t.delayFor('a3003', '10.0.0.4') > 0);
  t.recordSuccess('a3003');
  assert.equal(t.delayFor('a3003', '10.0.0.4'), 0, 'the user is cleared');
  assert.ok(t.delayFor('a3003', '10.0.0.3') > 0, 'the address is not');
});

test('remembers a bounded number of keys', () => {
  const t = new LoginThrottle(policy, () => 0);
  for (let i = 0; i < 10; i++) for (let j = 0; j < 4; j++) t.recordFailure(`u${i}`, `ip${i}`);
  assert.equal(t.delayFor('u0', 'ip0'), 0, 'the oldest records were dropped');
  assert.equal(t.delayFor('u9', 'ip9'), 200, 'four failures: one over the free three');
});
