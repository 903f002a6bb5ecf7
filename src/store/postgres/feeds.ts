/**
 * Feeds on PostgreSQL: the subscribers of an import stored in chunks while the request is still
 * being read, and read back chunk by chunk (with the next chunk read ahead) by the worker that
 * merges them. A feed being written carries a lease by the database's clock (the one clock every
 * host shares), renewed by its writer; an incomplete feed whose lease ran out is an upload no
 * server receives any more, which any server may delete while others keep uploading: deleting
 * takes the feed row's lock, so a renewal or completion that commits first keeps the feed, and a
 * chunk arriving after the delete breaks its foreign key instead of being stored.
 */
import type pg from 'pg';
import { decodeFeedChunk, encodeFeedChunk } from '../common/feed-chunk.ts';
import { feedLeaseMs, keepRenewing, type OpenFeed } from '../common/feed-lease.ts';
import type { Row } from '../common/row-mappers.ts';
import { FeedGoneError, type FeedStore, type FeedWriter, type FeedWriterOptions } from '../feeds.ts';
import type { FeedRow } from '../../model/records.ts';
import { inTransaction, pgError, queryRow } from './pool.ts';

/** A chunk whose feed row is gone (removed as abandoned) breaks the chunk's foreign key. */
const FOREIGN_KEY_VIOLATION = '23503';

export class PgFeeds implements FeedStore {
  /** The writers of this handle not yet complete or aborted. */
  private readonly open = new Set<OpenFeed>();
  /** Set when the store closes: no lease is renewed any more. */
  private closed = false;

  constructor(private readonly pool: pg.Pool) {}

  openFeedWriter(accountId: number, options?: FeedWriterOptions): FeedWriter {
    const leaseMs = feedLeaseMs(options);
    let feedId: Promise<number> | null = null;
    let chunkNo = 0;
    let totalRows = 0;
    let state: 'open' | 'completing' | 'complete' | 'aborted' | 'abandoned' = 'open';
    /** The state as it is now, after an await (abortOpenFeeds may have changed it meanwhile). */
    const stateNow = (): typeof state => state;
    let stopRenewing = (): void => undefined;
    const end = (next: typeof state): void => {
      state = next;
      stopRenewing();
      this.open.delete(tracked);
    };
    const usable = (id: number | null): void => {
      if (state === 'aborted' || state === 'abandoned') throw new FeedGoneError(id, state);
      if (state !== 'open') throw new Error('The feed is complete already.');
    };
    const ensureFeed = (): Promise<number> => {
      feedId ??= queryRow(this.pool, `INSERT INTO feed (account_id, lease_expires_at)
        VALUES ($1, clock_timestamp() + $2 * interval '1 millisecond') RETURNING id`, [accountId, leaseMs]).then((r) => {
        const id = Number(r!.id);
        if (state === 'open' && !this.closed) {
          stopRenewing = keepRenewing(leaseMs, async () => {
            if (state !== 'open') return;
            const renewed = await this.pool.query({
              name: 'feed-renew-lease',
              text: "UPDATE feed SET lease_expires_at = clock_timestamp() + $2 * interval '1 millisecond' WHERE id = $1 AND NOT complete",
              values: [id, leaseMs],
            });
            // Another server found the lease run out (this one stalled for longer than the lease).
            if (renewed.rowCount === 0 && state === 'open') end('abandoned');
          });
        }
        return id;
      });
      return feedId;
    };
    // A chunk is stored while the next one is being parsed: at most MAX_PENDING writes in flight.
    const MAX_PENDING = 2;
    const pending: Promise<unknown>[] = [];
    const settle = async (): Promise<void> => {
      const results = await Promise.allSettled(pending.splice(0));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    const knownId = async (): Promise<number | null> => (feedId === null ? null : feedId.catch(() => null));
    const tracked: OpenFeed = {
      abandon: async () => {
        if (state !== 'open' && state !== 'completing') return false;
        end('aborted');
        await settle().catch(() => undefined);
        const id = await knownId();
        if (id === null) return false;
        // A completion that committed first wins: the feed is then whole, not partial.
        const deleted = await this.pool.query('DELETE FROM feed WHERE id = $1 AND NOT complete', [id]);
        return (deleted.rowCount ?? 0) > 0;
      },
      stop: () => stopRenewing(),
    };
    this.open.add(tracked);
    return {
      append: async (rows: readonly FeedRow[]) => {
        usable(null);
        if (rows.length === 0) return;
        const chunk = encodeFeedChunk(rows);
        const no = chunkNo++;
        totalRows += rows.length;
        const write = ensureFeed().then((id) => this.pool.query({
          name: 'feed-insert-chunk',
          text: 'INSERT INTO feed_chunk (feed_id, chunk_no, first_row, row_count, rows) VALUES ($1, $2, $3, $4, $5)',
          values: [id, no, rows[0]!.row, rows.length, chunk],
        }).catch((err: unknown) => {
          if (pgError(err).code !== FOREIGN_KEY_VIOLATION) throw err;
          if (state === 'open') end('abandoned');
          throw new FeedGoneError(id, state === 'aborted' ? 'aborted' : 'abandoned');
        }));
        write.catch(() => {}); // observed by settle()
        pending.push(write);
        if (pending.length >= MAX_PENDING) await pending.shift();
      },
      complete: async () => {
        usable(null);
        state = 'completing';
        stopRenewing();
        await settle();
        const id = await ensureFeed();
        const done = await this.pool.query(
          'UPDATE feed SET total_rows = $1, chunk_count = $2, complete = true, lease_expires_at = NULL WHERE id = $3 AND NOT complete',
          [totalRows, chunkNo, id]);
        if (done.rowCount === 0) {
          const why = stateNow() === 'aborted' ? 'aborted' : 'abandoned';
          end(why);
          throw new FeedGoneError(id, why);
        }
        end('complete');
        return { id, accountId, totalRows, chunkCount: chunkNo };
      },
      abort: async () => {
        if (state === 'aborted') return;
        end('aborted');
        await settle().catch(() => {});
        const id = await knownId();
        if (id === null) return;
        await inTransaction(this.pool, async (c) => {
          await c.query('DELETE FROM feed_chunk WHERE feed_id = $1', [id]);
          await c.query('DELETE FROM feed WHERE id = $1', [id]);
        });
      },
    };
  }

  async deleteAbandonedFeeds(options: { readonly everyIncomplete?: boolean } = {}): Promise<number> {
    // Chunks go with their feed (ON DELETE CASCADE). A feed some process uses is never removed.
    const row = await queryRow(this.pool, `
      WITH gone AS (
        DELETE FROM feed f WHERE NOT f.complete AND ($1 OR f.lease_expires_at < clock_timestamp())
          AND NOT EXISTS (SELECT 1 FROM import_process p WHERE p.feed_id = f.id)
        RETURNING f.id)
      SELECT count(*) AS n FROM gone`, [options.everyIncomplete === true]);
    return Number(row!.n);
  }

  async abortOpenFeeds(): Promise<number> {
    const deleted = await Promise.all([...this.open].map((feed) => feed.abandon()));
    return deleted.filter(Boolean).length;
  }

  /** Stops renewing the leases of the writers still open, deleting nothing (the store is closing). */
  stopRenewals(): void {
    this.closed = true;
    for (const feed of this.open) feed.stop();
    this.open.clear();
  }

  /**
   * Chunks read ahead: while a worker merges one chunk, the next is fetched and parsed on another
   * connection, so the database never waits for it. Stored chunks never change, so a chunk read
   * early is the chunk read late.
   */
  private readonly readAhead = new Map<string, Promise<FeedRow[]>>();

  async readFeedRows(feedId: number, fromRow: number): Promise<FeedRow[]> {
    const key = `${feedId}:${fromRow}`;
    const ahead = this.readAhead.get(key);
    this.readAhead.delete(key);
    const rows = await (ahead ?? this.fetchFeedRows(feedId, fromRow)).catch(() => this.fetchFeedRows(feedId, fromRow));
    if (rows.length > 0) {
      const next = rows[rows.length - 1]!.row + 1;
      const promise = this.fetchFeedRows(feedId, next);
      promise.catch(() => {}); // a failed read-ahead is read again when asked for
      this.readAhead.set(`${feedId}:${next}`, promise);
      // Only the latest few are kept: a worker that stopped asking leaves nothing behind for long.
      while (this.readAhead.size > 4) this.readAhead.delete(this.readAhead.keys().next().value!);
    }
    return rows;
  }

  private async fetchFeedRows(feedId: number, fromRow: number): Promise<FeedRow[]> {
    const { rows } = await this.pool.query<Row>({
      name: 'feed-read-chunk',
      text: 'SELECT rows, first_row FROM feed_chunk WHERE feed_id = $1 AND first_row <= $2 ORDER BY first_row DESC LIMIT 1',
      values: [feedId, fromRow],
    });
    const r = rows[0];
    if (!r) return [];
    return decodeFeedChunk(String(r.rows), Number(r.first_row), fromRow);
  }
}
