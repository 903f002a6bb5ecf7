/**
 * Runs: the processes one start (StartImportProcesses, StartProcess, a REST bulk import, the
 * console, the admin CLI) set going together, read as one import with its totals, percent, rate
 * and time left. A client that splits a file into processes of 5,000 rows and starts them in one
 * call sees the file's progress as a whole here. Every door that shows a run (the console, the
 * JSON API) reads it through this module, so the figures are computed in one place.
 */
import type { ImportProcess, ProcessStatus } from '../model/records.ts';
import type { RunRecord } from '../store/processes.ts';
import type { Store } from '../store/store.ts';
import { PROCESS_STATE_NAMES, type ProcessStateName } from './process-states.ts';
import { progressAt, type Progress } from './progress.ts';

/**
 * A run's state, in the words of a process's: running while one of its processes runs, else
 * waiting while one waits, else failed when one failed (or was cancelled), else completed.
 */
export type RunState = ProcessStateName;

export interface RunSummary extends Progress {
  /** The run's id: the id of its first process (a process that stands alone is a run named by its id). */
  readonly id: number;
  readonly state: RunState;
  /** Its processes, oldest first. */
  readonly processes: readonly ImportProcess[];
  /** The lists its processes import into, each once, in the order of the processes. */
  readonly listIds: readonly number[];
  readonly rejected: number;
  readonly byStatus: Readonly<Record<ProcessStatus, number>>;
  readonly createdAt: Date;
  readonly startDate: Date | null;
  readonly endDate: Date | null;
}

function runState(byStatus: Readonly<Record<ProcessStatus, number>>): RunState {
  if (byStatus[2] > 0) return PROCESS_STATE_NAMES[2];
  if (byStatus[1] > 0) return PROCESS_STATE_NAMES[1];
  if (byStatus[4] > 0) return PROCESS_STATE_NAMES[4];
  return PROCESS_STATE_NAMES[3];
}

/** The summary of a run as the store read it, at `now`; its progress is src/core/progress.ts's, as a process's is. */
export function summarizeRun(run: RunRecord, now: Date): RunSummary {
  const state = runState(run.byStatus);
  const progress = progressAt({ state, totalRows: run.totalRows, rowsMerged: run.rowsMerged, startDate: run.startDate, endDate: run.endDate }, now);
  return {
    id: run.id, state, processes: run.processes, listIds: [...new Set(run.processes.map((p) => p.listId))],
    ...progress, rejected: run.rejected,
    byStatus: run.byStatus, createdAt: run.createdAt, startDate: run.startDate, endDate: run.endDate,
  };
}

/** Which lists a reader may see: null for every list of the account (console users may be limited to some). */
export interface RunReadOptions {
  readonly listIds?: readonly number[] | null;
  /** The time the rate and the time left are computed at; the clock by default. */
  readonly now?: Date;
}

/** One run of the account by its id; null when there is none (or none of its processes is on a visible list). */
export async function getRun(store: Store, accountId: number, runId: number, options: RunReadOptions = {}): Promise<RunSummary | null> {
  const run = await store.processes.getRun(accountId, runId, { listIds: options.listIds ?? null });
  return run === null ? null : summarizeRun(run, options.now ?? new Date());
}

/** The id of the run a process belongs to: its run's, or its own when it stands alone. */
export function runIdOf(process: Pick<ImportProcess, 'id' | 'runId'>): number {
  return process.runId ?? process.id;
}

/** The run a process belongs to (read back from the store, so its totals are current). */
export async function runOfProcess(
  store: Store, accountId: number, process: Pick<ImportProcess, 'id' | 'runId'>, options: RunReadOptions = {},
): Promise<RunSummary | null> {
  return getRun(store, accountId, runIdOf(process), options);
}

/** The account's runs, newest first, a page at a time. */
export async function listRuns(
  store: Store, accountId: number, page: { readonly limit: number; readonly offset?: number }, options: RunReadOptions = {},
): Promise<RunSummary[]> {
  const runs = await store.processes.listRuns(accountId, { listIds: options.listIds ?? null, limit: page.limit, offset: page.offset ?? 0 });
  const now = options.now ?? new Date();
  return runs.map((run) => summarizeRun(run, now));
}
