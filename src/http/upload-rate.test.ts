import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProtocolError } from '../protocol/faults.ts';
import { atMinimumRate, readWholeAtMinimumRate, type MinimumRate } from './upload-rate.ts';

const RATE = { bytesPerSecond: 1000, windowMs: 300 };

async function readAll(body: AsyncIterable<Buffer>, onChunk?: (chunk: Buffer) => Promise<void>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    chunks.push(chunk);
    await onChunk?.(chunk);
  }
  return Buffer.concat(chunks);
}

/** The two ways a body is read under the minimum rate: as it arrives (feeds), and whole (short requests). */
const READERS: Record<string, (source: PassThrough, rate: MinimumRate) => Promise<Buffer>> = {
  atMinimumRate: (source, rate) => readAll(atMinimumRate(source, rate)),
  readWholeAtMinimumRate: (source, rate) => readWholeAtMinimumRate(source, rate, 1 << 30),
};

/** Rejects with the 408 fault; resolves with the milliseconds it took. */
async function refusedAfter(reading: Promise<Buffer>): Promise<number> {
  const started = performance.now();
  await assert.rejects(reading, (err: unknown) => {
    assert.ok(err instanceof ProtocolError);
    assert.equal(err.httpStatus, 408);
    assert.match(err.message, /arrived too slowly: less than 1000 bytes per second over 0\.3 seconds/);
    return true;
  });
  return performance.now() - started;
}

for (const [reader, read] of Object.entries(READERS)) {
  test(`${reader}: a body arriving faster than the minimum is passed on whole`, async () => {
    const source = new PassThrough();
    const sent = Buffer.from('x'.repeat(5000));
    void (async () => {
      for (let at = 0; at < sent.length; at += 500) {
        source.write(sent.subarray(at, at + 500));
        await sleep(50);
      }
      source.end();
    })();
    assert.deepEqual(await read(source, RATE), sent);
  });

  test(`${reader}: a body that stops arriving is refused with 408 once a window passes without its quota`, async () => {
    const source = new PassThrough();
    source.write('x'.repeat(1000));
    const ms = await refusedAfter(read(source, RATE));
    // The first window has its 1000 bytes; the second has none.
    assert.ok(ms >= 2 * RATE.windowMs - 20 && ms < 2 * RATE.windowMs + 1000, `refused after ${ms} ms`);
    assert.equal(source.destroyed, false, 'the body is left to the lingering close');
  });

  test(`${reader}: an early burst does not pay for a later trickle`, async () => {
    const source = new PassThrough();
    source.write('x'.repeat(1_000_000));
    const trickle = setInterval(() => source.write('y'), 50);
    try {
      const ms = await refusedAfter(read(source, RATE));
      assert.ok(ms < 3 * RATE.windowMs + 1000, `refused after ${ms} ms`);
    } finally {
      clearInterval(trickle);
    }
  });

  test(`${reader}: a minimum of 0 turns the check off`, async () => {
    const source = new PassThrough();
    source.write('a');
    setTimeout(() => source.end('b'), 4 * RATE.windowMs);
    assert.equal((await read(source, { ...RATE, bytesPerSecond: 0 })).toString(), 'ab');
  });

  test(`${reader}: an aborted body is an error`, async () => {
    const aborted = new PassThrough();
    setTimeout(() => aborted.destroy(new Error('aborted')), 50);
    await assert.rejects(read(aborted, RATE), /aborted/);
  });
}

test('readWholeAtMinimumRate: past the byte limit, 413 at once, and the rest of the body is left unread', async () => {
  const source = new PassThrough();
  source.write('x'.repeat(600));
  source.write('y'.repeat(600));
  await assert.rejects(readWholeAtMinimumRate(source, RATE, 1000), (err: unknown) => err instanceof ProtocolError && err.httpStatus === 413);
  assert.equal(source.destroyed, false);
  assert.equal(source.listenerCount('data'), 0);
  assert.equal(source.isPaused(), true);
});

test('atMinimumRate: time the reader spends on a chunk is not counted against the client', async () => {
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

test('atMinimumRate: a reader that stops early leaves the body open', async () => {
  const source = new PassThrough();
  source.write('first');
  for await (const chunk of atMinimumRate(source, RATE)) {
    assert.equal(chunk.toString(), 'first');
    break;
  }
  assert.equal(source.destroyed, false);
  assert.equal(source.listenerCount('readable'), 0);
});

/** The two readers again, with the shutdown signal (the shutdown deadline, shutdown.ts). */
const STOPPABLE: Record<string, (source: PassThrough, rate: MinimumRate, shutdown: AbortSignal) => Promise<Buffer>> = {
  atMinimumRate: (source, rate, shutdown) => readAll(atMinimumRate(source, rate, shutdown)),
  readWholeAtMinimumRate: (source, rate, shutdown) => readWholeAtMinimumRate(source, rate, 1 << 30, shutdown),
};

for (const [reader, read] of Object.entries(STOPPABLE)) {
  test(`${reader}: the shutdown signal ends a body still arriving above the minimum with 503, leaving it open`, async () => {
    const source = new PassThrough();
    const shutdown = new AbortController();
    let sending = true;
    void (async () => {
      while (sending) {
        source.write('x'.repeat(200)); // twice the minimum
        await sleep(100);
      }
    })();
    const reading = read(source, RATE, shutdown.signal);
    await sleep(700);
    // No byte arrives after the signal: only the signal can end the read with this 503 (a reader
    // that ignored it would wait for more body, then fail the minimum rate with another error).
    sending = false;
    shutdown.abort();
    await assert.rejects(reading, (err: unknown) => {
      assert.ok(err instanceof ProtocolError);
      assert.equal(err.httpStatus, 503);
      assert.equal(err.headers['retry-after'], '1');
      assert.match(err.message, /shutting down/);
      return true;
    });
    assert.equal(source.destroyed, false, 'the body is left to the lingering close');
  });

  test(`${reader}: a body read after the shutdown signal is refused before a byte of it is passed on`, async () => {
    const source = new PassThrough();
    source.write('x'.repeat(100));
    const shutdown = new AbortController();
    shutdown.abort();
    await assert.rejects(read(source, RATE, shutdown.signal), (err: unknown) => err instanceof ProtocolError && err.httpStatus === 503);
  });
}
