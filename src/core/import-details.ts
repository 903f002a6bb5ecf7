/**
 * An import process as JSON: the GetProcessDetails fields (the same numbers the SOAP answer
 * carries, read from the same process record), plus what SOAP cannot carry: the options the
 * import runs with, its run, the rows merged so far, the rejected rows counted by reason, and why
 * it failed or who cancelled it. The JSON API (`GET /api/imports/{idProcess}`) answers it and
 * webhook payloads carry it, so both say the same thing.
 */
import { rowsMergedOf, type ImportOptions, type ImportProcess, type ProcessStatus } from '../model/records.ts';
import type { Store } from '../store/store.ts';
import { wasCancelled } from './import-control.ts';
import { summarizeRun, type RunState, type RunSummary } from './runs.ts';
import { PROCESS_STATE_NAMES, waitingFor, type ProcessStateName, type WaitingFor } from './process-states.ts';

/** The processes one start set going together (ImportProcess.runId), named by its first process. */
export interface ImportRun {
  readonly runId: number;
  /** Every process of the run, oldest first (the one described included). */
  readonly processIds: readonly number[];
  /** Running while one of its processes runs, else waiting while one waits, else failed when one failed, else completed. */
  readonly state: RunState;
  /** The run's figures over all its processes. */
  readonly totalRows: number;
  readonly rowsMerged: number;
  readonly rejectedRows: number;
  /** 0–100, whole; 100 only when every process completed. */
  readonly percent: number;
}

/** A process as a listing shows it: the details without the reads of its run and reject reasons. */
export interface ImportSummary {
  readonly idProcess: number;
  readonly listId: number;
  /** GetProcessDetails' StatusCode: 1 waiting, 2 running, 3 completed, 4 failed. */
  readonly statusCode: ProcessStatus;
  readonly status: ProcessStateName;
  /** What a waiting process waits for (its start, or its turn behind the running import); null otherwise. */
  readonly waitingFor: WaitingFor | null;
  readonly isRunning: boolean;
  /** ISO 8601 times (UTC); `endDate` is null until the process has ended, as in GetProcessDetails. */
  readonly createdAt: string;
  readonly startDate: string | null;
  readonly endDate: string | null;
  readonly totalContacts: number;
  readonly newEmail: number;
  readonly newMobile: number;
  readonly existingEmail: number;
  readonly existingMobile: number;
  readonly optOutEmail: number;
  readonly optOutMobile: number;
  readonly confirmationEmail: boolean;
  /** Null when no confirmation was asked for; false until Send Now delivered every request. */
  readonly confirmationSent: boolean | null;
  readonly options: ImportOptions;
  /** The run the process belongs to (ImportProcess.runId); null for a process never started. */
  readonly runId: number | null;
  /** Feed rows merged so far, as a run counts them (src/model/records.ts rowsMergedOf): all its rows once completed. */
  readonly rowsMerged: number;
  readonly rejectedRows: number;
  /** Why a failed process failed ("cancelled by <user>" for a cancel); null otherwise. */
  readonly reason: string | null;
  readonly cancelled: boolean;
}

export interface ImportDetails extends ImportSummary {
  /** Null for a process never started. */
  readonly run: ImportRun | null;
  /** The rejected rows counted by reason. */
  readonly rejectReasons: Readonly<Record<string, number>>;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** A process the caller has already read, as JSON. */
export function summariseImport(p: ImportProcess): ImportSummary {
  const c = p.counters;
  const finished = p.status === 3 || p.status === 4;
  return {
    idProcess: p.id,
    listId: p.listId,
    statusCode: p.status,
    status: PROCESS_STATE_NAMES[p.status],
    waitingFor: waitingFor(p),
    isRunning: p.status === 2,
    createdAt: p.createdAt.toISOString(),
    startDate: iso(p.startDate),
    endDate: finished ? iso(p.endDate) : null,
    totalContacts: p.totalContacts,
    newEmail: c.newEmail,
    newMobile: c.newMobile,
    existingEmail: c.existingEmail,
    existingMobile: c.existingMobile,
    optOutEmail: c.optOutEmail,
    optOutMobile: c.optOutMobile,
    confirmationEmail: p.options.ConfirmEmail,
    confirmationSent: p.options.ConfirmEmail ? p.confirmationSentAt !== null : null,
    options: p.options,
    runId: p.runId,
    rowsMerged: rowsMergedOf(p),
    rejectedRows: p.rejected,
    reason: p.status === 4 ? p.failureReason : null,
    cancelled: wasCancelled(p),
  };
}

/** A run as the details of one of its processes show it, its figures from src/core/runs.ts. */
function importRunOf(run: RunSummary): ImportRun {
  return {
    runId: run.id, processIds: run.processes.map((q) => q.id), state: run.state,
    totalRows: run.totalRows, rowsMerged: run.rowsMerged, rejectedRows: run.rejected, percent: run.percent,
  };
}

/**
 * The account's process as JSON; null when the account has no such process (another account's
 * included). The process is read with its run, in one read: the run holds the process.
 */
export async function importDetails(store: Store, accountId: number, processId: number): Promise<ImportDetails | null> {
  const [record, reasons] = await Promise.all([
    store.processes.getRunOfProcess(accountId, processId), store.processes.rejectReasons(accountId, processId),
  ]);
  const p = record?.processes.find((q) => q.id === processId);
  if (record === null || p === undefined) return null;
  // A process never started stands alone, a run of its own, but has no run to tell (runId null).
  return describeImport(p, p.runId === null ? null : importRunOf(summarizeRun(record, new Date())), reasons);
}

/** The details of a process the caller has already read, with its run and reject reasons read for it. */
export function describeImport(p: ImportProcess, run: ImportRun | null, rejectReasons: Readonly<Record<string, number>>): ImportDetails {
  return { ...summariseImport(p), run, rejectReasons };
}
