/**
 * Import processes and the leases workers hold on them: creating and starting processes (one
 * running import per account, the rest queued), reading them, and a worker's claim, renewal,
 * finish and failure.
 */
import type { RejectReportRow } from '../model/batch.ts';
import type { Feed, ImportOptions, ImportProcess, ProcessWithQueue } from '../model/records.ts';

/** How a start went; the reasons map to MailUp's -601, -602 and -603. */
export type StartOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not-found' | 'not-startable' | 'busy-same-list' | 'busy-other-list' };


/** How a cancel went: the ids of the processes it ended (the one named first), or why none. */
export type CancelOutcome =
  | { readonly ok: true; readonly cancelled: readonly number[] }
  | { readonly ok: false; readonly reason: 'not-found' | 'finished' };

/** How starting one waiting process went: running now, or queued behind the account's running import. */
export type StartOneOutcome =
  | { readonly ok: true; readonly queued: boolean }
  | { readonly ok: false; readonly reason: 'not-found' | 'not-waiting' | 'already-queued' };

/** How `createProcesses` treats the new processes: left waiting, started, or started or queued. */
export interface CreateOptions {
  readonly start: boolean;
  /** With `start`: when the account is busy, queue the new processes instead of refusing. */
  readonly queueWhenBusy?: boolean;
}

/** A worker's claim on a running process. */
export interface Lease {
  readonly process: ImportProcess;
  readonly owner: string;
  /** How long each renewal extends the lease. */
  readonly leaseMs: number;
}


/**
 * A run as the store reads it: the processes one start set going together (StartImportProcesses,
 * StartProcess, a REST bulk import, the console, the admin CLI), named by the id of the first.
 * A process never started, or started before runs were recorded, is a run of its own, named by
 * its id. Totals are over the processes read (a console user limited to some lists sees only
 * their processes).
 */
export interface RunRecord {
  /** The run's id: its first process's id (`runId`), or the id of a process that stands alone. */
  readonly id: number;
  /** Its processes, oldest first. */
  readonly processes: readonly ImportProcess[];
  /** Sum of the processes' TotalContacts. */
  readonly totalRows: number;
  /** Rows merged: the sum of rowsMergedOf (src/model/records.ts) over its processes. */
  readonly rowsMerged: number;
  readonly rejected: number;
  /** How many of its processes are in each state. */
  readonly byStatus: Readonly<Record<1 | 2 | 3 | 4, number>>;
  readonly createdAt: Date;
  /** When its first process started; null when none has. */
  readonly startDate: Date | null;
  /** When its last process ended, once every process has ended; null before. */
  readonly endDate: Date | null;
}

export interface ProcessStore {
  /**
   * Creates one process per list for a stored feed (TotalContacts is the feed's row count), in
   * status 1; with `start`, also starts them as `startProcesses` does, in the same transaction, so
   * that nothing is created when the account is busy. With `queueWhenBusy` (and `start`), a busy
   * account does not refuse: the new processes join the end of its queue, in the given order,
   * and run after those already waiting (a REST bulk import, spec 2.7).
   */
  createProcesses(
    accountId: number, feed: Feed, lists: readonly { listId: number; options: ImportOptions }[], options: CreateOptions,
  ): Promise<{ ok: true; processes: ImportProcess[] } | Extract<StartOutcome, { ok: false }>>;
  getProcess(accountId: number, processId: number): Promise<ImportProcess | null>;
  listProcesses(accountId: number, options?: { limit?: number; offset?: number }): Promise<ProcessWithQueue[]>;
  /**
   * Starts processes of the account in the given order: the first becomes running (status 2),
   * the rest wait their turn (queued). Atomic: either all start or none does, and the database
   * refuses a second running import in one account.
   */
  startProcesses(accountId: number, processIds: readonly number[]): Promise<StartOutcome>;
  /**
   * Starts one process that was created and never started: it runs now, or, when the account
   * runs (or has queued) an import, joins the end of the account's queue. Refused when the
   * process is not the account's, not waiting, or already waiting its turn.
   */
  startOrQueueProcess(accountId: number, processId: number): Promise<StartOneOutcome>;
  /**
   * Ends a waiting or running process of the account with status 4 and `reason`, with the
   * waiting processes of its run; answers their ids, the named one first. Rows merged so far stay
   * merged and the counters stay those of the last committed batch: on PostgreSQL the cancel
   * waits for a batch in flight (which holds the process row) and on SQLite for the write lock,
   * so a batch commits wholly before the cancel or, finding the lease gone, not at all
   * (LeaseLostError). The lease is dropped at once, and when a running process ends the
   * account's next queued process starts, as when an import finishes.
   */
  cancelProcess(accountId: number, processId: number, reason: string): Promise<CancelOutcome>;
  /**
   * The account's runs, newest first (by run id), a page at a time; with `listIds`, only the
   * processes on those lists count (runs with none of them are left out).
   */
  listRuns(accountId: number, options?: { listIds?: readonly number[] | null; limit?: number; offset?: number }): Promise<RunRecord[]>;
  /** One run of the account by its id (a process that stands alone is found by its own id); null when there is none. */
  getRun(accountId: number, runId: number, options?: { listIds?: readonly number[] | null }): Promise<RunRecord | null>;
  /**
   * The run a process of the account belongs to, the process among its processes (a process that
   * stands alone is a run of its own); null when the account has no such process. One read for
   * the process and its run together, where getProcess then getRun would read the process twice.
   */
  getRunOfProcess(accountId: number, processId: number): Promise<RunRecord | null>;
  /** Ids of the account's processes that were created and never started, oldest first. */
  pendingProcessIds(accountId: number): Promise<number[]>;
  /** The list of the import the account runs, or has queued, now; null when it runs none (then a start can run). */
  busyListId(accountId: number): Promise<number | null>;

  /** Claims a running process nobody holds (or whose lease expired) for `owner`. */
  claimProcess(owner: string, leaseMs: number): Promise<Lease | null>;
  /** Extends a lease; false when it was lost to another worker. */
  renewLease(lease: Lease): Promise<boolean>;
  releaseLease(lease: Lease): Promise<void>;
  /**
   * Frees every lease on every running process, whoever holds it, so that the next claim takes
   * them at once; answers the ids of the processes freed. A holder still alive then loses its
   * lease (its next renewal answers false, its next write throws LeaseLostError). So it is only
   * for a process that knows no worker is alive: the embedded server at start-up, holding the
   * SQLite data directory's lock (its predecessor died with its leases; src/service.ts). Never
   * call it at start-up on PostgreSQL, where workers on other hosts hold their leases rightly.
   */
  releaseAllLeases(): Promise<number[]>;
  /** Status 3, EndDate; starts the account's next queued process in the same transaction. */
  finishProcess(lease: Lease): Promise<void>;
  /** Status 4 with the reason; the account's queue moves on. */
  failProcess(lease: Lease, reason: string): Promise<void>;
  rejectReport(accountId: number, processId: number, options?: { limit?: number; offset?: number }): Promise<RejectReportRow[]>;
  /** How many rows of the process were rejected, by reason (the reject report, counted); empty for another account's. */
  rejectReasons(accountId: number, processId: number): Promise<Record<string, number>>;

  /** Import processes of every account by status; `queued` counts status-1 processes waiting their turn. */
  processStatusCounts(): Promise<{ byStatus: Record<1 | 2 | 3 | 4, number>; queued: number }>;
}

export class LeaseLostError extends Error {
  constructor(processId: number) {
    super(`The lease on import process ${processId} was lost to another worker.`);
    this.name = 'LeaseLostError';
  }
}
