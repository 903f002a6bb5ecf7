/**
 * Steering imports: cancelling a waiting or running process (with the waiting processes of its
 * run) and starting a process that was prepared and never started. Every door that steers an
 * import (the console, the admin CLI, the JSON API) calls these and maps the reasons to its own
 * answers; the rules live here and in the store's transactions.
 */
import type { ImportProcess } from '../model/records.ts';
import type { ImportContext } from './imports.ts';

/** Why a cancel was refused: no such process in the account, or it has already ended (3 or 4). */
export type CancelRefusal = 'not-found' | 'finished';

export type CancelResult =
  | { readonly ok: true; readonly process: ImportProcess; readonly cancelled: readonly number[] }
  | { readonly ok: false; readonly reason: CancelRefusal };

/** The failure reason a cancelled process reports (GetProcessDetails, the console, the CLI). */
export function cancelReason(byUser: string): string {
  return `cancelled by ${byUser}`;
}

/** Whether a process ended by a cancel, as its failure reason tells. */
export function wasCancelled(process: Pick<ImportProcess, 'status' | 'failureReason'>): boolean {
  return process.status === 4 && process.failureReason !== null && process.failureReason.startsWith('cancelled by ');
}

/**
 * Cancels the account's process while it waits or runs: it ends in status 4 with the reason
 * "cancelled by <byUser>", the rows merged so far stay merged with their counters, the lease is
 * dropped (a worker merging it stops at its next batch) and the run's waiting processes end with
 * it. When it was running, the account's next queued import starts, so the workers are woken.
 */
export async function cancelImport(ctx: ImportContext, accountId: number, processId: number, byUser: string): Promise<CancelResult> {
  const outcome = await ctx.store.processes.cancelProcess(accountId, processId, cancelReason(byUser));
  if (!outcome.ok) return outcome;
  ctx.wakeWorkers();
  const process = await ctx.store.processes.getProcess(accountId, processId);
  // Processes are never deleted: the one just cancelled is there to be read.
  if (process === null) throw new Error(`import process ${processId} vanished after its cancel`);
  return { ok: true, process, cancelled: outcome.cancelled };
}

/** Why a start was refused: no such process, it is not waiting, or it already waits its turn. */
export type StartWaitingRefusal = 'not-found' | 'not-waiting' | 'already-queued';

export type StartWaitingResult =
  | {
    readonly ok: true;
    readonly process: ImportProcess;
    /** True when the account runs another import: the process waits its turn behind it. */
    readonly queued: boolean;
    /** The list of the import the account runs now, when the process was queued behind it. */
    readonly behindListId: number | null;
  }
  | { readonly ok: false; readonly reason: StartWaitingRefusal };

/**
 * Starts a process prepared by NewImportProcess (or a console upload) and never started, as
 * StartProcess does for it, but never refused for a busy account: with one running import per
 * account, it then joins the account's queue and runs after the imports queued before it.
 */
export async function startWaitingImport(ctx: ImportContext, accountId: number, processId: number): Promise<StartWaitingResult> {
  const outcome = await ctx.store.processes.startOrQueueProcess(accountId, processId);
  if (!outcome.ok) return outcome;
  ctx.wakeWorkers();
  const process = await ctx.store.processes.getProcess(accountId, processId);
  if (process === null) throw new Error(`import process ${processId} vanished after its start`);
  const behindListId = outcome.queued ? await ctx.store.processes.busyListId(accountId) : null;
  return { ok: true, process, queued: outcome.queued, behindListId };
}

/** The words each door may use for a refusal (the CLI prints them, the console shows them). */
export const CONTROL_REFUSAL_TEXT: Readonly<Record<CancelRefusal | StartWaitingRefusal, string>> = {
  'not-found': 'there is no such import process in this account',
  finished: 'the import has already ended and cannot be cancelled',
  'not-waiting': 'the import is not waiting to be started (it runs or has ended)',
  'already-queued': 'the import has been started already and waits its turn behind the running import',
};
