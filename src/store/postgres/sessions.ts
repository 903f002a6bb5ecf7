/**
 * Console sessions on PostgreSQL, kept by the hash of their cookie.
 */
import type pg from 'pg';
import { toConsoleSessionAndUser } from '../common/row-mappers.ts';
import type { ConsoleSession, NewConsoleSession, SessionStore } from '../sessions.ts';
import type { ConsoleUser } from '../../model/records.ts';
import { queryRow, queryRows } from './pool.ts';

export class PgSessions implements SessionStore {
  constructor(private readonly pool: pg.Pool) {}

  async createConsoleSession(s: NewConsoleSession): Promise<void> {
    await queryRows(this.pool, `
      INSERT INTO console_session (id_hash, user_id, account_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
      VALUES ($1, $2, $3, $4, now(), now(), $5, $6, $7)`,
    [s.idHash, s.userId, s.accountId, s.csrfToken, s.expiresAt.getTime(), s.ip, s.userAgent.slice(0, 300)]);
  }

  async findConsoleSession(idHash: string, at: Date): Promise<{ session: ConsoleSession; user: ConsoleUser } | null> {
    const r = await queryRow(this.pool, `
      SELECT s.*, u.id AS u_id, u.account_id AS u_account_id, u.username, u.password_hash, u.list_ids,
        u.enabled, u.created_at AS u_created_at
      FROM console_session s JOIN console_user u ON u.id = s.user_id AND u.account_id = s.account_id
      WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.enabled`, [idHash, at.getTime()]);
    return r ? toConsoleSessionAndUser(r) : null;
  }

  async touchConsoleSession(idHash: string, expiresAt: Date, at: Date): Promise<void> {
    await queryRows(this.pool, 'UPDATE console_session SET expires_at = $1, last_seen_at = $2 WHERE id_hash = $3', [expiresAt.getTime(), at, idHash]);
  }

  async deleteConsoleSession(idHash: string): Promise<void> {
    await queryRows(this.pool, 'DELETE FROM console_session WHERE id_hash = $1', [idHash]);
  }

  async deleteConsoleSessionsOfUser(accountId: number, userId: number, options: { except?: string } = {}): Promise<number> {
    return (await this.pool.query('DELETE FROM console_session WHERE account_id = $1 AND user_id = $2 AND id_hash <> $3',
      [accountId, userId, options.except ?? ''])).rowCount ?? 0;
  }

  async deleteExpiredConsoleSessions(at: Date): Promise<number> {
    return (await this.pool.query('DELETE FROM console_session WHERE expires_at <= $1', [at.getTime()])).rowCount ?? 0;
  }
}
