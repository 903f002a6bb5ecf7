/**
 * REST clients and OAuth token pairs on PostgreSQL, kept by the hashes of their secrets.
 */
import type pg from 'pg';
import { ACCESS_GRANT_COLUMNS, toAccessGrant, toRestClient } from '../common/oauth-rows.ts';
import type { AccessGrant, NewRestClient, NewTokenPair, OAuthStore, RestClient } from '../oauth.ts';
import { cannotBeStored, queryRow, queryRows } from './pool.ts';

export class PgOAuth implements OAuthStore {
  constructor(private readonly pool: pg.Pool) {}

  async createRestClient(accountId: number, c: NewRestClient): Promise<RestClient> {
    const r = await queryRow(this.pool, `
      INSERT INTO rest_client (client_id, account_id, secret_hash, name) VALUES ($1, $2, $3, $4) RETURNING *`,
    [c.clientId, accountId, c.secretHash, c.name]);
    return toRestClient(r!);
  }

  async listRestClients(accountId: number): Promise<RestClient[]> {
    return (await queryRows(this.pool, 'SELECT * FROM rest_client WHERE account_id = $1 ORDER BY seq', [accountId])).map(toRestClient);
  }

  async findRestClient(clientId: string): Promise<RestClient | null> {
    // A client id is whatever a caller sent; one PostgreSQL cannot hold names no client.
    if (cannotBeStored(clientId)) return null;
    const r = await queryRow(this.pool, 'SELECT * FROM rest_client WHERE client_id = $1', [clientId]);
    return r ? toRestClient(r) : null;
  }

  async deleteRestClient(accountId: number, clientId: string): Promise<boolean> {
    if (cannotBeStored(clientId)) return false;
    // The client's tokens go with it (ON DELETE CASCADE).
    return ((await this.pool.query('DELETE FROM rest_client WHERE client_id = $1 AND account_id = $2', [clientId, accountId])).rowCount ?? 0) > 0;
  }

  async saveTokenPair(p: NewTokenPair): Promise<void> {
    await queryRows(this.pool, `
      INSERT INTO oauth_token (access_hash, refresh_hash, account_id, client_id, access_expires_at, refresh_expires_at)
      VALUES ($1, $2, $3, $4, $5, $6)`,
    [p.accessHash, p.refreshHash, p.accountId, p.clientId, p.accessExpiresAt.getTime(), p.refreshExpiresAt.getTime()]);
  }

  async findAccessToken(accessHash: string): Promise<AccessGrant | null> {
    // Every REST call reads its access token: a named statement, planned once per connection.
    const { rows } = await this.pool.query({
      name: 'oauth-access-token',
      text: `SELECT ${ACCESS_GRANT_COLUMNS} FROM oauth_token t JOIN account a ON a.id = t.account_id WHERE t.access_hash = $1`,
      values: [accessHash],
    });
    return rows[0] ? toAccessGrant(rows[0]) : null;
  }

  async takeRefreshToken(refreshHash: string, clientId: string, at: Date): Promise<{ accountId: number } | null> {
    if (cannotBeStored(clientId)) return null;
    // One DELETE: of two concurrent calls with the same token, only one gets the row back.
    const r = await queryRow(this.pool, `
      DELETE FROM oauth_token WHERE refresh_hash = $1 AND client_id = $2 AND refresh_expires_at > $3 RETURNING account_id`,
    [refreshHash, clientId, at.getTime()]);
    return r ? { accountId: Number(r.account_id) } : null;
  }

  async revokeAccountTokens(accountId: number): Promise<number> {
    return (await this.pool.query('DELETE FROM oauth_token WHERE account_id = $1', [accountId])).rowCount ?? 0;
  }

  async deleteExpiredTokens(at: Date): Promise<number> {
    return (await this.pool.query('DELETE FROM oauth_token WHERE refresh_expires_at <= $1 AND access_expires_at <= $1', [at.getTime()])).rowCount ?? 0;
  }
}
