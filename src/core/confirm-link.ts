/**
 * What opening a confirm link does: check the token, then let the store move the recipient from
 * pending to subscribed, in one transaction and only from pending. The answer says plainly what
 * happened; the HTTP layer turns it into a page.
 */
import type { Store } from '../store/store.ts';
import { verifyConfirmToken } from '../mail/confirm-token.ts';

export type ConfirmLinkResult =
  | 'confirmed' | 'already-confirmed' | 'already-subscribed' | 'unsubscribed' | 'not-found' | 'invalid' | 'expired';

export interface ConfirmLinkAnswer {
  readonly result: ConfirmLinkResult;
  /** True only for `confirmed`: nothing else changes anything. */
  readonly changed: boolean;
  readonly email: string | null;
  readonly listName: string | null;
  readonly at: Date | null;
}

export interface ConfirmLinkDeps {
  readonly store: Store;
  readonly secret: Buffer;
  readonly now?: () => Date;
}

export async function openConfirmLink(deps: ConfirmLinkDeps, token: string): Promise<ConfirmLinkAnswer> {
  const now = deps.now?.() ?? new Date();
  const check = verifyConfirmToken(deps.secret, token, now);
  if (!check.ok) {
    return { result: check.reason, changed: false, email: null, listName: null, at: check.reason === 'expired' ? check.claims.expiresAt : null };
  }
  const { requestId, recipientId, listId } = check.claims;
  const outcome = await deps.store.confirmations.confirmSubscription(requestId, recipientId, listId, now);
  return {
    result: outcome.result, changed: outcome.result === 'confirmed', email: outcome.email, listName: outcome.listName,
    at: outcome.confirmedAt,
  };
}
