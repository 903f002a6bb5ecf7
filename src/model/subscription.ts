/**
 * The states a recipient's subscription to a list can be in, per channel: the words every layer
 * uses (the store keeps them, the import rules move between them, the doors show them).
 */

/** The two channels a list subscription has: e-mail and SMS (the mobile number). */
export type Channel = 'email' | 'sms';

export type SubscriptionStatus = 'subscribed' | 'pending' | 'unsubscribed';
/** Why a recipient is unsubscribed. Bounce and complaint unsubscribes are final. */
export type UnsubscribeReason = 'user' | 'import' | 'bounce' | 'complaint';

/** The recipient's state on this list and channel before the row is applied. */
export type PriorState =
  | { readonly status: 'none' }
  | { readonly status: 'subscribed' }
  | { readonly status: 'pending' }
  | { readonly status: 'unsubscribed'; readonly reason: UnsubscribeReason };
