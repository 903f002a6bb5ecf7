/**
 * The retry schedule of webhook deliveries (docs/webhooks.md): exponential from the first pause,
 * capped at an hour, with jitter of at most a quarter either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelay } from './webhook-dispatcher.ts';

test('retry pauses double from the first, vary by at most a quarter either way, and stop growing at an hour', () => {
  const low = () => 0;
  const high = () => 0.999_999;
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelay(n, 5000, () => 0.5)), [5000, 10_000, 20_000, 40_000]);
  assert.equal(retryDelay(1, 5000, low), 3750);
  assert.equal(retryDelay(1, 5000, high), 6250);
  assert.equal(retryDelay(30, 5000, () => 0.5), 3_600_000);
  assert.ok(retryDelay(1000, 5000, high) <= 4_500_000, 'an hour and a quarter at most');
  for (let i = 0; i < 1000; i++) {
    const d = retryDelay(3, 100);
    assert.ok(d >= 300 && d <= 500, String(d));
  }
});
