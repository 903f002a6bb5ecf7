/**
 * Feeds on PostgreSQL: the subscribers of an import stored in chunks while the request is still
 * being read, and read back chunk by chunk (with the next chunk read ahead) by the worker that
 * merges them.
 */
import type pg from 'pg';
import { decodeFeedChunk, encodeFeedChunk } from '../common/feed-chunk.ts';
import type { Row } from '../common/row-mappers.ts';
import type { FeedStore, FeedWriter } from '../feeds.ts';
import type { FeedRow } from '../../model/records.ts';
import { inTransaction, queryRow, queryRows } from './pool.ts';

export class PgFeeds implements FeedStore {
  constructor(private readonly pool: pg.Pool) {}

  openFeedWriter(accountId: number): FeedWriter {
    let feedId: Promise<number> | null = null;
    let chunkNo = 0;
    let totalRows = 0;
    const ensureFeed = (): Promise<number> => {
      feedId ??= queryRow(this.pool, 'INSERT INTO feed (account_id) VALUES ($1) RETURNING id', [accountId]).then((r) => Number(r!.id));
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
    return {
      append: async (rows: readonly FeedRow[]) => {
        if (rows.length === 0) return;
        const chunk = encodeFeedChunk(rows);
        const no = chunkNo++;
        totalRows += rows.length;
        const write = ensureFeed().then((id) => this.pool.query({
          name: 'feed-insert-chunk',
          text: 'INSERT INTO feed_chunk (feed_id, chunk_no, first_row, row_count, rows) VALUES ($1, $2, $3, $4, $5)',
          values: [id, no, rows[0]!.row, rows.length, chunk],
        }));
        write.catch(() => {}); // observed by settle()
        pending.push(write);
        if (pending.length >= MAX_PENDING) await pending.shift();
      },
      complete: async () => {
        await settle();
        const id = await ensureFeed();
        await queryRows(this.pool, 'UPDATE feed SET total_rows = $1, chunk_count = $2, complete = true WHERE id = $3', [totalRows, chunkNo, id]);
        return { id, accountId, totalRows, chunkCount: chunkNo };
      },
      abort: async () => {
        await settle().catch(() => {});
        const id = feedId === null ? null : await feedId.catch(() => null);
        if (id === null) return;
        await inTransaction(this.pool, async (c) => {
          await c.query('DELETE FROM feed_chunk WHERE feed_id = $1', [id]);
          await c.query('DELETE FROM feed WHERE id = $1', [id]);
        });
      },
    };
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
