/**
 * An account's REST clients: what a program calling the REST API names itself with (OAuth2's
 * client id and secret) before it logs in with the account's WS user and password. The admin
 * CLI, the console and the demo set-up all go through these functions.
 *
 * The client id is public (a GUID, as MailUp's are); the secret is 192 random bits, shown once
 * when the client is made and stored only as its SHA-256. A fast hash is enough for a secret of
 * that strength (nobody can guess through 2^192), unlike a password, and it keeps every token
 * request cheap; passwords keep their scrypt hash (./passwords.ts).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { RestClient } from '../store/oauth.ts';
import type { Store } from '../store/store.ts';
import { hasControlCharacter } from './text.ts';

/** Longest client name, in characters. */
export const MAX_REST_CLIENT_NAME = 100;

/** Hex SHA-256 of a high-entropy secret (a client secret, an access or refresh token). */
export const secretHash = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** Whether `secret` is the one whose hash is `storedHash`, compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(secretHash(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

export type RestClientNameRefusal = 'name-too-long' | 'control-character';

/** A client's name: trimmed, at most MAX_REST_CLIENT_NAME characters, no control characters; '' is allowed. */
export function restClientName(raw: string): { ok: true; name: string } | { ok: false; reason: RestClientNameRefusal } {
  const name = raw.trim();
  if (Array.from(name).length > MAX_REST_CLIENT_NAME) return { ok: false, reason: 'name-too-long' };
  if (hasControlCharacter(name)) return { ok: false, reason: 'control-character' };
  return { ok: true, name };
}

/** A new client and its secret, which exists nowhere else from now on: show it once. */
export interface NewClient {
  readonly client: RestClient;
  readonly secret: string;
}

export async function addRestClient(
  store: Store, accountId: number, rawName = '',
): Promise<{ ok: true } & NewClient | { ok: false; reason: RestClientNameRefusal }> {
  const named = restClientName(rawName);
  if (!named.ok) return named;
  const secret = randomBytes(24).toString('base64url');
  const client = await store.oauth.createRestClient(accountId, { clientId: randomUUID(), secretHash: secretHash(secret), name: named.name });
  return { ok: true, client, secret };
}

/** The account's clients, oldest first (their secrets cannot be shown: only hashes are kept). */
export async function listRestClients(store: Store, accountId: number): Promise<RestClient[]> {
  return store.oauth.listRestClients(accountId);
}

/** Removes a client of the account; the tokens it was given stop working at once. */
export async function removeRestClient(store: Store, accountId: number, clientId: string): Promise<{ ok: true } | { ok: false; reason: 'not-found' }> {
  return (await store.oauth.deleteRestClient(accountId, clientId.trim().toLowerCase())) ? { ok: true } : { ok: false, reason: 'not-found' };
}
