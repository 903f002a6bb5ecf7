/**
 * One batch of an import as the import engine plans it and the store applies it: the prior state
 * the store reads for the batch's recipients, and the writes, rejects and counters the planner
 * makes of it (src/import/plan-batch.ts).
 */
import type { Channel, PriorState, SubscriptionStatus, UnsubscribeReason } from './subscription.ts';
import type { Counters } from './records.ts';

/** What the store knows of a recipient before a batch is applied. */
export interface PriorRecipient {
  readonly id: number;
  readonly email: string | null;
  readonly mobile: string | null;
  /** Subscription on the process's list, per channel; absent means not in the list. */
  readonly emailState: PriorState;
  readonly smsState: PriorState;
}

/** A recipient the batch creates or updates. */
export interface RecipientWrite {
  /** Existing recipient id, or null for a new one. */
  readonly id: number | null;
  readonly email: string | null;
  readonly mobile: string | null;
  readonly name: string | null;
  /** Fields to set (by N); '' clears a field. Fields not named keep their value. */
  readonly fields: Readonly<Record<number, string>>;
  readonly subscriptions: readonly SubscriptionWrite[];
  /** Add to the process's groups (and, with replaceGroups, leave the list's other groups). */
  readonly joinGroups: boolean;
}

export interface SubscriptionWrite {
  readonly channel: Channel;
  readonly status: SubscriptionStatus;
  readonly reason: UnsubscribeReason | null;
  readonly requestConfirmation: boolean;
}

export interface RejectedRow {
  readonly row: number;
  readonly raw: string;
  readonly reason: string;
}

/** The result of planning a batch against the prior state: everything the store must write. */
export interface BatchPlan {
  readonly recipients: readonly RecipientWrite[];
  readonly rejects: readonly RejectedRow[];
  readonly counters: Readonly<Counters>;
}

/** The identities a batch touches, for looking up prior state in one query per kind. */
export interface BatchKeys {
  readonly emails: readonly string[];
  /** Mobiles of rows that have no e-mail (matched by mobile). */
  readonly mobiles: readonly string[];
}

export interface RejectReportRow extends RejectedRow {
  readonly processId: number;
}

/** Keys of the prior-state map: `e:<email>` or `m:<mobile>`. */
export const emailKey = (email: string): string => `e:${email}`;
export const mobileKey = (mobile: string): string => `m:${mobile}`;
