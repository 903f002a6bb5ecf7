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
export type AccessRefusal = 'missing-credentials' | 'unknown-user' | 'wrong-password' | 'disabled' | 'address-refused';

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
    const delay = ctx.throttle.delayFor(user, caller.ip);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    // Verified even for an unknown user, so timing does not tell which users exist.
    const valid = account === null
      ? await verifyPassword(password, null)
      : await ctx.credentials.verifyOnce(user, password, account.passwordHash, () => verifyPassword(password, account!.passwordHash));
    if (account === null || !valid) {
      ctx.throttle.recordFailure(user, caller.ip);
      return refused(account === null ? 'unknown-user' : 'wrong-password');
    }
    ctx.throttle.recordSuccess(user);
    ctx.credentials.remember(user, password, account.passwordHash);
  }
  if (!account!.wsEnabled) return refused('disabled');
  if (!admitsAddress(account!, caller)) return refused('address-refused');
  return { ok: true, account: account! };
}

const refused = (reason: AccessRefusal): AccessOutcome => ({ ok: false, reason });

/** The account's IP check: on, the caller's address must be on the allow-list. */
const admitsAddress = (account: Account, caller: Caller): boolean => !account.ipCheck || ipAllowed(caller.ip, account.allowedIps);

/** Whether an account whose password checks out lets this caller in. */
const admits = (account: Account, caller: Caller): boolean => account.wsEnabled && admitsAddress(account, caller);
