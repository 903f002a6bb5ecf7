/**
 * Read-only snapshots for the console's reads (queries.ts): several short reads that must agree
 * with each other, and long reads (an export, a whole reject report) streamed through a cursor.
 */
import type pg from 'pg';
import type { Row } from '../common/row-mappers.ts';

/** Several reads that must agree with each other: one read-only snapshot. */
export async function inSnapshot<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      return await fn(client);
    } finally {
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

/**
 * One long read (an export, a whole reject report) on a pooled connection of its own, in one
 * read-only snapshot, fetched through a cursor a page at a time so neither side holds it whole.
 * The connection goes back to the pool when the rows end, the reader leaves the loop, or `close`.
 */
export class SnapshotReader {
  private static readonly PAGE = 2000;
  private closed = false;

  private constructor(readonly client: pg.PoolClient) {}

  static async open(pool: pg.Pool): Promise<SnapshotReader> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    } catch (err) {
      client.release(err instanceof Error ? err : true);
      throw err;
    }
    return new SnapshotReader(client);
  }

  async *stream<T>(text: string, values: readonly unknown[], map: (r: Row) => T): AsyncGenerator<T> {
    try {
      if (this.closed) return;
      await this.client.query(`DECLARE export_rows NO SCROLL CURSOR FOR ${text}`, values as unknown[]);
      for (;;) {
        const { rows } = await this.client.query<Row>(`FETCH ${SnapshotReader.PAGE} FROM export_rows`);
        for (const r of rows) yield map(r);
        if (rows.length < SnapshotReader.PAGE || this.closed) return;
      }
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    void client.query('ROLLBACK').then(() => client.release(), (err: unknown) => client.release(err instanceof Error ? err : true));
  }
}
