/**
 * Imports: the options a process runs with, creating processes for a stored feed, starting them
 * (one running import per account; the rest wait their turn), and reading one back. Every door
 * that starts or reads an import goes through here (the SOAP service today).
 */
import type { Feed, ImportOptions, ImportProcess, MailingList } from '../model/records.ts';
import type { StartOutcome } from '../store/processes.ts';
import type { Store } from '../store/store.ts';

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
  const { asPending, ConfirmEmail, asOptOut, forceOptIn, replaceGroups, idConfirmNL } = request;
  return { ok: true, options: { groupIds, importType, mobileInputType, asPending, ConfirmEmail, asOptOut, forceOptIn, replaceGroups, idConfirmNL } };
}

/** Whether idConfirmNL names a confirmation message of the account (0, the default message, always does). */
export async function confirmationMessageExists(store: Store, accountId: number, idConfirmNL: number): Promise<boolean> {
  return idConfirmNL === 0 || store.confirmations.confirmationMessageExists(accountId, idConfirmNL);
}

/**
 * One process per list for a stored feed, waiting (status 1); with `start`, started at once in
 * the same transaction, so that nothing is created when the account is busy.
 */
export async function createImports(
  ctx: ImportContext, accountId: number, feed: Feed, lists: readonly { listId: number; options: ImportOptions }[], options: { start: boolean },
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
