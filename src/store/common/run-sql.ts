/**
 * SQL both adapters use to read runs (src/store/processes.ts RunRecord); the same text in either
 * dialect. The table is aliased `p`. A run is keyed by its run id, or by the process's own id
 * for a process that stands alone (never started, or started before runs were recorded).
 */
import type { ImportProcess } from '../../model/records.ts';
import type { RunRecord } from '../processes.ts';
import { optionalTimestamp, timestamp, type Row } from './row-mappers.ts';

/** The run key; migration 0013 indexes it as written here (by account), so keep the two alike. */
export const RUN_KEY = 'COALESCE(p.run_id, p.id)';

/**
 * One row per run with its totals. rows_merged is the sum of rowsMergedOf (src/model/records.ts)
 * over the run's processes, the same rule in SQL: a completed process all its rows, the others
 * their checkpoint, never more than their rows. A change to one is a change to both;
 * test/store/processes.test.ts compares them over processes in every state.
 */
export const RUN_AGGREGATE_COLUMNS = `${RUN_KEY} AS run_key,
  sum(p.total_contacts) AS total_rows,
  sum(CASE WHEN p.status = 3 THEN p.total_contacts WHEN p.checkpoint < p.total_contacts THEN p.checkpoint ELSE p.total_contacts END) AS rows_merged,
  sum(p.rejected) AS rejected,
  sum(CASE WHEN p.status = 1 THEN 1 ELSE 0 END) AS status_1,
  sum(CASE WHEN p.status = 2 THEN 1 ELSE 0 END) AS status_2,
  sum(CASE WHEN p.status = 3 THEN 1 ELSE 0 END) AS status_3,
  sum(CASE WHEN p.status = 4 THEN 1 ELSE 0 END) AS status_4,
  min(p.created_at) AS created_at, min(p.start_date) AS start_date, max(p.end_date) AS end_date`;

/** Whether process `p` is in one of the runs named by the keys in `keys` (an SQL list or array expression per dialect). */
export function inRuns(runIdIn: string, idIn: string): string {
  return `(p.run_id ${runIdIn} OR (p.run_id IS NULL AND p.id ${idIn}))`;
}

/** Which runs a read answers: every run of the account (a page), the run of that id, or the run of that process. */
export type RunFilter = null | { readonly run: number } | { readonly process: number };

/**
 * The run key of the account's process named by `processParam` (a scalar subquery; NULL when the
 * account has no such process, which then matches no run).
 */
export function runKeyOfProcess(processParam: string, accountParam: string): string {
  return `(SELECT COALESCE(q.run_id, q.id) FROM import_process q WHERE q.id = ${processParam} AND q.account_id = ${accountParam})`;
}

/** A run from its aggregate row and its processes (any order; kept oldest first). */
export function toRunRecord(aggregate: Row, processes: readonly ImportProcess[]): RunRecord {
  const byStatus = {
    1: Number(aggregate.status_1), 2: Number(aggregate.status_2), 3: Number(aggregate.status_3), 4: Number(aggregate.status_4),
  };
  const ended = byStatus[1] === 0 && byStatus[2] === 0;
  return {
    id: Number(aggregate.run_key),
    processes: [...processes].sort((a, b) => a.id - b.id),
    totalRows: Number(aggregate.total_rows), rowsMerged: Number(aggregate.rows_merged), rejected: Number(aggregate.rejected),
    byStatus,
    createdAt: timestamp(aggregate.created_at), startDate: optionalTimestamp(aggregate.start_date),
    endDate: ended ? optionalTimestamp(aggregate.end_date) : null,
  };
}

/** The runs of a page with their processes, in the order of the aggregate rows. */
export function toRunRecords(aggregates: readonly Row[], processes: readonly ImportProcess[]): RunRecord[] {
  const byRun = new Map<number, ImportProcess[]>();
  for (const p of processes) {
    const key = p.runId ?? p.id;
    const list = byRun.get(key);
    if (list) list.push(p); else byRun.set(key, [p]);
  }
  return aggregates.map((a) => toRunRecord(a, byRun.get(Number(a.run_key)) ?? []));
}
