/**
 * Partial feeds whose upload no server is receiving any more. A feed is stored in chunks while
 * its request streams in; a server killed in the middle (SIGKILL, power loss, out of memory, a
 * supervisor that lost patience) leaves the chunks it stored behind, incomplete, and no request
 * will ever complete or delete them.
 *
 * While a server receives an upload, its feed writer holds a lease on the feed and renews it
 * every third of its length (src/store/feeds.ts). The lease lasts six upload-rate windows (a
 * minute by default): a renewal depends on the server being alive, not on the client's speed,
 * so a client trickling at the minimum rate keeps its feed as long as it is being read, and six
 * windows leave a live server whose renewals are late (a busy database, a stalled event loop)
 * far more slack than any window the rate check allows the client. Every API server deletes
 * incomplete feeds whose lease ran out at start-up and every half lease; on PostgreSQL that is
 * safe while other servers upload, since the leases are kept, and compared, by the database's
 * clock and each writer sets its own.
 */
import type { Config } from '../config.ts';
import type { FeedStore } from '../store/feeds.ts';

/** How many upload-rate windows the lease on a partial feed lasts without a renewal. */
export const FEED_LEASE_WINDOWS = 6;

/** The lease a server's feed writers hold on the partial feeds they store. */
export const feedLeaseMs = (config: Pick<Config, 'uploadRateWindowMs'>): number => FEED_LEASE_WINDOWS * config.uploadRateWindowMs;

/** How often a server looks for abandoned partial feeds: every half lease. */
export const abandonedFeedSweepMs = (config: Pick<Config, 'uploadRateWindowMs'>): number => feedLeaseMs(config) / 2;

export interface SweepLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Deletes abandoned partial feeds once when started, then every `everyMs` until stopped. */
export class AbandonedFeedSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly feeds: FeedStore, private readonly everyMs: number, private readonly log: SweepLog) {}

  start(): void {
    if (this.timer) return;
    this.sweep();
    this.timer = setInterval(() => this.sweep(), this.everyMs);
    this.timer.unref();
  }

  /** Stops the timer; resolves once a sweep under way has ended. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private sweep(): void {
    if (this.running) return;
    this.running = this.feeds.deleteAbandonedFeeds().then(
      (feeds) => {
        if (feeds > 0) this.log.info({ feeds }, 'deleted the partial feeds of uploads no server is receiving any more');
      },
      (err: unknown) => this.log.warn({ err }, 'looking for abandoned partial feeds failed; trying again at the next sweep'),
    ).finally(() => {
      this.running = null;
    });
  }
}
