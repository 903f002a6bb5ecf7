/**
 * What the CLI does with a server's JSON API (`/api/…`, which MailUp itself does not have):
 * after an import, the rows the server rejected (read from each process's reject report, row
 * numbers turned into positions in the input file), and `validate`, a file checked without
 * importing it.
 */
import { MailUpJsonApiClient } from '../api/json-api-client.ts';
import type { FeedValidation, RowValues } from '../api/types.ts';
import { FEED_CLOSE, FEED_OPEN, FeedBuilder } from '../feed-builder.ts';
import type { BatchReport, ImportItem } from '../import-report.ts';
import type { RawSubscriber } from '../xml-feed.ts';
import type { Connection } from './config.ts';

export function createJsonApiClient(connection: Connection): MailUpJsonApiClient {
  return new MailUpJsonApiClient({
    baseUrl: connection.endpoint, user: connection.user, password: connection.password,
    ...(connection.timeoutMs ? { timeoutMs: connection.timeoutMs } : {}),
  });
}

/** How many rejected rows the text output shows; `--json` has them all. */
export const REJECTS_SHOWN = 10;

/** A row the server rejected, placed in the input. */
export interface InputRejectedRow {
  /** The position in the input: the n-th subscriber of the file (for a CSV, the n-th data row after the header). */
  readonly row: number;
  readonly idProcess: number;
  /** The row number within its process's feed. */
  readonly processRow: number;
  readonly reason: string;
  readonly values: RowValues;
}

export interface RejectedRowsReport {
  readonly count: number;
  readonly rows: readonly InputRejectedRow[];
}

/** The rows the import's processes rejected, in input order; every process's reject report is read whole. */
export async function collectRejects(api: MailUpJsonApiClient, batches: readonly BatchReport[]): Promise<RejectedRowsReport> {
  const rows: InputRejectedRow[] = [];
  for (const b of batches) {
    if (b.idProcess === null) continue;
    for await (const r of api.allRejects(b.idProcess)) {
      rows.push({ row: b.fromRow + r.row - 1, idProcess: b.idProcess, processRow: r.row, reason: r.reason, values: r.values });
    }
  }
  return { count: rows.length, rows };
}

/** What a row was, in a few words: its e-mail, else its mobile, else its name. */
function rowText(values: RowValues): string {
  const mobile = `${values.prefix}${values.number}`;
  const text = values.email !== '' ? values.email : mobile !== '' ? mobile : values.name;
  return text === '' ? '' : ` (${text.length > 60 ? `${text.slice(0, 60)}…` : text})`;
}

/** `rejected: 3 rows` and the first of them, one a line. */
export function rejectLines(count: number, rows: readonly { row: number; reason: string; values: RowValues }[], what = 'rejected'): string[] {
  if (count === 0) return [`  ${what}: none`];
  const lines = [`  ${what}: ${count} row${count === 1 ? '' : 's'}${count > REJECTS_SHOWN ? ` (the first ${REJECTS_SHOWN}; --json lists them all)` : ''}`];
  for (const r of rows.slice(0, REJECTS_SHOWN)) lines.push(`    row ${r.row}: ${r.reason}${rowText(r.values)}`);
  return lines;
}

const isRaw = (item: ImportItem): item is RawSubscriber => typeof (item as RawSubscriber).xml === 'string';

/** Size of the pieces the feed is sent in. */
const CHUNK_CHARS = 64 * 1024;

/**
 * The input as one feed, written as `import` writes each batch's (raw XML subscribers as they
 * are, CSV rows through the FeedBuilder), so the server checks what an import would send.
 */
export async function* feedOfInput(items: AsyncIterable<ImportItem>, options: { mobileInputType: 1 | 2; fieldCount: number | undefined }): AsyncGenerator<string> {
  const builder = new FeedBuilder({ mobileInputType: options.mobileInputType, ...(options.fieldCount === undefined ? {} : { fieldCount: options.fieldCount }) });
  let chunk = FEED_OPEN;
  for await (const item of items) {
    chunk += isRaw(item) ? item.xml : builder.subscriber(item);
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk + FEED_CLOSE;
}

/** The text report of a validation. */
export function validationLines(file: string, v: FeedValidation): string[] {
  const clean = v.rejectedRows === 0;
  const lines = [
    `${file}: ${v.rows} rows, ${v.validRows} valid, ${v.rejectedRows} would be rejected${clean ? ' — it would import clean' : ''}`,
    `  channels: ${v.channels.email} with an e-mail address, ${v.channels.sms} with a mobile number` +
      `${v.country === null ? '' : ` (national numbers read in ${v.country})`}`,
    ...rejectLines(v.rejectedRows, v.rejected, 'would be rejected'),
  ];
  if (v.duplicateRows > 0) {
    lines.push(`  duplicates: ${v.duplicateRows} row${v.duplicateRows === 1 ? ' repeats' : 's repeat'} an earlier row's recipient (merged into it; they count as existing)`);
    for (const d of v.duplicates.slice(0, REJECTS_SHOWN)) lines.push(`    row ${d.row}: same as row ${d.firstRow} (${d.email ?? d.mobile})`);
  }
  return lines;
}
