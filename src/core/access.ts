/**
 * Who may call: the checks MailUp makes on every call of its interfaces (spec §3.3): user,
 * password, whether the web service is enabled for the account, and the caller's IP when the
 * account's IP check is on. The password is checked before anything about the account is
 * revealed. Each door turns a refusal into its own answer (the SOAP service into -1001…-1013).
 */
import type { Account } from '../model/records.ts';
import type { Store } from '../store/store.ts';
import type { CredentialCache } from './credential-cache.ts';
import { ipAllowed } from './ip-address.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { verifyPassword } from './passwords.ts';

/** What checking a caller needs: the store, the cache of recent verifications and the throttle. */
export interface AccessContext {
  readonly store: Store;
  readonly credentials: CredentialCache;
  /** Slows down repeated failed logins per user and per source address. */
  readonly throttle: LoginThrottle;
}

/** Who is calling: the client's address, for the IP allow-list. */
export interface Caller {
  readonly ip: string;
}

export interface Credentials {
  readonly user: string | null;
  readonly password: string | null;
}

/** Why a caller was refused, in the order the checks run. */
export type AccessRefusal = 'missing-credentials' | 'unknown-user' | 'wrong-password' | 'disabled' | 'address-refused'
  /** Too many attempts for this user or from this address are waiting their turn: try again later; the password was not checked. */
  | 'too-many-attempts';

export type AccessOutcome = { readonly ok: true; readonly account: Account } | { readonly ok: false; readonly reason: AccessRefusal };

export async function authenticate(ctx: AccessContext, credentials: Credentials | null, caller: Caller): Promise<AccessOutcome> {
  const user = credentials?.user?.trim().toLowerCase() ?? '';
  const password = credentials?.password ?? null;
  if (user === '' || password === null) return refused('missing-credentials');
  const recentlyVerified = (a: Account | null): boolean => a !== null && ctx.credentials.matches(user, password, a.passwordHash);
  let account = await ctx.store.accounts.findAccountByWsUser(user);
  let cached = recentlyVerified(account);
  // That row may come from the store's lookup cache (src/store/lookup-cache.ts). Before refusing
  // a known user, read the account as stored now, so that a password set or an access granted by
  // another process (the admin CLI) works at once; only revocations wait for the cache to expire.
  if (account !== null && (!cached || !admits(account, caller))) {
    account = await ctx.store.accounts.getAccount(account.id);
    cached = recentlyVerified(account);
  }
  if (!cached) {
    // Concurrent attempts with the same user, password and account share one turn and one check:
    // a burst of pollers whose cache entry expired costs one scrypt, and the same guess sent many
    // times at once is still one guess.
    const found = account;
    const valid = await ctx.credentials.verifyOnce(user, password, found?.passwordHash ?? '', () => throttledCheck(ctx, user, password, found, caller));
    if (valid === 'too-many-attempts') return refused(valid);
    if (account === null || !valid) return refused(account === null ? 'unknown-user' : 'wrong-password');
  }
  if (!account!.wsEnabled) return refused('disabled');
  if (!admitsAddress(account!, caller)) return refused('address-refused');
  return { ok: true, account: account! };
}

/**
 * Checks a password in its turn (src/core/login-throttle.ts); an attempt the throttle refuses
 * (its line is full) is not checked. Verified even for an unknown user, so timing does not tell
 * which users exist.
 */
async function throttledCheck(
  ctx: AccessContext, user: string, password: string, account: Account | null, caller: Caller,
): Promise<boolean | 'too-many-attempts'> {
  const ticket = await ctx.throttle.admit(user, caller.ip);
  if (ticket === null) return 'too-many-attempts';
  let valid = false;
  try {
    // Another attempt may have verified this very password while this one waited for its turn.
    valid = account !== null && ctx.credentials.matches(user, password, account.passwordHash);
    if (!valid) valid = (await verifyPassword(password, account?.passwordHash ?? null)) && account !== null;
    if (valid) ctx.credentials.remember(user, password, account!.passwordHash);
  } finally {
    ticket.settle(valid);
  }
  return valid;
}

const refused = (reason: AccessRefusal): AccessOutcome => ({ ok: false, reason });

/**
 * What an account whose credentials were checked earlier (a REST access token) still has to pass
 * on each call: the web service enabled, and the caller's address when the IP check is on.
 */
export function accessRefusalFor(account: Account, caller: Caller): 'disabled' | 'address-refused' | null {
  if (!account.wsEnabled) return 'disabled';
  return admitsAddress(account, caller) ? null : 'address-refused';
}

/** The account's IP check: on, the caller's address must be on the allow-list. */
const admitsAddress = (account: Account, caller: Caller): boolean => !account.ipCheck || ipAllowed(caller.ip, account.allowedIps);

/** Whether an account whose password checks out lets this caller in. */
const admits = (account: Account, caller: Caller): boolean => account.wsEnabled && admitsAddress(account, caller);
