/**
 * One recipient at a time: what the HTTP subscribe API and the REST API's recipient calls read and
 * change, beside the imports' batch merge (./merge.ts), in the same tables.
 *
 * A change follows the imports' split between rules and writes: the store reads what it knows of
 * the recipient inside its transaction, hands it to the caller's pure `plan` (the rules live in
 * src/core/recipients.ts), and writes what the plan says, all in one transaction that holds the
 * account's subscribers lock (SQLite's write lock; PostgreSQL's advisory lock, as a batch merge
 * and a confirm click take it), so a single subscribe and a running import of the same account
 * take their turns and never interleave.
 */
import type { Group, MailingList } from '../model/records.ts';
import type { Channel, SubscriptionStatus, UnsubscribeReason } from '../model/subscription.ts';

/** How a call names a recipient of the account. E-mail addresses are stored lower-case; mobiles in `+digits` form. */
export type RecipientKey = { readonly id: number } | { readonly email: string } | { readonly mobile: string };

export interface RecipientRecord {
  readonly id: number;
  readonly accountId: number;
  readonly email: string | null;
  readonly mobile: string | null;
  readonly name: string | null;
  /** campoN values by N ('' for a field cleared after it was set). */
  readonly fields: Readonly<Record<number, string>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A recipient's subscription to one list on one channel. */
export interface SubscriptionRecord {
  readonly listId: number;
  readonly channel: Channel;
  readonly status: SubscriptionStatus;
  readonly reason: UnsubscribeReason | null;
  /** When the status last changed (or the row was last written). */
  readonly updatedAt: Date;
  /** When a confirm link made it subscribed. */
  readonly confirmedAt: Date | null;
  /** The subscriber's address recorded with the opt-in (HTTP `ipAddress`). */
  readonly requestIp: string | null;
  /** When the latest confirmation request for this recipient and list was queued. */
  readonly lastRequestAt: Date | null;
}

/** Everything the rules need to know of a recipient: itself, its subscriptions on every list, its groups. */
export interface RecipientState {
  readonly recipient: RecipientRecord;
  readonly subscriptions: readonly SubscriptionRecord[];
  /** Every group the recipient is in, of any list of the account. */
  readonly groupIds: readonly number[];
}

/** The recipient's own data to write; a member left out keeps its value. */
export interface RecipientDataWrite {
  readonly email?: string | null;
  readonly mobile?: string | null;
  readonly name?: string | null;
  /** Fields to set by N; '' clears one. Fields not named keep their value. */
  readonly fields?: Readonly<Record<number, string>>;
}

export interface SubscriptionSet {
  readonly listId: number;
  readonly channel: Channel;
  readonly status: SubscriptionStatus;
  /** Why, for an unsubscribe; null otherwise. */
  readonly reason: UnsubscribeReason | null;
  /** The subscriber's address to record with this opt-in; left out, the recorded one stays. */
  readonly requestIp?: string | null;
}

/** A confirmation request to queue (outside any import) for the recipient. */
export interface ConfirmationToQueue {
  readonly listId: number;
  /** Further lists whose pending subscription the same confirm link confirms (one message for several lists). */
  readonly alsoListIds: readonly number[];
  /** The message's From (`"Name" <address>`); null for the confirmation message's own sender. */
  readonly sender: string | null;
}

/** Everything one change writes, in one transaction. Lists and groups must be the account's. */
export interface RecipientWritePlan {
  /** For a new recipient, its data (an e-mail or a mobile is required); for an existing one, what changes. */
  readonly data: RecipientDataWrite;
  readonly subscriptions: readonly SubscriptionSet[];
  /** Lists the recipient leaves altogether: its subscriptions there and its groups of those lists go. */
  readonly leaveLists: readonly number[];
  readonly joinGroups: readonly number[];
  readonly leaveGroups: readonly number[];
  readonly confirmations: readonly ConfirmationToQueue[];
}

/** What a plan decided: the writes (null: write nothing) and the caller's own answer. */
export interface PlannedChange<T> {
  readonly write: RecipientWritePlan | null;
  readonly answer: T;
}

export type AppliedChange<T> =
  | {
    readonly ok: true;
    readonly answer: T;
    /** The recipient written, or the one found when nothing was written (null: none). */
    readonly recipientId: number | null;
    readonly created: boolean;
    /** Ids of the confirmation requests queued, in the plan's order. */
    readonly requestIds: readonly number[];
  }
  /** The plan gave the recipient an e-mail address another recipient of the account has: nothing was written. */
  | { readonly ok: false; readonly reason: 'email-taken' };

/** Which recipients a listing covers. */
export type RecipientScope =
  /** Recipients with a subscription in `status` (or in any state, null) on the list, on `channel` (or on either, null). */
  | { readonly listId: number; readonly status: SubscriptionStatus | null; readonly channel: Channel | null }
  /** The members of a group. */
  | { readonly groupId: number };

/** A recipient's own column, or a field by its number. */
export type RecipientAttribute = 'id' | 'email' | 'name' | 'mobile' | number;

export interface RecipientCondition {
  readonly attribute: RecipientAttribute;
  /** `equals` compares exactly; `contains` finds the value inside (text only); both case-sensitive. */
  readonly op: 'equals' | 'contains';
  readonly value: string | number;
}

export interface RecipientOrder {
  readonly attribute: RecipientAttribute;
  /** Nulls come first ascending, last descending. */
  readonly direction: 'asc' | 'desc';
}

export interface RecipientListQuery {
  /** Conditions that must all hold. */
  readonly filter: readonly RecipientCondition[];
  /** Then by id, ascending. */
  readonly order: readonly RecipientOrder[];
  readonly offset: number;
  readonly limit: number;
}

export interface RecipientListItem extends RecipientRecord {
  /** Its subscriptions on the listing's list (a group's list for a group), both channels. */
  readonly subscriptions: readonly SubscriptionRecord[];
}

export interface RecipientPage {
  /** How many recipients the scope and filter match, on every page. */
  readonly total: number;
  readonly items: readonly RecipientListItem[];
}

export interface RecipientStore {
  /**
   * A list by its id alone, whatever its account (list ids are unique across accounts): the HTTP
   * subscribe API carries no credentials, and finds the account from the list it names.
   */
  findListById(listId: number): Promise<MailingList | null>;
  /** The account's recipient with its subscriptions and groups; by mobile, the oldest with that number. */
  getRecipient(accountId: number, key: RecipientKey): Promise<RecipientState | null>;
  /**
   * In one transaction holding the account's subscribers lock: reads the recipient `key` names
   * (null when there is none), asks `plan`, and writes what it says: creates or updates the
   * recipient, sets subscriptions (never linked to an import), leaves lists, joins and leaves
   * groups, queues confirmation requests (process-less). `plan` must be pure and synchronous.
   */
  applyRecipientChange<T>(accountId: number, key: RecipientKey, plan: (prior: RecipientState | null) => PlannedChange<T>): Promise<AppliedChange<T>>;
  /**
   * Removes the recipient from the account: its subscriptions, groups and confirmation requests go
   * (messages already written to the outbox stay, no longer linked to a request). False when the
   * account has no such recipient.
   */
  removeRecipient(accountId: number, recipientId: number): Promise<boolean>;
  /** The recipient's groups in a list of the account, by name; [] when either is not the account's. */
  recipientGroups(accountId: number, recipientId: number, listId: number): Promise<Group[]>;
  /**
   * A page of the account's recipients in the scope that pass the filter, in the given order (then
   * by id), with the total count. Null when the scope's list or group is not the account's.
   */
  listRecipients(accountId: number, scope: RecipientScope, query: RecipientListQuery): Promise<RecipientPage | null>;
}
