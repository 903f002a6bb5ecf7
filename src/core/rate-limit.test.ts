import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from './rate-limit.ts';

test('a burst, then the refill rate, per key; refusals say when to come back', () => {
  let now = 0;
  const limiter = new RateLimiter({ burst: 3, perSecond: 2, maxKeys: 10 }, () => now);
  assert.deepEqual([1, 2, 3].map(() => limiter.take('a').ok), [true, true, true]);
  assert.deepEqual(limiter.take('a'), { ok: false, retryAfterSeconds: 1, callsThisSecond: 4 });
  assert.equal(limiter.take('b').ok, true, 'another key has its own bucket');
  now = 499;
  assert.equal(limiter.take('a').ok, false, 'not yet a whole call refilled');
  now = 500;
  assert.equal(limiter.take('a').ok, true);
  assert.equal(limiter.take('a').ok, false);
  assert.equal(limiter.take('a').callsThisSecond, 8, 'every call of the second is counted, refused ones too');
  now = 1_000;
  assert.equal(limiter.take('a').callsThisSecond, 1, 'a new second counts from one');
  now = 60_000;
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('a').ok), [true, true, true, false], 'refilled to the burst, no more');
});

test('memory is bounded: the least recently used key is forgotten (it starts full again); 0 per second is no limit', () => {
  const now = 0;
  const limiter = new RateLimiter({ burst: 1, perSecond: 1, maxKeys: 2 }, () => now);
  assert.equal(limiter.take('a').ok, true);
  assert.equal(limiter.take('b').ok, true);
  assert.equal(limiter.take('c').ok, true);
  assert.equal(limiter.take('a').ok, true, 'a was dropped, so it starts with a full bucket');
  assert.equal(limiter.take('c').ok, false, 'c is still remembered');
  const open = new RateLimiter({ burst: 1, perSecond: 0, maxKeys: 2 }, () => now);
  assert.ok(Array.from({ length: 100 }, () => open.take('a').ok).every(Boolean));
});
