import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProtocolError } from '../protocol/faults.ts';
import { atMinimumRate } from './upload-rate.ts';

const RATE = { bytesPerSecond: 1000, windowMs: 300 };

async function readAll(body: AsyncIterable<Buffer>, onChunk?: (chunk: Buffer) => Promise<void>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    chunks.push(chunk);
    await onChunk?.(chunk);
  }
  return Buffer.concat(chunks);
}

/** Rejects with the 408 fault; resolves with the milliseconds it took. */
async function refusedAfter(body: AsyncIterable<Buffer>): Promise<number> {
  const started = performance.now();
  await assert.rejects(readAll(body), (err: unknown) => {
    assert.ok(err instanceof ProtocolError);
    assert.equal(err.httpStatus, 408);
    assert.match(err.message, /arrived too slowly: less than 1000 bytes per second over 0\.3 seconds/);
    return true;
  });
  return performance.now() - started;
}

test('a body arriving faster than the minimum is passed on whole', async () => {
  const source = new PassThrough();
  const sent = Buffer.from('x'.repeat(5000));
  void (async () => {
    for (let at = 0; at < sent.length; at += 500) {
      source.write(sent.subarray(at, at + 500));
      await sleep(50);
    }
    source.end();
  })();
  assert.deepEqual(await readAll(atMinimumRate(source, RATE)), sent);
});

test('a body that stops arriving is refused with 408 once a window passes without its quota', async () => {
  const source = new PassThrough();
  source.write('x'.repeat(1000));
  const ms = await refusedAfter(atMinimumRate(source, RATE));
  // The first window has its 1000 bytes; the second has none.
  assert.ok(ms >= 2 * RATE.windowMs - 20 && ms < 2 * RATE.windowMs + 1000, `refused after ${ms} ms`);
  assert.equal(source.destroyed, false, 'the body is left to the lingering close');
});

test('an early burst does not pay for a later trickle', async () => {
  const source = new PassThrough();
  source.write('x'.repeat(1_000_000));
  const trickle = setInterval(() => source.write('y'), 50);
  try {
    const ms = await refusedAfter(atMinimumRate(source, RATE));
    assert.ok(ms < 3 * RATE.windowMs + 1000, `refused after ${ms} ms`);
  } finally {
    clearInterval(trickle);
  }
});

test('time the reader spends on a chunk is not counted against the client', async () => {
  // Like TCP back-pressure: the client sends its next piece only once the server has dealt with
  // the last one, and the server takes longer over each than a window. Counted by the clock on
  // the wall the body averages under 600 bytes per second; waiting for it, 15,000.
  const source = new PassThrough();
  let pieces = 0;
  const next = (): void => {
    if (pieces++ === 4) source.end();
    else setTimeout(() => source.write('z'.repeat(300)), 20);
  };
  next();
  const body = await readAll(atMinimumRate(source, RATE), async () => {
    await sleep(RATE.windowMs + 200);
    next();
  });
  assert.equal(body.length, 4 * 300);
});

test('a minimum of 0 turns the check off', async () => {
  const source = new PassThrough();
  source.write('a');
  setTimeout(() => source.end('b'), 4 * RATE.windowMs);
  assert.equal((await readAll(atMinimumRate(source, { ...RATE, bytesPerSecond: 0 }))).toString(), 'ab');
});

test('a reader that stops early leaves the body open, and an aborted body is an error', async () => {
  const source = new PassThrough();
  source.write('first');
  for await (const chunk of atMinimumRate(source, RATE)) {
    assert.equal(chunk.toString(), 'first');
    break;
  }
  assert.equal(source.destroyed, false);
  assert.equal(source.listenerCount('readable'), 0);

  const aborted = new PassThrough();
  setTimeout(() => aborted.destroy(new Error('aborted')), 50);
  await assert.rejects(readAll(atMinimumRate(aborted, RATE)), /aborted/);
});
