/**
 * An import's progress: rows merged of its rows, percent, rate and time left. A run of processes
 * (src/core/runs.ts) and one process, which is a run of one, are computed by the same function,
 * so a process page, a run's line and the JSON API never tell two stories about the same rows.
 */
import { rowsMergedOf, type ImportProcess } from '../model/records.ts';
import { PROCESS_STATE_NAMES, type ProcessStateName } from './process-states.ts';

export interface Progress {
  readonly totalRows: number;
  /** Rows merged (src/model/records.ts rowsMergedOf, summed over a run), never more than totalRows. */
  readonly rowsMerged: number;
  /** 0–100, whole: 100 only once completed. */
  readonly percent: number;
  /** Rows merged over the running time (from the first start to now, or to the end); null before there is a rate to tell. */
  readonly rowsPerSecond: number | null;
  /** The rows left at that rate while it runs or waits; 0 once completed; null when unknown or ended otherwise. */
  readonly remainingMs: number | null;
  /** From the first start to now, or to the end; null before it started. */
  readonly elapsedMs: number | null;
}

/** What progress is computed from: a run's totals, or one process's own figures. */
export interface ProgressBasis {
  readonly state: ProcessStateName;
  readonly totalRows: number;
  /** By the rule of rowsMergedOf (summed, for a run). */
  readonly rowsMerged: number;
  readonly startDate: Date | null;
  /** Read only once the state is completed or failed; the clock stands in for one not recorded. */
  readonly endDate: Date | null;
}

/** Below this running time a rate says nothing yet (the first batch has barely committed). */
const MIN_RATE_WINDOW_MS = 500;

/** The progress at `now`. */
export function progressAt(basis: ProgressBasis, now: Date): Progress {
  const { state, totalRows } = basis;
  const rowsMerged = Math.min(basis.rowsMerged, totalRows);
  const percent = state === 'completed' ? 100 : totalRows === 0 ? 0 : Math.floor((rowsMerged * 100) / totalRows);
  const ended = state === 'completed' || state === 'failed';
  const end = ended ? basis.endDate ?? now : now;
  const elapsedMs = basis.startDate === null ? null : Math.max(0, end.getTime() - basis.startDate.getTime());
  const rowsPerSecond = elapsedMs === null || elapsedMs < MIN_RATE_WINDOW_MS || rowsMerged === 0 ? null : (rowsMerged * 1000) / elapsedMs;
  const remainingMs = state === 'completed' ? 0 : ended || rowsPerSecond === null ? null : ((totalRows - rowsMerged) / rowsPerSecond) * 1000;
  return { totalRows, rowsMerged, percent, rowsPerSecond, remainingMs, elapsedMs };
}

/** The progress of one process at `now`: that of the run made of it alone. */
export function processProgress(p: ImportProcess, now: Date): Progress {
  return progressAt({
    state: PROCESS_STATE_NAMES[p.status], totalRows: p.totalContacts, rowsMerged: rowsMergedOf(p), startDate: p.startDate, endDate: p.endDate,
  }, now);
}
