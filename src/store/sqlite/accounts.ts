/**
 * Accounts (the WS users) and their console users on SQLite.
 */
import { flag, toAccount, toConsoleUser, type Row } from '../common/row-mappers.ts';
import type { AccountStore, ConsoleUserChanges, ConsoleUserWrite, ConsoleUserWriteOptions, NewAccount } from '../accounts.ts';
import type { Account, AccountChanges, ConsoleUser } from '../../model/records.ts';
import { now, type SqliteConnection } from './connection.ts';
import type { Statement } from './prepare.ts';

export class SqliteAccounts implements AccountStore {
  private readonly stmt;

  constructor(private readonly db: SqliteConnection) {
    // Named statements are prepared once, at start-up, so a typo fails on boot.
    const named = (sql: string): Statement => db.named(sql);
    this.stmt = {
      accountById: named('SELECT * FROM account WHERE id = ?'),
      accountByUser: named('SELECT * FROM account WHERE ws_user = ?'),
    };
  }

  async createAccount(account: NewAccount): Promise<Account> {
    const tx = this.db.transaction(() => {
      const id = account.id ?? Number((this.db.prepare('SELECT coalesce(max(id), 1000) + 1 AS id FROM account').get() as Row).id);
      this.db.prepare('INSERT INTO account (id, ws_user, password_hash, ws_enabled, name, created_at) VALUES (?, ?, ?, ?, ?, ?)')
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
    if (changes.httpApiIps !== undefined) set('http_api_ips', JSON.stringify(changes.httpApiIps));
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

  async listConsoleUsers(accountId: number): Promise<ConsoleUser[]> {
    return (this.db.prepare('SELECT * FROM console_user WHERE account_id = ? ORDER BY id').all(accountId) as Row[]).map(toConsoleUser);
  }

  async updateConsoleUser(accountId: number, id: number, changes: ConsoleUserChanges, options: ConsoleUserWriteOptions = {}): Promise<ConsoleUserWrite> {
    const sets: string[] = [];
    const values: unknown[] = [];
    const set = (column: string, value: unknown): void => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (changes.passwordHash !== undefined) set('password_hash', changes.passwordHash);
    if (changes.enabled !== undefined) set('enabled', changes.enabled ? 1 : 0);
    if (changes.listIds !== undefined) set('list_ids', changes.listIds === null ? null : JSON.stringify(changes.listIds));
    return this.guardedWrite(accountId, id, options, () => {
      if (sets.length > 0) this.db.prepare(`UPDATE console_user SET ${sets.join(', ')} WHERE account_id = ? AND id = ?`).run(...values, accountId, id);
      return toConsoleUser(this.db.prepare('SELECT * FROM console_user WHERE account_id = ? AND id = ?').get(accountId, id) as Row);
    });
  }

  async deleteConsoleUser(accountId: number, id: number, options: ConsoleUserWriteOptions = {}): Promise<ConsoleUserWrite> {
    return this.guardedWrite(accountId, id, options, () => {
      const user = toConsoleUser(this.db.prepare('SELECT * FROM console_user WHERE account_id = ? AND id = ?').get(accountId, id) as Row);
      this.db.prepare('DELETE FROM console_session WHERE account_id = ? AND user_id = ?').run(accountId, id);
      this.db.prepare('DELETE FROM console_user WHERE account_id = ? AND id = ?').run(accountId, id);
      return user;
    });
  }

  /**
   * `write` in one IMMEDIATE transaction (the write lock held from the start, so the check and
   * the write see the same users), when the user exists and keepAnAdministrator allows it.
   */
  private guardedWrite(accountId: number, id: number, options: ConsoleUserWriteOptions, write: () => ConsoleUser): ConsoleUserWrite {
    return this.db.transaction((): ConsoleUserWrite => {
      const current = this.db.prepare('SELECT * FROM console_user WHERE account_id = ? AND id = ?').get(accountId, id) as Row | undefined;
      if (current === undefined) return { ok: false, reason: 'not-found' };
      if (options.keepAnAdministrator === true && current.list_ids === null && flag(current.enabled) && this.db.prepare(
        'SELECT 1 FROM console_user WHERE account_id = ? AND id <> ? AND list_ids IS NULL AND enabled = 1 LIMIT 1').get(accountId, id) === undefined) {
        return { ok: false, reason: 'last-administrator' };
      }
      return { ok: true, user: write() };
    }).immediate();
  }
}
