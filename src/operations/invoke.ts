/**
 * One entry point for every binding: authenticate, run the operation, clean up. The feed of an
 * import call is opened while the request is still being read (`openFeed`), gated on the same
 * authentication, so an unauthenticated body is read and dropped, never stored.
 */
import { FeedUpload } from '../import/feed-upload.ts';
import { withDefaults, type RawArgs } from '../protocol/arguments.ts';
import type { OperationName } from '../protocol/operations.ts';
import type { Outcome } from '../protocol/operation-results.ts';
import { fail, type Failure } from '../protocol/return-codes.ts';
import type { Credentials } from '../protocol/soap-request.ts';
import { authenticate, type AccessRefusal, type Caller } from '../core/access.ts';
import type { Account } from '../model/records.ts';
import type { OperationContext } from './operation-context.ts';
import { handlers } from './handlers.ts';

export type AuthenticatedFeed = FeedUpload<Account | Failure>;

/** The ReturnCode of each refusal of the access check (spec §3.3). */
const ACCESS_CODES = {
  'missing-credentials': -1013, 'unknown-user': -1001, 'wrong-password': -1002, disabled: -1006, 'address-refused': -1011,
} as const satisfies Record<AccessRefusal, number>;

/** The caller's account, or the ReturnCode that refuses the call. */
export async function authenticateCall(ctx: OperationContext, credentials: Credentials | null, caller: Caller): Promise<Account | Failure> {
  const access = await authenticate(ctx, credentials && { user: credentials.User, password: credentials.Password }, caller);
  return access.ok ? access.account : fail(ACCESS_CODES[access.reason]);
}

export function openFeed(ctx: OperationContext, credentials: Credentials | null, caller: Caller): AuthenticatedFeed {
  const gate = authenticateCall(ctx, credentials, caller).then((account) => ({
    value: account,
    writer: 'ok' in account ? null : ctx.store.feeds.openFeedWriter(account.id),
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
    if ('ok' in account) return account;
    const handler = handlers[call.operation];
    return await handler(ctx, { account, args: withDefaults(call.operation, call.args), feed });
  } finally {
    await feed?.release();
  }
}
