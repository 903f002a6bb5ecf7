/**
 * The Store: everything the service keeps, behind one interface that both adapters implement
 * (SQLite embedded, PostgreSQL for scale-out). Methods are async so that a networked database
 * fits without changing callers. Every method that reads or changes an account's data takes the
 * account id, so one account can never reach another's rows.
 */
import type { SubscriptionStatus, UnsubscribeReason } from '../import/subscription-rules.ts';
import type {
  Account, AccountChanges, BatchKeys, BatchPlan, Channel, ConsoleUser, Feed, FeedRow, FeedWriter, Group, ImportOptions,
  ImportProcess, Lease, ListWithGroups, MailingList, PriorRecipient, ProcessStatus, ProcessWithQueue, RejectReportRow, StartOutcome,
} from './types.ts';

export interface NewAccount {
  /** Account number; the WS user becomes `a<id>`. Chosen by the store when omitted. */
  readonly id?: number;
  readonly passwordHash: string;
  readonly name: string;
  readonly wsEnabled?: boolean;
}

export interface NewConfirmationMessage {
  readonly isDefault: boolean;
  readonly sender: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface ConfirmationMessage extends NewConfirmationMessage {
  readonly id: number;
  readonly accountId: number;
  readonly createdAt: Date;
}

/** A confirmation request as Send Now needs it: who, on which list, with which message. */
export interface ClaimedConfirmation {
  readonly requestId: number;
  readonly processId: number;
  readonly recipientId: number;
  readonly listId: number;
  readonly listName: string;
  readonly email: string | null;
  readonly name: string | null;
  /** campoN values by N. */
  readonly fields: Readonly<Record<number, string>>;
  /** The process's idConfirmNL (0 = the account's default message). */
  readonly messageId: number;
  /** Delivery attempts made before this claim. */
  readonly attempts: number;
}

/** How delivering one message went; `retryAt` null marks a permanent failure. */
export type ConfirmationOutcome =
  | { readonly status: 'sent'; readonly at: Date; readonly attempts: number }
  | { readonly status: 'failed'; readonly error: string; readonly retryAt: Date | null; readonly attempts: number };

export interface ConfirmationSummary {
  readonly processId: number;
  readonly listId: number;
  readonly processStatus: number;
  readonly requests: number;
  readonly queued: number;
  readonly sending: number;
  readonly sent: number;
  /** Transient failures waiting for their retry time. */
  readonly retrying: number;
  /** Permanent failures. */
  readonly failed: number;
  readonly cancelled: number;
  readonly confirmed: number;
  readonly confirmationSentAt: Date | null;
}

export interface ConfirmationFailure {
  readonly requestId: number;
  readonly processId: number;
  readonly listId: number;
  readonly email: string | null;
  readonly attempts: number;
  readonly error: string;
  readonly permanent: boolean;
  readonly nextAttemptAt: Date | null;
}

/** One confirmation request (always for the e-mail channel) with its recipient's address. */
export interface ConfirmationRequestRow {
  readonly requestId: number;
  readonly processId: number;
  readonly recipientId: number;
  readonly listId: number;
  readonly email: string | null;
  readonly status: 'queued' | 'sending' | 'sent' | 'failed' | 'cancelled';
  readonly attempts: number;
  readonly lastError: string | null;
  /** For a failure: when it may be retried (null = permanent). */
  readonly nextAttemptAt: Date | null;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
  readonly confirmedAt: Date | null;
}

/** What opening a valid confirm link did (`confirmed`) or why it changed nothing. */
export interface ConfirmOutcome {
  readonly result: 'confirmed' | 'already-confirmed' | 'already-subscribed' | 'unsubscribed' | 'not-found';
  readonly email: string | null;
  readonly listName: string | null;
  /** When the subscription was confirmed (now, or earlier for a replayed link). */
  readonly confirmedAt: Date | null;
}

export interface NewOutboxMessage {
  readonly accountId: number;
  readonly requestId: number | null;
  readonly sender: string;
  readonly recipient: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface OutboxMessage extends NewOutboxMessage {
  readonly id: number;
  readonly createdAt: Date;
}

// Console: what the web console's pages read (docs/console.md).

/** A page of a keyset-paged listing; `hasNext` / `hasPrevious` say whether the neighbouring pages exist. */
export interface KeysetPage<T> {
  readonly items: T[];
  readonly hasNext: boolean;
  readonly hasPrevious: boolean;
}

/** Which processes the import status page lists. */
export type ProcessStatusFilter = 'all' | 'waiting' | 'running' | 'completed' | 'failed';

export interface ProcessPageQuery {
  readonly status: ProcessStatusFilter;
  /** Only these lists' processes; null for every list of the account. */
  readonly listIds: readonly number[] | null;
  /** Newest first: `olderThan` pages forward, `newerThan` back; neither is the first page. */
  readonly olderThan?: number;
  readonly newerThan?: number;
  readonly limit: number;
}

/** Subscriptions of one channel by status. */
export interface StatusCounts {
  readonly subscribed: number;
  readonly pending: number;
  readonly unsubscribed: number;
}

export type ChannelCounts = Readonly<Record<Channel, StatusCounts>>;

export interface ListStats {
  readonly listId: number;
  readonly counts: ChannelCounts;
  /** Distinct recipients with any subscription on the list. */
  readonly recipients: number;
  readonly groups: readonly { readonly groupId: number; readonly members: number; readonly counts: ChannelCounts }[];
}

export interface RecipientFilter {
  /** E-mail addresses that start with this (lower case); sorts the page by e-mail. */
  readonly emailPrefix?: string;
  /** Mobile numbers that start with this (international form, `+` and digits); sorts by mobile. */
  readonly mobilePrefix?: string;
  readonly listId?: number;
  readonly groupId?: number;
  readonly channel?: Channel;
  readonly status?: SubscriptionStatus;
}

/** Where a recipient page starts: after or before a cursor taken from a row of another page. */
export interface RecipientPageQuery {
  readonly after?: string;
  readonly before?: string;
  readonly limit: number;
}

export interface RecipientSummary {
  readonly id: number;
  readonly email: string | null;
  readonly mobile: string | null;
  readonly name: string | null;
  readonly subscriptions: readonly { readonly listId: number; readonly channel: Channel; readonly status: SubscriptionStatus }[];
  /** Opaque position of this row, for the next or previous page. */
  readonly cursor: string;
}

export interface RecipientDetail {
  readonly id: number;
  readonly accountId: number;
  readonly email: string | null;
  readonly mobile: string | null;
  readonly name: string | null;
  readonly fields: Readonly<Record<number, string>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly subscriptions: readonly {
    readonly listId: number;
    readonly channel: Channel;
    readonly status: SubscriptionStatus;
    readonly reason: UnsubscribeReason | null;
    /** The import that last changed this subscription. */
    readonly processId: number | null;
    readonly updatedAt: Date;
    readonly confirmedAt: Date | null;
  }[];
  readonly groups: readonly Group[];
  /** Imports that changed its subscriptions or queued a confirmation request for it, newest first. */
  readonly imports: readonly {
    readonly processId: number;
    readonly listId: number;
    readonly status: ProcessStatus;
    readonly createdAt: Date;
    readonly endDate: Date | null;
  }[];
  readonly confirmations: readonly {
    readonly requestId: number;
    readonly processId: number;
    readonly listId: number;
    readonly status: string;
    readonly attempts: number;
    readonly lastError: string | null;
    readonly createdAt: Date;
    readonly sentAt: Date | null;
    readonly confirmedAt: Date | null;
  }[];
}

/** One recipient of a list as the CSV export writes it. */
export interface ListExportRow {
  readonly id: number;
  readonly email: string | null;
  readonly mobile: string | null;
  readonly name: string | null;
  readonly emailStatus: SubscriptionStatus | null;
  readonly smsStatus: SubscriptionStatus | null;
  readonly fields: Readonly<Record<number, string>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A list export: the campo numbers any exported recipient has, then the rows, read lazily. */
export interface ListExport {
  readonly fieldNumbers: readonly number[];
  /** One consistent snapshot, read row by row; finishing or leaving the loop releases it. */
  readonly rows: AsyncIterable<ListExportRow>;
  /** Releases the snapshot without reading (further); safe to call more than once. */
  close(): void;
}

export interface NewConsoleSession {
  /** Hex SHA-256 of the cookie value; the value itself is never stored. */
  readonly idHash: string;
  readonly userId: number;
  readonly accountId: number;
  readonly csrfToken: string;
  readonly expiresAt: Date;
  readonly ip: string;
  readonly userAgent: string;
}

export interface ConsoleSession extends NewConsoleSession {
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
}

export type GroupRename =
  | { readonly ok: true; readonly group: Group }
  | { readonly ok: false; readonly reason: 'not-found' | 'duplicate' };

export interface Store {
  /** Which engine this is, for logs and the console. */
  readonly kind: 'sqlite' | 'postgres';

  // Accounts and console users
  createAccount(account: NewAccount): Promise<Account>;
  getAccount(id: number): Promise<Account | null>;
  findAccountByWsUser(wsUser: string): Promise<Account | null>;
  updateAccount(id: number, changes: AccountChanges): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  createConsoleUser(accountId: number, username: string, passwordHash: string, listIds?: readonly number[] | null): Promise<ConsoleUser>;
  findConsoleUser(accountId: number, username: string): Promise<ConsoleUser | null>;
  getConsoleUser(accountId: number, id: number): Promise<ConsoleUser | null>;

  // Lists and groups
  createList(accountId: number, name: string, guid?: string): Promise<MailingList>;
  renameList(accountId: number, listId: number, name: string): Promise<MailingList | null>;
  getList(accountId: number, listId: number): Promise<MailingList | null>;
  listLists(accountId: number, onlyListIds?: readonly number[] | null): Promise<ListWithGroups[]>;
  /** Creates the group, or returns the list's group of that name (case-insensitive) with created=false. */
  createGroup(listId: number, name: string): Promise<{ group: Group; created: boolean }>;
  getGroups(listId: number): Promise<Group[]>;

  // Feeds and import processes
  /** Stores a feed as it is read; each `append` is one chunk of rows. */
  openFeedWriter(accountId: number): FeedWriter;
  /** The stored rows from `fromRow` (1-based) to the end of the chunk that holds it; empty past the end. */
  readFeedRows(feedId: number, fromRow: number): Promise<FeedRow[]>;
  /**
   * Creates one process per list for a stored feed (TotalContacts is the feed's row count), in
   * status 1; with `start`, also starts them as `startProcesses` does, in the same transaction, so
   * that nothing is created when the account is busy.
   */
  createProcesses(
    accountId: number, feed: Feed, lists: readonly { listId: number; options: ImportOptions }[], options: { start: boolean },
  ): Promise<{ ok: true; processes: ImportProcess[] } | Extract<StartOutcome, { ok: false }>>;
  getProcess(accountId: number, processId: number): Promise<ImportProcess | null>;
  listProcesses(accountId: number, options?: { limit?: number; offset?: number }): Promise<ProcessWithQueue[]>;
  /**
   * Starts processes of the account in the given order: the first becomes running (status 2),
   * the rest wait their turn (queued). Atomic: either all start or none does, and the database
   * refuses a second running import in one account.
   */
  startProcesses(accountId: number, processIds: readonly number[]): Promise<StartOutcome>;
  /** Ids of the account's processes that were created and never started, oldest first. */
  pendingProcessIds(accountId: number): Promise<number[]>;

  // Worker side
  /** Claims a running process nobody holds (or whose lease expired) for `owner`. */
  claimProcess(owner: string, leaseMs: number): Promise<Lease | null>;
  /** Extends a lease; false when it was lost to another worker. */
  renewLease(lease: Lease): Promise<boolean>;
  releaseLease(lease: Lease): Promise<void>;
  /**
   * Applies one batch in one transaction: reads the prior state of the batch's recipients, asks
   * `plan` what to write, writes it, and moves the checkpoint and counters. Throws LeaseLostError
   * (and writes nothing) when the lease is no longer held.
   */
  mergeBatch(
    lease: Lease,
    keys: BatchKeys,
    lastRow: number,
    plan: (prior: ReadonlyMap<string, PriorRecipient>) => BatchPlan,
  ): Promise<ImportProcess>;
  /** Status 3, EndDate; starts the account's next queued process in the same transaction. */
  finishProcess(lease: Lease): Promise<void>;
  /** Status 4 with the reason; the account's queue moves on. */
  failProcess(lease: Lease, reason: string): Promise<void>;
  rejectReport(accountId: number, processId: number, options?: { limit?: number; offset?: number }): Promise<RejectReportRow[]>;

  // Double opt-in
  createConfirmationMessage(accountId: number, message: NewConfirmationMessage): Promise<number>;
  confirmationMessageExists(accountId: number, messageId: number): Promise<boolean>;
  /** The account's message `messageId`, or its default one for 0 (idConfirmNL). */
  getConfirmationMessage(accountId: number, messageId: number): Promise<ConfirmationMessage | null>;
  listConfirmationMessages(accountId: number): Promise<ConfirmationMessage[]>;
  /** Makes the message the account's default (idConfirmNL 0); false when it is not the account's. */
  setDefaultConfirmationMessage(accountId: number, messageId: number): Promise<boolean>;
  /** Puts the permanently failed requests of the account (or of one process) back in the queue. */
  requeueFailedConfirmations(accountId: number, processId: number | null): Promise<number>;
  /**
   * In one transaction: cancels the due requests whose recipient is no longer pending on the
   * list, then claims up to `limit` due requests (queued, transient failures whose retry time has
   * come, and claims that expired) by marking them `sending` until `now + leaseMs`. Requests of one
   * recipient and list come out next to each other. `settled`: processes whose ConfirmationSent
   * became True because their last unsent requests were cancelled.
   */
  claimConfirmations(
    accountId: number, processId: number | null, options: { readonly limit: number; readonly leaseMs: number; readonly now: Date },
  ): Promise<{ requests: ClaimedConfirmation[]; cancelled: number; settled: number[] }>;
  /**
   * Records the outcome of delivering one message for these requests (one recipient and list),
   * and in the same transaction sets ConfirmationSent on every finished process that has no
   * unsent request left; returns the ids of those processes.
   */
  completeConfirmations(requestIds: readonly number[], outcome: ConfirmationOutcome): Promise<number[]>;
  /**
   * Sets ConfirmationSent on the finished ConfirmEmail processes of the account (or that one
   * process) that have no unsent request, including those that queued none; returns their ids.
   */
  settleConfirmationProcesses(accountId: number, processId: number | null, at: Date): Promise<number[]>;
  /** How many confirmation requests of the process are not yet sent (0 for another account's process). */
  pendingConfirmations(accountId: number, processId: number): Promise<number>;
  /** Requests per process of the account (or one process), for processes that asked for ConfirmEmail. */
  confirmationSummary(accountId: number, processId: number | null, options?: { limit?: number }): Promise<ConfirmationSummary[]>;
  /** Failed requests, permanent and waiting for a retry, newest first. */
  confirmationFailures(accountId: number, processId: number | null, options?: { limit?: number }): Promise<ConfirmationFailure[]>;
  /** The requests themselves, oldest first: who awaits (or got) a request from which process, on which list. */
  listConfirmationRequests(accountId: number, processId: number | null, options?: { limit?: number; offset?: number }): Promise<ConfirmationRequestRow[]>;
  /**
   * Opens a confirm link: in one transaction, moves the recipient's e-mail subscription on the
   * list from pending to subscribed, and only from pending. Nothing changes otherwise.
   */
  confirmSubscription(requestId: number, recipientId: number, listId: number, at: Date): Promise<ConfirmOutcome>;
  /** Writes a message to the outbox; a second entry for the same request is not written (returns the first). */
  writeOutbox(entry: NewOutboxMessage): Promise<number>;
  /** The account's outbox, newest first. */
  listOutbox(accountId: number, options?: { limit?: number; offset?: number }): Promise<OutboxMessage[]>;

  // Console
  /** The account's processes, newest first, a page at a time (keyset on the id). */
  consoleProcesses(accountId: number, query: ProcessPageQuery): Promise<KeysetPage<ProcessWithQueue>>;
  /**
   * Recipients by channel and status of each list, and of each of its groups (unless `groups` is
   * false: the group counts read every member's subscriptions, the dearest part).
   */
  listStats(accountId: number, listIds: readonly number[], options?: { readonly groups?: boolean }): Promise<ListStats[]>;
  renameGroup(accountId: number, groupId: number, name: string): Promise<GroupRename>;
  /** The group, when it belongs to a list of the account. */
  getGroup(accountId: number, groupId: number): Promise<Group | null>;
  /**
   * Recipients matching the filter, a page at a time, never with OFFSET: in id order, or in
   * e-mail or mobile order when searching by a prefix. A cursor that does not fit the filter
   * starts at the first page.
   */
  searchRecipients(accountId: number, filter: RecipientFilter, page: RecipientPageQuery): Promise<KeysetPage<RecipientSummary>>;
  recipientDetail(accountId: number, recipientId: number): Promise<RecipientDetail | null>;
  /**
   * Every recipient with a subscription on the list, in id order, from one snapshot read on a
   * connection of its own; null for another account's list. Call `close` (or finish the rows)
   * to release the snapshot.
   */
  exportList(accountId: number, listId: number): Promise<ListExport | null>;
  /** Reject rows after `afterRow`, in row order. */
  rejectReportPage(accountId: number, processId: number, query: { afterRow?: number; limit: number }): Promise<KeysetPage<RejectReportRow>>;
  /** The whole reject report, streamed in row order; null for another account's process. */
  streamRejectReport(accountId: number, processId: number): Promise<AsyncIterable<RejectReportRow> | null>;
  /** The outbox, newest first, a page at a time (keyset on the id). */
  outboxPage(accountId: number, query: { olderThan?: number; newerThan?: number; limit: number }): Promise<KeysetPage<OutboxMessage>>;
  getOutboxMessage(accountId: number, id: number): Promise<OutboxMessage | null>;
  createConsoleSession(session: NewConsoleSession): Promise<void>;
  /** The session and its user, when the session exists and has not expired at `now`. */
  findConsoleSession(idHash: string, now: Date): Promise<{ session: ConsoleSession; user: ConsoleUser } | null>;
  touchConsoleSession(idHash: string, expiresAt: Date, now: Date): Promise<void>;
  deleteConsoleSession(idHash: string): Promise<void>;
  /** Removes expired sessions; returns how many. */
  deleteExpiredConsoleSessions(now: Date): Promise<number>;

  // Operations: health and metrics
  /** Throws when the database cannot answer (readiness). */
  ping(): Promise<void>;
  /** Import processes of every account by status; `queued` counts status-1 processes waiting their turn. */
  processStatusCounts(): Promise<{ byStatus: Record<1 | 2 | 3 | 4, number>; queued: number }>;

  // Key/value settings of the installation (e.g. the confirm-link secret)
  getSetting(key: string): Promise<string | null>;
  setSettingIfAbsent(key: string, value: string): Promise<string>;

  close(): Promise<void>;
}

/** Keys of the prior-state map: `e:<email>` or `m:<mobile>`. */
export const emailKey = (email: string): string => `e:${email}`;
export const mobileKey = (mobile: string): string => `m:${mobile}`;

export class LeaseLostError extends Error {
  constructor(processId: number) {
    super(`The lease on import process ${processId} was lost to another worker.`);
    this.name = 'LeaseLostError';
  }
}
