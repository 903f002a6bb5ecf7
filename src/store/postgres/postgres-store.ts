/**
 * The scale-out store: PostgreSQL through a connection pool, for any number of API servers and
 * workers on any hosts. Behaviour is the SQLite adapter's, method for method (the shared store
 * contract tests and the whole behavioural suite run against both); what differs is how
 * concurrency is made safe without SQLite's single writer:
 *
 * - Per-account advisory locks serialize what SQLite's write lock serialized and PostgreSQL's
 *   row locks alone would not: starting and promoting an account's imports (the busy check and
 *   the queue), and changing its subscribers (a batch merge against a confirm click, a Send Now
 *   claim, or the completion that settles a process). Every transaction takes such a lock before
 *   any row lock, so they cannot deadlock.
 * - The unique partial index on running processes still has the last word: a start that loses a
 *   race it could not see is mapped to the busy outcome (-601/-602), never to an error.
 * - Worker claims use `FOR UPDATE SKIP LOCKED` (claim.ts); a batch holds its process row locked
 *   from the lease check to the commit, so a lease cannot change hands in the middle of a batch.
 * - Transactions that make a process claimable queue a NOTIFY, delivered on commit, that wakes
 *   idle workers on every host (wake-channel.ts).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { decodeFeedChunk, encodeFeedChunk } from '../feed-chunk.ts';
import {
  flag, optionalTimestamp, toAccount, toChannelCounts, toClaimedConfirmation, toConfirmationFailure, toConfirmationMessage,
  toConfirmationRequestRow, toConfirmationSummary, toConsoleSessionAndUser, toConsoleUser, toGroup, toList, toListExportRow,
  toOutboxMessage, toProcess, toProcessWithQueue, toRecipientConfirmation, toRecipientDetail, toRecipientImport, toRecipientSubscription,
  toRecipientSummaries, toRejectRow, type Row,
} from '../row-mappers.ts';
import { PROCESS_COLUMNS, PROCESS_WITH_QUEUE_COLUMNS, UNSENT } from '../process-sql.ts';
import { cursorKeyFor, type SearchKey } from '../search-cursor.ts';
import {
  type ClaimedConfirmation, type ConfirmationFailure, type ConfirmationMessage, type ConfirmationOutcome,
  type ConfirmationRequestRow, type ConfirmationSummary, type ConfirmOutcome, type ConsoleSession, type GroupRename,
  type KeysetPage, LeaseLostError, type ListExport, type ListStats, type NewAccount,
  type NewConfirmationMessage, type NewConsoleSession, type NewOutboxMessage, type OutboxMessage, type ProcessPageQuery,
  type RecipientDetail, type RecipientFilter, type RecipientPageQuery, type RecipientSummary, type Store,
} from '../store.ts';
import type {
  Account, AccountChanges, BatchKeys, BatchPlan, Channel, ConsoleUser, Feed, FeedRow, FeedWriter, Group, ImportOptions,
  ImportProcess, Lease, ListWithGroups, MailingList, PriorRecipient, ProcessWithQueue, RejectReportRow, StartOutcome,
} from '../types.ts';
import { claimSql, notifyWork, RELEASE_SQL, RENEW_SQL } from './claim.ts';
import { mergeBatchInTransaction } from './merge-batch.ts';
import { applyMigrations, pendingMigrations, SchemaBehindError } from './migrate.ts';
import { createPool, inTransaction, pgError } from './pool.ts';

/** ImportOptions.ConfirmEmail, as SQLite's json_extract(options, '$.ConfirmEmail') = 1. */
const ASKS_CONFIRMATION = `(p.options ->> 'ConfirmEmail') = 'true'`;

/** Kinds of per-account advisory lock (the first key; the second is the account). */
const LOCK = { start: 1, subscribers: 2, accounts: 3 } as const;

async function lockAccount(client: pg.ClientBase, kind: number, accountId: number): Promise<void> {
  await client.query({ name: 'lock-account', text: 'SELECT pg_advisory_xact_lock($1::int, hashint8($2::bigint))', values: [kind, accountId] });
}

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

  private constructor(pool: pg.Pool) {
    this.pool = pool;
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

  private async rows(text: string, values: readonly unknown[] = []): Promise<Row[]> {
    return (await this.pool.query<Row>(text, values as unknown[])).rows;
  }

  private async row(text: string, values: readonly unknown[] = []): Promise<Row | null> {
    return (await this.rows(text, values))[0] ?? null;
  }

  private tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  // Accounts and console users

  async createAccount(account: NewAccount): Promise<Account> {
    const r = await this.tx(async (c) => {
      await lockAccount(c, LOCK.accounts, 0);
      const id = account.id ?? Number((await c.query<Row>('SELECT coalesce(max(id), 1000) + 1 AS id FROM account')).rows[0]!.id);
      return (await c.query<Row>(
        'INSERT INTO account (id, ws_user, password_hash, ws_enabled, name) VALUES ($1, $2, $3, $4, $5) RETURNING *',
        [id, `a${id}`, account.passwordHash, account.wsEnabled !== false, account.name],
      )).rows[0]!;
    });
    return toAccount(r);
  }

  // Every web-service call authenticates and checks its list: these reads are named statements,
  // parsed and planned once per connection.

  async getAccount(id: number): Promise<Account | null> {
    const { rows } = await this.pool.query<Row>({ name: 'account-by-id', text: 'SELECT * FROM account WHERE id = $1', values: [id] });
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async findAccountByWsUser(wsUser: string): Promise<Account | null> {
    const { rows } = await this.pool.query<Row>({ name: 'account-by-user', text: 'SELECT * FROM account WHERE ws_user = $1', values: [wsUser] });
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async updateAccount(id: number, changes: AccountChanges): Promise<Account | null> {
    const sets: string[] = [];
    const values: unknown[] = [];
    const set = (column: string, value: unknown): void => {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    };
    if (changes.passwordHash !== undefined) set('password_hash', changes.passwordHash);
    if (changes.wsEnabled !== undefined) set('ws_enabled', changes.wsEnabled);
    if (changes.ipCheck !== undefined) set('ip_check', changes.ipCheck);
    if (changes.allowedIps !== undefined) set('allowed_ips', JSON.stringify(changes.allowedIps));
    if (changes.name !== undefined) set('name', changes.name);
    if (sets.length > 0) await this.rows(`UPDATE account SET ${sets.join(', ')} WHERE id = $${values.length + 1}`, [...values, id]);
    return this.getAccount(id);
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.rows('SELECT * FROM account ORDER BY id')).map(toAccount);
  }

  async createConsoleUser(accountId: number, username: string, passwordHash: string, listIds: readonly number[] | null = null): Promise<ConsoleUser> {
    const r = await this.row(
      'INSERT INTO console_user (account_id, username, password_hash, list_ids) VALUES ($1, $2, $3, $4) RETURNING *',
      [accountId, username, passwordHash, listIds === null ? null : JSON.stringify(listIds)],
    );
    return toConsoleUser(r!);
  }

  async findConsoleUser(accountId: number, username: string): Promise<ConsoleUser | null> {
    const r = await this.row('SELECT * FROM console_user WHERE account_id = $1 AND username = $2', [accountId, username]);
    return r ? toConsoleUser(r) : null;
  }

  async getConsoleUser(accountId: number, id: number): Promise<ConsoleUser | null> {
    const r = await this.row('SELECT * FROM console_user WHERE account_id = $1 AND id = $2', [accountId, id]);
    return r ? toConsoleUser(r) : null;
  }

  // Lists and groups

  async createList(accountId: number, name: string, guid: string = randomUUID()): Promise<MailingList> {
    const r = await this.row('INSERT INTO list (account_id, guid, name) VALUES ($1, $2, $3) RETURNING *', [accountId, guid.toLowerCase(), name]);
    return toList(r!);
  }

  async renameList(accountId: number, listId: number, name: string): Promise<MailingList | null> {
    const r = await this.row('UPDATE list SET name = $1 WHERE id = $2 AND account_id = $3 RETURNING *', [name, listId, accountId]);
    return r ? toList(r) : null;
  }

  async getList(accountId: number, listId: number): Promise<MailingList | null> {
    const { rows } = await this.pool.query<Row>({ name: 'list-by-id', text: 'SELECT * FROM list WHERE id = $1 AND account_id = $2', values: [listId, accountId] });
    return rows[0] ? toList(rows[0]) : null;
  }

  async listLists(accountId: number, onlyListIds: readonly number[] | null = null): Promise<ListWithGroups[]> {
    const lists = (await this.rows('SELECT * FROM list WHERE account_id = $1 ORDER BY id', [accountId])).map(toList)
      .filter((l) => onlyListIds === null || onlyListIds.includes(l.id));
    const groups = (await this.rows(
      'SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE l.account_id = $1 ORDER BY g.id', [accountId],
    )).map(toGroup);
    return lists.map((l) => ({ ...l, groups: groups.filter((g) => g.listId === l.id) }));
  }

  async createGroup(listId: number, name: string): Promise<{ group: Group; created: boolean }> {
    // Names compare as SQLite's NOCASE does (ASCII letters only); a concurrent twin waits here, then is found.
    const created = await this.row(
      'INSERT INTO "group" (list_id, name) VALUES ($1, $2) ON CONFLICT (list_id, ascii_lower(name)) DO NOTHING RETURNING *', [listId, name],
    );
    if (created) return { group: toGroup(created), created: true };
    const existing = await this.row('SELECT * FROM "group" WHERE list_id = $1 AND ascii_lower(name) = ascii_lower($2)', [listId, name]);
    return { group: toGroup(existing!), created: false };
  }

  async getGroups(listId: number): Promise<Group[]> {
    return (await this.rows('SELECT * FROM "group" WHERE list_id = $1 ORDER BY id', [listId])).map(toGroup);
  }

  // Feeds and processes

  openFeedWriter(accountId: number): FeedWriter {
    let feedId: Promise<number> | null = null;
    let chunkNo = 0;
    let totalRows = 0;
    const ensureFeed = (): Promise<number> => {
      feedId ??= this.row('INSERT INTO feed (account_id) VALUES ($1) RETURNING id', [accountId]).then((r) => Number(r!.id));
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
        await this.rows('UPDATE feed SET total_rows = $1, chunk_count = $2, complete = true WHERE id = $3', [totalRows, chunkNo, id]);
        return { id, accountId, totalRows, chunkCount: chunkNo };
      },
      abort: async () => {
        await settle().catch(() => {});
        const id = feedId === null ? null : await feedId.catch(() => null);
        if (id === null) return;
        await this.tx(async (c) => {
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

  async createProcesses(
    accountId: number, feed: Feed, lists: readonly { listId: number; options: ImportOptions }[], options: { start: boolean },
  ): Promise<{ ok: true; processes: ImportProcess[] } | Extract<StartOutcome, { ok: false }>> {
    try {
      return await this.tx(async (c) => {
        await lockAccount(c, LOCK.start, accountId);
        if (options.start && lists.length > 0) {
          const busy = await this.busyReason(c, accountId, lists[0]!.listId);
          if (busy) return { ok: false as const, reason: busy };
        }
        const ids: number[] = [];
        for (const l of lists) {
          const r = await c.query<Row>(
            'INSERT INTO import_process (account_id, list_id, feed_id, options, total_contacts) VALUES ($1, $2, $3, $4, $5) RETURNING id',
            [accountId, l.listId, feed.id, JSON.stringify(l.options), feed.totalRows],
          );
          ids.push(Number(r.rows[0]!.id));
        }
        if (options.start) await this.markStarted(c, ids);
        const { rows } = await c.query<Row>(`SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.id = ANY($1::bigint[]) ORDER BY p.id`, [ids]);
        const byId = new Map(rows.map((r) => [Number(r.id), toProcess(r)]));
        return { ok: true as const, processes: ids.map((id) => byId.get(id)!) };
      });
    } catch (err) {
      const busy = await this.busyAfterRace(err, accountId, lists[0]?.listId);
      if (busy) return { ok: false, reason: busy };
      throw err;
    }
  }

  /** Why the account cannot start an import on `listId` now, or null when it can. */
  private async busyReason(c: pg.ClientBase, accountId: number, listId: number): Promise<'busy-same-list' | 'busy-other-list' | null> {
    const { rows } = await c.query<Row>(`
      SELECT list_id FROM import_process WHERE account_id = $1 AND (status = 2 OR queued_seq IS NOT NULL)
      ORDER BY status DESC, id LIMIT 1`, [accountId]);
    if (!rows[0]) return null;
    return Number(rows[0].list_id) === listId ? 'busy-same-list' : 'busy-other-list';
  }

  /**
   * A start that broke the one-running-import index lost a race with another start: the account
   * is busy, and the answer says with which list.
   */
  private async busyAfterRace(err: unknown, accountId: number, listId: number | undefined): Promise<'busy-same-list' | 'busy-other-list' | null> {
    const e = pgError(err);
    if (e.code !== '23505' || e.constraint !== 'import_process_one_running' || listId === undefined) return null;
    const client = await this.pool.connect();
    try {
      return (await this.busyReason(client, accountId, listId)) ?? 'busy-other-list';
    } finally {
      client.release();
    }
  }

  /** The first process runs now; the others wait their turn, in this order. Wakes the workers. */
  private async markStarted(c: pg.ClientBase, ids: readonly number[]): Promise<void> {
    const seq = Date.now();
    for (const [i, id] of ids.entries()) {
      if (i === 0) await c.query('UPDATE import_process SET status = 2, start_date = now() WHERE id = $1', [id]);
      else await c.query('UPDATE import_process SET queued_seq = $1 WHERE id = $2', [seq + i, id]);
    }
    if (ids.length > 0) await notifyWork(c, [ids[0]!]);
  }

  async getProcess(accountId: number, processId: number): Promise<ImportProcess | null> {
    const { rows } = await this.pool.query<Row>({
      name: 'process-by-id',
      text: `SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.id = $1 AND p.account_id = $2`,
      values: [processId, accountId],
    });
    return rows[0] ? toProcess(rows[0]) : null;
  }

  async listProcesses(accountId: number, options: { limit?: number; offset?: number } = {}): Promise<ProcessWithQueue[]> {
    return (await this.rows(`SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p WHERE p.account_id = $1 ORDER BY p.id DESC LIMIT $2 OFFSET $3`,
      [accountId, options.limit ?? 50, options.offset ?? 0])).map(toProcessWithQueue);
  }

  async startProcesses(accountId: number, processIds: readonly number[]): Promise<StartOutcome> {
    try {
      return await this.tx(async (c): Promise<StartOutcome> => {
        await lockAccount(c, LOCK.start, accountId);
        const { rows } = await c.query<Row>('SELECT * FROM import_process WHERE id = ANY($1::bigint[]) AND account_id = $2', [processIds, accountId]);
        const byId = new Map(rows.map((r) => [Number(r.id), r]));
        const found = processIds.map((id) => byId.get(id));
        if (found.some((r) => r === undefined)) return { ok: false, reason: 'not-found' };
        if (found.some((r) => Number(r!.status) !== 1 || r!.queued_seq !== null)) return { ok: false, reason: 'not-startable' };
        const busy = await this.busyReason(c, accountId, Number(found[0]!.list_id));
        if (busy) return { ok: false, reason: busy };
        await this.markStarted(c, processIds);
        return { ok: true };
      });
    } catch (err) {
      const first = processIds[0];
      const listId = first === undefined ? undefined : (await this.getProcess(accountId, first))?.listId;
      const busy = await this.busyAfterRace(err, accountId, listId);
      if (busy) return { ok: false, reason: busy };
      throw err;
    }
  }

  async pendingProcessIds(accountId: number): Promise<number[]> {
    return (await this.rows('SELECT id FROM import_process WHERE account_id = $1 AND status = 1 AND queued_seq IS NULL ORDER BY id', [accountId]))
      .map((r) => Number(r.id));
  }

  // Worker side

  async claimProcess(owner: string, leaseMs: number): Promise<Lease | null> {
    const { rows } = await this.pool.query<Row>({ ...claimSql(PROCESS_COLUMNS), values: [owner, leaseMs] });
    return rows[0] ? { process: toProcess(rows[0]), owner, leaseMs } : null;
  }

  async renewLease(lease: Lease): Promise<boolean> {
    return (await this.pool.query({ ...RENEW_SQL, values: [lease.leaseMs, lease.process.id, lease.owner] })).rowCount === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.pool.query({ ...RELEASE_SQL, values: [lease.process.id, lease.owner] });
  }

  async mergeBatch(
    lease: Lease,
    keys: BatchKeys,
    lastRow: number,
    plan: (prior: ReadonlyMap<string, PriorRecipient>) => BatchPlan,
  ): Promise<ImportProcess> {
    const row = await this.tx(async (c) => {
      await lockAccount(c, LOCK.subscribers, lease.process.accountId);
      return mergeBatchInTransaction(c, lease, keys, lastRow, plan, PROCESS_COLUMNS);
    });
    return toProcess(row);
  }

  async finishProcess(lease: Lease): Promise<void> {
    await this.endProcess(lease, 3, null);
  }

  async failProcess(lease: Lease, reason: string): Promise<void> {
    await this.endProcess(lease, 4, reason);
  }

  private async endProcess(lease: Lease, status: 3 | 4, reason: string | null): Promise<void> {
    await this.tx(async (c) => {
      await lockAccount(c, LOCK.start, lease.process.accountId);
      const ended = await c.query(`
        UPDATE import_process SET status = $1, end_date = now(), failure_reason = $2, lease_owner = NULL, lease_expires_at = NULL
        WHERE id = $3 AND lease_owner = $4 AND status = 2`, [status, reason, lease.process.id, lease.owner]);
      if (ended.rowCount !== 1) throw new LeaseLostError(lease.process.id);
      const promoted = await c.query<Row>(`
        UPDATE import_process SET status = 2, start_date = now(), queued_seq = NULL
        WHERE id = (SELECT id FROM import_process WHERE account_id = $1 AND status = 1 AND queued_seq IS NOT NULL ORDER BY queued_seq, id LIMIT 1)
        RETURNING id`, [lease.process.accountId]);
      await notifyWork(c, promoted.rows.map((r) => Number(r.id)));
    });
  }

  async rejectReport(accountId: number, processId: number, options: { limit?: number; offset?: number } = {}): Promise<RejectReportRow[]> {
    const rows = await this.rows(`
      SELECT r.* FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = $1 AND p.account_id = $2 ORDER BY r.row_no LIMIT $3 OFFSET $4`,
    [processId, accountId, options.limit ?? null, options.offset ?? 0]);
    return rows.map(toRejectRow);
  }

  // Double opt-in

  async createConfirmationMessage(accountId: number, m: NewConfirmationMessage): Promise<number> {
    const r = await this.row(
      'INSERT INTO confirmation_message (account_id, is_default, sender, subject, html, text) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
      [accountId, m.isDefault, m.sender, m.subject, m.html, m.text],
    );
    return Number(r!.id);
  }

  async confirmationMessageExists(accountId: number, messageId: number): Promise<boolean> {
    return (await this.row('SELECT 1 FROM confirmation_message WHERE id = $1 AND account_id = $2', [messageId, accountId])) !== null;
  }

  async getConfirmationMessage(accountId: number, messageId: number): Promise<ConfirmationMessage | null> {
    const r = messageId === 0
      ? await this.row('SELECT * FROM confirmation_message WHERE account_id = $1 AND is_default ORDER BY id DESC LIMIT 1', [accountId])
      : await this.row('SELECT * FROM confirmation_message WHERE account_id = $1 AND id = $2', [accountId, messageId]);
    return r ? toConfirmationMessage(r) : null;
  }

  async listConfirmationMessages(accountId: number): Promise<ConfirmationMessage[]> {
    return (await this.rows('SELECT * FROM confirmation_message WHERE account_id = $1 ORDER BY id', [accountId])).map(toConfirmationMessage);
  }

  async setDefaultConfirmationMessage(accountId: number, messageId: number): Promise<boolean> {
    return this.tx(async (c) => {
      const own = await c.query('SELECT 1 FROM confirmation_message WHERE account_id = $1 AND id = $2 FOR UPDATE', [accountId, messageId]);
      if (own.rowCount !== 1) return false;
      await c.query('UPDATE confirmation_message SET is_default = (id = $1) WHERE account_id = $2', [messageId, accountId]);
      return true;
    });
  }

  async requeueFailedConfirmations(accountId: number, processId: number | null): Promise<number> {
    const r = await this.pool.query(`
      UPDATE confirmation_request SET status = 'queued', next_attempt_at = NULL
      WHERE account_id = $1 AND ($2::bigint IS NULL OR process_id = $2) AND status = 'failed' AND next_attempt_at IS NULL`,
    [accountId, processId]);
    return r.rowCount ?? 0;
  }

  async claimConfirmations(
    accountId: number, processId: number | null, options: { readonly limit: number; readonly leaseMs: number; readonly now: Date },
  ): Promise<{ requests: ClaimedConfirmation[]; cancelled: number; settled: number[] }> {
    const t = options.now.getTime();
    // Due: queued, a transient failure whose time has come, or a claim whose Send Now died.
    const due = `account_id = $1 AND ($2::bigint IS NULL OR process_id = $2)
      AND (status = 'queued' OR (status IN ('failed', 'sending') AND next_attempt_at IS NOT NULL AND next_attempt_at <= $3))`;
    return this.tx(async (c) => {
      await lockAccount(c, LOCK.subscribers, accountId);
      const cancelled = (await c.query<Row>(`
        UPDATE confirmation_request SET status = 'cancelled', next_attempt_at = NULL, last_error = CASE
            (SELECT s.status FROM subscription s WHERE s.recipient_id = confirmation_request.recipient_id
              AND s.list_id = confirmation_request.list_id AND s.channel = 'email')
            WHEN 'unsubscribed' THEN 'not sent: the recipient unsubscribed from the list'
            WHEN 'subscribed' THEN 'not sent: the recipient is already subscribed'
            ELSE 'not sent: the recipient is no longer in the list' END
        WHERE ${due} AND NOT EXISTS (SELECT 1 FROM subscription s WHERE s.recipient_id = confirmation_request.recipient_id
          AND s.list_id = confirmation_request.list_id AND s.channel = 'email' AND s.status = 'pending')
        RETURNING process_id`, [accountId, processId, t])).rows;
      const settled = await this.settleProcesses(c, new Set(cancelled.map((r) => Number(r.process_id))), options.now);
      const ids = (await c.query<Row>(`
        UPDATE confirmation_request SET status = 'sending', next_attempt_at = $4
        WHERE id IN (SELECT id FROM confirmation_request WHERE ${due} ORDER BY recipient_id, list_id, id LIMIT $5)
        RETURNING id`, [accountId, processId, t, t + options.leaseMs, options.limit])).rows.map((r) => Number(r.id));
      const requests = (await c.query<Row>(`
        SELECT c.id, c.process_id, c.recipient_id, c.list_id, c.attempts, l.name AS list_name, r.email, r.name, r.fields,
          coalesce((p.options ->> 'idConfirmNL')::bigint, 0) AS message_id
        FROM confirmation_request c
        JOIN recipient r ON r.id = c.recipient_id
        JOIN list l ON l.id = c.list_id
        JOIN import_process p ON p.id = c.process_id
        WHERE c.id = ANY($1::bigint[])
        ORDER BY c.recipient_id, c.list_id, c.id`, [ids])).rows.map(toClaimedConfirmation);
      return { requests, cancelled: cancelled.length, settled };
    });
  }

  async completeConfirmations(requestIds: readonly number[], outcome: ConfirmationOutcome): Promise<number[]> {
    if (requestIds.length === 0) return [];
    return this.tx(async (c) => {
      // Two Send Nows finishing the last requests of one process at once must not both miss the
      // moment it is settled: completions of an account take their turn, as in SQLite.
      const accounts = (await c.query<Row>('SELECT DISTINCT account_id FROM confirmation_request WHERE id = ANY($1::bigint[]) ORDER BY account_id',
        [requestIds])).rows.map((r) => Number(r.account_id));
      for (const accountId of accounts) await lockAccount(c, LOCK.subscribers, accountId);
      const touched = outcome.status === 'sent'
        ? await c.query<Row>(`
            UPDATE confirmation_request SET status = 'sent', sent_at = $1, attempts = attempts + $2, next_attempt_at = NULL, last_error = NULL
            WHERE id = ANY($3::bigint[]) RETURNING process_id`, [outcome.at, outcome.attempts, requestIds])
        : await c.query<Row>(`
            UPDATE confirmation_request SET status = 'failed', last_error = $1, attempts = attempts + $2, next_attempt_at = $3
            WHERE id = ANY($4::bigint[]) RETURNING process_id`,
          [outcome.error, outcome.attempts, outcome.retryAt === null ? null : outcome.retryAt.getTime(), requestIds]);
      return outcome.status === 'sent' ? this.settleProcesses(c, new Set(touched.rows.map((r) => Number(r.process_id))), outcome.at) : [];
    });
  }

  async settleConfirmationProcesses(accountId: number, processId: number | null, at: Date): Promise<number[]> {
    return this.tx(async (c) => {
      await lockAccount(c, LOCK.subscribers, accountId);
      const candidates = (await c.query<Row>(`
        SELECT p.id FROM import_process p WHERE p.account_id = $1 AND ($2::bigint IS NULL OR p.id = $2) AND p.status IN (3, 4)
          AND p.confirmation_sent_at IS NULL AND ${ASKS_CONFIRMATION}`, [accountId, processId])).rows.map((r) => Number(r.id));
      return this.settleProcesses(c, new Set(candidates), at);
    });
  }

  /**
   * ConfirmationSent becomes True for finished processes that asked for ConfirmEmail and have no
   * unsent request left. Runs inside the transaction that changed the last request.
   */
  private async settleProcesses(c: pg.ClientBase, processIds: ReadonlySet<number>, at: Date): Promise<number[]> {
    if (processIds.size === 0) return [];
    return (await c.query<Row>(`
      UPDATE import_process p SET confirmation_sent_at = $1
      WHERE p.id = ANY($2::bigint[]) AND p.status IN (3, 4) AND p.confirmation_sent_at IS NULL AND ${ASKS_CONFIRMATION}
        AND NOT EXISTS (SELECT 1 FROM confirmation_request c WHERE c.process_id = p.id AND c.status IN ${UNSENT})
      RETURNING p.id`, [at, [...processIds]])).rows.map((r) => Number(r.id));
  }

  async pendingConfirmations(accountId: number, processId: number): Promise<number> {
    const rows = await this.rows(`SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p WHERE p.id = $1 AND p.account_id = $2`, [processId, accountId]);
    return rows[0] ? Number(rows[0].confirmations_pending) : 0;
  }

  async confirmationSummary(accountId: number, processId: number | null, options: { limit?: number } = {}): Promise<ConfirmationSummary[]> {
    const rows = await this.rows(`
      SELECT p.id, p.list_id, p.status AS process_status, p.confirmation_sent_at, count(c.id) AS requests,
        count(*) FILTER (WHERE c.status = 'queued') AS queued, count(*) FILTER (WHERE c.status = 'sending') AS sending,
        count(*) FILTER (WHERE c.status = 'sent') AS sent,
        count(*) FILTER (WHERE c.status = 'failed' AND c.next_attempt_at IS NOT NULL) AS retrying,
        count(*) FILTER (WHERE c.status = 'failed' AND c.next_attempt_at IS NULL) AS failed,
        count(*) FILTER (WHERE c.status = 'cancelled') AS cancelled, count(*) FILTER (WHERE c.confirmed_at IS NOT NULL) AS confirmed
      FROM import_process p LEFT JOIN confirmation_request c ON c.process_id = p.id
      WHERE p.account_id = $1 AND ($2::bigint IS NULL OR p.id = $2) AND ${ASKS_CONFIRMATION}
      GROUP BY p.id ORDER BY p.id DESC LIMIT $3`, [accountId, processId, options.limit ?? null]);
    return rows.map(toConfirmationSummary);
  }

  async confirmationFailures(accountId: number, processId: number | null, options: { limit?: number } = {}): Promise<ConfirmationFailure[]> {
    const rows = await this.rows(`
      SELECT c.id, c.process_id, c.list_id, c.attempts, c.last_error, c.next_attempt_at, r.email
      FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id
      WHERE c.account_id = $1 AND ($2::bigint IS NULL OR c.process_id = $2) AND c.status = 'failed'
      ORDER BY c.id DESC LIMIT $3`, [accountId, processId, options.limit ?? null]);
    return rows.map(toConfirmationFailure);
  }

  async listConfirmationRequests(
    accountId: number, processId: number | null, options: { limit?: number; offset?: number } = {},
  ): Promise<ConfirmationRequestRow[]> {
    const rows = await this.rows(`
      SELECT c.*, r.email FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id
      WHERE c.account_id = $1 AND ($2::bigint IS NULL OR c.process_id = $2) ORDER BY c.id LIMIT $3 OFFSET $4`,
    [accountId, processId, options.limit ?? 100, options.offset ?? 0]);
    return rows.map(toConfirmationRequestRow);
  }

  async confirmSubscription(requestId: number, recipientId: number, listId: number, at: Date): Promise<ConfirmOutcome> {
    return this.tx(async (c): Promise<ConfirmOutcome> => {
      const owner = (await c.query<Row>('SELECT account_id FROM confirmation_request WHERE id = $1', [requestId])).rows[0];
      if (owner) await lockAccount(c, LOCK.subscribers, Number(owner.account_id));
      const request = (await c.query<Row>(`
        SELECT c.confirmed_at, r.email, l.name AS list_name FROM confirmation_request c
        JOIN recipient r ON r.id = c.recipient_id JOIN list l ON l.id = c.list_id
        WHERE c.id = $1 AND c.recipient_id = $2 AND c.list_id = $3`, [requestId, recipientId, listId])).rows[0];
      if (!request) return { result: 'not-found', email: null, listName: null, confirmedAt: null };
      const who = { email: request.email as string | null, listName: String(request.list_name) };
      if (request.confirmed_at !== null) return { result: 'already-confirmed', ...who, confirmedAt: optionalTimestamp(request.confirmed_at) };
      const subscription = (await c.query<Row>(`
        SELECT status FROM subscription WHERE recipient_id = $1 AND list_id = $2 AND channel = 'email'`, [recipientId, listId])).rows[0];
      if (!subscription) return { result: 'not-found', ...who, confirmedAt: null };
      if (subscription.status === 'unsubscribed') return { result: 'unsubscribed', ...who, confirmedAt: null };
      if (subscription.status === 'subscribed') return { result: 'already-subscribed', ...who, confirmedAt: null };
      await c.query(`
        UPDATE subscription SET status = 'subscribed', reason = NULL, confirmed_at = $1, updated_at = $1
        WHERE recipient_id = $2 AND list_id = $3 AND channel = 'email' AND status = 'pending'`, [at, recipientId, listId]);
      // Every request already delivered for this recipient and list asked the same question: all are answered.
      await c.query(`
        UPDATE confirmation_request SET confirmed_at = $1
        WHERE recipient_id = $2 AND list_id = $3 AND confirmed_at IS NULL AND (id = $4 OR status = 'sent')`, [at, recipientId, listId, requestId]);
      return { result: 'confirmed', ...who, confirmedAt: at };
    });
  }

  async writeOutbox(entry: NewOutboxMessage): Promise<number> {
    const written = await this.row(`
      INSERT INTO outbox (account_id, request_id, sender, recipient, subject, html, text) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (request_id) WHERE request_id IS NOT NULL DO NOTHING RETURNING id`,
    [entry.accountId, entry.requestId, entry.sender, entry.recipient, entry.subject, entry.html, entry.text]);
    if (written) return Number(written.id);
    return Number((await this.row('SELECT id FROM outbox WHERE request_id = $1', [entry.requestId]))!.id);
  }

  async listOutbox(accountId: number, options: { limit?: number; offset?: number } = {}): Promise<OutboxMessage[]> {
    return (await this.rows('SELECT * FROM outbox WHERE account_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3',
      [accountId, options.limit ?? 50, options.offset ?? 0])).map(toOutboxMessage);
  }

  // Console

  async consoleProcesses(accountId: number, query: ProcessPageQuery): Promise<KeysetPage<ProcessWithQueue>> {
    const status = { all: null, waiting: 1, running: 2, completed: 3, failed: 4 }[query.status];
    const backward = query.newerThan !== undefined;
    const cursor = backward ? query.newerThan! : query.olderThan ?? null;
    const rows = await this.rows(`
      SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p
      WHERE p.account_id = $1 AND ($2::smallint IS NULL OR p.status = $2)
        AND ($3::bigint[] IS NULL OR p.list_id = ANY($3::bigint[]))
        ${cursor === null ? '' : backward ? 'AND p.id > $5' : 'AND p.id < $5'}
      ORDER BY p.id ${backward ? 'ASC' : 'DESC'} LIMIT $4`,
    [accountId, status, query.listIds === null ? null : [...query.listIds], query.limit + 1, ...(cursor === null ? [] : [cursor])]);
    const more = rows.length > query.limit;
    const items = rows.slice(0, query.limit).map(toProcessWithQueue);
    if (!backward) return { items, hasNext: more, hasPrevious: cursor !== null };
    // Paging back to the start gives the first page, full, rather than a short one.
    if (!more) return this.consoleProcesses(accountId, { status: query.status, listIds: query.listIds, limit: query.limit });
    return { items: items.reverse(), hasNext: true, hasPrevious: true };
  }

  async listStats(accountId: number, listIds: readonly number[]): Promise<ListStats[]> {
    // One snapshot, so the list's and its groups' counts agree with each other.
    return this.snapshot(async (c) => {
      const lists = (await c.query<Row>('SELECT id FROM list WHERE account_id = $1 AND id = ANY($2::bigint[]) ORDER BY id', [accountId, [...listIds]]))
        .rows.map((r) => Number(r.id));
      const out: ListStats[] = [];
      for (const listId of lists) {
        const bySubscription = (await c.query<Row>('SELECT channel, status, count(*) AS n FROM subscription WHERE list_id = $1 GROUP BY channel, status', [listId])).rows;
        const recipients = Number((await c.query<Row>('SELECT count(DISTINCT recipient_id) AS n FROM subscription WHERE list_id = $1', [listId])).rows[0]!.n);
        const groups: ListStats['groups'][number][] = [];
        for (const g of (await c.query<Row>('SELECT id FROM "group" WHERE list_id = $1 ORDER BY id', [listId])).rows) {
          const members = Number((await c.query<Row>('SELECT count(*) AS n FROM membership WHERE group_id = $1', [g.id])).rows[0]!.n);
          const byGroup = (await c.query<Row>(`
            SELECT s.channel, s.status, count(*) AS n FROM membership m
            JOIN subscription s ON s.recipient_id = m.recipient_id AND s.list_id = $1
            WHERE m.group_id = $2 GROUP BY s.channel, s.status`, [listId, g.id])).rows;
          groups.push({ groupId: Number(g.id), members, counts: toChannelCounts(byGroup) });
        }
        out.push({ listId, counts: toChannelCounts(bySubscription), recipients, groups });
      }
      return out;
    });
  }

  async getGroup(accountId: number, groupId: number): Promise<Group | null> {
    const r = await this.row('SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = $1 AND l.account_id = $2', [groupId, accountId]);
    return r ? toGroup(r) : null;
  }

  async renameGroup(accountId: number, groupId: number, name: string): Promise<GroupRename> {
    try {
      return await this.tx(async (c): Promise<GroupRename> => {
        const group = (await c.query<Row>(
          'SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = $1 AND l.account_id = $2 FOR UPDATE OF g', [groupId, accountId],
        )).rows[0];
        if (!group) return { ok: false, reason: 'not-found' };
        // Group names are unique per list without regard to (ASCII) case.
        const twin = await c.query('SELECT 1 FROM "group" WHERE list_id = $1 AND ascii_lower(name) = ascii_lower($2) AND id <> $3', [group.list_id, name, groupId]);
        if (twin.rowCount !== 0) return { ok: false, reason: 'duplicate' };
        return { ok: true, group: toGroup((await c.query<Row>('UPDATE "group" SET name = $1 WHERE id = $2 RETURNING *', [name, groupId])).rows[0]!) };
      });
    } catch (err) {
      // A twin created at the same moment.
      if (pgError(err).constraint === 'group_list_name') return { ok: false, reason: 'duplicate' };
      throw err;
    }
  }

  async searchRecipients(accountId: number, filter: RecipientFilter, page: RecipientPageQuery): Promise<KeysetPage<RecipientSummary>> {
    const plan = await this.recipientSearchPlan(accountId, filter);
    if (plan === null) return { items: [], hasNext: false, hasPrevious: false };
    const after = cursorKeyFor(page.after, plan);
    const before = after === null ? cursorKeyFor(page.before, plan) : null;
    const backward = before !== null;
    const keys = await plan.fetch(backward ? before : after, backward, page.limit + 1);
    const more = keys.length > page.limit;
    if (backward && !more) return this.searchRecipients(accountId, filter, { limit: page.limit });
    const found = keys.slice(0, page.limit);
    if (backward) found.reverse();
    const ids = found.map((k) => k.id);
    const people = await this.rows('SELECT id, email, mobile, name FROM recipient WHERE id = ANY($1::bigint[])', [ids]);
    const subscriptions = await this.rows(`
      SELECT recipient_id, list_id, channel, status FROM subscription WHERE recipient_id = ANY($1::bigint[]) ORDER BY list_id, channel`, [ids]);
    const items = toRecipientSummaries(found, people, subscriptions);
    return backward ? { items, hasNext: true, hasPrevious: true } : { items, hasNext: more, hasPrevious: after !== null };
  }

  /**
   * How to page through a recipient search (the SQLite adapter's plans): which index drives it
   * (the e-mail or mobile index for a prefix, a group's members, a list's subscriptions, or the
   * account's recipients) and which conditions are checked per candidate. Null when the filter
   * can match nothing.
   */
  private async recipientSearchPlan(accountId: number, filter: RecipientFilter): Promise<RecipientSearchPlan | null> {
    let listId = filter.listId ?? null;
    if (filter.groupId !== undefined) {
      const group = await this.row('SELECT g.list_id FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = $1 AND l.account_id = $2',
        [filter.groupId, accountId]);
      if (!group || (listId !== null && Number(group.list_id) !== listId)) return null;
      listId = Number(group.list_id);
    } else if (listId !== null && !(await this.getList(accountId, listId))) {
      return null;
    }
    const channel = filter.channel ?? null;
    const status = filter.status ?? null;
    /** One query's parameters, numbered as they are used. */
    const query = (): { values: unknown[]; p: (v: unknown) => string } => {
      const values: unknown[] = [];
      return { values, p: (v) => `$${values.push(v)}` };
    };
    // Per-candidate checks on recipient r (only those the driving index does not already ensure).
    const checks = (q: ReturnType<typeof query>, drivenByGroup: boolean): string => {
      const out: string[] = [];
      if (!drivenByGroup && filter.groupId !== undefined) {
        out.push(`EXISTS (SELECT 1 FROM membership m WHERE m.recipient_id = r.id AND m.group_id = ${q.p(filter.groupId)})`);
      }
      if (listId !== null || channel !== null || status !== null) {
        const conditions = [
          ...(listId !== null ? [`s.list_id = ${q.p(listId)}`] : []),
          ...(channel !== null ? [`s.channel = ${q.p(channel)}`] : []),
          ...(status !== null ? [`s.status = ${q.p(status)}`] : []),
        ];
        out.push(`EXISTS (SELECT 1 FROM subscription s WHERE s.recipient_id = r.id AND ${conditions.join(' AND ')})`);
      }
      return out.map((c) => ` AND ${c}`).join('');
    };
    const idKey = (rows: Row[]): SearchKey[] => rows.map((r) => ({ id: Number(r.id), key: ['i', Number(r.id)] }));
    const isId = (key: readonly unknown[]): boolean => key.length === 2 && Number.isSafeInteger(key[1]);
    const order = (backward: boolean): string => (backward ? 'DESC' : 'ASC');
    const op = (backward: boolean): string => (backward ? '<' : '>');
    // Strings starting with the prefix: bytewise (the columns' C collation), as SQLite compares them.
    const startsWith = (q: ReturnType<typeof query>, column: string, prefix: string): string =>
      `${column} >= ${q.p(prefix)} AND ${column} < ${q.p(`${prefix}\u{10FFFF}`)}`;

    if (filter.emailPrefix !== undefined) {
      const prefix = filter.emailPrefix;
      return {
        mode: 'e',
        validKey: (key) => key.length === 2 && typeof key[1] === 'string',
        fetch: async (cursor, backward, limit) => {
          const q = query();
          const rows = await this.rows(`
            SELECT r.id, r.email FROM recipient r
            WHERE r.account_id = ${q.p(accountId)} AND r.email IS NOT NULL AND ${startsWith(q, 'r.email', prefix)}
              ${cursor === null ? '' : `AND r.email ${op(backward)} ${q.p(cursor[1])}`}${checks(q, false)}
            ORDER BY r.email ${order(backward)} LIMIT ${q.p(limit)}`, q.values);
          return rows.map((r) => ({ id: Number(r.id), key: ['e', String(r.email)] }));
        },
      };
    }
    if (filter.mobilePrefix !== undefined) {
      const prefix = filter.mobilePrefix;
      return {
        mode: 'm',
        validKey: (key) => key.length === 3 && typeof key[1] === 'string' && Number.isSafeInteger(key[2]),
        fetch: async (cursor, backward, limit) => {
          const q = query();
          const rows = await this.rows(`
            SELECT r.id, r.mobile FROM recipient r
            WHERE r.account_id = ${q.p(accountId)} AND r.mobile IS NOT NULL AND ${startsWith(q, 'r.mobile', prefix)}
              ${cursor === null ? '' : `AND (r.mobile, r.id) ${op(backward)} (${q.p(cursor[1])}::text, ${q.p(cursor[2])}::bigint)`}${checks(q, false)}
            ORDER BY r.mobile ${order(backward)}, r.id ${order(backward)} LIMIT ${q.p(limit)}`, q.values);
          return rows.map((r) => ({ id: Number(r.id), key: ['m', String(r.mobile), Number(r.id)] }));
        },
      };
    }
    if (filter.groupId !== undefined) {
      const groupId = filter.groupId;
      return {
        mode: 'i', validKey: isId,
        fetch: async (cursor, backward, limit) => {
          const q = query();
          return idKey(await this.rows(`
            SELECT m.recipient_id AS id FROM membership m JOIN recipient r ON r.id = m.recipient_id
            WHERE m.group_id = ${q.p(groupId)} ${cursor === null ? '' : `AND m.recipient_id ${op(backward)} ${q.p(cursor[1])}`}${checks(q, true)}
            ORDER BY m.recipient_id ${order(backward)} LIMIT ${q.p(limit)}`, q.values));
        },
      };
    }
    if (listId !== null && status === null) {
      return {
        mode: 'i', validKey: isId,
        fetch: async (cursor, backward, limit) => {
          const q = query();
          return idKey(await this.rows(`
            SELECT recipient_id AS id FROM subscription
            WHERE list_id = ${q.p(listId)} ${channel === null ? '' : `AND channel = ${q.p(channel)}`}
              ${cursor === null ? '' : `AND recipient_id ${op(backward)} ${q.p(cursor[1])}`}
            GROUP BY recipient_id ORDER BY recipient_id ${order(backward)} LIMIT ${q.p(limit)}`, q.values));
        },
      };
    }
    if (listId !== null) {
      // A status: one range of the (list_id, channel, status, recipient_id) index per channel, merged.
      const channels: Channel[] = channel !== null ? [channel] : ['email', 'sms'];
      return {
        mode: 'i', validKey: isId,
        fetch: async (cursor, backward, limit) => {
          const ids = new Set<number>();
          for (const c of channels) {
            const q = query();
            const rows = await this.rows(`
              SELECT recipient_id AS id FROM subscription
              WHERE list_id = ${q.p(listId)} AND channel = ${q.p(c)} AND status = ${q.p(status)}
                ${cursor === null ? '' : `AND recipient_id ${op(backward)} ${q.p(cursor[1])}`}
              ORDER BY recipient_id ${order(backward)} LIMIT ${q.p(limit)}`, q.values);
            for (const r of rows) ids.add(Number(r.id));
          }
          const sorted = [...ids].sort((a, b) => (backward ? b - a : a - b)).slice(0, limit);
          return sorted.map((id) => ({ id, key: ['i', id] }));
        },
      };
    }
    return {
      mode: 'i', validKey: isId,
      fetch: async (cursor, backward, limit) => {
        const q = query();
        return idKey(await this.rows(`
          SELECT r.id FROM recipient r
          WHERE r.account_id = ${q.p(accountId)} ${cursor === null ? '' : `AND r.id ${op(backward)} ${q.p(cursor[1])}`}${checks(q, false)}
          ORDER BY r.id ${order(backward)} LIMIT ${q.p(limit)}`, q.values));
      },
    };
  }

  async recipientDetail(accountId: number, recipientId: number): Promise<RecipientDetail | null> {
    return this.snapshot(async (c): Promise<RecipientDetail | null> => {
      const r = (await c.query<Row>('SELECT * FROM recipient WHERE id = $1 AND account_id = $2', [recipientId, accountId])).rows[0];
      if (!r) return null;
      const subscriptions = (await c.query<Row>('SELECT * FROM subscription WHERE recipient_id = $1 ORDER BY list_id, channel', [recipientId])).rows
        .map(toRecipientSubscription);
      const groups = (await c.query<Row>(`
        SELECT g.* FROM membership m JOIN "group" g ON g.id = m.group_id WHERE m.recipient_id = $1 ORDER BY g.list_id, g.id`, [recipientId]))
        .rows.map(toGroup);
      const imports = (await c.query<Row>(`
        SELECT p.id, p.list_id, p.status, p.created_at, p.end_date FROM import_process p
        WHERE p.account_id = $1 AND p.id IN (
          SELECT process_id FROM subscription WHERE recipient_id = $2 AND process_id IS NOT NULL
          UNION SELECT process_id FROM confirmation_request WHERE recipient_id = $2)
        ORDER BY p.id DESC`, [accountId, recipientId])).rows.map(toRecipientImport);
      const confirmations = (await c.query<Row>(`
        SELECT * FROM confirmation_request WHERE recipient_id = $1 AND account_id = $2 ORDER BY id DESC LIMIT 200`, [recipientId, accountId]))
        .rows.map(toRecipientConfirmation);
      return toRecipientDetail(r, { subscriptions, groups, imports, confirmations });
    });
  }

  async exportList(accountId: number, listId: number): Promise<ListExport | null> {
    if (!(await this.getList(accountId, listId))) return null;
    // One row per recipient: its e-mail subscription, or its SMS one when it has no e-mail one.
    const from = 'FROM subscription k JOIN recipient r ON r.id = k.recipient_id';
    const where = `WHERE k.list_id = $1 AND (k.channel = 'email' OR NOT EXISTS (
      SELECT 1 FROM subscription e WHERE e.recipient_id = k.recipient_id AND e.list_id = k.list_id AND e.channel = 'email'))`;
    const reader = await SnapshotReader.open(this.pool);
    try {
      const fieldNumbers = (await reader.client.query<Row>(`SELECT DISTINCT j.key::int AS k ${from}, jsonb_object_keys(r.fields) AS j(key) ${where}`, [listId]))
        .rows.map((r) => Number(r.k)).sort((a, b) => a - b);
      const rows = reader.stream(`
        SELECT r.id, r.email, r.mobile, r.name, r.fields, r.created_at, r.updated_at,
          (SELECT status FROM subscription e WHERE e.recipient_id = r.id AND e.list_id = $1 AND e.channel = 'email') AS email_status,
          (SELECT status FROM subscription e WHERE e.recipient_id = r.id AND e.list_id = $1 AND e.channel = 'sms') AS sms_status
        ${from} ${where} ORDER BY k.recipient_id`, [listId], toListExportRow);
      return { fieldNumbers, rows, close: () => reader.close() };
    } catch (err) {
      reader.close();
      throw err;
    }
  }

  async rejectReportPage(accountId: number, processId: number, query: { afterRow?: number; limit: number }): Promise<KeysetPage<RejectReportRow>> {
    const rows = await this.rows(`
      SELECT r.* FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = $1 AND p.account_id = $2 AND r.row_no > $3 ORDER BY r.row_no LIMIT $4`,
    [processId, accountId, query.afterRow ?? 0, query.limit + 1]);
    return {
      items: rows.slice(0, query.limit).map(toRejectRow), hasNext: rows.length > query.limit, hasPrevious: (query.afterRow ?? 0) > 0,
    };
  }

  async streamRejectReport(accountId: number, processId: number): Promise<AsyncIterable<RejectReportRow> | null> {
    if (!(await this.row('SELECT 1 FROM import_process WHERE id = $1 AND account_id = $2', [processId, accountId]))) return null;
    const pool = this.pool;
    // The snapshot is taken when the rows are first read, so an unread stream holds nothing.
    return (async function* rows(): AsyncGenerator<RejectReportRow> {
      const reader = await SnapshotReader.open(pool);
      yield* reader.stream('SELECT * FROM import_reject WHERE process_id = $1 ORDER BY row_no', [processId], toRejectRow);
    })();
  }

  async outboxPage(accountId: number, query: { olderThan?: number; newerThan?: number; limit: number }): Promise<KeysetPage<OutboxMessage>> {
    const backward = query.newerThan !== undefined;
    const cursor = backward ? query.newerThan! : query.olderThan ?? null;
    const rows = await this.rows(`
      SELECT * FROM outbox WHERE account_id = $1 ${cursor === null ? '' : backward ? 'AND id > $3' : 'AND id < $3'}
      ORDER BY id ${backward ? 'ASC' : 'DESC'} LIMIT $2`, [accountId, query.limit + 1, ...(cursor === null ? [] : [cursor])]);
    const more = rows.length > query.limit;
    const items = rows.slice(0, query.limit).map(toOutboxMessage);
    if (!backward) return { items, hasNext: more, hasPrevious: cursor !== null };
    if (!more) return this.outboxPage(accountId, { limit: query.limit });
    return { items: items.reverse(), hasNext: true, hasPrevious: true };
  }

  async getOutboxMessage(accountId: number, id: number): Promise<OutboxMessage | null> {
    const r = await this.row('SELECT * FROM outbox WHERE id = $1 AND account_id = $2', [id, accountId]);
    return r ? toOutboxMessage(r) : null;
  }

  async createConsoleSession(s: NewConsoleSession): Promise<void> {
    await this.rows(`
      INSERT INTO console_session (id_hash, user_id, account_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
      VALUES ($1, $2, $3, $4, now(), now(), $5, $6, $7)`,
    [s.idHash, s.userId, s.accountId, s.csrfToken, s.expiresAt.getTime(), s.ip, s.userAgent.slice(0, 300)]);
  }

  async findConsoleSession(idHash: string, at: Date): Promise<{ session: ConsoleSession; user: ConsoleUser } | null> {
    const r = await this.row(`
      SELECT s.*, u.id AS u_id, u.account_id AS u_account_id, u.username, u.password_hash, u.list_ids
      FROM console_session s JOIN console_user u ON u.id = s.user_id AND u.account_id = s.account_id
      WHERE s.id_hash = $1 AND s.expires_at > $2`, [idHash, at.getTime()]);
    return r ? toConsoleSessionAndUser(r) : null;
  }

  async touchConsoleSession(idHash: string, expiresAt: Date, at: Date): Promise<void> {
    await this.rows('UPDATE console_session SET expires_at = $1, last_seen_at = $2 WHERE id_hash = $3', [expiresAt.getTime(), at, idHash]);
  }

  async deleteConsoleSession(idHash: string): Promise<void> {
    await this.rows('DELETE FROM console_session WHERE id_hash = $1', [idHash]);
  }

  async deleteExpiredConsoleSessions(at: Date): Promise<number> {
    return (await this.pool.query('DELETE FROM console_session WHERE expires_at <= $1', [at.getTime()])).rowCount ?? 0;
  }

  /** Several reads that must agree with each other: one read-only snapshot. */
  private async snapshot<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
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

  // Operations

  async ping(): Promise<void> {
    await this.rows('SELECT 1', []);
  }

  async processStatusCounts(): Promise<{ byStatus: Record<1 | 2 | 3 | 4, number>; queued: number }> {
    const byStatus: Record<1 | 2 | 3 | 4, number> = { 1: 0, 2: 0, 3: 0, 4: 0 };
    let queued = 0;
    for (const r of await this.rows('SELECT status, queued_seq IS NOT NULL AS queued, count(*) AS n FROM import_process GROUP BY 1, 2', [])) {
      byStatus[Number(r.status) as 1] += Number(r.n);
      if (flag(r.queued)) queued += Number(r.n);
    }
    return { byStatus, queued };
  }

  // Settings

  async getSetting(key: string): Promise<string | null> {
    const r = await this.row('SELECT value FROM setting WHERE key = $1', [key]);
    return r ? String(r.value) : null;
  }

  async setSettingIfAbsent(key: string, value: string): Promise<string> {
    await this.rows('INSERT INTO setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.getSetting(key))!;
  }


  async close(): Promise<void> {
    await this.pool.end();
  }
}

// Console helpers

interface RecipientSearchPlan {
  /** i: by id; e: by e-mail; m: by mobile, then id. */
  readonly mode: 'i' | 'e' | 'm';
  readonly validKey: (key: readonly unknown[]) => boolean;
  /** Up to `limit` rows after (or, backward, before) the cursor, in the direction's order. */
  readonly fetch: (cursor: readonly unknown[] | null, backward: boolean, limit: number) => Promise<SearchKey[]>;
}

/**
 * One long read (an export, a whole reject report) on a pooled connection of its own, in one
 * read-only snapshot, fetched through a cursor a page at a time so neither side holds it whole.
 * The connection goes back to the pool when the rows end, the reader leaves the loop, or `close`.
 */
class SnapshotReader {
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
