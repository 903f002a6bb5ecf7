/**
 * Importing a large input the way MailUp recommends (spec §7.6): split it into NewImportProcess
 * calls of N subscribers, start them all with one StartImportProcesses (no xmlDoc), retrying
 * while the account is busy (-601/-602), then follow each process with GetProcessDetails until
 * it finishes. Progress goes to one callback; a batch the service refuses is reported with its
 * rows and the import goes on with the others.
 */
import type { CallOptions, MailUpImportClient } from './client.ts';
import { MailUpReturnCodeError } from './errors.ts';
import { FEED_CLOSE, FEED_OPEN, FeedBuilder, type Subscriber } from './feed-builder.ts';
import { isFinished, type MailUpList, type ProcessDetails } from './result-parser.ts';
import { retryWithBackoff, sleep } from './retry.ts';
import type { RawSubscriber } from './xml-feed.ts';

/** What the importer takes: subscriber objects, or `<subscriber>` elements of an existing feed. */
export type ImportItem = Subscriber | RawSubscriber;

/** The options of NewImportProcess that apply to every batch, by their WSDL names. */
export interface ImportFlags {
  /** 1–6; default 3 (both channels, empty fields keep stored values). */
  readonly importType?: number;
  /** 1 (default) or 2; also how the feed writes mobile numbers. */
  readonly mobileInputType?: 1 | 2;
  readonly asPending?: boolean;
  /** Double opt-in: new and existing recipients become pending and get a confirmation request. */
  readonly ConfirmEmail?: boolean;
  readonly asOptOut?: boolean;
  readonly forceOptIn?: boolean;
  readonly replaceGroups?: boolean;
  /** The confirmation message id; 0 (default) is the account's default message. */
  readonly idConfirmNL?: number;
}

/** How StartImportProcesses is retried while the account is busy (-601/-602). */
export interface StartRetryOptions {
  /** Attempts in all, the first included (default 40). */
  readonly attempts?: number;
  /** Delay before the second attempt (default 1 s); doubled each time up to `maxDelayMs`. */
  readonly initialDelayMs?: number;
  /** Longest delay between attempts (default 30 s). */
  readonly maxDelayMs?: number;
}

/** The list, the import flags, and how the importer batches, retries and waits. */
export interface ImportSubscribersOptions extends ImportFlags {
  readonly idList: number;
  /** The list's GUID; looked up with GetNlLists when omitted. */
  readonly listGUID?: string;
  /** Groups of the list to add the subscribers to. */
  readonly groups?: readonly number[];
  /** Subscribers per NewImportProcess (default 5,000, as MailUp's Magento module). */
  readonly batchSize?: number;
  /** campo elements per subscriber for object input; default: each batch's highest field. */
  readonly fieldCount?: number;
  /** Follow the processes until they finish (default true); false returns once they started. */
  readonly wait?: boolean;
  /** Delay between GetProcessDetails calls while a process runs (default 1 s). */
  readonly pollIntervalMs?: number;
  /** Give up waiting after this long (default: no limit); the processes keep running on the server. */
  readonly waitTimeoutMs?: number;
  readonly startRetry?: StartRetryOptions;
  /** Called after every step; must not throw (what it throws is ignored). */
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Stops between calls; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

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
  | { readonly type: 'start-retry'; readonly returnCode: number; readonly attempt: number; readonly delayMs: number }
  | { readonly type: 'started'; readonly processes: readonly number[] }
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
 * processes failed, the input broke off, or waiting stopped early. failed: nothing was
 * imported (every batch failed, or the processes could not be started).
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
  /** The processes StartImportProcesses reported starting (ids). */
  readonly started: readonly number[];
  readonly counters: Readonly<ImportCounters>;
  /** Why the input stopped early (a CSV error…), or null. */
  readonly inputError: Error | null;
  /** Why starting or following the processes failed, or null. */
  readonly error: Error | null;
}

const COUNTER_NAMES = ['totalContacts', 'newEmail', 'newMobile', 'existingEmail', 'existingMobile', 'optOutEmail', 'optOutMobile'] as const;

const zeroCounters = (): ImportCounters => ({ totalContacts: 0, newEmail: 0, newMobile: 0, existingEmail: 0, existingMobile: 0, optOutEmail: 0, optOutMobile: 0 });

const isRaw = (item: ImportItem): item is RawSubscriber => typeof (item as RawSubscriber).xml === 'string';

const isBusy = (err: unknown): err is MailUpReturnCodeError =>
  err instanceof MailUpReturnCodeError && (err.returnCode === -601 || err.returnCode === -602);

/**
 * Finds a list by id with GetNlLists (for its GUID and groups).
 * @example
 * ```ts
 * const list = await findList(client, 1);
 * console.log(list.listGUID);
 * ```
 */
export async function findList(client: MailUpImportClient, idList: number, options?: CallOptions): Promise<MailUpList> {
  const list = (await client.getNlLists({}, options)).find((l) => l.idList === idList);
  if (!list) throw new RangeError(`the account has no list ${idList}`);
  return list;
}

/**
 * Imports subscribers into a list in batches and follows the import to its end.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * import { MailUpImportClient, importSubscribers, readCsvSubscribers } from 'mailup-import-client';
 *
 * const client = new MailUpImportClient({ endpoint, user, password });
 * const csv = await readCsvSubscribers(createReadStream('contacts.csv'));
 * const report = await importSubscribers(client, csv, {
 *   idList: 1, groups: [3], fieldCount: csv.fieldCount,
 *   onProgress: (p) => console.log(p.phase, p.rowsSent, p.processesDone, p.counters.newEmail),
 * });
 * if (report.outcome !== 'completed') console.error(report.failedBatches.map((b) => b.error.message));
 * ```
 */
export async function importSubscribers<T extends ImportItem>(
  client: MailUpImportClient,
  input: AsyncIterable<T> | Iterable<T>,
  options: ImportSubscribersOptions,
): Promise<ImportReport<T>> {
  const batchSize = options.batchSize ?? 5000;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be a positive whole number, not ${String(batchSize)}`);
  const { signal } = options;
  const call: CallOptions = signal ? { signal } : {};
  const listGUID = options.listGUID ?? (await findList(client, options.idList, call)).listGUID;
  const flags = {
    importType: options.importType ?? 3,
    mobileInputType: options.mobileInputType ?? 1,
    asPending: options.asPending ?? false,
    ConfirmEmail: options.ConfirmEmail ?? false,
    asOptOut: options.asOptOut ?? false,
    forceOptIn: options.forceOptIn ?? false,
    replaceGroups: options.replaceGroups ?? false,
  };
  const groups = (options.groups ?? []).join(',');

  let phase: ImportPhase = 'sending';
  let rowsRead = 0;
  let rowsSent = 0;
  let rowsFailed = 0;
  const batches: Array<{ -readonly [K in keyof BatchReport]: BatchReport[K] }> = [];
  const failedBatches: FailedBatch<T>[] = [];
  let started: number[] = [];
  let inputError: Error | null = null;
  let error: Error | null = null;

  const progress = (event: ImportEvent): void => {
    if (!options.onProgress) return;
    const counters = zeroCounters();
    let rowsImported = 0;
    let processesDone = 0;
    for (const b of batches) {
      if (!b.details) continue;
      for (const name of COUNTER_NAMES) counters[name] += b.details[name];
      if (isFinished(b.details.status)) {
        processesDone++;
        rowsImported += b.details.totalContacts;
      } else {
        const email = b.details.newEmail + b.details.existingEmail + b.details.optOutEmail;
        const mobile = b.details.newMobile + b.details.existingMobile + b.details.optOutMobile;
        rowsImported += Math.min(b.details.totalContacts, Math.max(email, mobile));
      }
    }
    try {
      options.onProgress({
        phase, event, rowsRead, rowsSent, rowsFailed,
        batchesSent: batches.filter((b) => b.idProcess !== null).length,
        batchesFailed: failedBatches.length,
        processesTotal: batches.filter((b) => b.idProcess !== null).length,
        processesDone, rowsImported, counters,
      });
    } catch {
      // A progress display that fails must not break the import.
    }
  };

  // 1. Send the input in batches, each as one NewImportProcess.
  const sendBatch = async (items: T[]): Promise<void> => {
    const batch = batches.length + 1;
    const fromRow = rowsRead - items.length + 1;
    const toRow = rowsRead;
    const builder = new FeedBuilder({ mobileInputType: flags.mobileInputType, fieldCount: options.fieldCount ?? highestFieldOf(items) });
    const entry: (typeof batches)[number] = { batch, fromRow, toRow, idProcess: null, details: null, error: null };
    batches.push(entry);
    try {
      const xmlDoc = FEED_OPEN + items.map((item) => (isRaw(item) ? item.xml : builder.subscriber(item))).join('') + FEED_CLOSE;
      entry.idProcess = await client.newImportProcess(
        { idList: options.idList, listGUID, xmlDoc, idGroups: groups, ...flags, idConfirmNL: options.idConfirmNL ?? 0 }, call,
      );
      rowsSent += items.length;
      progress({ type: 'batch-sent', batch, idProcess: entry.idProcess, fromRow, toRow });
    } catch (err) {
      if (signal?.aborted) throw err;
      const failure = err instanceof Error ? err : new Error(String(err));
      entry.error = failure;
      rowsFailed += items.length;
      failedBatches.push({ batch, fromRow, toRow, rows: items, error: failure });
      progress({ type: 'batch-failed', batch, fromRow, toRow, error: failure });
    }
  };
  let pendingItems: T[] = [];
  try {
    for await (const item of input) {
      pendingItems.push(item);
      rowsRead++;
      if (pendingItems.length >= batchSize) {
        const items = pendingItems;
        pendingItems = [];
        await sendBatch(items);
      }
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    inputError = err instanceof Error ? err : new Error(String(err));
  }
  if (pendingItems.length > 0) await sendBatch(pendingItems);
  progress({ type: 'input-ended', rows: rowsRead });

  // 2. Start every prepared process; while another import runs, wait and try again.
  const ours = batches.filter((b) => b.idProcess !== null);
  let startFailed = false;
  if (ours.length > 0) {
    phase = 'starting';
    const retry = options.startRetry ?? {};
    const attempts = retry.attempts ?? 40;
    try {
      const processes = await retryWithBackoff(async () => {
        try {
          return await client.startImportProcesses({
            listsIDs: String(options.idList), listsGUIDs: listGUID, groupsIDs: groups, ...flags,
          }, call);
        } catch (err) {
          if (!signal?.aborted && isBusy(err) && (await alreadyStarted())) return null;
          throw err;
        }
      }, {
        initialDelayMs: retry.initialDelayMs ?? 1000,
        maxDelayMs: retry.maxDelayMs ?? 30_000,
        signal,
        retryIf: (err, attempt, delayMs) => {
          if (signal?.aborted || !isBusy(err) || attempt >= attempts) return false;
          progress({ type: 'start-retry', returnCode: err.returnCode, attempt, delayMs });
          return true;
        },
      });
      // null: someone else's start took ours along while we waited.
      if (processes !== null) {
        started = processes.map((p) => p.idProcess);
        progress({ type: 'started', processes: started });
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      error = err instanceof Error ? err : new Error(String(err));
      startFailed = true;
    }
  }

  // 3. Follow the processes in order (they run one after another) until each finishes.
  if (ours.length > 0 && !startFailed && options.wait !== false) {
    phase = 'importing';
    const deadline = options.waitTimeoutMs === undefined ? Infinity : Date.now() + options.waitTimeoutMs;
    try {
      for (const entry of ours) {
        for (;;) {
          entry.details = await client.getProcessDetails({ idList: options.idList, listGUID, idProcess: entry.idProcess! }, call);
          if (isFinished(entry.details.status)) {
            progress({ type: 'process-finished', details: entry.details });
            break;
          }
          progress({ type: 'process-update', details: entry.details });
          if (Date.now() >= deadline) throw new Error(`process ${entry.idProcess} had not finished after ${options.waitTimeoutMs} ms; it keeps running on the server`);
          await sleep(options.pollIntervalMs ?? 1000, signal);
        }
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      error = err instanceof Error ? err : new Error(String(err));
    }
  }

  phase = 'done';
  const counters = zeroCounters();
  for (const b of ours) if (b.details) for (const name of COUNTER_NAMES) counters[name] += b.details[name];
  const unfinished = options.wait !== false && ours.some((b) => !b.details || !isFinished(b.details.status));
  const outcome: ImportOutcome =
    ours.length === 0 ? (rowsRead === 0 && inputError === null ? 'completed' : 'failed')
    : startFailed ? 'failed'
    : failedBatches.length > 0 || inputError !== null || error !== null || unfinished || ours.some((b) => b.details?.status === 'failed') ? 'partial'
    : 'completed';
  progress({ type: 'done', outcome });
  return {
    outcome, idList: options.idList, listGUID, rowsRead, rowsSent, rowsFailed,
    batches: batches.map((b) => ({ ...b })), failedBatches, started, counters, inputError, error,
  };

  /**
   * While we wait for a busy account, someone else's StartImportProcesses may have started our
   * processes (it starts every pending one); then there is nothing left to start.
   */
  async function alreadyStarted(): Promise<boolean> {
    try {
      const details = await client.getProcessDetails({ idList: options.idList, listGUID, idProcess: ours[0]!.idProcess! }, call);
      return details.status !== 'waiting';
    } catch {
      return false;
    }
  }
}

function highestFieldOf(items: readonly ImportItem[]): number {
  let max = 0;
  for (const item of items) {
    if (isRaw(item) || !item.fields) continue;
    const fields = item.fields;
    const n = Array.isArray(fields) ? fields.length : Math.max(0, ...Object.keys(fields).map(Number));
    if (n > max) max = n;
  }
  return max;
}
