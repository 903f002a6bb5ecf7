/**
 * The embedded store: one SQLite file through better-sqlite3 (WAL). Every multi-statement change
 * runs in a synchronous better-sqlite3 transaction, so nothing else on the one connection can
 * interleave with it; the async Store methods only wrap those calls.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PriorState, UnsubscribeReason } from '../../import/subscription-rules.ts';
import { emailKey, LeaseLostError, mobileKey, type NewAccount, type NewConfirmationMessage, type Store } from '../store.ts';
import type {
  Account, AccountChanges, BatchKeys, BatchPlan, ConsoleUser, Feed, FeedRow, FeedWriter, Group, ImportOptions,
  ImportProcess, Lease, ListWithGroups, MailingList, PriorRecipient, RejectReportRow, StartOutcome,
} from '../types.ts';
import { applyMigrations } from './migrate.ts';

type Row = Record<string, unknown>;

const now = (): string => new Date().toISOString();
const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(String(v)));
const bool = (v: unknown): boolean => v === 1 || v === true;

function toAccount(r: Row): Account {
  return {
    id: Number(r.id), wsUser: String(r.ws_user), passwordHash: String(r.password_hash), wsEnabled: bool(r.ws_enabled),
    ipCheck: bool(r.ip_check), allowedIps: JSON.parse(String(r.allowed_ips)) as string[], name: String(r.name),
    createdAt: new Date(String(r.created_at)),
  };
}

function toConsoleUser(r: Row): ConsoleUser {
  return {
    id: Number(r.id), accountId: Number(r.account_id), username: String(r.username), passwordHash: String(r.password_hash),
    listIds: r.list_ids === null ? null : (JSON.parse(String(r.list_ids)) as number[]),
  };
}

const toList = (r: Row): MailingList => ({ id: Number(r.id), accountId: Number(r.account_id), guid: String(r.guid), name: String(r.name) });
const toGroup = (r: Row): Group => ({ id: Number(r.id), listId: Number(r.list_id), name: String(r.name) });

function toProcess(r: Row): ImportProcess {
  return {
    id: Number(r.id), accountId: Number(r.account_id), listId: Number(r.list_id), feedId: Number(r.feed_id),
    options: JSON.parse(String(r.options)) as ImportOptions,
    status: Number(r.status) as ImportProcess['status'],
    queued: r.queued_seq !== null,
    createdAt: new Date(String(r.created_at)), startDate: date(r.start_date), endDate: date(r.end_date),
    totalContacts: Number(r.total_contacts),
    counters: {
      newEmail: Number(r.new_email), newMobile: Number(r.new_mobile), existingEmail: Number(r.existing_email),
      existingMobile: Number(r.existing_mobile), optOutEmail: Number(r.optout_email), optOutMobile: Number(r.optout_mobile),
    },
    checkpoint: Number(r.checkpoint), rejected: Number(r.rejected),
    failureReason: r.failure_reason === null ? null : String(r.failure_reason),
    confirmationsPending: Number(r.confirmations_pending ?? 0),
    confirmationSentAt: date(r.confirmation_sent_at),
  };
}

function priorState(status: unknown, reason: unknown): PriorState {
  if (status === null || status === undefined) return { status: 'none' };
  if (status === 'unsubscribed') return { status: 'unsubscribed', reason: (reason ?? 'user') as UnsubscribeReason };
  return { status: status as 'subscribed' | 'pending' };
}

/** Feed rows are stored compactly as [email, prefix, number, name, fields]. */
type StoredRow = [string, string, string, string, Record<number, string>];

const PROCESS_COLUMNS = `p.*, (SELECT count(*) FROM confirmation_request c WHERE c.process_id = p.id AND c.status <> 'sent') AS confirmations_pending`;

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmt;

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
    const db = this.db;
    this.stmt = {
      accountById: db.prepare('SELECT * FROM account WHERE id = ?'),
      accountByUser: db.prepare('SELECT * FROM account WHERE ws_user = ?'),
      listById: db.prepare('SELECT * FROM list WHERE id = ? AND account_id = ?'),
      groupsOfList: db.prepare('SELECT * FROM "group" WHERE list_id = ? ORDER BY id'),
      processById: db.prepare(`SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.id = ? AND p.account_id = ?`),
      processByIdAny: db.prepare(`SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.id = ?`),
      feedChunk: db.prepare('SELECT rows, first_row FROM feed_chunk WHERE feed_id = ? AND first_row <= ? ORDER BY chunk_no DESC LIMIT 1'),
      insertChunk: db.prepare('INSERT INTO feed_chunk (feed_id, chunk_no, first_row, row_count, rows) VALUES (?, ?, ?, ?, ?)'),
      leaseHeld: db.prepare('SELECT list_id FROM import_process WHERE id = ? AND lease_owner = ? AND status = 2'),
      // CROSS JOIN keeps the batch's keys as the outer loop: one index lookup per key, never a scan.
      priorByEmail: db.prepare(`
        SELECT r.id, r.email, r.mobile, se.status AS e_status, se.reason AS e_reason, ss.status AS s_status, ss.reason AS s_reason
        FROM json_each(?) k
        CROSS JOIN recipient r ON r.account_id = ? AND r.email = k.value
        LEFT JOIN subscription se ON se.recipient_id = r.id AND se.list_id = ? AND se.channel = 'email'
        LEFT JOIN subscription ss ON ss.recipient_id = r.id AND ss.list_id = ? AND ss.channel = 'sms'`),
      priorByMobile: db.prepare(`
        SELECT r.id, r.email, r.mobile, se.status AS e_status, se.reason AS e_reason, ss.status AS s_status, ss.reason AS s_reason
        FROM json_each(?) k
        CROSS JOIN recipient r ON r.id = (SELECT min(id) FROM recipient WHERE account_id = ? AND mobile = k.value)
        LEFT JOIN subscription se ON se.recipient_id = r.id AND se.list_id = ? AND se.channel = 'email'
        LEFT JOIN subscription ss ON ss.recipient_id = r.id AND ss.list_id = ? AND ss.channel = 'sms'`),
      insertRecipients: db.prepare(`
        INSERT INTO recipient (account_id, email, mobile, name, fields, created_at, updated_at)
        SELECT ?, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, ?, ? FROM json_each(?) j
        RETURNING id, email, mobile`),
      updateRecipients: db.prepare(`
        UPDATE recipient SET
          email = coalesce(j.value ->> 1, recipient.email),
          mobile = coalesce(j.value ->> 2, recipient.mobile),
          name = coalesce(j.value ->> 3, recipient.name),
          fields = json_patch(recipient.fields, j.value ->> 4),
          updated_at = ?
        FROM json_each(?) j WHERE recipient.id = j.value ->> 0`),
      upsertSubscriptions: db.prepare(`
        INSERT INTO subscription (recipient_id, list_id, channel, status, reason, process_id, updated_at)
        SELECT j.value ->> 0, ?, j.value ->> 1, j.value ->> 2, j.value ->> 3, ?, ? FROM json_each(?) j WHERE true
        ON CONFLICT (recipient_id, list_id, channel) DO UPDATE SET
          status = excluded.status, reason = excluded.reason, process_id = excluded.process_id, updated_at = excluded.updated_at`),
      joinGroups: db.prepare(`
        INSERT OR IGNORE INTO membership (recipient_id, group_id)
        SELECT r.value, g.value FROM json_each(?) r, json_each(?) g`),
      leaveOtherGroups: db.prepare(`
        DELETE FROM membership
        WHERE recipient_id IN (SELECT value FROM json_each(?))
          AND group_id IN (SELECT id FROM "group" WHERE list_id = ?)
          AND group_id NOT IN (SELECT value FROM json_each(?))`),
      queueConfirmations: db.prepare(`
        INSERT INTO confirmation_request (account_id, process_id, recipient_id, list_id, created_at)
        SELECT ?, ?, value, ?, ? FROM json_each(?)`),
      insertRejects: db.prepare(`
        INSERT OR REPLACE INTO import_reject (process_id, row_no, raw, reason)
        SELECT ?, j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?) j`),
      commitBatch: db.prepare(`
        UPDATE import_process SET checkpoint = ?,
          new_email = new_email + ?, new_mobile = new_mobile + ?, existing_email = existing_email + ?,
          existing_mobile = existing_mobile + ?, optout_email = optout_email + ?, optout_mobile = optout_mobile + ?,
          rejected = rejected + ?, lease_expires_at = ?
        WHERE id = ? AND lease_owner = ? AND status = 2`),
      claim: db.prepare(`
        UPDATE import_process SET lease_owner = ?, lease_expires_at = ?
        WHERE id = (SELECT id FROM import_process WHERE status = 2 AND (lease_owner IS NULL OR lease_expires_at < ?) ORDER BY id LIMIT 1)
        RETURNING id`),
      renew: db.prepare('UPDATE import_process SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 2'),
      release: db.prepare('UPDATE import_process SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?'),
      end: db.prepare(`
        UPDATE import_process SET status = ?, end_date = ?, failure_reason = ?, lease_owner = NULL, lease_expires_at = NULL
        WHERE id = ? AND lease_owner = ? AND status = 2`),
      promoteNext: db.prepare(`
        UPDATE import_process SET status = 2, start_date = ?, queued_seq = NULL
        WHERE id = (SELECT id FROM import_process WHERE account_id = ? AND status = 1 AND queued_seq IS NOT NULL ORDER BY queued_seq, id LIMIT 1)`),
    };
  }

  // Accounts and console users

  async createAccount(account: NewAccount): Promise<Account> {
    const tx = this.db.transaction(() => {
      const id = account.id ?? Number((this.db.prepare('SELECT coalesce(max(id), 1000) + 1 AS id FROM account').get() as Row).id);
      this.db.prepare('INSERT INTO account (id, ws_user, password_hash, ws_enabled, name, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, `a${id}`, account.passwordHash, account.wsEnabled === false ? 0 : 1, account.name, now());
      return id;
    });
    return toAccount(this.stmt.accountById.get(tx()) as Row);
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
    if (sets.length > 0) this.db.prepare(`UPDATE account SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    return this.getAccount(id);
  }

  async listAccounts(): Promise<Account[]> {
    return (this.db.prepare('SELECT * FROM account ORDER BY id').all() as Row[]).map(toAccount);
  }

  async createConsoleUser(accountId: number, username: string, passwordHash: string, listIds: readonly number[] | null = null): Promise<ConsoleUser> {
    const r = this.db.prepare(`
      INSERT INTO console_user (account_id, username, password_hash, list_ids, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *`)
      .get(accountId, username, passwordHash, listIds === null ? null : JSON.stringify(listIds), now()) as Row;
    return toConsoleUser(r);
  }

  async findConsoleUser(accountId: number, username: string): Promise<ConsoleUser | null> {
    const r = this.db.prepare('SELECT * FROM console_user WHERE account_id = ? AND username = ?').get(accountId, username) as Row | undefined;
    return r ? toConsoleUser(r) : null;
  }

  async getConsoleUser(accountId: number, id: number): Promise<ConsoleUser | null> {
    const r = this.db.prepare('SELECT * FROM console_user WHERE account_id = ? AND id = ?').get(accountId, id) as Row | undefined;
    return r ? toConsoleUser(r) : null;
  }

  // Lists and groups

  async createList(accountId: number, name: string, guid: string = randomUUID()): Promise<MailingList> {
    const r = this.db.prepare('INSERT INTO list (account_id, guid, name, created_at) VALUES (?, ?, ?, ?) RETURNING *')
      .get(accountId, guid.toLowerCase(), name, now()) as Row;
    return toList(r);
  }

  async renameList(accountId: number, listId: number, name: string): Promise<MailingList | null> {
    const r = this.db.prepare('UPDATE list SET name = ? WHERE id = ? AND account_id = ? RETURNING *').get(name, listId, accountId) as Row | undefined;
    return r ? toList(r) : null;
  }

  async getList(accountId: number, listId: number): Promise<MailingList | null> {
    const r = this.stmt.listById.get(listId, accountId) as Row | undefined;
    return r ? toList(r) : null;
  }

  async listLists(accountId: number, onlyListIds: readonly number[] | null = null): Promise<ListWithGroups[]> {
    const lists = (this.db.prepare('SELECT * FROM list WHERE account_id = ? ORDER BY id').all(accountId) as Row[]).map(toList)
      .filter((l) => onlyListIds === null || onlyListIds.includes(l.id));
    const groups = (this.db.prepare(`
      SELECT g.* FROM "group" g JOIN list l ON l.id = g.list_id WHERE l.account_id = ? ORDER BY g.id`).all(accountId) as Row[]).map(toGroup);
    return lists.map((l) => ({ ...l, groups: groups.filter((g) => g.listId === l.id) }));
  }

  async createGroup(listId: number, name: string): Promise<{ group: Group; created: boolean }> {
    const tx = this.db.transaction(() => {
      const existing = this.db.prepare('SELECT * FROM "group" WHERE list_id = ? AND name = ?').get(listId, name) as Row | undefined;
      if (existing) return { group: toGroup(existing), created: false };
      const r = this.db.prepare('INSERT INTO "group" (list_id, name, created_at) VALUES (?, ?, ?) RETURNING *').get(listId, name, now()) as Row;
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
      feedId ??= Number((this.db.prepare('INSERT INTO feed (account_id, created_at) VALUES (?, ?) RETURNING id').get(accountId, now()) as Row).id);
      return feedId;
    };
    return {
      append: async (rows: readonly FeedRow[]) => {
        if (rows.length === 0) return;
        const stored: StoredRow[] = rows.map((r) => [r.email, r.prefix, r.number, r.name, r.fields]);
        this.stmt.insertChunk.run(ensureFeed(), chunkNo++, rows[0]!.row, rows.length, JSON.stringify(stored));
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
        })();
      },
    };
  }

  async readFeedRows(feedId: number, fromRow: number): Promise<FeedRow[]> {
    const r = this.stmt.feedChunk.get(feedId, fromRow) as Row | undefined;
    if (!r) return [];
    const first = Number(r.first_row);
    const rows = (JSON.parse(String(r.rows)) as StoredRow[]).map(([email, prefix, number, name, fields], i) => ({
      row: first + i, email, prefix, number, name, fields,
    }));
    return rows.slice(fromRow - first);
  }

  async createProcesses(
    accountId: number, feed: Feed, lists: readonly { listId: number; options: ImportOptions }[], options: { start: boolean },
  ): Promise<{ ok: true; processes: ImportProcess[] } | Extract<StartOutcome, { ok: false }>> {
    const insert = this.db.prepare(`
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
    const busy = this.db.prepare(`
      SELECT list_id FROM import_process WHERE account_id = ? AND (status = 2 OR queued_seq IS NOT NULL)
      ORDER BY status DESC, id LIMIT 1`).get(accountId) as Row | undefined;
    if (!busy) return null;
    return Number(busy.list_id) === listId ? 'busy-same-list' : 'busy-other-list';
  }

  /** The first process runs now; the others wait their turn, in this order. */
  private markStarted(ids: readonly number[]): void {
    const seq = Date.now();
    ids.forEach((id, i) => {
      if (i === 0) this.db.prepare('UPDATE import_process SET status = 2, start_date = ? WHERE id = ?').run(now(), id);
      else this.db.prepare('UPDATE import_process SET queued_seq = ? WHERE id = ?').run(seq + i, id);
    });
  }

  async getProcess(accountId: number, processId: number): Promise<ImportProcess | null> {
    const r = this.stmt.processById.get(processId, accountId) as Row | undefined;
    return r ? toProcess(r) : null;
  }

  async listProcesses(accountId: number, options: { limit?: number; offset?: number } = {}): Promise<ImportProcess[]> {
    return (this.db.prepare(`SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.account_id = ? ORDER BY p.id DESC LIMIT ? OFFSET ?`)
      .all(accountId, options.limit ?? 50, options.offset ?? 0) as Row[]).map(toProcess);
  }

  async startProcesses(accountId: number, processIds: readonly number[]): Promise<StartOutcome> {
    const tx = this.db.transaction((): StartOutcome => {
      const rows = processIds.map((id) => this.db.prepare('SELECT * FROM import_process WHERE id = ? AND account_id = ?').get(id, accountId) as Row | undefined);
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
    return (this.db.prepare('SELECT id FROM import_process WHERE account_id = ? AND status = 1 AND queued_seq IS NULL ORDER BY id')
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
      const add = (r: Row, key: string): void => {
        prior.set(key, {
          id: Number(r.id), email: r.email as string | null, mobile: r.mobile as string | null,
          emailState: priorState(r.e_status, r.e_reason), smsState: priorState(r.s_status, r.s_reason),
        });
      };
      if (keys.emails.length > 0) {
        for (const r of this.stmt.priorByEmail.all(JSON.stringify(keys.emails), p.accountId, p.listId, p.listId) as Row[]) add(r, emailKey(String(r.email)));
      }
      if (keys.mobiles.length > 0) {
        for (const r of this.stmt.priorByMobile.all(JSON.stringify(keys.mobiles), p.accountId, p.listId, p.listId) as Row[]) add(r, mobileKey(String(r.mobile)));
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
          freshIndex.set(r.email !== null ? emailKey(r.email) : mobileKey(r.mobile ?? ''), i);
        } else {
          ids[i] = r.id;
          updates.push([r.id, r.email, r.mobile, r.name, JSON.stringify(r.fields)]);
        }
      });
      if (fresh.length > 0) {
        for (const row of this.stmt.insertRecipients.all(p.accountId, t, t, JSON.stringify(fresh)) as Row[]) {
          const key = row.email !== null ? emailKey(String(row.email)) : mobileKey(String(row.mobile));
          ids[freshIndex.get(key)!] = Number(row.id);
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
    const rows = this.db.prepare(`
      SELECT r.* FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = ? AND p.account_id = ? ORDER BY r.row_no LIMIT ? OFFSET ?`)
      .all(processId, accountId, options.limit ?? -1, options.offset ?? 0) as Row[];
    return rows.map((r) => ({ processId: Number(r.process_id), row: Number(r.row_no), raw: String(r.raw), reason: String(r.reason) }));
  }

  async createConfirmationMessage(accountId: number, m: NewConfirmationMessage): Promise<number> {
    const r = this.db.prepare(`
      INSERT INTO confirmation_message (account_id, is_default, sender, subject, html, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`)
      .get(accountId, m.isDefault ? 1 : 0, m.sender, m.subject, m.html, m.text, now()) as Row;
    return Number(r.id);
  }

  async confirmationMessageExists(accountId: number, messageId: number): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM confirmation_message WHERE id = ? AND account_id = ?').get(messageId, accountId) !== undefined;
  }

  async getSetting(key: string): Promise<string | null> {
    const r = this.db.prepare('SELECT value FROM setting WHERE key = ?').get(key) as Row | undefined;
    return r ? String(r.value) : null;
  }

  async setSettingIfAbsent(key: string, value: string): Promise<string> {
    this.db.prepare('INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
    return (await this.getSetting(key))!;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** A new recipient has nothing to clear: empty field values are simply not stored. */
function dropEmpty(fields: Readonly<Record<number, string>>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== '') out[Number(k)] = v;
  return out;
}
