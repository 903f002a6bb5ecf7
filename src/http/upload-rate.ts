/**
 * A minimum upload rate for request bodies, against clients that send their headers and then
 * trickle the body (slowloris): once the server has been waiting for a body longer than one window,
 * every window must have brought at least `bytesPerSecond × window` bytes, or the read fails with
 * HTTP 408. Two readers apply it: `atMinimumRate`, an async iterable of chunks for bodies decoded
 * as they arrive (feeds), and `readWholeAtMinimumRate` for short bodies read whole.
 *
 * Only the time spent waiting for the client counts. While the consumer is busy with a chunk
 * (storing rows, waiting for an upload slot) the body is not read, TCP holds the client back, and
 * that is the server's delay, not the client's.
 *
 * Windows follow one another rather than slide: a burst early in the body cannot pay for a
 * trickle later, yet a client whose bytes arrive unevenly within a window is not cut off.
 */
import { finished, type Readable } from 'node:stream';
import { ProtocolError, tooLarge } from '../protocol/faults.ts';
import { shuttingDown } from './shutdown.ts';

export interface MinimumRate {
  /** Bytes per second the body must average over each window; 0 turns the check off. */
  readonly bytesPerSecond: number;
  /** Length of a window, which is also the grace before the first check. */
  readonly windowMs: number;
}

export const tooSlow = (rate: MinimumRate): ProtocolError => new ProtocolError(
  `The request body arrived too slowly: less than ${rate.bytesPerSecond} bytes per second over ${rate.windowMs / 1000} seconds.`,
  'Client', 408);

/**
 * The chunks of `body` as they arrive, failing with `tooSlow` when a window falls short, and with
 * `shuttingDown` once `shutdown` is aborted (the shutdown deadline, shutdown.ts). Unlike a
 * stream's own iterator, stopping early leaves `body` open: a request answered before its body
 * ended is drained by the lingering close (lingering-close.ts), not reset.
 */
export async function* atMinimumRate(body: Readable, rate: MinimumRate, shutdown?: AbortSignal): AsyncGenerator<Buffer> {
  const quota = (rate.bytesPerSecond * rate.windowMs) / 1000;
  let waitedMs = 0;
  let windowStartMs = 0;
  let windowBytes = 0;
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const onReadable = (): void => wake?.();
  body.on('readable', onReadable);
  shutdown?.addEventListener('abort', onReadable);
  const stopWatching = finished(body, { writable: false }, (err) => {
    ended = true;
    failure = err ?? null;
    wake?.();
  });

  /** Settles the windows that have passed; throws when one brought less than its quota. */
  const settleWindows = (): void => {
    while (waitedMs >= windowStartMs + rate.windowMs) {
      if (windowBytes < quota) throw tooSlow(rate);
      windowStartMs += rate.windowMs;
      windowBytes = 0;
    }
  };

  /** Waits for more of the body, or until the current window ends. */
  const arrival = (): Promise<void> => new Promise<void>((resolve) => {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      wake = null;
      waitedMs += performance.now() - started;
      resolve();
    };
    wake = done;
    if (quota > 0) {
      // Bytes that arrived while the event loop was busy are read in the poll phase, after the
      // timers: let it run once before the window is judged, so a server stall is not the client's.
      timer = setTimeout(() => setImmediate(done), windowStartMs + rate.windowMs - waitedMs);
    }
  });

  try {
    for (;;) {
      if (shutdown?.aborted) throw shuttingDown();
      const chunk = body.destroyed ? null : (body.read() as Buffer | string | null);
      if (chunk !== null) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        windowBytes += bytes.length;
        yield bytes;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      if (quota > 0) settleWindows();
      await arrival();
    }
  } finally {
    body.off('readable', onReadable);
    shutdown?.removeEventListener('abort', onReadable);
    stopWatching();
  }
}

/**
 * Reads a short body whole, under the same minimum rate. Short requests (every call but the
 * feeds) are most of the traffic, and for them an async iterator's promises, timers and stream
 * watchers cost more than the body: this reads with plain events and one timer per window.
 * Refused past `limit` bytes, and once `shutdown` is aborted; a refused body is left paused, to
 * the lingering close.
 */
export function readWholeAtMinimumRate(body: Readable, rate: MinimumRate, limit: number, shutdown?: AbortSignal): Promise<Buffer> {
  const quota = (rate.bytesPerSecond * rate.windowMs) / 1000;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let windowBytes = 0;
    let timer: NodeJS.Timeout | undefined;
    const settle = (err: Error | null): void => {
      clearTimeout(timer);
      body.off('data', onData).off('end', onEnd).off('error', settle).off('close', onClose);
      shutdown?.removeEventListener('abort', onShutdown);
      if (err === null) {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      } else {
        body.pause();
        reject(err);
      }
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += bytes.length;
      windowBytes += bytes.length;
      if (received > limit) settle(tooLarge(limit));
      else chunks.push(bytes);
    };
    const onEnd = (): void => settle(null);
    const onClose = (): void => settle(new Error('The client closed the connection before the request body ended.'));
    const onShutdown = (): void => settle(shuttingDown());
    // As in atMinimumRate: bytes that arrived while the event loop was busy are read in the poll
    // phase, after the timers; let it run once before the window is judged.
    const judge = (): void => {
      if (windowBytes < quota) return settle(tooSlow(rate));
      windowBytes = 0;
      arm();
    };
    const arm = (): void => {
      if (quota > 0) timer = setTimeout(() => setImmediate(judge), rate.windowMs);
    };
    if (shutdown?.aborted) return settle(shuttingDown());
    body.on('data', onData).on('end', onEnd).on('error', settle).on('close', onClose);
    shutdown?.addEventListener('abort', onShutdown);
    arm();
  });
}
