/**
 * Rows of the OAuth tables (migration 0005) to records, for both adapters. Expiry columns are
 * epoch milliseconds in both schemas, as console sessions' are.
 */
import type { AccessGrant, RestClient } from '../oauth.ts';
import { timestamp, toAccount, type Row } from './row-mappers.ts';

export const toRestClient = (r: Row): RestClient => ({
  clientId: String(r.client_id), accountId: Number(r.account_id), secretHash: String(r.secret_hash), name: String(r.name),
  createdAt: timestamp(r.created_at),
});

/** A token row joined with its account (`SELECT a.*, t.client_id AS t_client_id, t.access_expires_at AS t_expires_at`). */
export const toAccessGrant = (r: Row): AccessGrant => ({
  clientId: String(r.t_client_id), expiresAt: new Date(Number(r.t_expires_at)), account: toAccount(r),
});

/** The select list of a token joined with its account, for toAccessGrant. */
export const ACCESS_GRANT_COLUMNS = 'a.*, t.client_id AS t_client_id, t.access_expires_at AS t_expires_at';
