/**
 * Console users after their creation (createConsoleUser is in ./accounts.ts): listing them, a
 * new password, disabling and enabling, the lists they see, deleting. The console's users page
 * and the admin CLI's `console-user` commands both go through these functions.
 *
 * The rule every door gets from here: an account never loses its last *administrator*, an
 * enabled user who sees every list (listIds null), through any of these changes. Disabling or
 * deleting that user, or giving it a list of lists, is refused with 'last-administrator'. The
 * store checks and writes atomically (`keepAnAdministrator`), so two changes at once cannot
 * remove the last two. An account that has no administrator (its users were all created with
 * lists) is not given one.
 *
 * A disabled user cannot sign in, and its sessions end at once (the store no longer finds a
 * session of a disabled user, and they are deleted). A new password ends the user's other
 * sessions too: whoever held the old one is signed out.
 */
import type { ConsoleUser } from '../model/records.ts';
import type { ConsoleUserChanges } from '../store/accounts.ts';
import type { Store } from '../store/store.ts';
import { generatePassword } from './accounts.ts';
import { hashPassword } from './passwords.ts';

/** An enabled user who sees every list of the account: the kind an account must keep one of. */
export const isAdministrator = (user: Pick<ConsoleUser, 'enabled' | 'listIds'>): boolean => user.enabled && user.listIds === null;

export type ConsoleUserRefusal = 'not-found' | 'last-administrator';

export type ConsoleUserOutcome =
  | { readonly ok: true; readonly user: ConsoleUser }
  | { readonly ok: false; readonly reason: ConsoleUserRefusal };

/** The account's console users, in the order they were created. */
export function listConsoleUsers(store: Store, accountId: number): Promise<ConsoleUser[]> {
  return store.accounts.listConsoleUsers(accountId);
}

/** The account's user of that name (as typed: surrounding spaces are not part of a name), or null. */
export function findConsoleUserByName(store: Store, accountId: number, username: string): Promise<ConsoleUser | null> {
  return store.accounts.findConsoleUser(accountId, username.trim());
}

/**
 * Writes the change; when it leaves the user short of an administrator (disabled, or limited to
 * some lists), the store refuses it for the account's last administrator.
 */
async function change(store: Store, accountId: number, userId: number, changes: ConsoleUserChanges): Promise<ConsoleUserOutcome> {
  const demotes = changes.enabled === false || (changes.listIds !== undefined && changes.listIds !== null);
  return store.accounts.updateConsoleUser(accountId, userId, changes, { keepAnAdministrator: demotes });
}

export interface PasswordChangeOptions {
  /** The session (hash) that made the change, kept alive: a user who changes its own password stays signed in. */
  readonly keepSession?: string;
}

/** Sets the user's password (not empty); the user's other sessions end. */
export async function setConsoleUserPassword(
  store: Store, accountId: number, userId: number, password: string, options: PasswordChangeOptions = {},
): Promise<ConsoleUserOutcome | { readonly ok: false; readonly reason: 'empty-password' }> {
  if (password === '') return { ok: false, reason: 'empty-password' };
  const outcome = await change(store, accountId, userId, { passwordHash: await hashPassword(password) });
  if (outcome.ok) await store.sessions.deleteConsoleSessionsOfUser(accountId, userId, { except: options.keepSession });
  return outcome;
}

/** A new generated password for the user, to be shown once (only its hash is kept); the user's other sessions end. */
export async function resetConsoleUserPassword(
  store: Store, accountId: number, userId: number, options: PasswordChangeOptions = {},
): Promise<{ readonly ok: true; readonly user: ConsoleUser; readonly password: string } | { readonly ok: false; readonly reason: 'not-found' }> {
  const password = generatePassword();
  const outcome = await setConsoleUserPassword(store, accountId, userId, password, options);
  if (!outcome.ok) return { ok: false, reason: 'not-found' };
  return { ok: true, user: outcome.user, password };
}

/**
 * Disables or enables the user. A disabled user cannot sign in and its sessions end; the last
 * administrator cannot be disabled.
 */
export async function setConsoleUserEnabled(store: Store, accountId: number, userId: number, enabled: boolean): Promise<ConsoleUserOutcome> {
  const outcome = await change(store, accountId, userId, { enabled });
  if (outcome.ok && !enabled) await store.sessions.deleteConsoleSessionsOfUser(accountId, userId);
  return outcome;
}

/**
 * The lists the user sees: null for every list, else lists of the account (each once). Limiting
 * the last administrator to some lists is refused.
 */
export async function setConsoleUserLists(
  store: Store, accountId: number, userId: number, listIds: readonly number[] | null,
): Promise<ConsoleUserOutcome | { readonly ok: false; readonly reason: 'unknown-list'; readonly listId: number }> {
  const unique = listIds === null ? null : [...new Set(listIds)];
  for (const listId of unique ?? []) {
    if ((await store.lists.getList(accountId, listId)) === null) return { ok: false, reason: 'unknown-list', listId };
  }
  return change(store, accountId, userId, { listIds: unique });
}

/** Deletes the user and ends its sessions; the last administrator cannot be deleted. Answers the user as it was. */
export function deleteConsoleUser(store: Store, accountId: number, userId: number): Promise<ConsoleUserOutcome> {
  return store.accounts.deleteConsoleUser(accountId, userId, { keepAnAdministrator: true });
}

/** Whether the user may sign in to the console. */
export const maySignIn = (user: Pick<ConsoleUser, 'enabled'>): boolean => user.enabled;
