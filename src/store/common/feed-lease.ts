/**
 * The lease a feed writer holds on its partial feed (src/store/feeds.ts), the same on both
 * engines: renewed every third of its length while the writer is open, so that a renewal can be
 * late twice before the feed counts as abandoned.
 */
import { DEFAULT_FEED_LEASE_MS, type FeedWriterOptions } from '../feeds.ts';

/** The lease length a writer was opened with. */
export function feedLeaseMs(options: FeedWriterOptions | undefined): number {
  const ms = options?.leaseMs ?? DEFAULT_FEED_LEASE_MS;
  if (!Number.isFinite(ms) || ms < 30) throw new RangeError(`a feed lease must be at least 30 ms, not ${ms}`);
  return Math.round(ms);
}

/**
 * Calls `renew` every third of `leaseMs` until the returned function is called. A renewal still
 * running when the next is due is not doubled; a failed one is tried again at the next tick (the
 * writer's own statements report a database that is gone). The timer keeps no process alive.
 */
export function keepRenewing(leaseMs: number, renew: () => Promise<void>): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    renew().catch(() => undefined).finally(() => (running = false));
  }, Math.floor(leaseMs / 3));
  timer.unref();
  return () => clearInterval(timer);
}

/** What a store handle keeps of each writer it has open, so that it can abort them all. */
export interface OpenFeed {
  /** Deletes the feed if it is still incomplete and stops the writer; true when a feed was deleted. */
  abandon(): Promise<boolean>;
  /** Stops renewing without deleting anything (the handle is closing). */
  stop(): void;
}
