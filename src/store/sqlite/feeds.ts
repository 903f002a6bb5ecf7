/**
 * Feeds on SQLite: the rows of an import, stored in chunks as they are read and read back by the
 * worker.
 */
import { decodeFeedChunk, encodeFeedChunk } from '../common/feed-chunk.ts';
import type { Row } from '../common/row-mappers.ts';
import type { FeedStore, FeedWriter } from '../feeds.ts';
import type { FeedRow } from '../../model/records.ts';
import { now, type SqliteConnection } from './connection.ts';
import type { Statement } from './prepare.ts';

export class SqliteFeeds implements FeedStore {
  private readonly stmt;

  constructor(private readonly db: SqliteConnection) {
    // Named statements are prepared once, at start-up, so a typo fails on boot.
    const named = (sql: string): Statement => db.named(sql);
    this.stmt = {
      feedChunk: named('SELECT rows, first_row FROM feed_chunk WHERE feed_id = ? AND first_row <= ? ORDER BY chunk_no DESC LIMIT 1'),
      insertChunk: named('INSERT INTO feed_chunk (feed_id, chunk_no, first_row, row_count, rows) VALUES (?, ?, ?, ?, ?)'),
    };
  }

  openFeedWriter(accountId: number): FeedWriter {
    let feedId: number | null = null;
    let chunkNo = 0;
    let totalRows = 0;
    const ensureFeed = (): number => {
      feedId ??= Number((this.db.prepare('INSERT INTO feed (account_id, created_at) VALUES (?, ?) RETURNING id').get(accountId, now()) as Row).id);
      return feedId;
    };
    return {
      append: async (rows: readonly FeedRow[]) => {
        if (rows.length === 0) return;
        this.stmt.insertChunk.run(ensureFeed(), chunkNo++, rows[0]!.row, rows.length, encodeFeedChunk(rows));
        totalRows += rows.length;
      },
      complete: async () => {
        const id = ensureFeed();
        this.db.prepare('UPDATE feed SET total_rows = ?, chunk_count = ?, complete = 1 WHERE id = ?').run(totalRows, chunkNo, id);
        return { id, accountId, totalRows, chunkCount: chunkNo };
      },
      abort: async () => {
        if (feedId === null) return;
        this.db.transaction(() => {
          this.db.prepare('DELETE FROM feed_chunk WHERE feed_id = ?').run(feedId);
          this.db.prepare('DELETE FROM feed WHERE id = ?').run(feedId);
        }).immediate();
      },
    };
  }

  async readFeedRows(feedId: number, fromRow: number): Promise<FeedRow[]> {
    const r = this.stmt.feedChunk.get(feedId, fromRow) as Row | undefined;
    if (!r) return [];
    return decodeFeedChunk(String(r.rows), Number(r.first_row), fromRow);
  }
}
