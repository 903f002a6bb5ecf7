/**
 * Feeds: the subscribers of an import, stored in chunks as they are read from the request, and
 * read back in row order by the worker that merges them.
 */
import type { Feed, FeedRow } from '../model/records.ts';

/** Writes a feed in chunks while it is being read; nothing is visible until `complete`. */
export interface FeedWriter {
  append(rows: readonly FeedRow[]): Promise<void>;
  complete(): Promise<Feed>;
  abort(): Promise<void>;
}

export interface FeedStore {
  /** Stores a feed as it is read; each `append` is one chunk of rows. */
  openFeedWriter(accountId: number): FeedWriter;
  /** The stored rows from `fromRow` (1-based) to the end of the chunk that holds it; empty past the end. */
  readFeedRows(feedId: number, fromRow: number): Promise<FeedRow[]>;
}
