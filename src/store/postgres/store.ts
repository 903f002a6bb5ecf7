/**
 * The scale-out store: PostgreSQL through a connection pool, for any number of API servers and
 * workers on any hosts. `PostgresStore` opens the pool, brings the schema up to date, and hands
 * the pool to one part per concept, each in the file named after its interface (accounts.ts,
 * lists.ts, …). Behaviour is the SQLite adapter's, method for method (the shared store contract
 * tests and the whole behavioural suite run against both); what differs is how concurrency is
 * made safe without SQLite's single writer:
 *
 * - Per-account advisory locks (locks.ts) serialize what SQLite's write lock serialized and
 *   PostgreSQL's row locks alone would not: starting and promoting an account's imports
 *   (processes.ts), and changing its subscribers (merge.ts, confirmations.ts). Every transaction
 *   takes such a lock before any row lock, so they cannot deadlock.
 * - The unique partial index on running processes still has the last word: a start that loses a
 *   race it could not see is mapped to the busy outcome (-601/-602), never to an error.
 * - Worker claims use `FOR UPDATE SKIP LOCKED` (claim.ts); a batch holds its process row locked
 *   from the lease check to the commit, so a lease cannot change hands in the middle of a batch.
 * - Transactions that make a process claimable queue a NOTIFY, delivered on commit, that wakes
 *   idle workers on every host (wake-channel.ts).
 */
import type pg from 'pg';
import type { Store } from '../store.ts';
import { PgAccounts } from './accounts.ts';
import { PgConfirmations } from './confirmations.ts';
import { PgFeeds } from './feeds.ts';
import { PgLists } from './lists.ts';
import { PgBatchMerge } from './merge.ts';
import { applyMigrations, pendingMigrations, SchemaBehindError } from './migrate.ts';
import { PgOAuth } from './oauth.ts';
import { createPool, queryRows } from './pool.ts';
import { PgProcesses } from './processes.ts';
import { PgQueries } from './queries.ts';
import { PgRecipients } from './recipients.ts';
import { PgSessions } from './sessions.ts';
import { PgSettings } from './settings.ts';
import { PgWebhooks } from './webhooks.ts';

export interface PostgresStoreOptions {
  readonly connectionString: string;
  readonly poolSize: number;
  /** Apply pending migrations (default); otherwise refuse to open a database whose schema is behind. */
  readonly migrate?: boolean;
  readonly applicationName?: string;
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly pool: pg.Pool;
  readonly accounts: PgAccounts;
  readonly lists: PgLists;
  readonly feeds: PgFeeds;
  readonly processes: PgProcesses;
  readonly merge: PgBatchMerge;
  readonly confirmations: PgConfirmations;
  readonly queries: PgQueries;
  readonly sessions: PgSessions;
  readonly settings: PgSettings;
  readonly oauth: PgOAuth;
  readonly recipients: PgRecipients;
  readonly webhooks: PgWebhooks;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
    this.accounts = new PgAccounts(pool);
    this.lists = new PgLists(pool);
    this.feeds = new PgFeeds(pool);
    this.processes = new PgProcesses(pool);
    this.merge = new PgBatchMerge(pool);
    this.confirmations = new PgConfirmations(pool);
    this.queries = new PgQueries(pool);
    this.sessions = new PgSessions(pool);
    this.settings = new PgSettings(pool);
    this.oauth = new PgOAuth(pool);
    this.recipients = new PgRecipients(pool);
    this.webhooks = new PgWebhooks(pool);
  }

  /** Connects, brings the schema up to date (or checks it is), and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = createPool(options.connectionString, options.poolSize, options.applicationName);
    try {
      const client = await pool.connect();
      try {
        if (options.migrate !== false) await applyMigrations(client);
        else {
          const pending = await pendingMigrations(client);
          if (pending.length > 0) throw new SchemaBehindError(pending);
        }
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStore(pool);
  }

  async ping(): Promise<void> {
    await queryRows(this.pool, 'SELECT 1', []);
  }

  async close(): Promise<void> {
    this.feeds.stopRenewals();
    await this.pool.end();
  }
}
