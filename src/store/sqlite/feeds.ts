/**
 * Feeds on SQLite: the rows of an import, stored in chunks as they are read and read back by the
 * worker. A feed being written carries a lease (epoch milliseconds, by this host's clock), renewed
 * by its writer; an incomplete feed whose lease ran out is an upload nobody receives any more.
 */
import { decodeFeedChunk, encodeFeedChunk } from '../common/feed-chunk.ts';
import { feedLeaseMs, keepRenewing, type OpenFeed } from '../common/feed-lease.ts';
import type { Row } from '../common/row-mappers.ts';
import { FeedGoneError, type FeedStore, type FeedWriter, type FeedWriterOptions } from '../feeds.ts';
import type { FeedRow } from '../../model/records.ts';
import { now, type SqliteConnection } from './connection.ts';
import type { Statement } from './prepare.ts';

/** A chunk whose feed row is gone (removed as abandoned) breaks the chunk's foreign key. */
const isMissingFeed = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';

export class SqliteFeeds implements FeedStore {
  private readonly stmt;
  /** The writers of this handle not yet complete or aborted. */
  private readonly open = new Set<OpenFeed>();
  /** Set when the store closes: no lease is renewed any more. */
  private closed = false;

  constructor(private readonly db: SqliteConnection) {
    // Named statements are prepared once, at start-up, so a typo fails on boot.
    const named = (sql: string): Statement => db.named(sql);
    this.stmt = {
      feedChunk: named('SELECT rows, first_row FROM feed_chunk WHERE feed_id = ? AND first_row <= ? ORDER BY first_row DESC LIMIT 1'),
      insertFeed: named('INSERT INTO feed (account_id, created_at, lease_expires_at) VALUES (?, ?, ?) RETURNING id'),
      insertChunk: named('INSERT INTO feed_chunk (feed_id, chunk_no, first_row, row_count, rows) VALUES (?, ?, ?, ?, ?)'),
      renew: named('UPDATE feed SET lease_expires_at = ? WHERE id = ? AND complete = 0'),
      complete: named('UPDATE feed SET total_rows = ?, chunk_count = ?, complete = 1, lease_expires_at = NULL WHERE id = ? AND complete = 0'),
      isIncomplete: named('SELECT 1 FROM feed WHERE id = ? AND complete = 0'),
      deleteChunks: named('DELETE FROM feed_chunk WHERE feed_id = ?'),
      deleteFeed: named('DELETE FROM feed WHERE id = ?'),
      // A feed some process uses is never removed, complete or not (processes only take complete feeds).
      abandoned: named(`
        SELECT id FROM feed f WHERE complete = 0 AND lease_expires_at < ?
          AND NOT EXISTS (SELECT 1 FROM import_process p WHERE p.feed_id = f.id)`),
    };
  }

  openFeedWriter(accountId: number, options?: FeedWriterOptions): FeedWriter {
    const leaseMs = feedLeaseMs(options);
    let feedId: number | null = null;
    let chunkNo = 0;
    let totalRows = 0;
    let state: 'open' | 'complete' | 'aborted' | 'abandoned' = 'open';
    let stopRenewing = (): void => undefined;
    const end = (next: typeof state): void => {
      state = next;
      stopRenewing();
      this.open.delete(tracked);
    };
    const usable = (): void => {
      if (state === 'aborted' || state === 'abandoned') throw new FeedGoneError(feedId, state);
      if (state === 'complete') throw new Error(`The feed ${feedId} is complete already.`);
    };
    const deleteFeed = this.db.transaction((id: number, onlyIncomplete: boolean): boolean => {
      if (onlyIncomplete && this.stmt.isIncomplete.get(id) === undefined) return false;
      this.stmt.deleteChunks.run(id);
      return this.stmt.deleteFeed.run(id).changes > 0;
    });
    const tracked: OpenFeed = {
      abandon: async () => {
        if (state !== 'open') return false;
        end('aborted');
        return feedId !== null && deleteFeed.immediate(feedId, true);
      },
      stop: () => stopRenewing(),
    };
    this.open.add(tracked);
    const ensureFeed = (): number => {
      if (feedId !== null) return feedId;
      const id = Number((this.stmt.insertFeed.get(accountId, now(), Date.now() + leaseMs) as Row).id);
      feedId = id;
      if (!this.closed) stopRenewing = keepRenewing(leaseMs, async () => {
        if (state !== 'open') return;
        // Another server found the lease run out (this one stalled for longer than the lease).
        if (this.stmt.renew.run(Date.now() + leaseMs, id).changes === 0 && state === 'open') end('abandoned');
      });
      return id;
    };
    return {
      append: async (rows: readonly FeedRow[]) => {
        usable();
        if (rows.length === 0) return;
        const id = ensureFeed();
        try {
          this.stmt.insertChunk.run(id, chunkNo, rows[0]!.row, rows.length, encodeFeedChunk(rows));
        } catch (err) {
          if (!isMissingFeed(err)) throw err;
          end('abandoned');
          throw new FeedGoneError(id, 'abandoned');
        }
        chunkNo++;
        totalRows += rows.length;
      },
      complete: async () => {
        usable();
        const id = ensureFeed();
        if (this.stmt.complete.run(totalRows, chunkNo, id).changes === 0) {
          end('abandoned');
          throw new FeedGoneError(id, 'abandoned');
        }
        end('complete');
        return { id, accountId, totalRows, chunkCount: chunkNo };
      },
      abort: async () => {
        if (state === 'aborted') return;
        end('aborted');
        if (feedId !== null) deleteFeed.immediate(feedId, false);
      },
    };
  }

  async readFeedRows(feedId: number, fromRow: number): Promise<FeedRow[]> {
    const r = this.stmt.feedChunk.get(feedId, fromRow) as Row | undefined;
    if (!r) return [];
    return decodeFeedChunk(String(r.rows), Number(r.first_row), fromRow);
  }

  async deleteAbandonedFeeds(options: { readonly everyIncomplete?: boolean } = {}): Promise<number> {
    const at = options.everyIncomplete ? Number.MAX_SAFE_INTEGER : Date.now();
    // Looking takes no write lock (which the import thread may hold for a whole batch); there is
    // rarely anything to delete.
    if (this.stmt.abandoned.get(at) === undefined) return 0;
    return this.db.transaction((expiredBefore: number) => {
      const ids = (this.stmt.abandoned.all(expiredBefore) as Row[]).map((r) => Number(r.id));
      for (const id of ids) {
        this.stmt.deleteChunks.run(id);
        this.stmt.deleteFeed.run(id);
      }
      return ids.length;
    }).immediate(at);
  }

  async abortOpenFeeds(): Promise<number> {
    let deleted = 0;
    for (const feed of [...this.open]) if (await feed.abandon()) deleted++;
    return deleted;
  }

  /** Stops renewing the leases of the writers still open, deleting nothing (the store is closing). */
  stopRenewals(): void {
    this.closed = true;
    for (const feed of this.open) feed.stop();
    this.open.clear();
  }
}
