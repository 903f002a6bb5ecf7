/**
 * A cap on how many feed uploads are decoded at once. Every upload parses its feed on the HTTP
 * thread's event loop, so many at once stall everybody else's calls (docs/security.md); beyond
 * the cap an upload waits for a slot, in arrival order, without its body being read (TCP holds the
 * client back), and one that waits longer than the bound is answered 503 with Retry-After.
 *
 * Where the gate stands: at the feed itself, when the decoder reaches `xmlDoc` (SOAP) or the
 * `xmlDoc` field (HTTP POST), by holding back the first flush of the feed's sink. That is the
 * first point where a request is known to carry a feed: the SOAPAction header is optional in SOAP
 * 1.2 and left out by some 1.1 clients, and StartImportProcesses without `xmlDoc` only starts
 * processes already uploaded. It is also before any of the feed is parsed: what was read so far
 * is the SOAP header, a few small parameters and at most one input chunk of the feed's text (a
 * request of at most 64 KiB is read whole before it is decoded: at most those 64 KiB).
 * Requests without a feed (GetProcessDetails and the rest) never meet the gate. A feed sent on
 * the GET binding is not gated: it is bounded by the 16 KiB header limit. A REST bulk import
 * (POST …/Recipients) takes a slot with `hold` once its token and list are checked, before its
 * body is read.
 *
 * A slot is taken once the caller is authenticated (an unauthenticated feed is read and dropped
 * without being parsed, and holds no slot), and given back when the answer has been sent or the
 * connection has closed, whichever way the request ended. A waiting upload whose client has gone
 * is noticed only when its body is read again (its turn, or its 503): while nothing is read from
 * a connection, its end is not seen either.
 */
import type { ServerResponse } from 'node:http';
import type { AuthenticatedFeed } from '../operations/invoke.ts';
import { ProtocolError } from '../protocol/faults.ts';
import type { TextSink } from '../protocol/soap-request.ts';
import { shuttingDown } from './shutdown.ts';

/** What a 503 tells the client to wait before sending the upload again. */
export const RETRY_AFTER_SECONDS = 10;

export const serverBusy = (): ProtocolError => new ProtocolError(
  `The server is busy with other uploads; send the request again in ${RETRY_AFTER_SECONDS} seconds.`,
  'Server', 503, { 'retry-after': String(RETRY_AFTER_SECONDS) });

interface Waiter {
  readonly grant: () => void;
  readonly refuse: (err: unknown) => void;
}

export class UploadGate {
  private active = 0;
  private readonly queue: Waiter[] = [];

  /**
   * @param limit uploads decoded at once; 0 for no limit
   * @param maxWaitMs how long an upload may wait for a slot before it is refused
   */
  constructor(private readonly limit: number, private readonly maxWaitMs: number) {}

  /** Uploads holding a slot (being decoded and stored). */
  get inProgress(): number {
    return this.active;
  }

  /** Uploads waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * `feed` behind the gate: its first flush waits for a slot (once the caller is authenticated),
   * and the slot is released when `response` closes. Throws `serverBusy()` from that flush when no
   * slot came in time, and `shuttingDown()` when `shutdown` is aborted first (the shutdown deadline).
   */
  admit(feed: AuthenticatedFeed, response: ServerResponse, shutdown?: AbortSignal): TextSink {
    let slot: Promise<void> | null = null;
    const take = async (): Promise<void> => {
      if ((await feed.gate).writer === null) return;
      await this.hold(response, shutdown);
    };
    return {
      write: (text) => feed.write(text),
      flush: async () => {
        await (slot ??= take());
        await feed.flush();
      },
    };
  }

  /**
   * Waits for a slot for the upload `response` answers, and gives it back when `response` closes:
   * what `admit` does for a SOAP feed, for an upload whose caller is already authenticated and
   * reads its body itself (the REST bulk import). Throws `serverBusy()` when no slot came in time
   * and `shuttingDown()` when `shutdown` is aborted first.
   */
  async hold(response: ServerResponse, shutdown?: AbortSignal): Promise<void> {
    const release = await this.acquire(response, shutdown);
    if (response.destroyed) release();
    else response.once('close', release);
  }

  /** Resolves with the release of a slot; rejects after maxWaitMs, or when `response` closes or `shutdown` aborts first. */
  private acquire(response: ServerResponse, shutdown?: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        this.active--;
        this.grantNext();
      };
      if (response.destroyed) {
        reject(new Error('the connection closed while the upload waited for a slot'));
        return;
      }
      if (shutdown?.aborted) {
        reject(shuttingDown());
        return;
      }
      if (this.limit === 0 || (this.active < this.limit && this.queue.length === 0)) {
        this.active++;
        resolve(release);
        return;
      }
      const leave = (): void => {
        clearTimeout(timer);
        response.off('close', onClose);
        shutdown?.removeEventListener('abort', onShutdown);
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
      };
      const waiter: Waiter = {
        grant: () => {
          leave();
          this.active++;
          resolve(release);
        },
        refuse: (err) => {
          leave();
          reject(err);
        },
      };
      const timer = setTimeout(() => waiter.refuse(serverBusy()), this.maxWaitMs);
      const onClose = (): void => waiter.refuse(new Error('the connection closed while the upload waited for a slot'));
      const onShutdown = (): void => waiter.refuse(shuttingDown());
      response.once('close', onClose);
      shutdown?.addEventListener('abort', onShutdown);
      this.queue.push(waiter);
    });
  }

  private grantNext(): void {
    while (this.active < this.limit && this.queue.length > 0) this.queue[0]!.grant();
  }
}
