/**
 * The checks MailUp makes on every call (spec §3.3): user, password, whether the web service is
 * enabled for the account, and the caller's IP when the account's IP check is on. The password
 * is checked before anything about the account is revealed.
 */
import type { Credentials } from '../protocol/soap-request.ts';
import { fail, type Failure } from '../protocol/return-codes.ts';
import type { Account } from '../store/types.ts';
import type { Caller, OperationContext } from './context.ts';
import { verifyPassword } from './passwords.ts';

export async function authenticate(ctx: OperationContext, credentials: Credentials | null, caller: Caller): Promise<Account | Failure> {
  const user = credentials?.User?.trim().toLowerCase() ?? '';
  const password = credentials?.Password ?? null;
  if (user === '' || password === null) return fail(-1013);
  const account = await ctx.store.findAccountByWsUser(user);
  const cached = account !== null && ctx.credentials.matches(user, password, account.passwordHash);
  if (!cached) {
    const delay = ctx.throttle.delayFor(user, caller.ip);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    // Verified even for an unknown user, so timing does not tell which users exist.
    const valid = account === null
      ? await verifyPassword(password, null)
      : await ctx.credentials.verifyOnce(user, password, account.passwordHash, () => verifyPassword(password, account.passwordHash));
    if (account === null || !valid) {
      ctx.throttle.recordFailure(user, caller.ip);
      return fail(account === null ? -1001 : -1002);
    }
    ctx.throttle.recordSuccess(user);
    ctx.credentials.remember(user, password, account.passwordHash);
  }
  if (!account!.wsEnabled) return fail(-1006);
  if (account!.ipCheck && !ipAllowed(caller.ip, account!.allowedIps)) return fail(-1011);
  return account!;
}

/** Compares addresses in one form, so `::ffff:127.0.0.1` matches an allow-list entry `127.0.0.1`. */
export function ipAllowed(ip: string, allowed: readonly string[]): boolean {
  const plain = (a: string): string => a.trim().toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const mine = plain(ip);
  return allowed.some((a) => plain(a) === mine);
}
