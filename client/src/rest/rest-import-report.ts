/**
 * What an import over the REST API reports (./rest-importer.ts): its events and progress, the
 * imports left at its deadline, and its final report. The shape follows the SOAP importer's
 * (../import-report.ts) with the REST API's own counts: each batch is one bulk import, followed
 * with `GET Import/{id}`.
 */
import type { FailedBatch, ImportItem, ImportOutcome } from '../import-report.ts';
import type { RestImportDetail, RestImportStatus } from './types.ts';

/** The counts of `GET Import/{id}`, summed over the import's batches. */
export interface RestImportCounters {
  /** CreatedRecipients: recipients new to the list. */
  created: number;
  /** UpdatedRecipients: recipients already on the list. */
  updated: number;
  /** ValidRecipients: rows that passed the row rules. */
  valid: number;
  /** NotValidRecipients: rows refused by the row rules (an invalid address…), reported by the server. */
  notValid: number;
  /** ImportedRecipients. */
  imported: number;
}

export const zeroRestCounters = (): RestImportCounters => ({ created: 0, updated: 0, valid: 0, notValid: 0, imported: 0 });

/** Adds an import's status to counters. */
export function addStatus(counters: RestImportCounters, s: RestImportStatus): void {
  counters.created += s.CreatedRecipients;
  counters.updated += s.UpdatedRecipients;
  counters.valid += s.ValidRecipients;
  counters.notValid += s.NotValidRecipients;
  counters.imported += s.ImportedRecipients;
}

/** What just happened. */
export type RestImportEvent =
  | { readonly type: 'batch-sent'; readonly batch: number; readonly idImport: number; readonly fromRow: number; readonly toRow: number }
  | { readonly type: 'batch-failed'; readonly batch: number; readonly fromRow: number; readonly toRow: number; readonly error: Error }
  /** A row the REST API would refuse the whole request for (a field over 200 characters…): not sent. */
  | { readonly type: 'row-rejected'; readonly row: number; readonly reason: string }
  | { readonly type: 'input-ended'; readonly rows: number }
  | { readonly type: 'import-update'; readonly batch: number; readonly status: RestImportStatus }
  | { readonly type: 'import-finished'; readonly batch: number; readonly status: RestImportStatus; readonly detail: RestImportDetail | null }
  | { readonly type: 'done'; readonly outcome: ImportOutcome };

/** sending the batches, following the imports, done. */
export type RestImportPhase = 'sending' | 'importing' | 'done';

/** A snapshot of the import, passed to `onProgress`. */
export interface RestImportProgress {
  readonly api: 'rest';
  readonly phase: RestImportPhase;
  readonly event: RestImportEvent;
  /** Rows taken from the input so far. */
  readonly rowsRead: number;
  /** Rows in batches the API accepted. */
  readonly rowsSent: number;
  /** Rows in batches the API refused. */
  readonly rowsFailed: number;
  /** Rows not sent because the API would refuse them. */
  readonly rowsRejected: number;
  readonly batchesSent: number;
  readonly batchesFailed: number;
  /** Bulk imports started (one per batch sent); each is an import process on the server. */
  readonly processesTotal: number;
  readonly processesDone: number;
  /** Rows the server has worked through: valid and not valid, in finished and running imports. */
  readonly rowsImported: number;
  readonly counters: Readonly<RestImportCounters>;
}

/** One batch: which rows, and what became of its import. */
export interface RestBatchReport {
  readonly batch: number;
  readonly fromRow: number;
  readonly toRow: number;
  /** The import the API started for it, or null when it refused the batch. */
  readonly idImport: number | null;
  /** The last status read (`GET Import/{id}`). */
  readonly status: RestImportStatus | null;
  /** The detail read once it completed (`GET Imports/{id}`): its StatusCode tells completed (3) from failed (4); null when the API has none. */
  readonly detail: RestImportDetail | null;
  readonly error: Error | null;
}

/** A row left out before sending, and why. */
export interface RejectedRow<T extends ImportItem = ImportItem> {
  readonly row: number;
  readonly reason: string;
  readonly item: T;
}

/** An import of the batches that had not completed when the importer returned. */
export interface RemainingImport {
  readonly batch: number;
  readonly idImport: number;
  readonly fromRow: number;
  readonly toRow: number;
  /** Its last status, or null when none could be read. It goes on on the server. */
  readonly status: RestImportStatus | null;
}

/** The deadline passed before every import completed; those left go on on the server. */
export class RestImportTimeoutError extends Error {
  readonly code = 'MAILUP_IMPORT_TIMEOUT';
  readonly timeoutMs: number;
  readonly remaining: readonly RemainingImport[];
  /** The message without the list of imports. */
  readonly summary: string;

  constructor(timeoutMs: number, remaining: readonly RemainingImport[], total: number) {
    const summary = `the import did not finish within ${formatMs(timeoutMs)}: ${remaining.length} of ${total} import${total === 1 ? '' : 's'} left`;
    super(`${summary}: ${remaining.map(describeRemainingImport).join(', ')}; they go on on the server`);
    this.name = 'RestImportTimeoutError';
    this.timeoutMs = timeoutMs;
    this.remaining = remaining;
    this.summary = summary;
  }
}

/** `17 waiting or running, 1200 rows done`. */
export function describeRemainingImport(r: RemainingImport): string {
  return r.status === null ? `${r.idImport} status unknown` : `${r.idImport} not completed, ${r.status.ValidRecipients + r.status.NotValidRecipients} rows done`;
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/**
 * What {@link importSubscribersRest} did. `outcome`: completed (every row sent, every import
 * completed), partial (a batch refused, a row left out, an import failed, the input broke off,
 * the deadline passed) or failed (nothing was imported).
 */
export interface RestImportReport<T extends ImportItem = ImportItem> {
  readonly api: 'rest';
  readonly outcome: ImportOutcome;
  readonly idList: number;
  /** The group imported into, or null for the list. */
  readonly idGroup: number | null;
  readonly rowsRead: number;
  readonly rowsSent: number;
  readonly rowsFailed: number;
  readonly rowsRejected: number;
  readonly batches: readonly RestBatchReport[];
  readonly failedBatches: readonly FailedBatch<T>[];
  readonly rejectedRows: readonly RejectedRow<T>[];
  /** The import ids, in batch order. */
  readonly imports: readonly number[];
  readonly counters: Readonly<RestImportCounters>;
  readonly inputError: Error | null;
  /** Why following the imports failed (a {@link RestImportTimeoutError} at the deadline), or null. */
  readonly error: Error | null;
  readonly timedOut: boolean;
  /** Imports not completed when the importer returned (none with `wait: false`: they go on on the server). */
  readonly remaining: readonly RemainingImport[];
}
