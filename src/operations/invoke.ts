/**
 * One entry point for every binding: authenticate, run the operation, clean up. The feed of an
 * import call is opened while the request is still being read (`openFeed`), gated on the same
 * authentication, so an unauthenticated body is read and dropped, never stored.
 */
import { FeedUpload } from '../import/feed-upload.ts';
import { withDefaults, type RawArgs } from '../protocol/arguments.ts';
import type { OperationName } from '../protocol/operations.ts';
import type { Failure } from '../protocol/return-codes.ts';
import type { Credentials } from '../protocol/soap-request.ts';
import type { Account } from '../model/records.ts';
import { authenticate } from './authenticate.ts';
import type { Caller, OperationContext } from './context.ts';
import { handlers, type Outcome } from './handlers.ts';

export type AuthenticatedFeed = FeedUpload<Account | Failure>;

export function openFeed(ctx: OperationContext, credentials: Credentials | null, caller: Caller): AuthenticatedFeed {
  const gate = authenticate(ctx, credentials, caller).then((account) => ({
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
    const account = feed ? (await feed.gate).value : await authenticate(ctx, call.credentials, call.caller);
    if ('ok' in account) return account;
    const handler = handlers[call.operation];
    return await handler(ctx, { account, args: withDefaults(call.operation, call.args), feed });
  } finally {
    await feed?.release();
  }
}
