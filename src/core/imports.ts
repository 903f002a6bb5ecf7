/**
 * Imports: the options a process runs with, creating processes for a stored feed, starting them
 * (one running import per account; the rest wait their turn), and reading one back. Every door
 * that starts or reads an import goes through here (the SOAP service today).
 */
import type { Feed, ImportOptions, ImportProcess, MailingList } from '../model/records.ts';
import type { CreateOptions, StartOutcome } from '../store/processes.ts';
import type { Store } from '../store/store.ts';
import { DYNAMIC_FIELD_COUNT } from './dynamic-fields.ts';

export interface ImportContext {
  readonly store: Store;
  /** Tells the import workers that a process was started (they also poll). */
  readonly wakeWorkers: () => void;
}

/** Why a start was refused: the account runs an import on this list or another, or nothing can be started. */
export type StartRefusal = Extract<StartOutcome, { ok: false }>['reason'];

/** What a caller asks of an import: the options, where 0 for importType and mobileInputType means the default. */
export type ImportRequest = ImportOptions;

/**
 * The options a process runs with. importType 0 means the documented default 3 and
 * mobileInputType 0 means 1; other values outside 1–6 and 1–2 are refused, as are groups that
 * are not groups of the list.
 */
export async function importOptions(
  store: Store, list: MailingList, request: ImportRequest,
): Promise<{ ok: true; options: ImportOptions } | { ok: false; reason: 'invalid-option' | 'unknown-group' }> {
  const importType = request.importType === 0 ? 3 : request.importType;
  const mobileInputType = request.mobileInputType === 0 ? 1 : request.mobileInputType;
  if (!(importType >= 1 && importType <= 6) || !(mobileInputType === 1 || mobileInputType === 2)) return { ok: false, reason: 'invalid-option' };
  const groupIds = [...new Set(request.groupIds)];
  if (groupIds.length > 0) {
    const known = new Set((await store.lists.getGroups(list.id)).map((g) => g.id));
    if (groupIds.some((id) => !known.has(id))) return { ok: false, reason: 'unknown-group' };
  }
  const { asPending, ConfirmEmail, asOptOut, forceOptIn, replaceGroups, idConfirmNL, confirmNewOnly, clearMissingFieldsUpTo } = request;
  return {
    ok: true,
    options: {
      groupIds, importType, mobileInputType, asPending, ConfirmEmail, asOptOut, forceOptIn, replaceGroups, idConfirmNL,
      // The REST-only options are left out of SOAP processes altogether, so their stored options stay as they were.
      ...(confirmNewOnly ? { confirmNewOnly } : {}),
      ...(clearMissingFieldsUpTo ? { clearMissingFieldsUpTo } : {}),
    },
  };
}

/** Whether idConfirmNL names a confirmation message of the account (0, the default message, always does). */
export async function confirmationMessageExists(store: Store, accountId: number, idConfirmNL: number): Promise<boolean> {
  return idConfirmNL === 0 || store.confirmations.confirmationMessageExists(accountId, idConfirmNL);
}

/**
 * One process per list for a stored feed, waiting (status 1); with `start`, started at once in
 * the same transaction, so that nothing is created when the account is busy (with
 * `queueWhenBusy`, queued behind the account's running import instead).
 */
export async function createImports(
  ctx: ImportContext, accountId: number, feed: Feed, lists: readonly { listId: number; options: ImportOptions }[], options: CreateOptions,
): Promise<{ ok: true; processes: ImportProcess[] } | { ok: false; reason: StartRefusal }> {
  const created = await ctx.store.processes.createProcesses(accountId, feed, lists, options);
  if (created.ok && options.start) ctx.wakeWorkers();
  return created;
}

/** Starts the processes in the given order: the first runs, the rest wait their turn; all or none. */
export async function startImports(ctx: ImportContext, accountId: number, processIds: readonly number[]): Promise<StartOutcome> {
  const started = await ctx.store.processes.startProcesses(accountId, processIds);
  if (started.ok) ctx.wakeWorkers();
  return started;
}

/**
 * Starts every process of the account that was created and never started, oldest first (what
 * StartImportProcesses without a feed does, spec §7.1), and answers the processes started.
 *
 * When there is nothing to start because the account runs an import (another call started the
 * pending processes first, or nothing was pending), the account is busy, as for every other
 * start: 'busy-same-list' when the running import is on one of `listIds` (the lists the call
 * named), 'busy-other-list' otherwise. An empty answer means that nothing was pending and nothing
 * runs now.
 */
export async function startPendingImports(
  ctx: ImportContext, accountId: number, listIds: readonly number[],
): Promise<{ ok: true; processes: ImportProcess[] } | { ok: false; reason: StartRefusal }> {
  const pending = await ctx.store.processes.pendingProcessIds(accountId);
  if (pending.length > 0) {
    const started = await startImports(ctx, accountId, pending);
    if (started.ok) {
      const processes = await Promise.all(pending.map((id) => ctx.store.processes.getProcess(accountId, id)));
      return { ok: true, processes: processes.filter((p): p is ImportProcess => p !== null) };
    }
    // Not startable: another call started them between our read and our start.
    if (started.reason === 'busy-same-list' || started.reason === 'busy-other-list') return started;
  }
  const busy = await ctx.store.processes.busyListId(accountId);
  if (busy === null) return { ok: true, processes: [] };
  return { ok: false, reason: listIds.includes(busy) ? 'busy-same-list' : 'busy-other-list' };
}

/** The account's process, when it imports into `listId`. */
export async function findImport(store: Store, accountId: number, listId: number, processId: number): Promise<ImportProcess | null> {
  const process = await store.processes.getProcess(accountId, processId);
  return process !== null && process.listId === listId ? process : null;
}

/**
 * What a REST bulk import asks (`POST Console/List/{id}/Recipients` and `Console/Group/{id}/Recipients`,
 * spec 2.7), in the door's words; `bulkImportOptions` turns it into the options of its process.
 */
export interface BulkImportRequest {
  /** `ConfirmEmail=true`: recipients new to the list become pending and get the confirmation request. */
  readonly confirmEmail: boolean;
  /** `importType=asOptout`: every recipient of the body ends unsubscribed (pending ones too). */
  readonly asOptOut: boolean;
  /** `clearMissingOrEmptyFields=true`: a field missing or empty in the body is cleared; otherwise it keeps its value. */
  readonly clearMissingOrEmptyFields: boolean;
  /** The group of a group import; null for a list import. */
  readonly groupId: number | null;
  /** `removeFromPrevGroups=true` (group imports): the recipients leave the list's other groups. */
  readonly removeFromPrevGroups: boolean;
}

/**
 * The options a REST bulk import runs with, checked by the same rules as every import
 * (`importOptions`). Both channels are imported (importType 3, or 6 to clear empty fields), the
 * mobile number as MobilePrefix + MobileNumber (mobileInputType 2), with the account's default
 * confirmation message. ConfirmEmail asks only recipients not yet on the list
 * (`confirmNewOnly`): existing subscribed recipients stay subscribed (spec 2.7). asOptout also
 * sets asPending, so pending recipients are unsubscribed too. clearMissingOrEmptyFields clears
 * the fields a recipient leaves out as well, up to MailUp's 39.
 */
export function bulkImportOptions(
  store: Store, list: MailingList, request: BulkImportRequest,
): Promise<{ ok: true; options: ImportOptions } | { ok: false; reason: 'invalid-option' | 'unknown-group' }> {
  return importOptions(store, list, {
    groupIds: request.groupId === null ? [] : [request.groupId],
    importType: request.clearMissingOrEmptyFields ? 6 : 3,
    mobileInputType: 2,
    asPending: request.asOptOut,
    ConfirmEmail: request.confirmEmail,
    asOptOut: request.asOptOut,
    forceOptIn: false,
    replaceGroups: request.removeFromPrevGroups,
    idConfirmNL: 0,
    confirmNewOnly: true,
    ...(request.clearMissingOrEmptyFields ? { clearMissingFieldsUpTo: DYNAMIC_FIELD_COUNT } : {}),
  });
}

/**
 * One process for a stored feed (a REST bulk import: one import, one process), started at once,
 * or queued behind the account's running import rather than refused (spec 2.7).
 */
export async function startOrQueueImport(ctx: ImportContext, accountId: number, feed: Feed, listId: number, options: ImportOptions): Promise<ImportProcess> {
  const created = await createImports(ctx, accountId, feed, [{ listId, options }], { start: true, queueWhenBusy: true });
  // A queued start is never refused; only a lost race the store could not serialize could be.
  if (!created.ok) throw new Error(`the import could not be started or queued (${created.reason})`);
  return created.processes[0]!;
}
