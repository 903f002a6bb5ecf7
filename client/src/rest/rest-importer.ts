/**
 * Importing a large input over the REST API: the input cut into batches, each sent as one bulk
 * import (`POST List/{id}/Recipients`, or `Group/{id}/Recipients`) with its body streamed, then
 * each import followed with `GET Import/{id}` until it completes, the detail read once at the end
 * (`GET Imports/{id}`: completed or failed). The REST counterpart of ../importer.ts, with the same
 * report shape, progress callback and overall deadline.
 *
 * Why batches rather than one request for the whole input: a request the API refuses (a field
 * over 200 characters, more rows than one import takes, a connection cut) loses one batch, which
 * is reported with its rows, not the whole input; each request stays well under the server's body
 * limit and MailUp's; an array batch can be sent again after a 401 or 429; and progress is seen
 * batch by batch. The imports queue on the server and run one after another.
 */
import type { FailedBatch, ImportItem, ImportOutcome } from '../import-report.ts';
import { DEFAULT_IMPORT_TIMEOUT_MS } from '../import-report.ts';
import { RestApiError } from '../errors.ts';
import { sleep } from '../retry.ts';
import { restRecipientOf } from './recipient-of.ts';
import type { MailUpRestClient, RestCallOptions } from './rest-client.ts';
import {
  RestImportTimeoutError, addStatus, zeroRestCounters, type RejectedRow, type RemainingImport, type RestBatchReport, type RestImportEvent,
  type RestImportPhase, type RestImportProgress, type RestImportReport,
} from './rest-import-report.ts';
import type { BulkImportOptions, ImportTarget, RestRecipient } from './types.ts';

/** The default rows per bulk import. */
export const DEFAULT_REST_BATCH_SIZE = 20_000;

export interface ImportSubscribersRestOptions {
  readonly idList: number;
  /** Import into this group of the list (and the list) rather than into the list alone. */
  readonly idGroup?: number;
  /** Double opt-in: new and not-subscribed recipients become pending; the confirmation mailing is prepared. */
  readonly ConfirmEmail?: boolean;
  /** Import the recipients as unsubscribed (`importType=asOptout`). */
  readonly asOptOut?: boolean;
  /** Fields missing or empty in a row are cleared (by default they keep their stored value). */
  readonly clearMissingOrEmptyFields?: boolean;
  /** Group imports only: the recipients leave the list's other groups first. */
  readonly removeFromPrevGroups?: boolean;
  /** Rows per bulk import (default {@link DEFAULT_REST_BATCH_SIZE}). */
  readonly batchSize?: number;
  /** Follow the imports until they complete (default true); false returns once every batch is accepted. */
  readonly wait?: boolean;
  /** Delay between two status reads while an import runs (default 1 s). */
  readonly pollIntervalMs?: number;
  /**
   * The overall deadline, from the call (default 6 hours; `Infinity` for none). When it passes the
   * importer stops waiting and returns with `timedOut`, the imports left in `remaining` and a
   * {@link RestImportTimeoutError} as `error`; they go on on the server. Sending is never cut short.
   */
  readonly timeoutMs?: number;
  /** Called after every step; what it throws is ignored. */
  readonly onProgress?: (progress: RestImportProgress) => void;
  readonly signal?: AbortSignal;
}

type MutableBatch = { -readonly [K in keyof RestBatchReport]: RestBatchReport[K] } & { rows: number };

const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Imports subscribers (CSV rows, subscriber objects, XML feed elements) into a list or a group
 * over the REST API and follows the imports to their end.
 *
 * @example
 * ```ts
 * const csv = await readCsvSubscribers(createReadStream('contacts.csv'));
 * const report = await importSubscribersRest(rest, csv, { idList: 1, idGroup: 3, onProgress: (p) => console.log(p.phase, p.rowsSent) });
 * console.log(report.outcome, report.counters.created, report.counters.updated);
 * ```
 */
export async function importSubscribersRest<T extends ImportItem>(
  client: MailUpRestClient,
  input: AsyncIterable<T> | Iterable<T>,
  options: ImportSubscribersRestOptions,
): Promise<RestImportReport<T>> {
  const startedAt = Date.now();
  const batchSize = options.batchSize ?? DEFAULT_REST_BATCH_SIZE;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be a positive whole number, not ${String(batchSize)}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_IMPORT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be a positive number of milliseconds, not ${String(timeoutMs)}`);
  if (options.removeFromPrevGroups && options.idGroup === undefined) throw new TypeError('removeFromPrevGroups needs idGroup: it applies to imports into a group');
  const { signal } = options;
  const call: RestCallOptions = signal ? { signal } : {};

  // The list (and group) first, as the SOAP importer looks the list up: a wrong id is one clear error.
  const lists = await client.getAllLists({}, call);
  if (!lists.some((l) => l.idList === options.idList)) throw new RangeError(`the account has no list ${options.idList}`);
  if (options.idGroup !== undefined) {
    const groups = await client.getAllGroups(options.idList, {}, call);
    if (!groups.some((g) => g.idGroup === options.idGroup)) throw new RangeError(`list ${options.idList} has no group ${options.idGroup}`);
  }
  const target: ImportTarget = options.idGroup === undefined ? { idList: options.idList } : { idGroup: options.idGroup };
  const flags: BulkImportOptions = {
    ConfirmEmail: options.ConfirmEmail ?? false,
    ...(options.asOptOut ? { importType: 'asOptout' as const } : {}),
    clearMissingOrEmptyFields: options.clearMissingOrEmptyFields ?? false,
    removeFromPrevGroups: options.removeFromPrevGroups ?? false,
  };

  let phase: RestImportPhase = 'sending';
  let rowsRead = 0;
  let rowsSent = 0;
  let rowsFailed = 0;
  const batches: MutableBatch[] = [];
  const failedBatches: FailedBatch<T>[] = [];
  const rejectedRows: RejectedRow<T>[] = [];
  let inputError: Error | null = null;
  let error: Error | null = null;

  const progress = (event: RestImportEvent): void => {
    if (!options.onProgress) return;
    const counters = zeroRestCounters();
    let rowsImported = 0;
    let done = 0;
    for (const b of batches) {
      if (!b.status) continue;
      addStatus(counters, b.status);
      if (b.status.Completed) {
        done++;
        rowsImported += b.rows;
      } else {
        rowsImported += Math.min(b.rows, b.status.ValidRecipients + b.status.NotValidRecipients);
      }
    }
    const sent = batches.filter((b) => b.idImport !== null).length;
    try {
      options.onProgress({
        api: 'rest', phase, event, rowsRead, rowsSent, rowsFailed, rowsRejected: rejectedRows.length,
        batchesSent: sent, batchesFailed: failedBatches.length, processesTotal: sent, processesDone: done, rowsImported, counters,
      });
    } catch {
      // A progress display that fails must not break the import.
    }
  };

  // 1. Send the input in batches, one bulk import each.
  const sendBatch = async (items: T[], recipients: RestRecipient[], fromRow: number, toRow: number): Promise<void> => {
    const entry: MutableBatch = { batch: batches.length + 1, fromRow, toRow, idImport: null, status: null, detail: null, error: null, rows: items.length };
    batches.push(entry);
    try {
      entry.idImport = await client.importRecipients(target, recipients, flags, call);
      rowsSent += items.length;
      progress({ type: 'batch-sent', batch: entry.batch, idImport: entry.idImport, fromRow, toRow });
    } catch (err) {
      if (signal?.aborted) throw err;
      entry.error = toError(err);
      rowsFailed += items.length;
      failedBatches.push({ batch: entry.batch, fromRow, toRow, rows: items, error: entry.error });
      progress({ type: 'batch-failed', batch: entry.batch, fromRow, toRow, error: entry.error });
    }
  };
  let items: T[] = [];
  let recipients: RestRecipient[] = [];
  let fromRow = 0;
  const flush = async (): Promise<void> => {
    if (items.length === 0) return;
    const [sending, payload] = [items, recipients];
    items = [];
    recipients = [];
    await sendBatch(sending, payload, fromRow, rowsRead);
  };
  try {
    for await (const item of input) {
      rowsRead++;
      const row = typeof (item as { row?: unknown }).row === 'number' ? (item as { row: number }).row : rowsRead;
      const outcome = restRecipientOf(item);
      if (!outcome.ok) {
        rejectedRows.push({ row, reason: outcome.reason, item });
        progress({ type: 'row-rejected', row, reason: outcome.reason });
        continue;
      }
      if (items.length === 0) fromRow = rowsRead;
      items.push(item);
      recipients.push(outcome.recipient);
      if (items.length >= batchSize) await flush();
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    inputError = toError(err);
  }
  await flush();
  progress({ type: 'input-ended', rows: rowsRead });

  // 2. Follow the imports in order (the server runs them one after another) until each completes.
  const ours = batches.filter((b) => b.idImport !== null);
  const wait = options.wait !== false;
  let timedOut = false;
  const deadline = startedAt + timeoutMs;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  if (wait && ours.length > 0) {
    phase = 'importing';
    try {
      for (;;) {
        const current = ours.find((b) => !b.status?.Completed);
        if (!current) break;
        current.status = await client.getImport(current.idImport!, call);
        if (current.status.Completed) {
          current.detail = await detailOf(client, current.idImport!, call);
          progress({ type: 'import-finished', batch: current.batch, status: current.status, detail: current.detail });
          continue;
        }
        progress({ type: 'import-update', batch: current.batch, status: current.status });
        const now = Date.now();
        if (now >= deadline) {
          timedOut = true;
          break;
        }
        await sleep(Math.min(pollIntervalMs, deadline - now), signal);
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      error = toError(err);
    }
    if (timedOut) {
      // The last status of each import left, for the report.
      for (const b of ours) {
        if (b.status?.Completed) continue;
        try {
          b.status = await client.getImport(b.idImport!, call);
        } catch (err) {
          if (signal?.aborted) throw err;
        }
      }
    }
  }

  phase = 'done';
  const counters = zeroRestCounters();
  for (const b of ours) if (b.status) addStatus(counters, b.status);
  const remaining: RemainingImport[] = wait
    ? ours.filter((b) => !b.status?.Completed).map((b) => ({ batch: b.batch, idImport: b.idImport!, fromRow: b.fromRow, toRow: b.toRow, status: b.status }))
    : [];
  if (timedOut && remaining.length === 0) timedOut = false; // everything completed as the deadline came
  if (timedOut) error = new RestImportTimeoutError(timeoutMs, remaining, ours.length);
  const failedImport = ours.some((b) => b.detail?.StatusCode === 4);
  const outcome: ImportOutcome =
    ours.length === 0 ? (rowsRead === 0 && inputError === null ? 'completed' : 'failed')
    : timedOut ? 'partial'
    : failedBatches.length > 0 || rejectedRows.length > 0 || inputError !== null || error !== null || remaining.length > 0 || failedImport ? 'partial'
    : 'completed';
  progress({ type: 'done', outcome });
  return {
    api: 'rest', outcome, idList: options.idList, idGroup: options.idGroup ?? null, rowsRead, rowsSent, rowsFailed, rowsRejected: rejectedRows.length,
    batches: batches.map(({ rows: _rows, ...b }) => b), failedBatches, rejectedRows, imports: ours.map((b) => b.idImport!),
    counters, inputError, error, timedOut, remaining,
  };
}

/** `GET Imports/{id}`, or null where the API has no such resource (it is not one MailUp documents fully). */
async function detailOf(client: MailUpRestClient, idImport: number, call: RestCallOptions) {
  try {
    return await client.getImportDetail(idImport, call);
  } catch (err) {
    if (err instanceof RestApiError && (err.httpStatus === 404 || err.httpStatus === 405 || err.httpStatus === 501)) return null;
    throw err;
  }
}
