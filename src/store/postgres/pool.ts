/**
 * Connections to PostgreSQL: a pool per process, plain queries on it, and transactions on one of
 * its connections. bigint columns (ids, counts) come back as numbers: every value the store keeps
 * is far below 2^53, and the layers above speak numbers.
 */
import pg from 'pg';
import type { Row } from '../common/row-mappers.ts';

const INT8 = 20;

/**
 * PostgreSQL's text cannot hold U+0000: a value with one is refused with an error, even as a
 * query parameter. No stored row can match such a value, so lookups answer "not found" for it
 * without asking (SQLite keeps the character, and finds nothing either); writes never get one,
 * since the core refuses it in names and messages.
 */
export const cannotBeStored = (value: string): boolean => value.includes('\u0000');

export const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPool(connectionString: string, max: number, applicationName = 'mailup-import'): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, types, application_name: applicationName });
  // An idle connection the server dropped must not bring the process down; the next query reconnects.
  pool.on('error', () => {});
  return pool;
}

/** A client with our type parsing, outside the pool (LISTEN, migrations, exports). */
export function createClient(connectionString: string, applicationName = 'mailup-import'): pg.Client {
  return new pg.Client({ connectionString, types, application_name: applicationName });
}

/** Runs `fn` on a connection of its own, opened for it and closed after it (migrations, admin tasks). */
export async function withClient<T>(connectionString: string, applicationName: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = createClient(connectionString, applicationName);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The rows of one statement, run on any pooled connection. */
export async function queryRows(pool: pg.Pool, text: string, values: readonly unknown[] = []): Promise<Row[]> {
  return (await pool.query<Row>(text, values as unknown[])).rows;
}

/** The first row of one statement, or null. */
export async function queryRow(pool: pg.Pool, text: string, values: readonly unknown[] = []): Promise<Row | null> {
  return (await queryRows(pool, text, values))[0] ?? null;
}

/** Runs `fn` in a transaction on one pooled connection; rolls back on any error. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    }
    throw err;
  } finally {
    // A connection that could not even roll back is discarded, not reused.
    client.release(broken);
  }
}

/** The SQLSTATE of a PostgreSQL error, and the constraint it names. */
export function pgError(err: unknown): { code: string | undefined; constraint: string | undefined } {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return {
    code: typeof e?.code === 'string' ? e.code : undefined,
    constraint: typeof e?.constraint === 'string' ? e.constraint : undefined,
  };
}
