/**
 * Feeds: the subscribers of an import, stored in chunks as they are read from the request, and
 * read back in row order by the worker that merges them.
 *
 * A feed being written is incomplete, and its writer holds a lease on it, renewed every third of
 * the lease's length while the writer is open. An incomplete feed whose lease has run out belongs
 * to an upload that no server is receiving any more (the server was killed, or lost power, in the
 * middle of it): `deleteAbandonedFeeds` removes such feeds with their chunks, safely while other
 * servers (other handles) are writing theirs.
 */
import type { Feed, FeedRow } from '../model/records.ts';

/** Writes a feed in chunks while it is being read; nothing is visible until `complete`. */
export interface FeedWriter {
  /** Stores one chunk; fails once the feed was aborted or removed as abandoned. */
  append(rows: readonly FeedRow[]): Promise<void>;
  /** Marks the feed complete (and drops its lease); fails once it was aborted or removed as abandoned. */
  complete(): Promise<Feed>;
  /** Deletes the feed, complete or not, and stops the writer. Safe to call more than once. */
  abort(): Promise<void>;
}

export interface FeedWriterOptions {
  /**
   * How long the partial feed outlives its writer's last renewal (renewed every third of it).
   * A server that dies mid-upload leaves a feed that is removed this long after, at the latest.
   */
  readonly leaseMs?: number;
}

/** The lease of a writer opened without one. */
export const DEFAULT_FEED_LEASE_MS = 60_000;

export interface FeedStore {
  /** Stores a feed as it is read; each `append` is one chunk of rows. */
  openFeedWriter(accountId: number, options?: FeedWriterOptions): FeedWriter;
  /** The stored rows from `fromRow` (1-based) to the end of the chunk that holds it; empty past the end. */
  readFeedRows(feedId: number, fromRow: number): Promise<FeedRow[]>;
  /**
   * Deletes every incomplete feed whose lease has run out, with its chunks: uploads that no
   * server is receiving any more. Complete feeds and feeds still being written (by any handle,
   * on any host) are left alone. Returns how many feeds were deleted.
   *
   * `everyIncomplete`: whatever their leases, every incomplete feed no import uses. Only for a
   * server that knows no upload is in progress anywhere: a SQLite server holding the data
   * directory's lock, at start-up, before it listens.
   */
  deleteAbandonedFeeds(options?: { readonly everyIncomplete?: boolean }): Promise<number>;
  /**
   * Aborts every feed this handle is still writing, deleting each incomplete one with its chunks;
   * their writers then refuse further rows. Other handles' feeds and complete feeds are left
   * alone. The shutdown deadline calls it, so that a stopped server leaves no partial feed.
   * Returns how many feeds were deleted.
   */
  abortOpenFeeds(): Promise<number>;
}

/** Thrown by a writer whose feed was aborted or removed as abandoned. */
export class FeedGoneError extends Error {
  constructor(feedId: number | null, why: 'aborted' | 'abandoned') {
    super(why === 'aborted'
      ? `The feed${feedId === null ? '' : ` ${feedId}`} was aborted.`
      : `The feed${feedId === null ? '' : ` ${feedId}`} was removed: its lease ran out before it was complete.`);
    this.name = 'FeedGoneError';
  }
}
