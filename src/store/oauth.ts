/**
 * The REST API's OAuth2 state: the REST clients of each account (a public client id and the hash
 * of its secret) and the token pairs handed out to them. Only hashes of secrets and tokens are
 * kept (src/core/oauth.ts makes and hashes them), so a copy of the database cannot be used to
 * call the API. A token pair is one row: the access token, the refresh token that replaces the
 * pair, the account, the client and both expiry instants.
 */
import type { Account } from '../model/records.ts';

export interface NewRestClient {
  /** The public client id, unique across every account. */
  readonly clientId: string;
  /** Hex SHA-256 of the client secret. */
  readonly secretHash: string;
  /** A label for people (`shop`, `crm`); may be empty. */
  readonly name: string;
}

export interface RestClient extends NewRestClient {
  readonly accountId: number;
  readonly createdAt: Date;
}

export interface NewTokenPair {
  /** Hex SHA-256 of the access token. */
  readonly accessHash: string;
  /** Hex SHA-256 of the refresh token. */
  readonly refreshHash: string;
  readonly accountId: number;
  readonly clientId: string;
  readonly accessExpiresAt: Date;
  readonly refreshExpiresAt: Date;
}

/** A stored access token, whether or not it has expired (the caller tells an expired one apart). */
export interface AccessGrant {
  readonly clientId: string;
  readonly expiresAt: Date;
  /** The account as stored now, so a call sees a disabled account or a new allow-list at once. */
  readonly account: Account;
}

export interface OAuthStore {
  /** Adds a client to the account; a client id that exists already (in any account) throws. */
  createRestClient(accountId: number, client: NewRestClient): Promise<RestClient>;
  /** The account's clients, oldest first. */
  listRestClients(accountId: number): Promise<RestClient[]>;
  /** The client of that id, whatever its account. */
  findRestClient(clientId: string): Promise<RestClient | null>;
  /** Removes the account's client and every token pair issued to it; false when the account has no such client. */
  deleteRestClient(accountId: number, clientId: string): Promise<boolean>;
  saveTokenPair(pair: NewTokenPair): Promise<void>;
  /** The access token of that hash with its account, also when it has expired; null when unknown (or revoked). */
  findAccessToken(accessHash: string): Promise<AccessGrant | null>;
  /**
   * Consumes a refresh token: deletes its pair (the access token with it) and answers the pair's
   * account, when the token was issued to `clientId` and has not expired at `now`. Otherwise
   * nothing changes and the answer is null. Two calls with one token: only one gets the account.
   */
  takeRefreshToken(refreshHash: string, clientId: string, now: Date): Promise<{ readonly accountId: number } | null>;
  /** Deletes every token pair of the account; answers how many. */
  revokeAccountTokens(accountId: number): Promise<number>;
  /** Deletes the pairs whose access and refresh tokens have both expired at `now`; answers how many. */
  deleteExpiredTokens(now: Date): Promise<number>;
}
