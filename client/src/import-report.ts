/**
 * What an import reports (./importer.ts): the items it takes, its events and progress, the
 * processes left at its deadline, and its final report.
 */
import type { Subscriber } from './feed-builder.ts';
import type { ProcessDetails, ProcessStatus } from './result-parser.ts';
import type { RawSubscriber } from './xml-feed.ts';

/** What the importer takes: subscriber objects, or `<subscriber>` elements of an existing feed. */
export type ImportItem = Subscriber | RawSubscriber;

/** Counters summed over the import's processes, as GetProcessDetails reports them. */
export interface ImportCounters {
  totalContacts: number;
  newEmail: number;
  newMobile: number;
  existingEmail: number;
  existingMobile: number;
  optOutEmail: number;
  optOutMobile: number;
}

/** What just happened. */
export type ImportEvent =
  | { readonly type: 'batch-sent'; readonly batch: number; readonly idProcess: number; readonly fromRow: number; readonly toRow: number }
  | { readonly type: 'batch-failed'; readonly batch: number; readonly fromRow: number; readonly toRow: number; readonly error: Error }
  | { readonly type: 'input-ended'; readonly rows: number }
  /** The account is busy: the processes in `waiting` (not started) are tried again in `delayMs`. */
  | { readonly type: 'start-retry'; readonly returnCode: number; readonly attempt: number; readonly delayMs: number; readonly waiting: readonly number[] }
  /** Processes of the import found started: by this import's call, or by another client (which counts as started). */
  | { readonly type: 'started'; readonly processes: readonly number[]; readonly by: 'this-import' | 'another-client' }
  | { readonly type: 'process-update'; readonly details: ProcessDetails }
  | { readonly type: 'process-finished'; readonly details: ProcessDetails }
  | { readonly type: 'done'; readonly outcome: ImportOutcome };

/** sending batches, starting them, following the import, done. */
export type ImportPhase = 'sending' | 'starting' | 'importing' | 'done';

/** A snapshot of the import, passed to `onProgress`. */
export interface ImportProgress {
  readonly phase: ImportPhase;
  readonly event: ImportEvent;
  /** Rows taken from the input so far. */
  readonly rowsRead: number;
  /** Rows in batches the service accepted. */
  readonly rowsSent: number;
  /** Rows in batches the service refused. */
  readonly rowsFailed: number;
  readonly batchesSent: number;
  readonly batchesFailed: number;
  readonly processesTotal: number;
  readonly processesDone: number;
  /**
   * Rows the service has worked through: all rows of finished processes, plus, for the running
   * one, the larger of its email and mobile counters (an estimate: rejected rows count in neither).
   */
  readonly rowsImported: number;
  readonly counters: Readonly<ImportCounters>;
}

/** One batch: which rows, and what became of it. */
export interface BatchReport {
  readonly batch: number;
  readonly fromRow: number;
  readonly toRow: number;
  /** The process NewImportProcess created, or null when it failed. */
  readonly idProcess: number | null;
  /** The final (or last seen) state of its process. */
  readonly details: ProcessDetails | null;
  readonly error: Error | null;
}

/** A process of the import that had not got where the importer was taking it when it returned. */
export interface RemainingProcess {
  readonly batch: number;
  readonly idProcess: number;
  readonly fromRow: number;
  readonly toRow: number;
  /** Its last status, as GetProcessDetails reported it; null when it could not be read. */
  readonly status: ProcessStatus | null;
  readonly statusCode: number | null;
  /**
   * Whether it is known to have been started, by this import or another client: running, or
   * waiting (StatusCode 1) in the queue behind the account's running import. A waiting process
   * that was not started stays waiting until someone starts it (StartProcess or StartImportProcesses).
   */
  readonly started: boolean;
  /** Why starting it was refused for good, when it was. */
  readonly error: Error | null;
}

/** The default overall deadline of {@link importSubscribers}: 6 hours. */
export const DEFAULT_IMPORT_TIMEOUT_MS = 6 * 60 * 60 * 1000;

/**
 * The import's deadline passed before every process was started and (when waiting) finished.
 * `remaining` lists them with their last status; those started go on on the server.
 */
export class ImportTimeoutError extends Error {
  readonly code = 'MAILUP_IMPORT_TIMEOUT';
  readonly timeoutMs: number;
  readonly remaining: readonly RemainingProcess[];
  /** The message without the list of processes: `the import did not finish within 6 h: 2 of 6 processes left`. */
  readonly summary: string;

  constructor(timeoutMs: number, remaining: readonly RemainingProcess[], total: number) {
    const summary = `the import did not finish within ${formatMs(timeoutMs)}: ${remaining.length} of ${total} process${total === 1 ? '' : 'es'} left`;
    super(`${summary}: ${remaining.map(describeRemaining).join(', ')}; the started ones go on on the server`);
    this.name = 'ImportTimeoutError';
    this.timeoutMs = timeoutMs;
    this.remaining = remaining;
    this.summary = summary;
  }
}

/** `17 running`, `18 waiting (queued)`, `19 waiting (not started)`. */
export function describeRemaining(r: RemainingProcess): string {
  const state = r.status === null ? (r.started ? 'started, status unknown' : 'status unknown') : r.status;
  const detail = r.status === 'waiting' ? (r.started ? ' (queued behind the running import)' : ' (not started)') : '';
  return `${r.idProcess} ${state}${detail}`;
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** A batch the service refused, with its rows so they can be fixed and sent again. */
export interface FailedBatch<T extends ImportItem = ImportItem> {
  readonly batch: number;
  readonly fromRow: number;
  readonly toRow: number;
  readonly rows: readonly T[];
  readonly error: Error;
}

/**
 * completed: every row was sent and every process completed. partial: some batches or
 * processes failed, the input broke off, or waiting stopped early (the deadline passed, or a
 * status could not be read). failed: nothing was imported (every batch failed, or the processes
 * could not be started).
 */
export type ImportOutcome = 'completed' | 'partial' | 'failed';

/** What {@link importSubscribers} did: every batch, what became of it, the summed counters. */
export interface ImportReport<T extends ImportItem = ImportItem> {
  readonly outcome: ImportOutcome;
  readonly idList: number;
  readonly listGUID: string;
  readonly rowsRead: number;
  readonly rowsSent: number;
  readonly rowsFailed: number;
  readonly batches: readonly BatchReport[];
  readonly failedBatches: readonly FailedBatch<T>[];
  /** The import's processes known to have started (by this import or another client), in batch order. */
  readonly started: readonly number[];
  readonly counters: Readonly<ImportCounters>;
  /** Why the input stopped early (a CSV error…), or null. */
  readonly inputError: Error | null;
  /** Why starting or following the processes failed (an {@link ImportTimeoutError} at the deadline), or null. */
  readonly error: Error | null;
  /** Whether the deadline (`timeoutMs`) ended the import. */
  readonly timedOut: boolean;
  /**
   * The processes left when the importer returned, with their last status: not finished (or,
   * with `wait: false`, not started). Empty when the import got to its end.
   */
  readonly remaining: readonly RemainingProcess[];
}
