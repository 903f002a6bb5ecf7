/**
 * Accounts and what their owners may change: creating one (with its default confirmation
 * message, idConfirmNL 0), its WS password, whether the web service is enabled, the IP check and
 * its allow-list, and its console users. The admin CLI, the console and the demo set-up all
 * change accounts through these functions.
 */
import { randomBytes } from 'node:crypto';
import type { Account, ConsoleUser } from '../model/records.ts';
import type { Store } from '../store/store.ts';
import { DEFAULT_CONFIRMATION } from './confirmations.ts';
import { canonicalAddress } from './ip-address.ts';
import { hashPassword } from './passwords.ts';
import { hasControlCharacter } from './text.ts';

export interface NewAccountRequest {
  readonly name: string;
  readonly password: string;
  readonly id?: number;
  readonly sender?: string;
}

export async function createAccount(store: Store, request: NewAccountRequest): Promise<Account> {
  const account = await store.accounts.createAccount({ id: request.id, name: request.name, passwordHash: await hashPassword(request.password) });
  await store.confirmations.createConfirmationMessage(account.id, {
    isDefault: true, sender: request.sender ?? `no-reply@${account.wsUser}.invalid`, ...DEFAULT_CONFIRMATION,
  });
  return account;
}

/** A random password of letters and digits, easy to copy from a terminal. */
export function generatePassword(length = 16): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * The longest WS password. Any other password is accepted: an operator pointing an existing
 * MailUp client at this server must be able to give the account the password the client already
 * holds. (The console asks more of a password chosen in its form: src/console/settings.ts.)
 */
export const MAX_WS_PASSWORD = 128;

export type PasswordRefusal = 'empty' | 'too-long';

export function checkWsPassword(password: string): PasswordRefusal | null {
  if (password === '') return 'empty';
  return Array.from(password).length > MAX_WS_PASSWORD ? 'too-long' : null;
}

/**
 * Sets the account's WS password; it works at once, on every server, for every door. The REST
 * API's tokens, obtained with the old password, are revoked.
 */
export async function setWsPassword(
  store: Store, accountId: number, password: string,
): Promise<{ ok: true; account: Account } | { ok: false; reason: PasswordRefusal | 'not-found' }> {
  const refusal = checkWsPassword(password);
  if (refusal !== null) return { ok: false, reason: refusal };
  const account = await store.accounts.updateAccount(accountId, { passwordHash: await hashPassword(password) });
  if (account) await store.oauth.revokeAccountTokens(account.id);
  return account ? { ok: true, account } : { ok: false, reason: 'not-found' };
}

/** The web-service access of an account: whether it may call at all, the IP check and its allow-list. */
export interface AccessChange {
  readonly wsEnabled?: boolean;
  readonly ipCheck?: boolean;
  /** The whole allow-list, replacing the stored one: IPv4 and IPv6 addresses in any written form. */
  readonly allowedIps?: readonly string[];
}

export type AccessChangeOutcome =
  | { readonly ok: true; readonly account: Account; readonly locksOut: boolean }
  | { readonly ok: false; readonly reason: 'not-found' }
  | { readonly ok: false; readonly reason: 'invalid-address'; readonly invalid: readonly string[] };

/**
 * Changes the account's web-service access. Every address is checked before anything changes and
 * stored in the one form the IP check compares (src/core/ip-address.ts), each once. `locksOut`
 * tells that the result refuses every call (the IP check on with no address allowed); each door
 * decides whether to allow that (the CLI warns, the console refuses).
 */
export async function changeAccess(store: Store, accountId: number, change: AccessChange): Promise<AccessChangeOutcome> {
  let allowedIps: string[] | undefined;
  if (change.allowedIps !== undefined) {
    const parsed = parseAllowList(change.allowedIps);
    if (!parsed.ok) return parsed;
    allowedIps = parsed.addresses;
  }
  const account = await store.accounts.updateAccount(accountId, {
    ...(change.wsEnabled !== undefined ? { wsEnabled: change.wsEnabled } : {}),
    ...(change.ipCheck !== undefined ? { ipCheck: change.ipCheck } : {}),
    ...(allowedIps !== undefined ? { allowedIps } : {}),
  });
  // Disabling revokes the REST API's tokens: enabling the account again does not bring them back.
  if (account && change.wsEnabled === false) await store.oauth.revokeAccountTokens(account.id);
  return account ? { ok: true, account, locksOut: locksOut(account) } : { ok: false, reason: 'not-found' };
}

/** Whether the account's access refuses every call: the IP check on and nothing allowed. */
export const locksOut = (account: Pick<Account, 'ipCheck' | 'allowedIps'>): boolean => account.ipCheck && account.allowedIps.length === 0;

/** Allow-list entries in canonical form, each once, in the order given; or the entries that are not addresses. */
export function parseAllowList(entries: readonly string[]): { ok: true; addresses: string[] } | { ok: false; reason: 'invalid-address'; invalid: string[] } {
  const given = entries.map((e) => e.trim()).filter((e) => e !== '');
  const invalid = given.filter((e) => canonicalAddress(e) === null);
  if (invalid.length > 0) return { ok: false, reason: 'invalid-address', invalid };
  return { ok: true, addresses: [...new Set(given.map((e) => canonicalAddress(e)!))] };
}

export interface NewConsoleUser {
  readonly username: string;
  readonly password: string;
  /** The lists the user may see; null for every list of the account. */
  readonly listIds?: readonly number[] | null;
}

/** Creates a console user; the name (no control characters) is unique in the account and every list must be the account's. */
export async function createConsoleUser(
  store: Store, accountId: number, user: NewConsoleUser,
): Promise<{ ok: true; user: ConsoleUser } | { ok: false; reason: 'empty-name' | 'invalid-name' | 'name-taken' | 'empty-password' } | { ok: false; reason: 'unknown-list'; listId: number }> {
  const username = user.username.trim();
  if (username === '') return { ok: false, reason: 'empty-name' };
  if (hasControlCharacter(username)) return { ok: false, reason: 'invalid-name' };
  if (user.password === '') return { ok: false, reason: 'empty-password' };
  for (const listId of user.listIds ?? []) {
    if ((await store.lists.getList(accountId, listId)) === null) return { ok: false, reason: 'unknown-list', listId };
  }
  if ((await store.accounts.findConsoleUser(accountId, username)) !== null) return { ok: false, reason: 'name-taken' };
  const created = await store.accounts.createConsoleUser(accountId, username, await hashPassword(user.password), user.listIds ?? null);
  return { ok: true, user: created };
}

