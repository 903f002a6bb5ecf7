/**
 * The checks MailUp makes on every call (spec §3.3): user, password, whether the web service is
 * enabled for the account, and the caller's IP when the account's IP check is on. The password
 * is checked before anything about the account is revealed.
 */
import type { Credentials } from '../protocol/soap-request.ts';
import { fail, type Failure } from '../protocol/return-codes.ts';
import type { Account } from '../model/records.ts';
import type { Caller, OperationContext } from './context.ts';
import { ipAllowed } from './ip-address.ts';
import { verifyPassword } from './passwords.ts';

export async function authenticate(ctx: OperationContext, credentials: Credentials | null, caller: Caller): Promise<Account | Failure> {
  const user = credentials?.User?.trim().toLowerCase() ?? '';
  const password = credentials?.Password ?? null;
  if (user === '' || password === null) return fail(-1013);
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
      return fail(account === null ? -1001 : -1002);
    }
    ctx.throttle.recordSuccess(user);
    ctx.credentials.remember(user, password, account.passwordHash);
  }
  if (!account!.wsEnabled) return fail(-1006);
  if (!admitsAddress(account!, caller)) return fail(-1011);
  return account!;
}

/** The account's IP check: on, the caller's address must be on the allow-list. */
const admitsAddress = (account: Account, caller: Caller): boolean => !account.ipCheck || ipAllowed(caller.ip, account.allowedIps);

/** Whether an account whose password checks out lets this caller in. */
const admits = (account: Account, caller: Caller): boolean => account.wsEnabled && admitsAddress(account, caller);
