/**
 * The reject report of an import: the rows the import did not merge, each with its row number in
 * the feed, the reason, and the row as it was sent, in its columns (email, Prefix, Number, Name,
 * campoN). The console and the JSON API both answer it from here, as a page of rows or as the
 * whole CSV, so the two never differ.
 */
import type { Store } from '../store/store.ts';
import { readRejectedRow, type RejectedRowValues } from '../import/rejected-row.ts';
import { csvLine } from './csv.ts';

/** The columns of the row as sent, after `row` and `reason`; the campoN columns any row has follow. */
export const REJECT_COLUMNS = ['email', 'Prefix', 'Number', 'Name'] as const;

/** A rejected row's values in the CSV's column order. */
export const rejectValues = (v: RejectedRowValues, fieldNumbers: readonly number[]): string[] =>
  [v.email, v.prefix, v.number, v.name, ...fieldNumbers.map((n) => v.fields[n] ?? '')];

/** One rejected row, read: the row number in the feed, why, and the row as it was sent. */
export interface RejectedRowDetails {
  readonly row: number;
  readonly reason: string;
  readonly values: RejectedRowValues;
}

/** Rejected rows after row `afterRow`, in row order, with whether more follow. */
export async function rejectPage(
  store: Store, accountId: number, processId: number, page: { afterRow?: number; limit: number },
): Promise<{ items: RejectedRowDetails[]; hasNext: boolean }> {
  const found = await store.queries.rejectReportPage(accountId, processId, page);
  return { items: found.items.map((r) => ({ row: r.row, reason: r.reason, values: readRejectedRow(r.raw) })), hasNext: found.hasNext };
}

/**
 * The whole reject report as CSV lines: a header (`row`, `reason`, the REJECT_COLUMNS, then
 * `campoN` for every field number any row has), then one line a row. Two reads of the report: the
 * first finds the campoN columns, the second writes the rows. Nothing is read until the first line
 * is asked for; wrap the lines with csvChunks (src/core/csv.ts) to send them.
 */
export async function* rejectReportCsvLines(store: Store, accountId: number, processId: number): AsyncGenerator<string> {
  const first = await store.queries.streamRejectReport(accountId, processId);
  const fieldNumbers = new Set<number>();
  if (first !== null) for await (const r of first) for (const n of Object.keys(readRejectedRow(r.raw).fields)) fieldNumbers.add(Number(n));
  const numbers = [...fieldNumbers].sort((x, y) => x - y);
  yield csvLine(['row', 'reason', ...REJECT_COLUMNS, ...numbers.map((n) => `campo${n}`)]);
  const rows = first === null ? null : await store.queries.streamRejectReport(accountId, processId);
  if (rows === null) return;
  for await (const r of rows) yield csvLine([r.row, r.reason, ...rejectValues(readRejectedRow(r.raw), numbers)]);
}
