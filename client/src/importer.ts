/**
 * Importing a large input the way MailUp recommends (spec §7.6): split it into NewImportProcess
 * calls of N subscribers, start them all with one StartImportProcesses (no xmlDoc), retrying
 * while the account is busy (-601/-602), then follow each process with GetProcessDetails until
 * it finishes. Progress goes to one callback; a batch the service refuses is reported with its
 * rows and the import goes on with the others.
 *
 * StartImportProcesses without xmlDoc starts every process the account prepared, so another
 * program importing into the same account at the same time may start some of ours (and we some of
 * its). The importer therefore never assumes: it looks at each of its processes, counts what
 * anyone started as started, and starts again whatever still waits, until every process is
 * started (and, when it waits, finished) or reported, or the overall deadline passes.
 */
import type { CallOptions, MailUpImportClient } from './client.ts';
import { MailUpReturnCodeError, TransportError } from './errors.ts';
import { FEED_CLOSE, FEED_OPEN, FeedBuilder } from './feed-builder.ts';
import { isFinished, type MailUpList, type ProcessDetails, type ProcessStatus } from './result-parser.ts';
import { sleep } from './retry.ts';
import type { RawSubscriber } from './xml-feed.ts';
import {
  DEFAULT_IMPORT_TIMEOUT_MS, ImportTimeoutError, type BatchReport, type FailedBatch, type ImportCounters, type ImportEvent, type ImportItem,
  type ImportOutcome, type ImportPhase, type ImportProgress, type ImportReport, type RemainingProcess,
} from './import-report.ts';

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

/**
 * How the start is tried again while the account is busy (-601/-602): StartImportProcesses,
 * then StartProcess for each of the import's processes still waiting.
 */
export interface StartRetryOptions {
  /**
   * Attempts in all, the first included, while none of the import's processes has started
   * (default 40); then the start is refused for good and the outcome is `failed`. Once one of
   * them runs (whoever started it), the others are tried again until they start or the deadline
   * (`timeoutMs`) passes: they wait behind the import's own processes.
   */
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
  /**
   * Follow the processes until they finish (default true); false returns once every one of
   * them has started (running, or queued behind the account's running import).
   */
  readonly wait?: boolean;
  /** Delay between GetProcessDetails calls while a process runs (default 1 s). */
  readonly pollIntervalMs?: number;
  /**
   * The overall deadline, from the call (default 6 hours, {@link DEFAULT_IMPORT_TIMEOUT_MS};
   * `Infinity` for none). When it passes, the importer stops starting and waiting and returns
   * with `timedOut`, the processes left in `remaining` and an {@link ImportTimeoutError} as
   * `error`; started processes go on on the server. Sending the batches is never cut short:
   * the deadline is looked at while starting and waiting.
   */
  readonly timeoutMs?: number;
  /**
   * @deprecated Use `timeoutMs`. Still honoured: waiting also stops this long after the
   * batches were sent, whichever comes first.
   */
  readonly waitTimeoutMs?: number;
  readonly startRetry?: StartRetryOptions;
  /** Called after every step; must not throw (what it throws is ignored). */
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Stops between calls; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
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
  const startedAt = Date.now();
  const batchSize = options.batchSize ?? 5000;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be a positive whole number, not ${String(batchSize)}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_IMPORT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be a positive number of milliseconds, not ${String(timeoutMs)}`);
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

  // 2. Start every prepared process with one StartImportProcesses, as MailUp recommends. It
  // starts every process the account prepared, so another program's call may have started some
  // of ours, or ours some of its; and while another import runs (-601/-602) nothing starts. So
  // after each attempt every process of ours not known to be started is looked at: one that
  // left StatusCode 1 was started (by anyone); one still at 1 is either queued behind the
  // running import (GetProcessDetails tells the two apart in no way) or waiting for a start.
  // StartProcess answers which: it starts a waiting process, refuses a queued one with -603
  // (already started), and answers -601/-602 for a waiting one while the account is busy.
  // 3. Then follow the processes in order (they run one after another) until each finishes,
  // trying again, with a growing delay, to start any still waiting, until the deadline.
  const ours = batches.filter((b) => b.idProcess !== null);
  const tracks: Track[] = ours.map((entry) => ({ entry, id: entry.idProcess!, started: false, startError: null }));
  const wait = options.wait !== false;
  let startFailed = false;
  let timedOut = false;
  /** The limit the deadline came from, for the timeout's message. */
  let limitMs = timeoutMs;
  const finished = (t: Track): boolean => t.entry.details !== null && isFinished(t.entry.details.status);
  /** Processes still to start: not known started, not finished, not refused for good. */
  const toStart = (): Track[] => tracks.filter((t) => !t.started && t.startError === null && !finished(t));
  const details = (t: Track): Promise<ProcessDetails> => client.getProcessDetails({ idList: options.idList, listGUID, idProcess: t.id }, call);

  /** Notes what GetProcessDetails said; a process that left StatusCode 1 has been started. */
  const observe = (t: Track, d: ProcessDetails, startedByOthers: number[]): void => {
    t.entry.details = d;
    if (!t.started && d.status !== 'waiting') {
      t.started = true;
      startedByOthers.push(t.id);
    }
  };

  /**
   * One attempt at starting what is left: StartImportProcesses, then each process not known
   * started is looked at and, when still waiting, started with StartProcess. A first
   * StartImportProcesses refused for good (a ReturnCode other than busy, a fault) after which
   * none of the processes turns out started: the start failed.
   */
  const startRound = async (first: boolean): Promise<{ busy: MailUpReturnCodeError | null; failure: Error | null; refused: Error | null }> => {
    let busy: MailUpReturnCodeError | null = null;
    let failure: Error | null = null;
    let refusal: Error | null = null;
    try {
      const processes = await client.startImportProcesses({
        listsIDs: String(options.idList), listsGUIDs: listGUID, groupsIDs: groups, ...flags,
      }, call);
      const listed = new Set(processes.map((p) => p.idProcess));
      const mine = tracks.filter((t) => !t.started && listed.has(t.id));
      for (const t of mine) t.started = true;
      if (mine.length > 0) progress({ type: 'started', processes: mine.map((t) => t.id), by: 'this-import' });
    } catch (err) {
      if (signal?.aborted) throw err;
      if (isBusy(err)) busy = err;
      // The answer was lost: the processes may have started; looking at them tells.
      else if (err instanceof TransportError || !first) failure = toError(err);
      // Refused: unless another client started ours already (then nothing was left to start).
      else refusal = toError(err);
    }
    const byUs: number[] = [];
    const byOthers: number[] = [];
    const finishedNow: ProcessDetails[] = [];
    for (const t of toStart()) {
      observe(t, await details(t), byOthers);
      if (finished(t)) finishedNow.push(t.entry.details!);
      if (t.started) continue;
      try {
        await client.startProcess({ idList: options.idList, listGUID, idProcess: t.id }, call);
        t.started = true;
        byUs.push(t.id);
      } catch (err) {
        if (signal?.aborted) throw err;
        if (isBusy(err)) {
          busy ??= err;
        } else if (err instanceof MailUpReturnCodeError && err.returnCode === -603) {
          // Already started: queued behind the running import (ours, or another program's).
          t.started = true;
          byOthers.push(t.id);
        } else if (err instanceof TransportError) {
          failure ??= err;
        } else {
          t.startError = toError(err);
        }
      }
    }
    if (byUs.length > 0) progress({ type: 'started', processes: byUs, by: 'this-import' });
    if (byOthers.length > 0) progress({ type: 'started', processes: byOthers, by: 'another-client' });
    for (const d of finishedNow) progress({ type: 'process-finished', details: d });
    return { busy, failure, refused: refusal !== null && !tracks.some((t) => t.started) ? refusal : null };
  };

  if (tracks.length > 0) {
    phase = 'starting';
    const retry = options.startRetry ?? {};
    const attempts = retry.attempts ?? 40;
    const initialDelayMs = retry.initialDelayMs ?? 1000;
    const maxDelayMs = retry.maxDelayMs ?? 30_000;
    const pollIntervalMs = options.pollIntervalMs ?? 1000;
    const waitDeadline = options.waitTimeoutMs === undefined ? Infinity : Date.now() + options.waitTimeoutMs;
    const deadline = Math.min(startedAt + timeoutMs, waitDeadline);
    if (waitDeadline < startedAt + timeoutMs) limitMs = options.waitTimeoutMs!;
    let delayMs = initialDelayMs;
    let nextStartAt = 0;
    let rounds = 0;
    let idleRounds = 0;
    try {
      for (let first = true; ;) {
        if (toStart().length > 0 && Date.now() >= nextStartAt) {
          const round = await startRound(first);
          first = false;
          if (round.refused) {
            error = round.refused;
            startFailed = true;
            break;
          }
          const waiting = toStart();
          if (waiting.length > 0) {
            rounds++;
            // Busy with nothing of ours started: someone else's import. Give up after `attempts`.
            if (!tracks.some((t) => t.started) && ++idleRounds >= attempts) {
              error = round.busy ?? round.failure ?? new Error('the import processes could not be started');
              startFailed = true;
              break;
            }
            if (round.busy) progress({ type: 'start-retry', returnCode: round.busy.returnCode, attempt: rounds, delayMs, waiting: waiting.map((t) => t.id) });
            nextStartAt = Date.now() + delayMs;
            delayMs = Math.min(delayMs * 2, maxDelayMs);
          }
        }
        if (wait && tracks.some((t) => t.started)) phase = 'importing';
        if (!wait && toStart().length === 0) break;
        if (wait) {
          // The first of ours not finished that has started: they run one after another.
          const current = tracks.find((t) => !finished(t) && t.started);
          if (current) {
            const byOthers: number[] = [];
            observe(current, await details(current), byOthers);
            if (finished(current)) {
              progress({ type: 'process-finished', details: current.entry.details! });
              // The account may be free now: a process still waiting can be started at once.
              delayMs = initialDelayMs;
              nextStartAt = 0;
              continue;
            }
            progress({ type: 'process-update', details: current.entry.details! });
          } else if (toStart().length === 0) {
            break; // every process finished, or could not be started
          }
        }
        const now = Date.now();
        if (now >= deadline) {
          timedOut = true;
          break;
        }
        const until = Math.min(deadline, wait && tracks.some((t) => t.started) ? now + pollIntervalMs : Infinity, toStart().length > 0 ? nextStartAt : Infinity);
        await sleep(Math.max(0, until - now), signal);
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      error = toError(err);
    }
    if (timedOut) {
      // The last status of what is left, for the report (a failure keeps the one seen before).
      for (const t of tracks) {
        if (finished(t) || (!wait && t.started)) continue;
        try {
          observe(t, await details(t), []);
        } catch (err) {
          if (signal?.aborted) throw err;
        }
      }
    }
  }

  phase = 'done';
  const counters = zeroCounters();
  for (const b of ours) if (b.details) for (const name of COUNTER_NAMES) counters[name] += b.details[name];
  const remaining: RemainingProcess[] = tracks
    .filter((t) => (wait ? !finished(t) : !t.started))
    .map((t) => ({
      batch: t.entry.batch, idProcess: t.id, fromRow: t.entry.fromRow, toRow: t.entry.toRow,
      status: t.entry.details?.status ?? null, statusCode: t.entry.details?.statusCode ?? null, started: t.started, error: t.startError,
    }));
  if (timedOut && remaining.length === 0) timedOut = false; // it all ended as the deadline came
  if (timedOut) error = new ImportTimeoutError(limitMs, remaining, tracks.length);
  for (const t of tracks) if (t.startError && t.entry.error === null) t.entry.error = t.startError;
  const outcome: ImportOutcome =
    ours.length === 0 ? (rowsRead === 0 && inputError === null ? 'completed' : 'failed')
    : timedOut ? 'partial'
    : startFailed ? 'failed'
    : failedBatches.length > 0 || inputError !== null || error !== null || remaining.length > 0 || ours.some((b) => b.details?.status === 'failed') ? 'partial'
    : 'completed';
  started = tracks.filter((t) => t.started).map((t) => t.id);
  progress({ type: 'done', outcome });
  return {
    outcome, idList: options.idList, listGUID, rowsRead, rowsSent, rowsFailed,
    batches: batches.map((b) => ({ ...b })), failedBatches, started, counters, inputError, error, timedOut, remaining,
  };
}

/** What the importer knows of one of its processes. */
interface Track {
  readonly entry: { -readonly [K in keyof BatchReport]: BatchReport[K] };
  readonly id: number;
  /** Known to have been started, by anyone: running, finished, or queued behind the running import. */
  started: boolean;
  /** Starting it was refused for good. */
  startError: Error | null;
}

const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

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
