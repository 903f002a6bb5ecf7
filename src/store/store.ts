/**
 * The Store: everything the service keeps, behind one interface that both adapters implement
 * (SQLite embedded, PostgreSQL for scale-out). Methods are async so that a networked database
 * fits without changing callers. Every method that reads or changes an account's data takes the
 * account id, so one account can never reach another's rows.
 */
import type {
  Account, AccountChanges, BatchKeys, BatchPlan, ConsoleUser, Feed, FeedRow, FeedWriter, Group, ImportOptions,
  ImportProcess, Lease, ListWithGroups, MailingList, PriorRecipient, RejectReportRow, StartOutcome,
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
  listProcesses(accountId: number, options?: { limit?: number; offset?: number }): Promise<ImportProcess[]>;
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
