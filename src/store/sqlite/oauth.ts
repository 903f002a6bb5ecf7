/**
 * REST clients and OAuth token pairs on SQLite, kept by the hashes of their secrets.
 */
import { ACCESS_GRANT_COLUMNS, toAccessGrant, toRestClient } from '../common/oauth-rows.ts';
import type { Row } from '../common/row-mappers.ts';
import type { AccessGrant, NewRestClient, NewTokenPair, OAuthStore, RestClient } from '../oauth.ts';
import { now, type SqliteConnection } from './connection.ts';
import type { Statement } from './prepare.ts';

export class SqliteOAuth implements OAuthStore {
  private readonly stmt;

  constructor(private readonly db: SqliteConnection) {
    // Every REST call reads its access token: prepared once, at start-up.
    const named = (sql: string): Statement => db.named(sql);
    this.stmt = {
      accessToken: named(`SELECT ${ACCESS_GRANT_COLUMNS} FROM oauth_token t JOIN account a ON a.id = t.account_id WHERE t.access_hash = ?`),
    };
  }

  async createRestClient(accountId: number, c: NewRestClient): Promise<RestClient> {
    const r = this.db.prepare(`
      INSERT INTO rest_client (client_id, account_id, secret_hash, name, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *`)
      .get(c.clientId, accountId, c.secretHash, c.name, now()) as Row;
    return toRestClient(r);
  }

  async listRestClients(accountId: number): Promise<RestClient[]> {
    return (this.db.prepare('SELECT * FROM rest_client WHERE account_id = ? ORDER BY rowid').all(accountId) as Row[]).map(toRestClient);
  }

  async findRestClient(clientId: string): Promise<RestClient | null> {
    const r = this.db.prepare('SELECT * FROM rest_client WHERE client_id = ?').get(clientId) as Row | undefined;
    return r ? toRestClient(r) : null;
  }

  async deleteRestClient(accountId: number, clientId: string): Promise<boolean> {
    // The client's tokens go with it (ON DELETE CASCADE).
    return this.db.prepare('DELETE FROM rest_client WHERE client_id = ? AND account_id = ?').run(clientId, accountId).changes > 0;
  }

  async saveTokenPair(p: NewTokenPair): Promise<void> {
    this.db.prepare(`
      INSERT INTO oauth_token (access_hash, refresh_hash, account_id, client_id, access_expires_at, refresh_expires_at, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(p.accessHash, p.refreshHash, p.accountId, p.clientId, p.accessExpiresAt.getTime(), p.refreshExpiresAt.getTime(), now());
  }

  async findAccessToken(accessHash: string): Promise<AccessGrant | null> {
    const r = this.stmt.accessToken.get(accessHash) as Row | undefined;
    return r ? toAccessGrant(r) : null;
  }

  async takeRefreshToken(refreshHash: string, clientId: string, at: Date): Promise<{ accountId: number } | null> {
    const r = this.db.prepare(`
      DELETE FROM oauth_token WHERE refresh_hash = ? AND client_id = ? AND refresh_expires_at > ? RETURNING account_id`)
      .get(refreshHash, clientId, at.getTime()) as Row | undefined;
    return r ? { accountId: Number(r.account_id) } : null;
  }

  async revokeAccountTokens(accountId: number): Promise<number> {
    return this.db.prepare('DELETE FROM oauth_token WHERE account_id = ?').run(accountId).changes;
  }

  async deleteExpiredTokens(at: Date): Promise<number> {
    return this.db.prepare('DELETE FROM oauth_token WHERE refresh_expires_at <= ? AND access_expires_at <= ?').run(at.getTime(), at.getTime()).changes;
  }
}
