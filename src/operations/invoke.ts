/**
 * One entry point for every binding: authenticate, run the operation, clean up. The feed of an
 * import call is opened while the request is still being read (`openFeed`), gated on the same
 * authentication, so an unauthenticated body is read and dropped, never stored.
 */
import { FeedUpload } from '../import/feed-upload.ts';
import { withDefaults, type RawArgs } from '../protocol/arguments.ts';
import type { OperationName } from '../protocol/operations.ts';
import type { Outcome } from '../protocol/operation-results.ts';
import { ProtocolError } from '../protocol/faults.ts';
import { fail, type Failure } from '../protocol/return-codes.ts';
import type { Credentials } from '../protocol/soap-request.ts';
import { authenticate, type AccessRefusal, type Caller } from '../core/access.ts';
import type { Account } from '../model/records.ts';
import type { FeedWriterOptions } from '../store/feeds.ts';
import type { OperationContext } from './operation-context.ts';
import { handlers } from './handlers.ts';

/**
 * Too many login attempts for the user or from the address are waiting their turn (the login
 * throttle's line is full), so the password was not checked: no ReturnCode says that truly.
 */
export interface AttemptsWaiting {
  readonly ok: false;
  readonly attemptsWaiting: true;
}

/** The caller's account, the ReturnCode that refuses the call, or attempts waiting. */
export type CallAccess = Account | Failure | AttemptsWaiting;

export type AuthenticatedFeed = FeedUpload<CallAccess>;

/** The ReturnCode of each refusal of the access check (spec §3.3). */
const ACCESS_CODES = {
  'missing-credentials': -1013, 'unknown-user': -1001, 'wrong-password': -1002, disabled: -1006, 'address-refused': -1011,
} as const satisfies Record<Exclude<AccessRefusal, 'too-many-attempts'>, number>;

export async function authenticateCall(ctx: OperationContext, credentials: Credentials | null, caller: Caller): Promise<CallAccess> {
  const access = await authenticate(ctx, credentials && { user: credentials.User, password: credentials.Password }, caller);
  if (access.ok) return access.account;
  return access.reason === 'too-many-attempts' ? { ok: false, attemptsWaiting: true } : fail(ACCESS_CODES[access.reason]);
}

/** The answer to attempts waiting: a 503 fault that clients retry, never a wrong-password ReturnCode. */
export const attemptsWaitingFault = (): ProtocolError => new ProtocolError(
  'Too many login attempts for this user or from this address are waiting their turn; send the request again later.',
  'Server', 503, { 'retry-after': String(ATTEMPTS_RETRY_AFTER_SECONDS) },
);

/** When a client refused because attempts are waiting should try again. */
export const ATTEMPTS_RETRY_AFTER_SECONDS = 10;

/**
 * @param writer.leaseMs the lease the stored feed is held under while the request streams in: a
 *   partial feed left by a server that died is removed this long after (src/import/abandoned-feeds.ts).
 */
export function openFeed(ctx: OperationContext, credentials: Credentials | null, caller: Caller, writer: FeedWriterOptions = {}): AuthenticatedFeed {
  const gate = authenticateCall(ctx, credentials, caller).then((account) => ({
    value: account,
    writer: 'ok' in account ? null : ctx.store.feeds.openFeedWriter(account.id, writer),
  }));
  return new FeedUpload(gate);
}

export interface Invocation<Op extends OperationName> {
  readonly operation: Op;
  readonly args: RawArgs;
  readonly credentials: Credentials | null;
  readonly caller: Caller;
  /** The feed opened while reading the request, or null when the request had no `xmlDoc`. */
  readonly feed: AuthenticatedFeed | null;
}

export async function invoke<Op extends OperationName>(ctx: OperationContext, call: Invocation<Op>): Promise<Outcome<Op>> {
  const { feed } = call;
  try {
    const account = feed ? (await feed.gate).value : await authenticateCall(ctx, call.credentials, call.caller);
    if ('attemptsWaiting' in account) throw attemptsWaitingFault();
    if ('ok' in account) return account;
    const handler = handlers[call.operation];
    return await handler(ctx, { account, args: withDefaults(call.operation, call.args), feed });
  } finally {
    await feed?.release();
  }
}
