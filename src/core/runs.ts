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

/**
 * A run's state, in the words of a process's: running while one of its processes runs, else
 * waiting while one waits, else failed when one failed (or was cancelled), else completed.
 */
export type RunState = ProcessStateName;

export interface RunSummary {
  /** The run's id: the id of its first process (a process that stands alone is a run named by its id). */
  readonly id: number;
  readonly state: RunState;
  /** Its processes, oldest first. */
  readonly processes: readonly ImportProcess[];
  /** The lists its processes import into, each once, in the order of the processes. */
  readonly listIds: readonly number[];
  readonly totalRows: number;
  readonly rowsMerged: number;
  readonly rejected: number;
  /** 0–100, whole: 100 only when every process completed. */
  readonly percent: number;
  /** Rows merged over the run's running time (from its first start to now, or to its end); null before there is a rate to tell. */
  readonly rowsPerSecond: number | null;
  /** The rows left at that rate while the run runs or waits its next process; 0 once completed; null when unknown or ended otherwise. */
  readonly remainingMs: number | null;
  /** From its first start to now, or to its end; null before it started. */
  readonly elapsedMs: number | null;
  readonly byStatus: Readonly<Record<ProcessStatus, number>>;
  readonly createdAt: Date;
  readonly startDate: Date | null;
  readonly endDate: Date | null;
}

/** Below this running time a rate says nothing yet (the first batch has barely committed). */
const MIN_RATE_WINDOW_MS = 500;

function runState(byStatus: Readonly<Record<ProcessStatus, number>>): RunState {
  if (byStatus[2] > 0) return PROCESS_STATE_NAMES[2];
  if (byStatus[1] > 0) return PROCESS_STATE_NAMES[1];
  if (byStatus[4] > 0) return PROCESS_STATE_NAMES[4];
  return PROCESS_STATE_NAMES[3];
}

/** The summary of a run as the store read it, at `now`. */
export function summarizeRun(run: RunRecord, now: Date): RunSummary {
  const state = runState(run.byStatus);
  const total = run.totalRows;
  const done = Math.min(run.rowsMerged, total);
  const percent = state === 'completed' ? 100 : total === 0 ? 0 : Math.floor((done * 100) / total);
  const ended = state === 'completed' || state === 'failed';
  const end = ended ? run.endDate ?? now : now;
  const elapsedMs = run.startDate === null ? null : Math.max(0, end.getTime() - run.startDate.getTime());
  const rowsPerSecond = elapsedMs === null || elapsedMs < MIN_RATE_WINDOW_MS || done === 0 ? null : (done * 1000) / elapsedMs;
  const remainingMs = state === 'completed' ? 0 : ended || rowsPerSecond === null ? null : ((total - done) / rowsPerSecond) * 1000;
  return {
    id: run.id, state, processes: run.processes, listIds: [...new Set(run.processes.map((p) => p.listId))],
    totalRows: total, rowsMerged: done, rejected: run.rejected, percent, rowsPerSecond, remainingMs, elapsedMs,
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
