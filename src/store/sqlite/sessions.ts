/**
 * Console sessions on SQLite, kept by the hash of their cookie.
 */
import { toConsoleSessionAndUser, type Row } from '../common/row-mappers.ts';
import type { ConsoleSession, NewConsoleSession, SessionStore } from '../sessions.ts';
import type { ConsoleUser } from '../../model/records.ts';
import { now, type SqliteConnection } from './connection.ts';

export class SqliteSessions implements SessionStore {
  constructor(private readonly db: SqliteConnection) {}

  async createConsoleSession(s: NewConsoleSession): Promise<void> {
    const t = now();
    this.db.prepare(`
      INSERT INTO console_session (id_hash, user_id, account_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(s.idHash, s.userId, s.accountId, s.csrfToken, t, t, s.expiresAt.getTime(), s.ip, s.userAgent.slice(0, 300));
  }

  async findConsoleSession(idHash: string, at: Date): Promise<{ session: ConsoleSession; user: ConsoleUser } | null> {
    const r = this.db.prepare(`
      SELECT s.*, u.id AS u_id, u.account_id AS u_account_id, u.username, u.password_hash, u.list_ids,
        u.enabled, u.created_at AS u_created_at
      FROM console_session s JOIN console_user u ON u.id = s.user_id AND u.account_id = s.account_id
      WHERE s.id_hash = ? AND s.expires_at > ? AND u.enabled = 1`).get(idHash, at.getTime()) as Row | undefined;
    return r ? toConsoleSessionAndUser(r) : null;
  }

  async touchConsoleSession(idHash: string, expiresAt: Date, at: Date): Promise<void> {
    this.db.prepare('UPDATE console_session SET expires_at = ?, last_seen_at = ? WHERE id_hash = ?').run(expiresAt.getTime(), at.toISOString(), idHash);
  }

  async deleteConsoleSession(idHash: string): Promise<void> {
    this.db.prepare('DELETE FROM console_session WHERE id_hash = ?').run(idHash);
  }

  async deleteConsoleSessionsOfUser(accountId: number, userId: number, options: { except?: string } = {}): Promise<number> {
    return this.db.prepare('DELETE FROM console_session WHERE account_id = ? AND user_id = ? AND id_hash <> ?')
      .run(accountId, userId, options.except ?? '').changes;
  }

  async deleteExpiredConsoleSessions(at: Date): Promise<number> {
    return this.db.prepare('DELETE FROM console_session WHERE expires_at <= ?').run(at.getTime()).changes;
  }
}
