/**
 * MailUp's subscription rules for one recipient on one list and channel (spec §9).
 * Pure and total: every prior state and flag combination has a defined outcome.
 */
import type { PriorState, SubscriptionStatus, UnsubscribeReason } from '../model/subscription.ts';

export interface ImportFlags {
  readonly asPending: boolean;
  readonly ConfirmEmail: boolean;
  readonly asOptOut: boolean;
  readonly forceOptIn: boolean;
  readonly replaceGroups: boolean;
  /** ConfirmEmail asks only recipients not yet on the list (REST bulk imports, spec 2.7). */
  readonly confirmNewOnly?: boolean;
}

export interface RuleOutcome {
  readonly status: SubscriptionStatus;
  /** Set when the outcome is a new unsubscribe made by this import. */
  readonly reason: UnsubscribeReason | null;
  /** A confirmation request must be queued for this recipient (double opt-in). */
  readonly requestConfirmation: boolean;
  /** The stored subscription changes (status or a new confirmation request). */
  readonly changed: boolean;
}

const keep = (prior: Exclude<PriorState, { status: 'none' }>): RuleOutcome => ({
  status: prior.status,
  reason: prior.status === 'unsubscribed' ? prior.reason : null,
  requestConfirmation: false,
  changed: false,
});
const subscribe: RuleOutcome = { status: 'subscribed', reason: null, requestConfirmation: false, changed: true };
const optOut: RuleOutcome = { status: 'unsubscribed', reason: 'import', requestConfirmation: false, changed: true };
const askConfirmation: RuleOutcome = { status: 'pending', reason: null, requestConfirmation: true, changed: true };

/**
 * The outcome of importing a row for a recipient in `prior` state.
 *
 * - new recipients are subscribed; asOptOut makes them unsubscribed, ConfirmEmail pending with a request;
 * - subscribed ones change only with asOptOut (unsubscribed) or ConfirmEmail (pending with a request);
 * - pending ones become subscribed with asPending, unsubscribed with asPending + asOptOut, and get a
 *   new request with ConfirmEmail;
 * - unsubscribed ones change only with forceOptIn (to subscribed, or pending with ConfirmEmail), and
 *   never when the unsubscribe came from a hard bounce or a complaint.
 * asOptOut wins over ConfirmEmail; replaceGroups concerns groups only. With confirmNewOnly (REST
 * bulk imports) ConfirmEmail asks only recipients not yet on the list: subscribed and pending
 * ones keep their state, without a request.
 */
export function applySubscriptionRules(prior: PriorState, flags: ImportFlags): RuleOutcome {
  switch (prior.status) {
    case 'none':
      if (flags.asOptOut) return optOut;
      return flags.ConfirmEmail ? askConfirmation : subscribe;
    case 'subscribed':
      if (flags.asOptOut) return optOut;
      return flags.ConfirmEmail && !flags.confirmNewOnly ? askConfirmation : keep(prior);
    case 'pending':
      if (flags.asOptOut && flags.asPending) return optOut;
      if (flags.ConfirmEmail && !flags.confirmNewOnly) return askConfirmation;
      return flags.asPending ? subscribe : keep(prior);
    case 'unsubscribed':
      if (prior.reason === 'bounce' || prior.reason === 'complaint') return keep(prior);
      if (!flags.forceOptIn || flags.asOptOut) return keep(prior);
      return flags.ConfirmEmail ? askConfirmation : subscribe;
  }
}
