import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryWithBackoff, sleep } from './retry.ts';

test('the delay doubles up to the limit; retryIf sees each failure, its number and the next delay', async () => {
  const seen: Array<[unknown, number, number]> = [];
  let calls = 0;
  const result = await retryWithBackoff(async (n) => {
    calls++;
    assert.equal(n, calls);
    if (n < 5) throw new Error(`fail ${n}`);
    return 'done';
  }, {
    initialDelayMs: 2,
    maxDelayMs: 5,
    retryIf: (err, attempt, delayMs) => {
      seen.push([(err as Error).message, attempt, delayMs]);
      return true;
    },
  });
  assert.equal(result, 'done');
  assert.deepEqual(seen, [['fail 1', 1, 2], ['fail 2', 2, 4], ['fail 3', 3, 5], ['fail 4', 4, 5]]);
});

test('without a limit the delay keeps doubling; a first delay above the limit is waited in full', async () => {
  const unlimited: number[] = [];
  await assert.rejects(retryWithBackoff(() => Promise.reject(new Error('x')), {
    initialDelayMs: 1,
    retryIf: (_err, attempt, delayMs) => (unlimited.push(delayMs), attempt < 4),
  }), /x/);
  assert.deepEqual(unlimited, [1, 2, 4, 8]);

  const capped: number[] = [];
  await assert.rejects(retryWithBackoff(() => Promise.reject(new Error('y')), {
    initialDelayMs: 8, maxDelayMs: 3,
    retryIf: (_err, attempt, delayMs) => (capped.push(delayMs), attempt < 3),
  }), /y/);
  assert.deepEqual(capped, [8, 3, 3]);
});

test('a failure retryIf refuses is thrown as it is, after that many attempts', async () => {
  const failure = new TypeError('not worth another try');
  let calls = 0;
  await assert.rejects(retryWithBackoff(async () => {
    calls++;
    throw calls < 3 ? new Error('transient') : failure;
  }, { initialDelayMs: 1, retryIf: (err) => (err as Error).message === 'transient' }), (err) => err === failure);
  assert.equal(calls, 3);
});

test('aborting ends the wait at once with the signal\'s reason, and no further attempt is made', async () => {
  const controller = new AbortController();
  const reason = new Error('stopped by the caller');
  let calls = 0;
  const started = Date.now();
  const run = retryWithBackoff(async () => {
    calls++;
    throw new Error('busy');
  }, { initialDelayMs: 60_000, signal: controller.signal, retryIf: () => true });
  setTimeout(() => controller.abort(reason), 20);
  await assert.rejects(run, (err) => err === reason);
  assert.equal(calls, 1);
  assert.ok(Date.now() - started < 5_000, 'the minute-long wait was cut short');
  await assert.rejects(sleep(10, controller.signal), (err) => err === reason, 'an aborted signal rejects before waiting');
});
