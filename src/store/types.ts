/**
 * The records the store keeps, as the layers above see them (DESIGN.md "Data model").
 * Ids are numbers; dates are Date objects; nothing here knows SQL.
 */
import type { PriorState, SubscriptionStatus, UnsubscribeReason } from '../import/subscription-rules.ts';

export type Channel = 'email' | 'sms';

export interface Account {
  readonly id: number;
  /** The WS user name, `a` followed by the account number (`a1234`). */
  readonly wsUser: string;
  readonly passwordHash: string;
  readonly wsEnabled: boolean;
  readonly ipCheck: boolean;
  readonly allowedIps: readonly string[];
  readonly name: string;
  readonly createdAt: Date;
}

export interface AccountChanges {
  readonly passwordHash?: string;
  readonly wsEnabled?: boolean;
  readonly ipCheck?: boolean;
  readonly allowedIps?: readonly string[];
  readonly name?: string;
}

export interface MailingList {
  readonly id: number;
  readonly accountId: number;
  /** Lower-case 36-character GUID; compared without regard to case. */
  readonly guid: string;
  readonly name: string;
}

export interface Group {
  readonly id: number;
  readonly listId: number;
  readonly name: string;
}

export interface ListWithGroups extends MailingList {
  readonly groups: readonly Group[];
}

/** A console user: a person who signs in to the console and whose id GetIdUser returns. */
export interface ConsoleUser {
  readonly id: number;
  readonly accountId: number;
  readonly username: string;
  readonly passwordHash: string;
  /** Lists this user may see; null means every list of the account. */
  readonly listIds: readonly number[] | null;
}

export type ProcessStatus = 1 | 2 | 3 | 4;

export interface ImportOptions {
  readonly groupIds: readonly number[];
  readonly importType: number;
  readonly mobileInputType: number;
  readonly asPending: boolean;
  readonly ConfirmEmail: boolean;
  readonly asOptOut: boolean;
  readonly forceOptIn: boolean;
  readonly replaceGroups: boolean;
  readonly idConfirmNL: number;
}

/** The six per-channel counters of GetProcessDetails. */
export interface Counters {
  newEmail: number;
  newMobile: number;
  existingEmail: number;
  existingMobile: number;
  optOutEmail: number;
  optOutMobile: number;
}

export const zeroCounters = (): Counters => ({
  newEmail: 0, newMobile: 0, existingEmail: 0, existingMobile: 0, optOutEmail: 0, optOutMobile: 0,
});

export interface ImportProcess {
  readonly id: number;
  readonly accountId: number;
  readonly listId: number;
  readonly feedId: number;
  readonly options: ImportOptions;
  readonly status: ProcessStatus;
  /** Waiting, in status 1, for the account's running import to finish (StartImportProcesses). */
  readonly queued: boolean;
  readonly createdAt: Date;
  readonly startDate: Date | null;
  readonly endDate: Date | null;
  readonly totalContacts: number;
  readonly counters: Readonly<Counters>;
  /** Feed rows merged so far (rows 1..checkpoint). */
  readonly checkpoint: number;
  readonly rejected: number;
  readonly failureReason: string | null;
  /** When Send Now delivered every request of the process; null until then. */
  readonly confirmationSentAt: Date | null;
}

/**
 * A process with the number of its confirmation requests not yet sent, for listings. Counting
 * them costs a read per pending request, so the reads every poll makes (GetProcessDetails) leave
 * it out.
 */
export interface ProcessWithQueue extends ImportProcess {
  readonly confirmationsPending: number;
}

/** One subscriber of a feed as stored: raw values, normalised later by the worker. */
export interface FeedRow {
  /** 1-based position in the feed. */
  readonly row: number;
  readonly email: string;
  readonly prefix: string;
  readonly number: string;
  readonly name: string;
  /** campoN values by N (N ≥ 1), exactly as given (empty strings kept). */
  readonly fields: Readonly<Record<number, string>>;
}

export interface Feed {
  readonly id: number;
  readonly accountId: number;
  readonly totalRows: number;
  readonly chunkCount: number;
}

/** Writes a feed in chunks while it is being read; nothing is visible until `complete`. */
export interface FeedWriter {
  append(rows: readonly FeedRow[]): Promise<void>;
  complete(): Promise<Feed>;
  abort(): Promise<void>;
}

/** A worker's claim on a running process. */
export interface Lease {
  readonly process: ImportProcess;
  readonly owner: string;
  /** How long each renewal extends the lease. */
  readonly leaseMs: number;
}

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

export type StartOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not-found' | 'not-startable' | 'busy-same-list' | 'busy-other-list' };

export interface RejectReportRow extends RejectedRow {
  readonly processId: number;
}
