/**
 * Accounts (the WS users) and their console users on PostgreSQL. New account numbers are chosen
 * under an advisory lock, so two creations at once never pick the same one.
 */
import type pg from 'pg';
import { toAccount, toConsoleUser, type Row } from '../common/row-mappers.ts';
import type { AccountStore, ConsoleUserChanges, ConsoleUserWrite, ConsoleUserWriteOptions, NewAccount } from '../accounts.ts';
import type { Account, AccountChanges, ConsoleUser } from '../../model/records.ts';
import { lockAccount, LOCK } from './locks.ts';
import { cannotBeStored, inTransaction, queryRow, queryRows } from './pool.ts';

export class PgAccounts implements AccountStore {
  constructor(private readonly pool: pg.Pool) {}

  async createAccount(account: NewAccount): Promise<Account> {
    const r = await inTransaction(this.pool, async (c) => {
      await lockAccount(c, LOCK.accounts, 0);
      const id = account.id ?? Number((await c.query<Row>('SELECT coalesce(max(id), 1000) + 1 AS id FROM account')).rows[0]!.id);
      return (await c.query<Row>(
        'INSERT INTO account (id, ws_user, password_hash, ws_enabled, name) VALUES ($1, $2, $3, $4, $5) RETURNING *',
        [id, `a${id}`, account.passwordHash, account.wsEnabled !== false, account.name],
      )).rows[0]!;
    });
    return toAccount(r);
  }

  // Every web-service call authenticates (and checks its list: lists.ts): these reads are named
  // statements, parsed and planned once per connection.

  async getAccount(id: number): Promise<Account | null> {
    const { rows } = await this.pool.query<Row>({ name: 'account-by-id', text: 'SELECT * FROM account WHERE id = $1', values: [id] });
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async findAccountByWsUser(wsUser: string): Promise<Account | null> {
    if (cannotBeStored(wsUser)) return null;
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
    if (changes.httpApiIps !== undefined) set('http_api_ips', JSON.stringify(changes.httpApiIps));
    if (sets.length > 0) await queryRows(this.pool, `UPDATE account SET ${sets.join(', ')} WHERE id = $${values.length + 1}`, [...values, id]);
    return this.getAccount(id);
  }

  async listAccounts(): Promise<Account[]> {
    return (await queryRows(this.pool, 'SELECT * FROM account ORDER BY id')).map(toAccount);
  }

  async createConsoleUser(accountId: number, username: string, passwordHash: string, listIds: readonly number[] | null = null): Promise<ConsoleUser> {
    const r = await queryRow(this.pool,
      'INSERT INTO console_user (account_id, username, password_hash, list_ids) VALUES ($1, $2, $3, $4) RETURNING *',
      [accountId, username, passwordHash, listIds === null ? null : JSON.stringify(listIds)],
    );
    return toConsoleUser(r!);
  }

  async findConsoleUser(accountId: number, username: string): Promise<ConsoleUser | null> {
    if (cannotBeStored(username)) return null;
    const r = await queryRow(this.pool, 'SELECT * FROM console_user WHERE account_id = $1 AND username = $2', [accountId, username]);
    return r ? toConsoleUser(r) : null;
  }

  async getConsoleUser(accountId: number, id: number): Promise<ConsoleUser | null> {
    const r = await queryRow(this.pool, 'SELECT * FROM console_user WHERE account_id = $1 AND id = $2', [accountId, id]);
    return r ? toConsoleUser(r) : null;
  }

  async listConsoleUsers(accountId: number): Promise<ConsoleUser[]> {
    return (await queryRows(this.pool, 'SELECT * FROM console_user WHERE account_id = $1 ORDER BY id', [accountId])).map(toConsoleUser);
  }

  async updateConsoleUser(accountId: number, id: number, changes: ConsoleUserChanges, options: ConsoleUserWriteOptions = {}): Promise<ConsoleUserWrite> {
    const sets: string[] = [];
    const values: unknown[] = [accountId, id];
    const set = (column: string, value: unknown): void => {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    };
    if (changes.passwordHash !== undefined) set('password_hash', changes.passwordHash);
    if (changes.enabled !== undefined) set('enabled', changes.enabled);
    if (changes.listIds !== undefined) set('list_ids', changes.listIds === null ? null : JSON.stringify(changes.listIds));
    return this.guardedWrite(accountId, id, options, async (c) => {
      const text = sets.length > 0
        ? `UPDATE console_user SET ${sets.join(', ')} WHERE account_id = $1 AND id = $2 RETURNING *`
        : 'SELECT * FROM console_user WHERE account_id = $1 AND id = $2';
      return toConsoleUser((await c.query<Row>(text, sets.length > 0 ? values : [accountId, id])).rows[0]!);
    });
  }

  async deleteConsoleUser(accountId: number, id: number, options: ConsoleUserWriteOptions = {}): Promise<ConsoleUserWrite> {
    return this.guardedWrite(accountId, id, options, async (c) => {
      await c.query('DELETE FROM console_session WHERE account_id = $1 AND user_id = $2', [accountId, id]);
      return toConsoleUser((await c.query<Row>('DELETE FROM console_user WHERE account_id = $1 AND id = $2 RETURNING *', [accountId, id])).rows[0]!);
    });
  }

  /**
   * `write` in a transaction under the account's lock (LOCK.accounts, keyed by the account: the
   * one of account creation is keyed 0), so that two writes at once cannot each count the other's
   * user as the remaining administrator; only when the user exists and keepAnAdministrator allows it.
   */
  private async guardedWrite(
    accountId: number, id: number, options: ConsoleUserWriteOptions, write: (c: pg.PoolClient) => Promise<ConsoleUser>,
  ): Promise<ConsoleUserWrite> {
    if (!Number.isSafeInteger(id) || !Number.isSafeInteger(accountId)) return { ok: false, reason: 'not-found' };
    return inTransaction(this.pool, async (c): Promise<ConsoleUserWrite> => {
      await lockAccount(c, LOCK.accounts, accountId);
      const current = (await c.query<Row>('SELECT * FROM console_user WHERE account_id = $1 AND id = $2 FOR UPDATE', [accountId, id])).rows[0];
      if (current === undefined) return { ok: false, reason: 'not-found' };
      if (options.keepAnAdministrator === true && current.list_ids === null && current.enabled === true && (await c.query(
        'SELECT 1 FROM console_user WHERE account_id = $1 AND id <> $2 AND list_ids IS NULL AND enabled LIMIT 1', [accountId, id])).rowCount === 0) {
        return { ok: false, reason: 'last-administrator' };
      }
      return { ok: true, user: await write(c) };
    });
  }
}
