/**
 * The embedded store: one SQLite file through better-sqlite3 (WAL). Every multi-statement change
 * runs in a synchronous better-sqlite3 transaction, so nothing else on the one connection can
 * interleave with it; the async Store methods only wrap those calls.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { dropEmpty, insertedRecipientKey, newRecipientKey } from '../batch-merge.ts';
import { decodeFeedChunk, encodeFeedChunk } from '../feed-chunk.ts';
import {
  flag, optionalTimestamp, toAccount, toChannelCounts, toClaimedConfirmation, toConfirmationFailure, toConfirmationMessage,
  toConfirmationRequestRow, toConfirmationSummary, toConsoleSessionAndUser, toConsoleUser, toGroup, toList, toListExportRow,
  toOutboxMessage, toPriorRecipient, toProcess, toProcessWithQueue, toRecipientConfirmation, toRecipientDetail, toRecipientImport, toRecipientSubscription,
  toRecipientSummaries, toRejectRow, type Row,
} from '../row-mappers.ts';
import { PROCESS_COLUMNS, PROCESS_WITH_QUEUE_COLUMNS, UNSENT } from '../process-sql.ts';
import { cursorKeyFor, type SearchKey } from '../search-cursor.ts';
import {
  emailKey, LeaseLostError, mobileKey, type ClaimedConfirmation, type ConfirmationFailure, type ConfirmationMessage,
  type ConfirmationOutcome, type ConfirmationRequestRow, type ConfirmationSummary, type ConfirmOutcome, type NewAccount, type NewConfirmationMessage,
  type NewOutboxMessage, type OutboxMessage, type Store,
  type ConsoleSession, type GroupRename, type KeysetPage, type ListExport, type ListExportRow,
  type ListStats, type NewConsoleSession, type ProcessPageQuery, type RecipientDetail, type RecipientFilter,
  type RecipientPageQuery, type RecipientSummary,
} from '../store.ts';
import type {
  Account, AccountChanges, BatchKeys, BatchPlan, ConsoleUser, Feed, FeedRow, FeedWriter, Group, ImportOptions,
  ImportProcess, Lease, ListWithGroups, MailingList, PriorRecipient, ProcessWithQueue, RejectReportRow, StartOutcome,
  Channel,
} from '../types.ts';
import { applyMigrations } from './migrate.ts';
import { prepare, type Statement } from './prepare.ts';

const now = (): string => new Date().toISOString();
/** How many inline statements a store keeps prepared (see `prepare` below). */
const MAX_CACHED_STATEMENTS = 256;


export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmt;
  /**
   * Statements of the queries written inline below, prepared on first use: preparing parses and
   * plans the SQL, which costs more than running most of these queries. Only this connection
   * runs them, one at a time (none is left iterating), so sharing a statement is safe. SQL built
   * with varying parts (filters, SET lists) has a few forms each; the cap bounds it anyway.
   */
  private readonly statements = new Map<string, Statement>();
  private readonly prepare = (sql: string): Statement => {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = prepare(this.db, sql);
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  };


  /**
   * @param options.maxSize caps the file (bytes): past it writes fail with SQLITE_FULL, as on a
   *   full disk, and the import that hit it ends in status 4.
   */
  constructor(path: string, options: { maxSize?: number | null } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('cache_size = -65536');
    applyMigrations(this.db);
    if (options.maxSize) {
      const pageSize = Number(this.db.pragma('page_size', { simple: true }));
      this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxSize / pageSize))}`);
    }
    // Named statements are prepared once, at start-up, so a typo fails on boot.
    const named = (sql: string): Statement => prepare(this.db, sql);
    this.stmt = {
      accountById: named('SELECT * FROM account WHERE id = ?'),
      accountByUser: named('SELECT * FROM account WHERE ws_user = ?'),
      listById: named('SELECT * FROM list WHERE id = ? AND account_id = ?'),
      groupsOfList: named('SELECT * FROM "group" WHERE list_id = ? ORDER BY id'),
      processById: named(`SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.id = ? AND p.account_id = ?`),
      processByIdAny: named(`SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.id = ?`),
      feedChunk: named('SELECT rows, first_row FROM feed_chunk WHERE feed_id = ? AND first_row <= ? ORDER BY chunk_no DESC LIMIT 1'),
      insertChunk: named('INSERT INTO feed_chunk (feed_id, chunk_no, first_row, row_count, rows) VALUES (?, ?, ?, ?, ?)'),
      leaseHeld: named('SELECT list_id FROM import_process WHERE id = ? AND lease_owner = ? AND status = 2'),
      // CROSS JOIN keeps the batch's keys as the outer loop: one index lookup per key, never a scan.
      priorByEmail: named(`
        SELECT r.id, r.email, r.mobile, se.status AS e_status, se.reason AS e_reason, ss.status AS s_status, ss.reason AS s_reason
        FROM json_each(?) k
        CROSS JOIN recipient r ON r.account_id = ? AND r.email = k.value
        LEFT JOIN subscription se ON se.recipient_id = r.id AND se.list_id = ? AND se.channel = 'email'
        LEFT JOIN subscription ss ON ss.recipient_id = r.id AND ss.list_id = ? AND ss.channel = 'sms'`),
      priorByMobile: named(`
        SELECT r.id, r.email, r.mobile, se.status AS e_status, se.reason AS e_reason, ss.status AS s_status, ss.reason AS s_reason
        FROM json_each(?) k
        CROSS JOIN recipient r ON r.id = (SELECT min(id) FROM recipient WHERE account_id = ? AND mobile = k.value)
        LEFT JOIN subscription se ON se.recipient_id = r.id AND se.list_id = ? AND se.channel = 'email'
        LEFT JOIN subscription ss ON ss.recipient_id = r.id AND ss.list_id = ? AND ss.channel = 'sms'`),
      insertRecipients: named(`
        INSERT INTO recipient (account_id, email, mobile, name, fields, created_at, updated_at)
        SELECT ?, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, ?, ? FROM json_each(?) j
        RETURNING id, email, mobile`),
      updateRecipients: named(`
        UPDATE recipient SET
          email = coalesce(j.value ->> 1, recipient.email),
          mobile = coalesce(j.value ->> 2, recipient.mobile),
          name = coalesce(j.value ->> 3, recipient.name),
          fields = json_patch(recipient.fields, j.value ->> 4),
          updated_at = ?
        FROM json_each(?) j WHERE recipient.id = j.value ->> 0`),
      upsertSubscriptions: named(`
        INSERT INTO subscription (recipient_id, list_id, channel, status, reason, process_id, updated_at)
        SELECT j.value ->> 0, ?, j.value ->> 1, j.value ->> 2, j.value ->> 3, ?, ? FROM json_each(?) j WHERE true
        ON CONFLICT (recipient_id, list_id, channel) DO UPDATE SET
          status = excluded.status, reason = excluded.reason, process_id = excluded.process_id, updated_at = excluded.updated_at`),
      joinGroups: named(`
        INSERT OR IGNORE INTO membership (recipient_id, group_id)
        SELECT r.value, g.value FROM json_each(?) r, json_each(?) g`),
      leaveOtherGroups: named(`
        DELETE FROM membership
        WHERE recipient_id IN (SELECT value FROM json_each(?))
          AND group_id IN (SELECT id FROM "group" WHERE list_id = ?)
          AND group_id NOT IN (SELECT value FROM json_each(?))`),
      queueConfirmations: named(`
        INSERT INTO confirmation_request (account_id, process_id, recipient_id, list_id, created_at)
        SELECT ?, ?, value, ?, ? FROM json_each(?)`),
      insertRejects: named(`
        INSERT OR REPLACE INTO import_reject (process_id, row_no, raw, reason)
        SELECT ?, j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?) j`),
      commitBatch: named(`
        UPDATE import_process SET checkpoint = ?,
          new_email = new_email + ?, new_mobile = new_mobile + ?, existing_email = existing_email + ?,
          existing_mobile = existing_mobile + ?, optout_email = optout_email + ?, optout_mobile = optout_mobile + ?,
          rejected = rejected + ?, lease_expires_at = ?
        WHERE id = ? AND lease_owner = ? AND status = 2`),
      claim: named(`
        UPDATE import_process SET lease_owner = ?, lease_expires_at = ?
        WHERE id = (SELECT id FROM import_process WHERE status = 2 AND (lease_owner IS NULL OR lease_expires_at < ?) ORDER BY id LIMIT 1)
        RETURNING id`),
      renew: named('UPDATE import_process SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 2'),
      release: named('UPDATE import_process SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?'),
      end: named(`
        UPDATE import_process SET status = ?, end_date = ?, failure_reason = ?, lease_owner = NULL, lease_expires_at = NULL
        WHERE id = ? AND lease_owner = ? AND status = 2`),
      promoteNext: named(`
        UPDATE import_process SET status = 2, start_date = ?, queued_seq = NULL
        WHERE id = (SELECT id FROM import_process WHERE account_id = ? AND status = 1 AND queued_seq IS NOT NULL ORDER BY queued_seq, id LIMIT 1)`),
    };
  }

  // Accounts and console users

  async createAccount(account: NewAccount): Promise<Account> {
    const tx = this.db.transaction(() => {
      const id = account.id ?? Number((this.prepare('SELECT coalesce(max(id), 1000) + 1 AS id FROM account').get() as Row).id);
      this.prepare('INSERT INTO account (id, ws_user, password_hash, ws_enabled, name, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, `a${id}`, account.passwordHash, account.wsEnabled === false ? 0 : 1, account.name, now());
      return id;
    });
    // IMMEDIATE: a transaction that reads before it writes must hold the write lock from the start,
    // or a commit by the import thread in between fails it at once with SQLITE_BUSY (the busy
    // timeout cannot help a snapshot that is already stale).
    return toAccount(this.stmt.accountById.get(tx.immediate()) as Row);
  }

  async getAccount(id: number): Promise<Account | null> {
    const r = this.stmt.accountById.get(id) as Row | undefined;
    return r ? toAccount(r) : null;
  }

  async findAccountByWsUser(wsUser: string): Promise<Account | null> {
    const r = this.stmt.accountByUser.get(wsUser) as Row | undefined;
    return r ? toAccount(r) : null;
  }

  async updateAccount(id: number, changes: AccountChanges): Promise<Account | null> {
    const sets: string[] = [];
    const values: unknown[] = [];
    const set = (column: string, value: unknown): void => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (changes.passwordHash !== undefined) set('password_hash', changes.passwordHash);
    if (changes.wsEnabled !== undefined) set('ws_enabled', changes.wsEnabled ? 1 : 0);
    if (changes.ipCheck !== undefined) set('ip_check', changes.ipCheck ? 1 : 0);
    if (changes.allowedIps !== undefined) set('allowed_ips', JSON.stringify(changes.allowedIps));
    if (changes.name !== undefined) set('name', changes.name);
    if (sets.length > 0) this.prepare(`UPDATE account SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    return this.getAccount(id);
  }

  async listAccounts(): Promise<Account[]> {
    return (this.prepare('SELECT * FROM account ORDER BY id').all() as Row[]).map(toAccount);
  }

  async createConsoleUser(accountId: number, username: string, passwordHash: string, listIds: readonly number[] | null = null): Promise<ConsoleUser> {
    const r = this.prepare(`
      INSERT INTO console_user (account_id, username, password_hash, list_ids, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *`)
      .get(accountId, username, passwordHash, listIds === null ? null : JSON.stringify(listIds), now()) as Row;
    return toConsoleUser(r);
  }

  async findConsoleUser(accountId: number, username: string): Promise<ConsoleUser | null> {
    const r = this.prepare('SELECT * FROM console_user WHERE account_id = ? AND username = ?').get(accountId, username) as Row | undefined;
    return r ? toConsoleUser(r) : null;
  }

  async getConsoleUser(accountId: number, id: number): Promise<ConsoleUser | null> {
    const r = this.prepare('SELECT * FROM console_user WHERE account_id = ? AND id = ?').get(accountId, id) as Row | undefined;
    return r ? toConsoleUser(r) : null;
  }

  // Lists and groups

  async createList(accountId: number, name: string, guid: string = randomUUID()): Promise<MailingList> {
    const r = this.prepare('INSERT INTO list (account_id, guid, name, created_at) VALUES (?, ?, ?, ?) RETURNING *')
      .get(accountId, guid.toLowerCase(), name, now()) as Row;
    return toList(r);
  }

  async renameList(accountId: number, listId: number, name: string): Promise<MailingList | null> {
    const r = this.prepare('UPDATE list SET name = ? WHERE id = ? AND account_id = ? RETURNING *').get(name, listId, accountId) as Row | undefined;
    return r ? toList(r) : null;
  }

  async getList(accountId: number, listId: number): Promise<MailingList | null> {
    const r = this.stmt.listById.get(listId, accountId) as Row | undefined;
    return r ? toList(r) : null;
  }

  async listLists(accountId: number, onlyListIds: readonly number[] | null = null): Promise<ListWithGroups[]> {
    const lists = (this.prepare('SELECT * FROM list WHERE account_id = ? ORDER BY id').all(accountId) as Row[]).map(toList)
      .filter((l) => onlyListIds === null || onlyListIds.includes(l.id));
    const groups = (this.prepare(`
      SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE l.account_id = ? ORDER BY g.id`).all(accountId) as Row[]).map(toGroup);
    return lists.map((l) => ({ ...l, groups: groups.filter((g) => g.listId === l.id) }));
  }

  async createGroup(listId: number, name: string): Promise<{ group: Group; created: boolean }> {
    const tx = this.db.transaction(() => {
      const existing = this.prepare('SELECT * FROM "group" WHERE list_id = ? AND name = ?').get(listId, name) as Row | undefined;
      if (existing) return { group: toGroup(existing), created: false };
      const r = this.prepare('INSERT INTO "group" (list_id, name, created_at) VALUES (?, ?, ?) RETURNING *').get(listId, name, now()) as Row;
      return { group: toGroup(r), created: true };
    });
    return tx.immediate();
  }

  async getGroups(listId: number): Promise<Group[]> {
    return (this.stmt.groupsOfList.all(listId) as Row[]).map(toGroup);
  }

  // Feeds and processes

  openFeedWriter(accountId: number): FeedWriter {
    let feedId: number | null = null;
    let chunkNo = 0;
    let totalRows = 0;
    const ensureFeed = (): number => {
      feedId ??= Number((this.prepare('INSERT INTO feed (account_id, created_at) VALUES (?, ?) RETURNING id').get(accountId, now()) as Row).id);
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
        this.prepare('UPDATE feed SET total_rows = ?, chunk_count = ?, complete = 1 WHERE id = ?').run(totalRows, chunkNo, id);
        return { id, accountId, totalRows, chunkCount: chunkNo };
      },
      abort: async () => {
        if (feedId === null) return;
        this.db.transaction(() => {
          this.prepare('DELETE FROM feed_chunk WHERE feed_id = ?').run(feedId);
          this.prepare('DELETE FROM feed WHERE id = ?').run(feedId);
        }).immediate();
      },
    };
  }

  async readFeedRows(feedId: number, fromRow: number): Promise<FeedRow[]> {
    const r = this.stmt.feedChunk.get(feedId, fromRow) as Row | undefined;
    if (!r) return [];
    return decodeFeedChunk(String(r.rows), Number(r.first_row), fromRow);
  }

  async createProcesses(
    accountId: number, feed: Feed, lists: readonly { listId: number; options: ImportOptions }[], options: { start: boolean },
  ): Promise<{ ok: true; processes: ImportProcess[] } | Extract<StartOutcome, { ok: false }>> {
    const insert = this.prepare(`
      INSERT INTO import_process (account_id, list_id, feed_id, options, created_at, total_contacts) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`);
    const tx = this.db.transaction(() => {
      if (options.start && lists.length > 0) {
        const busy = this.busyReason(accountId, lists[0]!.listId);
        if (busy) return { ok: false as const, reason: busy };
      }
      const ids = lists.map((l) => Number((insert.get(accountId, l.listId, feed.id, JSON.stringify(l.options), now(), feed.totalRows) as Row).id));
      if (options.start) this.markStarted(ids);
      return { ok: true as const, processes: ids.map((id) => toProcess(this.stmt.processById.get(id, accountId) as Row)) };
    });
    return tx.immediate();
  }

  /** Why the account cannot start an import on `listId` now, or null when it can. */
  private busyReason(accountId: number, listId: number): 'busy-same-list' | 'busy-other-list' | null {
    const busy = this.prepare(`
      SELECT list_id FROM import_process WHERE account_id = ? AND (status = 2 OR queued_seq IS NOT NULL)
      ORDER BY status DESC, id LIMIT 1`).get(accountId) as Row | undefined;
    if (!busy) return null;
    return Number(busy.list_id) === listId ? 'busy-same-list' : 'busy-other-list';
  }

  /** The first process runs now; the others wait their turn, in this order. */
  private markStarted(ids: readonly number[]): void {
    const seq = Date.now();
    ids.forEach((id, i) => {
      if (i === 0) this.prepare('UPDATE import_process SET status = 2, start_date = ? WHERE id = ?').run(now(), id);
      else this.prepare('UPDATE import_process SET queued_seq = ? WHERE id = ?').run(seq + i, id);
    });
  }

  async getProcess(accountId: number, processId: number): Promise<ImportProcess | null> {
    const r = this.stmt.processById.get(processId, accountId) as Row | undefined;
    return r ? toProcess(r) : null;
  }

  async listProcesses(accountId: number, options: { limit?: number; offset?: number } = {}): Promise<ProcessWithQueue[]> {
    return (this.prepare(`SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p WHERE p.account_id = ? ORDER BY p.id DESC LIMIT ? OFFSET ?`)
      .all(accountId, options.limit ?? 50, options.offset ?? 0) as Row[]).map(toProcessWithQueue);
  }

  async startProcesses(accountId: number, processIds: readonly number[]): Promise<StartOutcome> {
    const tx = this.db.transaction((): StartOutcome => {
      const rows = processIds.map((id) => this.prepare('SELECT * FROM import_process WHERE id = ? AND account_id = ?').get(id, accountId) as Row | undefined);
      if (rows.some((r) => r === undefined)) return { ok: false, reason: 'not-found' };
      if (rows.some((r) => Number(r!.status) !== 1 || r!.queued_seq !== null)) return { ok: false, reason: 'not-startable' };
      const busy = this.busyReason(accountId, Number(rows[0]!.list_id));
      if (busy) return { ok: false, reason: busy };
      this.markStarted(processIds);
      return { ok: true };
    });
    return tx.immediate();
  }

  async pendingProcessIds(accountId: number): Promise<number[]> {
    return (this.prepare('SELECT id FROM import_process WHERE account_id = ? AND status = 1 AND queued_seq IS NULL ORDER BY id')
      .all(accountId) as Row[]).map((r) => Number(r.id));
  }

  // Worker side

  async claimProcess(owner: string, leaseMs: number): Promise<Lease | null> {
    const t = Date.now();
    const r = this.stmt.claim.get(owner, t + leaseMs, t) as Row | undefined;
    if (!r) return null;
    return { process: toProcess(this.stmt.processByIdAny.get(r.id) as Row), owner, leaseMs };
  }

  async renewLease(lease: Lease): Promise<boolean> {
    return this.stmt.renew.run(Date.now() + lease.leaseMs, lease.process.id, lease.owner).changes === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.stmt.release.run(lease.process.id, lease.owner);
  }

  async mergeBatch(
    lease: Lease,
    keys: BatchKeys,
    lastRow: number,
    plan: (prior: ReadonlyMap<string, PriorRecipient>) => BatchPlan,
  ): Promise<ImportProcess> {
    const p = lease.process;
    const tx = this.db.transaction(() => {
      if (!this.stmt.leaseHeld.get(p.id, lease.owner)) throw new LeaseLostError(p.id);
      const prior = new Map<string, PriorRecipient>();
      if (keys.emails.length > 0) {
        for (const r of this.stmt.priorByEmail.all(JSON.stringify(keys.emails), p.accountId, p.listId, p.listId) as Row[]) {
          prior.set(emailKey(String(r.email)), toPriorRecipient(r));
        }
      }
      if (keys.mobiles.length > 0) {
        for (const r of this.stmt.priorByMobile.all(JSON.stringify(keys.mobiles), p.accountId, p.listId, p.listId) as Row[]) {
          prior.set(mobileKey(String(r.mobile)), toPriorRecipient(r));
        }
      }
      const batch = plan(prior);
      const t = now();
      // Recipients: new ones inserted in one statement, existing ones updated in one.
      const ids: number[] = new Array(batch.recipients.length);
      const fresh: unknown[] = [];
      const freshIndex = new Map<string, number>();
      const updates: unknown[] = [];
      batch.recipients.forEach((r, i) => {
        if (r.id === null) {
          fresh.push([r.email, r.mobile, r.name, JSON.stringify(dropEmpty(r.fields))]);
          freshIndex.set(newRecipientKey(r), i);
        } else {
          ids[i] = r.id;
          updates.push([r.id, r.email, r.mobile, r.name, JSON.stringify(r.fields)]);
        }
      });
      if (fresh.length > 0) {
        for (const row of this.stmt.insertRecipients.all(p.accountId, t, t, JSON.stringify(fresh)) as Row[]) {
          ids[freshIndex.get(insertedRecipientKey(row))!] = Number(row.id);
        }
      }
      if (updates.length > 0) this.stmt.updateRecipients.run(t, JSON.stringify(updates));
      // Subscriptions, groups and confirmation requests, each in one statement.
      const subscriptions: unknown[] = [];
      const confirmations: number[] = [];
      const joining: number[] = [];
      batch.recipients.forEach((r, i) => {
        for (const s of r.subscriptions) {
          subscriptions.push([ids[i], s.channel, s.status, s.reason]);
          if (s.requestConfirmation) confirmations.push(ids[i]!);
        }
        if (r.joinGroups) joining.push(ids[i]!);
      });
      if (subscriptions.length > 0) this.stmt.upsertSubscriptions.run(p.listId, p.id, t, JSON.stringify(subscriptions));
      const groups = JSON.stringify(p.options.groupIds);
      if (joining.length > 0) {
        if (p.options.replaceGroups) this.stmt.leaveOtherGroups.run(JSON.stringify(joining), p.listId, groups);
        if (p.options.groupIds.length > 0) this.stmt.joinGroups.run(JSON.stringify(joining), groups);
      }
      if (confirmations.length > 0) this.stmt.queueConfirmations.run(p.accountId, p.id, p.listId, t, JSON.stringify(confirmations));
      if (batch.rejects.length > 0) {
        this.stmt.insertRejects.run(p.id, JSON.stringify(batch.rejects.map((r) => [r.row, r.raw, r.reason])));
      }
      const c = batch.counters;
      const changed = this.stmt.commitBatch.run(
        lastRow, c.newEmail, c.newMobile, c.existingEmail, c.existingMobile, c.optOutEmail, c.optOutMobile,
        batch.rejects.length, Date.now() + lease.leaseMs, p.id, lease.owner,
      ).changes;
      if (changed !== 1) throw new LeaseLostError(p.id);
      return toProcess(this.stmt.processByIdAny.get(p.id) as Row);
    });
    return tx.immediate();
  }

  async finishProcess(lease: Lease): Promise<void> {
    this.endProcess(lease, 3, null);
  }

  async failProcess(lease: Lease, reason: string): Promise<void> {
    this.endProcess(lease, 4, reason);
  }

  private endProcess(lease: Lease, status: 3 | 4, reason: string | null): void {
    this.db.transaction(() => {
      const t = now();
      if (this.stmt.end.run(status, t, reason, lease.process.id, lease.owner).changes !== 1) throw new LeaseLostError(lease.process.id);
      this.stmt.promoteNext.run(t, lease.process.accountId);
    }).immediate();
  }

  async rejectReport(accountId: number, processId: number, options: { limit?: number; offset?: number } = {}): Promise<RejectReportRow[]> {
    const rows = this.prepare(`
      SELECT r.* FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = ? AND p.account_id = ? ORDER BY r.row_no LIMIT ? OFFSET ?`)
      .all(processId, accountId, options.limit ?? -1, options.offset ?? 0) as Row[];
    return rows.map(toRejectRow);
  }

  async createConfirmationMessage(accountId: number, m: NewConfirmationMessage): Promise<number> {
    const r = this.prepare(`
      INSERT INTO confirmation_message (account_id, is_default, sender, subject, html, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`)
      .get(accountId, m.isDefault ? 1 : 0, m.sender, m.subject, m.html, m.text, now()) as Row;
    return Number(r.id);
  }

  async confirmationMessageExists(accountId: number, messageId: number): Promise<boolean> {
    return this.prepare('SELECT 1 FROM confirmation_message WHERE id = ? AND account_id = ?').get(messageId, accountId) !== undefined;
  }

  // Double opt-in

  async getConfirmationMessage(accountId: number, messageId: number): Promise<ConfirmationMessage | null> {
    const r = (messageId === 0
      ? this.prepare('SELECT * FROM confirmation_message WHERE account_id = ? AND is_default = 1 ORDER BY id DESC LIMIT 1').get(accountId)
      : this.prepare('SELECT * FROM confirmation_message WHERE account_id = ? AND id = ?').get(accountId, messageId)) as Row | undefined;
    return r ? toConfirmationMessage(r) : null;
  }

  async listConfirmationMessages(accountId: number): Promise<ConfirmationMessage[]> {
    return (this.prepare('SELECT * FROM confirmation_message WHERE account_id = ? ORDER BY id').all(accountId) as Row[]).map(toConfirmationMessage);
  }

  async setDefaultConfirmationMessage(accountId: number, messageId: number): Promise<boolean> {
    return this.db.transaction(() => {
      if (!this.prepare('SELECT 1 FROM confirmation_message WHERE account_id = ? AND id = ?').get(accountId, messageId)) return false;
      this.prepare('UPDATE confirmation_message SET is_default = (id = ?) WHERE account_id = ?').run(messageId, accountId);
      return true;
    }).immediate();
  }

  async requeueFailedConfirmations(accountId: number, processId: number | null): Promise<number> {
    return this.prepare(`
      UPDATE confirmation_request SET status = 'queued', next_attempt_at = NULL
      WHERE account_id = ? AND (? IS NULL OR process_id = ?) AND status = 'failed' AND next_attempt_at IS NULL`)
      .run(accountId, processId, processId).changes;
  }

  async claimConfirmations(
    accountId: number, processId: number | null, options: { readonly limit: number; readonly leaseMs: number; readonly now: Date },
  ): Promise<{ requests: ClaimedConfirmation[]; cancelled: number; settled: number[] }> {
    const t = options.now.getTime();
    // Due: queued, a transient failure whose time has come, or a claim whose Send Now died.
    const due = `account_id = @account AND (@process IS NULL OR process_id = @process)
      AND (status = 'queued' OR (status IN ('failed', 'sending') AND next_attempt_at IS NOT NULL AND next_attempt_at <= @now))`;
    const tx = this.db.transaction(() => {
      const cancelled = this.prepare(`
        UPDATE confirmation_request SET status = 'cancelled', next_attempt_at = NULL, last_error = CASE
            (SELECT s.status FROM subscription s WHERE s.recipient_id = confirmation_request.recipient_id
              AND s.list_id = confirmation_request.list_id AND s.channel = 'email')
            WHEN 'unsubscribed' THEN 'not sent: the recipient unsubscribed from the list'
            WHEN 'subscribed' THEN 'not sent: the recipient is already subscribed'
            ELSE 'not sent: the recipient is no longer in the list' END
        WHERE ${due} AND NOT EXISTS (SELECT 1 FROM subscription s WHERE s.recipient_id = confirmation_request.recipient_id
          AND s.list_id = confirmation_request.list_id AND s.channel = 'email' AND s.status = 'pending')
        RETURNING process_id`).all({ account: accountId, process: processId, now: t }) as Row[];
      const settled = this.settleProcesses(new Set(cancelled.map((r) => Number(r.process_id))), options.now);
      const ids = (this.prepare(`
        UPDATE confirmation_request SET status = 'sending', next_attempt_at = @until
        WHERE id IN (SELECT id FROM confirmation_request WHERE ${due} ORDER BY recipient_id, list_id, id LIMIT @limit)
        RETURNING id`).all({ account: accountId, process: processId, now: t, until: t + options.leaseMs, limit: options.limit }) as Row[])
        .map((r) => Number(r.id));
      const requests = (this.prepare(`
        SELECT c.id, c.process_id, c.recipient_id, c.list_id, c.attempts, l.name AS list_name, r.email, r.name, r.fields,
          coalesce(json_extract(p.options, '$.idConfirmNL'), 0) AS message_id
        FROM json_each(?) k
        JOIN confirmation_request c ON c.id = k.value
        JOIN recipient r ON r.id = c.recipient_id
        JOIN list l ON l.id = c.list_id
        JOIN import_process p ON p.id = c.process_id
        ORDER BY c.recipient_id, c.list_id, c.id`).all(JSON.stringify(ids)) as Row[]).map(toClaimedConfirmation);
      return { requests, cancelled: cancelled.length, settled };
    });
    return tx.immediate();
  }

  async completeConfirmations(requestIds: readonly number[], outcome: ConfirmationOutcome): Promise<number[]> {
    if (requestIds.length === 0) return [];
    const ids = JSON.stringify(requestIds);
    return this.db.transaction(() => {
      const touched = (outcome.status === 'sent'
        ? this.prepare(`
            UPDATE confirmation_request SET status = 'sent', sent_at = ?, attempts = attempts + ?, next_attempt_at = NULL, last_error = NULL
            WHERE id IN (SELECT value FROM json_each(?)) RETURNING process_id`).all(outcome.at.toISOString(), outcome.attempts, ids)
        : this.prepare(`
            UPDATE confirmation_request SET status = 'failed', last_error = ?, attempts = attempts + ?, next_attempt_at = ?
            WHERE id IN (SELECT value FROM json_each(?)) RETURNING process_id`)
          .all(outcome.error, outcome.attempts, outcome.retryAt === null ? null : outcome.retryAt.getTime(), ids)) as Row[];
      return outcome.status === 'sent' ? this.settleProcesses(new Set(touched.map((r) => Number(r.process_id))), outcome.at) : [];
    }).immediate();
  }

  async settleConfirmationProcesses(accountId: number, processId: number | null, at: Date): Promise<number[]> {
    return this.db.transaction(() => {
      const candidates = (this.prepare(`
        SELECT id FROM import_process WHERE account_id = ? AND (? IS NULL OR id = ?) AND status IN (3, 4)
          AND confirmation_sent_at IS NULL AND json_extract(options, '$.ConfirmEmail') = 1`)
        .all(accountId, processId, processId) as Row[]).map((r) => Number(r.id));
      return this.settleProcesses(new Set(candidates), at);
    }).immediate();
  }

  /**
   * ConfirmationSent becomes True for finished processes that asked for ConfirmEmail and have no
   * unsent request left. Runs inside the transaction that changed the last request.
   */
  private settleProcesses(processIds: ReadonlySet<number>, at: Date): number[] {
    if (processIds.size === 0) return [];
    return (this.prepare(`
      UPDATE import_process SET confirmation_sent_at = ?
      WHERE id IN (SELECT value FROM json_each(?)) AND status IN (3, 4) AND confirmation_sent_at IS NULL
        AND json_extract(options, '$.ConfirmEmail') = 1
        AND NOT EXISTS (SELECT 1 FROM confirmation_request c WHERE c.process_id = import_process.id AND c.status IN ${UNSENT})
      RETURNING id`).all(at.toISOString(), JSON.stringify([...processIds])) as Row[]).map((r) => Number(r.id));
  }

  async pendingConfirmations(accountId: number, processId: number): Promise<number> {
    const r = this.prepare(`SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p WHERE p.id = ? AND p.account_id = ?`).get(processId, accountId) as Row | undefined;
    return r ? Number(r.confirmations_pending) : 0;
  }

  async confirmationSummary(accountId: number, processId: number | null, options: { limit?: number } = {}): Promise<ConfirmationSummary[]> {
    const rows = this.prepare(`
      SELECT p.id, p.list_id, p.status AS process_status, p.confirmation_sent_at, count(c.id) AS requests,
        sum(c.status = 'queued') AS queued, sum(c.status = 'sending') AS sending, sum(c.status = 'sent') AS sent,
        sum(c.status = 'failed' AND c.next_attempt_at IS NOT NULL) AS retrying,
        sum(c.status = 'failed' AND c.next_attempt_at IS NULL) AS failed,
        sum(c.status = 'cancelled') AS cancelled, sum(c.confirmed_at IS NOT NULL) AS confirmed
      FROM import_process p LEFT JOIN confirmation_request c ON c.process_id = p.id
      WHERE p.account_id = ? AND (? IS NULL OR p.id = ?) AND json_extract(p.options, '$.ConfirmEmail') = 1
      GROUP BY p.id ORDER BY p.id DESC LIMIT ?`).all(accountId, processId, processId, options.limit ?? -1) as Row[];
    return rows.map(toConfirmationSummary);
  }

  async confirmationFailures(accountId: number, processId: number | null, options: { limit?: number } = {}): Promise<ConfirmationFailure[]> {
    const rows = this.prepare(`
      SELECT c.id, c.process_id, c.list_id, c.attempts, c.last_error, c.next_attempt_at, r.email
      FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id
      WHERE c.account_id = ? AND (? IS NULL OR c.process_id = ?) AND c.status = 'failed'
      ORDER BY c.id DESC LIMIT ?`).all(accountId, processId, processId, options.limit ?? -1) as Row[];
    return rows.map(toConfirmationFailure);
  }

  async listConfirmationRequests(
    accountId: number, processId: number | null, options: { limit?: number; offset?: number } = {},
  ): Promise<ConfirmationRequestRow[]> {
    const rows = this.prepare(`
      SELECT c.*, r.email FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id
      WHERE c.account_id = ? AND (? IS NULL OR c.process_id = ?) ORDER BY c.id LIMIT ? OFFSET ?`)
      .all(accountId, processId, processId, options.limit ?? 100, options.offset ?? 0) as Row[];
    return rows.map(toConfirmationRequestRow);
  }

  async confirmSubscription(requestId: number, recipientId: number, listId: number, at: Date): Promise<ConfirmOutcome> {
    return this.db.transaction((): ConfirmOutcome => {
      const request = this.prepare(`
        SELECT c.confirmed_at, r.email, l.name AS list_name FROM confirmation_request c
        JOIN recipient r ON r.id = c.recipient_id JOIN list l ON l.id = c.list_id
        WHERE c.id = ? AND c.recipient_id = ? AND c.list_id = ?`).get(requestId, recipientId, listId) as Row | undefined;
      if (!request) return { result: 'not-found', email: null, listName: null, confirmedAt: null };
      const who = { email: request.email as string | null, listName: String(request.list_name) };
      if (request.confirmed_at !== null) return { result: 'already-confirmed', ...who, confirmedAt: optionalTimestamp(request.confirmed_at) };
      const subscription = this.prepare(`
        SELECT status FROM subscription WHERE recipient_id = ? AND list_id = ? AND channel = 'email'`).get(recipientId, listId) as Row | undefined;
      if (!subscription) return { result: 'not-found', ...who, confirmedAt: null };
      if (subscription.status === 'unsubscribed') return { result: 'unsubscribed', ...who, confirmedAt: null };
      if (subscription.status === 'subscribed') return { result: 'already-subscribed', ...who, confirmedAt: null };
      const t = at.toISOString();
      this.prepare(`
        UPDATE subscription SET status = 'subscribed', reason = NULL, confirmed_at = ?, updated_at = ?
        WHERE recipient_id = ? AND list_id = ? AND channel = 'email' AND status = 'pending'`).run(t, t, recipientId, listId);
      // Every request already delivered for this recipient and list asked the same question: all are answered.
      this.prepare(`
        UPDATE confirmation_request SET confirmed_at = ?
        WHERE recipient_id = ? AND list_id = ? AND confirmed_at IS NULL AND (id = ? OR status = 'sent')`).run(t, recipientId, listId, requestId);
      return { result: 'confirmed', ...who, confirmedAt: at };
    }).immediate();
  }

  async writeOutbox(entry: NewOutboxMessage): Promise<number> {
    return this.db.transaction(() => {
      const written = this.prepare(`
        INSERT INTO outbox (account_id, request_id, sender, recipient, subject, html, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (request_id) WHERE request_id IS NOT NULL DO NOTHING RETURNING id`)
        .get(entry.accountId, entry.requestId, entry.sender, entry.recipient, entry.subject, entry.html, entry.text, now()) as Row | undefined;
      if (written) return Number(written.id);
      return Number((this.prepare('SELECT id FROM outbox WHERE request_id = ?').get(entry.requestId) as Row).id);
    }).immediate();
  }

  async listOutbox(accountId: number, options: { limit?: number; offset?: number } = {}): Promise<OutboxMessage[]> {
    return (this.prepare('SELECT * FROM outbox WHERE account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?')
      .all(accountId, options.limit ?? 50, options.offset ?? 0) as Row[]).map(toOutboxMessage);
  }

  // Console

  /** Read-only connections of exports and streamed reports still open; closed with the store. */
  private readonly readers = new Set<Database.Database>();

  async consoleProcesses(accountId: number, query: ProcessPageQuery): Promise<KeysetPage<ProcessWithQueue>> {
    const status = { all: null, waiting: 1, running: 2, completed: 3, failed: 4 }[query.status];
    const backward = query.newerThan !== undefined;
    const cursor = backward ? query.newerThan! : query.olderThan ?? null;
    const rows = this.prepare(`
      SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p
      WHERE p.account_id = @account AND (@status IS NULL OR p.status = @status)
        AND (@lists IS NULL OR p.list_id IN (SELECT value FROM json_each(@lists)))
        ${cursor === null ? '' : backward ? 'AND p.id > @cursor' : 'AND p.id < @cursor'}
      ORDER BY p.id ${backward ? 'ASC' : 'DESC'} LIMIT @limit`).all({
      account: accountId, status, lists: query.listIds === null ? null : JSON.stringify(query.listIds), cursor, limit: query.limit + 1,
    }) as Row[];
    const more = rows.length > query.limit;
    const items = rows.slice(0, query.limit).map(toProcessWithQueue);
    if (!backward) return { items, hasNext: more, hasPrevious: cursor !== null };
    // Paging back to the start gives the first page, full, rather than a short one.
    if (!more) return this.consoleProcesses(accountId, { status: query.status, listIds: query.listIds, limit: query.limit });
    return { items: items.reverse(), hasNext: true, hasPrevious: true };
  }

  async listStats(accountId: number, listIds: readonly number[], options: { readonly groups?: boolean } = {}): Promise<ListStats[]> {
    const lists = (this.prepare('SELECT id FROM list WHERE account_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id')
      .all(accountId, JSON.stringify(listIds)) as Row[]).map((r) => Number(r.id));
    const bySubscription = this.prepare('SELECT channel, status, count(*) AS n FROM subscription WHERE list_id = ? GROUP BY channel, status');
    // Grouping on the (list_id, recipient_id) index counts distinct recipients without a temporary table.
    const recipients = this.prepare(`
      SELECT count(*) AS n FROM (SELECT recipient_id FROM subscription INDEXED BY subscription_list_recipient WHERE list_id = ? GROUP BY recipient_id)`);
    const groups = this.prepare('SELECT id FROM "group" WHERE list_id = ? ORDER BY id');
    const members = this.prepare('SELECT count(*) AS n FROM membership WHERE group_id = ?');
    const byGroup = this.prepare(`
      SELECT s.channel, s.status, count(*) AS n FROM membership m
      JOIN subscription s ON s.recipient_id = m.recipient_id AND s.list_id = ?
      WHERE m.group_id = ? GROUP BY s.channel, s.status`);
    // One read transaction, so the list's and its groups' counts agree with each other.
    return this.db.transaction(() => lists.map((listId): ListStats => ({
      listId,
      counts: toChannelCounts(bySubscription.all(listId) as Row[]),
      recipients: Number((recipients.get(listId) as Row).n),
      groups: options.groups === false ? [] : (groups.all(listId) as Row[]).map((g) => ({
        groupId: Number(g.id),
        members: Number((members.get(g.id) as Row).n),
        counts: toChannelCounts(byGroup.all(listId, g.id) as Row[]),
      })),
    })))();
  }

  async getGroup(accountId: number, groupId: number): Promise<Group | null> {
    const r = this.prepare('SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = ? AND l.account_id = ?')
      .get(groupId, accountId) as Row | undefined;
    return r ? toGroup(r) : null;
  }

  async renameGroup(accountId: number, groupId: number, name: string): Promise<GroupRename> {
    return this.db.transaction((): GroupRename => {
      const group = this.prepare('SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = ? AND l.account_id = ?')
        .get(groupId, accountId) as Row | undefined;
      if (!group) return { ok: false, reason: 'not-found' };
      // Group names are unique per list without regard to case (the column is NOCASE).
      if (this.prepare('SELECT 1 FROM "group" WHERE list_id = ? AND name = ? AND id <> ?').get(group.list_id, name, groupId)) {
        return { ok: false, reason: 'duplicate' };
      }
      return { ok: true, group: toGroup(this.prepare('UPDATE "group" SET name = ? WHERE id = ? RETURNING *').get(name, groupId) as Row) };
    }).immediate();
  }

  async searchRecipients(accountId: number, filter: RecipientFilter, page: RecipientPageQuery): Promise<KeysetPage<RecipientSummary>> {
    const plan = this.recipientSearchPlan(accountId, filter);
    if (plan === null) return { items: [], hasNext: false, hasPrevious: false };
    const after = cursorKeyFor(page.after, plan);
    const before = after === null ? cursorKeyFor(page.before, plan) : null;
    const backward = before !== null;
    const keys = plan.fetch(backward ? before : after, backward, page.limit + 1);
    const more = keys.length > page.limit;
    if (backward && !more) return this.searchRecipients(accountId, filter, { limit: page.limit });
    const found = keys.slice(0, page.limit);
    if (backward) found.reverse();
    const ids = JSON.stringify(found.map((k) => k.id));
    const people = this.prepare(`
      SELECT r.id, r.email, r.mobile, r.name FROM json_each(?) k JOIN recipient r ON r.id = k.value`).all(ids) as Row[];
    const subscriptions = this.prepare(`
      SELECT recipient_id, list_id, channel, status FROM subscription WHERE recipient_id IN (SELECT value FROM json_each(?))
      ORDER BY list_id, channel`).all(ids) as Row[];
    const items = toRecipientSummaries(found, people, subscriptions);
    return backward ? { items, hasNext: true, hasPrevious: true } : { items, hasNext: more, hasPrevious: after !== null };
  }

  /**
   * How to page through a recipient search: which index drives it (the e-mail or mobile index
   * for a prefix, a group's members, a list's subscriptions, or the account's recipients) and
   * which conditions are checked per candidate. Null when the filter can match nothing.
   */
  private recipientSearchPlan(accountId: number, filter: RecipientFilter): RecipientSearchPlan | null {
    let listId = filter.listId ?? null;
    if (filter.groupId !== undefined) {
      const group = this.prepare('SELECT g.list_id FROM "group" g JOIN list l ON l.id = g.list_id WHERE g.id = ? AND l.account_id = ?')
        .get(filter.groupId, accountId) as Row | undefined;
      if (!group || (listId !== null && Number(group.list_id) !== listId)) return null;
      listId = Number(group.list_id);
    } else if (listId !== null && !this.stmt.listById.get(listId, accountId)) {
      return null;
    }
    const channel = filter.channel ?? null;
    const status = filter.status ?? null;
    const params = { account: accountId, list: listId, group: filter.groupId ?? null, channel, status };
    // Per-candidate checks on recipient r (only those the driving index does not already ensure).
    const checks = (drivenByList: boolean, drivenByGroup: boolean): string => {
      const out: string[] = [];
      if (!drivenByGroup && filter.groupId !== undefined) {
        out.push('EXISTS (SELECT 1 FROM membership m WHERE m.recipient_id = r.id AND m.group_id = @group)');
      }
      if (!drivenByList && (listId !== null || channel !== null || status !== null)) {
        out.push(`EXISTS (SELECT 1 FROM subscription s WHERE s.recipient_id = r.id
          AND (@list IS NULL OR s.list_id = @list) AND (@channel IS NULL OR s.channel = @channel) AND (@status IS NULL OR s.status = @status))`);
      }
      return out.map((c) => ` AND ${c}`).join('');
    };
    const idKey = (rows: Row[]): SearchKey[] => rows.map((r) => ({ id: Number(r.id), key: ['i', Number(r.id)] }));
    const isId = (key: readonly unknown[]): boolean => key.length === 2 && Number.isSafeInteger(key[1]);
    // The cursor condition is left out of the first page's SQL: `(@cursor IS NULL OR …)` would
    // keep SQLite from seeking the index to the cursor, and every page would scan from the start.
    const page = (cursor: readonly unknown[] | null, backward: boolean, condition: (op: string) => string): { after: string; order: string } => ({
      after: cursor === null ? '' : ` AND ${condition(backward ? '<' : '>')}`, order: backward ? 'DESC' : 'ASC',
    });

    if (filter.emailPrefix !== undefined) {
      const range = { lo: filter.emailPrefix, hi: `${filter.emailPrefix}\u{10FFFF}` };
      return {
        mode: 'e',
        validKey: (key) => key.length === 2 && typeof key[1] === 'string',
        fetch: (cursor, backward, limit) => {
          const { after, order } = page(cursor, backward, (op) => `r.email ${op} @cursor`);
          const rows = this.prepare(`
            SELECT r.id, r.email FROM recipient r INDEXED BY recipient_email
            WHERE r.account_id = @account AND r.email IS NOT NULL AND r.email >= @lo AND r.email < @hi${after}${checks(false, false)}
            ORDER BY r.email ${order} LIMIT @limit`).all({ ...params, ...range, cursor: cursor?.[1] ?? null, limit }) as Row[];
          return rows.map((r) => ({ id: Number(r.id), key: ['e', String(r.email)] }));
        },
      };
    }
    if (filter.mobilePrefix !== undefined) {
      const range = { lo: filter.mobilePrefix, hi: `${filter.mobilePrefix}\u{10FFFF}` };
      return {
        mode: 'm',
        validKey: (key) => key.length === 3 && typeof key[1] === 'string' && Number.isSafeInteger(key[2]),
        fetch: (cursor, backward, limit) => {
          const { after, order } = page(cursor, backward, (op) => `(r.mobile, r.id) ${op} (@cursorMobile, @cursorId)`);
          const rows = this.prepare(`
            SELECT r.id, r.mobile FROM recipient r INDEXED BY recipient_mobile
            WHERE r.account_id = @account AND r.mobile IS NOT NULL AND r.mobile >= @lo AND r.mobile < @hi${after}${checks(false, false)}
            ORDER BY r.mobile ${order}, r.id ${order} LIMIT @limit`)
            .all({ ...params, ...range, cursorMobile: cursor?.[1] ?? null, cursorId: cursor?.[2] ?? null, limit }) as Row[];
          return rows.map((r) => ({ id: Number(r.id), key: ['m', String(r.mobile), Number(r.id)] }));
        },
      };
    }
    if (filter.groupId !== undefined) {
      return {
        mode: 'i', validKey: isId,
        fetch: (cursor, backward, limit) => {
          const { after, order } = page(cursor, backward, (op) => `m.recipient_id ${op} @cursor`);
          return idKey(this.prepare(`
            SELECT m.recipient_id AS id FROM membership m INDEXED BY membership_group JOIN recipient r ON r.id = m.recipient_id
            WHERE m.group_id = @group${after}${checks(false, true)}
            ORDER BY m.recipient_id ${order} LIMIT @limit`).all({ ...params, cursor: cursor?.[1] ?? null, limit }) as Row[]);
        },
      };
    }
    if (listId !== null && status === null) {
      return {
        mode: 'i', validKey: isId,
        fetch: (cursor, backward, limit) => {
          const { after, order } = page(cursor, backward, (op) => `recipient_id ${op} @cursor`);
          return idKey(this.prepare(`
            SELECT recipient_id AS id FROM subscription INDEXED BY subscription_list_recipient
            WHERE list_id = @list AND (@channel IS NULL OR channel = @channel)${after}
            GROUP BY recipient_id ORDER BY recipient_id ${order} LIMIT @limit`).all({ ...params, cursor: cursor?.[1] ?? null, limit }) as Row[]);
        },
      };
    }
    if (listId !== null) {
      // A status: one range of the (list_id, channel, status, recipient_id) index per channel, merged.
      const channels: Channel[] = channel !== null ? [channel] : ['email', 'sms'];
      return {
        mode: 'i', validKey: isId,
        fetch: (cursor, backward, limit) => {
          const { after, order } = page(cursor, backward, (op) => `recipient_id ${op} @cursor`);
          const range = this.prepare(`
            SELECT recipient_id AS id FROM subscription INDEXED BY subscription_list
            WHERE list_id = @list AND channel = @c AND status = @status${after}
            ORDER BY recipient_id ${order} LIMIT @limit`);
          const ids = new Set<number>();
          for (const c of channels) {
            for (const r of range.all({ ...params, c, cursor: cursor?.[1] ?? null, limit }) as Row[]) ids.add(Number(r.id));
          }
          const sorted = [...ids].sort((a, b) => (backward ? b - a : a - b)).slice(0, limit);
          return sorted.map((id) => ({ id, key: ['i', id] }));
        },
      };
    }
    return {
      mode: 'i', validKey: isId,
      fetch: (cursor, backward, limit) => {
        const { after, order } = page(cursor, backward, (op) => `r.id ${op} @cursor`);
        return idKey(this.prepare(`
          SELECT r.id FROM recipient r INDEXED BY recipient_account
          WHERE r.account_id = @account${after}${checks(false, false)}
          ORDER BY r.id ${order} LIMIT @limit`).all({ ...params, cursor: cursor?.[1] ?? null, limit }) as Row[]);
      },
    };
  }

  async recipientDetail(accountId: number, recipientId: number): Promise<RecipientDetail | null> {
    return this.db.transaction((): RecipientDetail | null => {
      const r = this.prepare('SELECT * FROM recipient WHERE id = ? AND account_id = ?').get(recipientId, accountId) as Row | undefined;
      if (!r) return null;
      const subscriptions = (this.prepare('SELECT * FROM subscription WHERE recipient_id = ? ORDER BY list_id, channel').all(recipientId) as Row[])
        .map(toRecipientSubscription);
      const groups = (this.prepare(`
        SELECT g.* FROM membership m JOIN "group" g ON g.id = m.group_id WHERE m.recipient_id = ? ORDER BY g.list_id, g.id`)
        .all(recipientId) as Row[]).map(toGroup);
      const imports = (this.prepare(`
        SELECT p.id, p.list_id, p.status, p.created_at, p.end_date FROM import_process p
        WHERE p.account_id = ? AND p.id IN (
          SELECT process_id FROM subscription WHERE recipient_id = ? AND process_id IS NOT NULL
          UNION SELECT process_id FROM confirmation_request WHERE recipient_id = ?)
        ORDER BY p.id DESC`).all(accountId, recipientId, recipientId) as Row[]).map(toRecipientImport);
      const confirmations = (this.prepare(`
        SELECT * FROM confirmation_request WHERE recipient_id = ? AND account_id = ? ORDER BY id DESC LIMIT 200`)
        .all(recipientId, accountId) as Row[]).map(toRecipientConfirmation);
      return toRecipientDetail(r, { subscriptions, groups, imports, confirmations });
    })();
  }

  async exportList(accountId: number, listId: number): Promise<ListExport | null> {
    if (!this.stmt.listById.get(listId, accountId)) return null;
    const reader = this.openReader();
    let released = false;
    const close = (): void => {
      if (released) return;
      released = true;
      this.closeReader(reader);
    };
    try {
      // One row per recipient: its e-mail subscription, or its SMS one when it has no e-mail one.
      const from = 'FROM subscription k INDEXED BY subscription_list_recipient JOIN recipient r ON r.id = k.recipient_id';
      const where = `WHERE k.list_id = @list AND (k.channel = 'email' OR NOT EXISTS (
        SELECT 1 FROM subscription e WHERE e.recipient_id = k.recipient_id AND e.list_id = k.list_id AND e.channel = 'email'))`;
      // The campo numbers in use, read first: a whole pass over the list, so it goes by ranges of
      // recipient ids, letting other requests run between them.
      const fieldNumbers = new Set<number>();
      const last = Number((prepare(reader, 'SELECT max(recipient_id) AS m FROM subscription WHERE list_id = ?').get(listId) as Row).m ?? 0);
      const keys = prepare(reader, `SELECT DISTINCT j.key AS k ${from}, json_each(r.fields) j ${where} AND k.recipient_id > @from AND k.recipient_id <= @to`);
      for (let from = 0; from < last; from += EXPORT_RANGE) {
        for (const f of keys.all({ list: listId, from, to: from + EXPORT_RANGE }) as Row[]) fieldNumbers.add(Number(f.k));
        await yieldToEventLoop();
      }
      const statement = prepare(reader, `
        SELECT r.id, r.email, r.mobile, r.name, r.fields, r.created_at, r.updated_at,
          (SELECT status FROM subscription e WHERE e.recipient_id = r.id AND e.list_id = @list AND e.channel = 'email') AS email_status,
          (SELECT status FROM subscription e WHERE e.recipient_id = r.id AND e.list_id = @list AND e.channel = 'sms') AS sms_status
        ${from} ${where} ORDER BY k.recipient_id`);
      async function* rows(): AsyncGenerator<ListExportRow> {
        if (released) return;
        const iterator = statement.iterate({ list: listId }) as IterableIterator<Row>;
        try {
          for (const r of iterator) yield toListExportRow(r);
        } finally {
          iterator.return?.();
          close();
        }
      }
      return { fieldNumbers: [...fieldNumbers].sort((a, b) => a - b), rows: rows(), close };
    } catch (err) {
      close();
      throw err;
    }
  }

  async rejectReportPage(accountId: number, processId: number, query: { afterRow?: number; limit: number }): Promise<KeysetPage<RejectReportRow>> {
    const rows = this.prepare(`
      SELECT r.* FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = ? AND p.account_id = ? AND r.row_no > ? ORDER BY r.row_no LIMIT ?`)
      .all(processId, accountId, query.afterRow ?? 0, query.limit + 1) as Row[];
    return {
      items: rows.slice(0, query.limit).map(toRejectRow), hasNext: rows.length > query.limit, hasPrevious: (query.afterRow ?? 0) > 0,
    };
  }

  async streamRejectReport(accountId: number, processId: number): Promise<AsyncIterable<RejectReportRow> | null> {
    if (!this.stmt.processById.get(processId, accountId)) return null;
    const open = (): Database.Database => this.openReader();
    const done = (reader: Database.Database): void => this.closeReader(reader);
    // The snapshot is taken when the rows are first read, so an unread stream holds nothing.
    return (async function* rows(): AsyncGenerator<RejectReportRow> {
      const reader = open();
      try {
        for (const r of prepare(reader, 'SELECT * FROM import_reject WHERE process_id = ? ORDER BY row_no').iterate(processId) as IterableIterator<Row>) {
          yield toRejectRow(r);
        }
      } finally {
        done(reader);
      }
    })();
  }

  async outboxPage(accountId: number, query: { olderThan?: number; newerThan?: number; limit: number }): Promise<KeysetPage<OutboxMessage>> {
    const backward = query.newerThan !== undefined;
    const cursor = backward ? query.newerThan! : query.olderThan ?? null;
    const rows = this.prepare(`
      SELECT * FROM outbox WHERE account_id = @account ${cursor === null ? '' : backward ? 'AND id > @cursor' : 'AND id < @cursor'}
      ORDER BY id ${backward ? 'ASC' : 'DESC'} LIMIT @limit`).all({ account: accountId, cursor, limit: query.limit + 1 }) as Row[];
    const more = rows.length > query.limit;
    const items = rows.slice(0, query.limit).map(toOutboxMessage);
    if (!backward) return { items, hasNext: more, hasPrevious: cursor !== null };
    if (!more) return this.outboxPage(accountId, { limit: query.limit });
    return { items: items.reverse(), hasNext: true, hasPrevious: true };
  }

  async getOutboxMessage(accountId: number, id: number): Promise<OutboxMessage | null> {
    const r = this.prepare('SELECT * FROM outbox WHERE id = ? AND account_id = ?').get(id, accountId) as Row | undefined;
    return r ? toOutboxMessage(r) : null;
  }

  async createConsoleSession(s: NewConsoleSession): Promise<void> {
    const t = now();
    this.prepare(`
      INSERT INTO console_session (id_hash, user_id, account_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(s.idHash, s.userId, s.accountId, s.csrfToken, t, t, s.expiresAt.getTime(), s.ip, s.userAgent.slice(0, 300));
  }

  async findConsoleSession(idHash: string, at: Date): Promise<{ session: ConsoleSession; user: ConsoleUser } | null> {
    const r = this.prepare(`
      SELECT s.*, u.id AS u_id, u.account_id AS u_account_id, u.username, u.password_hash, u.list_ids
      FROM console_session s JOIN console_user u ON u.id = s.user_id AND u.account_id = s.account_id
      WHERE s.id_hash = ? AND s.expires_at > ?`).get(idHash, at.getTime()) as Row | undefined;
    return r ? toConsoleSessionAndUser(r) : null;
  }

  async touchConsoleSession(idHash: string, expiresAt: Date, at: Date): Promise<void> {
    this.prepare('UPDATE console_session SET expires_at = ?, last_seen_at = ? WHERE id_hash = ?').run(expiresAt.getTime(), at.toISOString(), idHash);
  }

  async deleteConsoleSession(idHash: string): Promise<void> {
    this.prepare('DELETE FROM console_session WHERE id_hash = ?').run(idHash);
  }

  async deleteExpiredConsoleSessions(at: Date): Promise<number> {
    return this.prepare('DELETE FROM console_session WHERE expires_at <= ?').run(at.getTime()).changes;
  }

  /**
   * A read-only connection for one long read (an export), so that its snapshot never blocks the
   * main connection between the chunks it streams. WAL lets it read while imports write. An
   * in-memory database cannot be opened twice, so streamed reads need a database file.
   */
  private openReader(): Database.Database {
    if (this.db.memory) throw new Error('streamed reads need a database file, not :memory:');
    const reader = new Database(this.db.name, { readonly: true, fileMustExist: true });
    reader.pragma('busy_timeout = 5000');
    this.readers.add(reader);
    // The whole read sees one snapshot.
    reader.exec('BEGIN');
    return reader;
  }

  private closeReader(reader: Database.Database): void {
    if (!this.readers.delete(reader)) return;
    try {
      if (reader.inTransaction) reader.exec('COMMIT');
    } finally {
      reader.close();
    }
  }

  // Operations

  async ping(): Promise<void> {
    this.prepare('SELECT 1').get();
  }

  async processStatusCounts(): Promise<{ byStatus: Record<1 | 2 | 3 | 4, number>; queued: number }> {
    const byStatus: Record<1 | 2 | 3 | 4, number> = { 1: 0, 2: 0, 3: 0, 4: 0 };
    let queued = 0;
    for (const r of this.prepare('SELECT status, queued_seq IS NOT NULL AS queued, count(*) AS n FROM import_process GROUP BY 1, 2').all() as Row[]) {
      byStatus[Number(r.status) as 1] += Number(r.n);
      if (flag(r.queued)) queued += Number(r.n);
    }
    return { byStatus, queued };
  }

  async getSetting(key: string): Promise<string | null> {
    const r = this.prepare('SELECT value FROM setting WHERE key = ?').get(key) as Row | undefined;
    return r ? String(r.value) : null;
  }

  async setSettingIfAbsent(key: string, value: string): Promise<string> {
    this.prepare('INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
    return (await this.getSetting(key))!;
  }

  async close(): Promise<void> {
    for (const reader of [...this.readers]) this.closeReader(reader);
    this.db.close();
  }
}

// Console helpers

/** Recipient ids per step of an export's first pass: a few tens of milliseconds of work each. */
const EXPORT_RANGE = 25_000;

interface RecipientSearchPlan {
  /** i: by id; e: by e-mail; m: by mobile, then id. */
  readonly mode: 'i' | 'e' | 'm';
  readonly validKey: (key: readonly unknown[]) => boolean;
  /** Up to `limit` rows after (or, backward, before) the cursor, in the direction's order. */
  readonly fetch: (cursor: readonly unknown[] | null, backward: boolean, limit: number) => SearchKey[];
}
