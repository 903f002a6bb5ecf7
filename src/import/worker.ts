/**
 * The import worker: claims a running process with a lease, merges its stored feed batch by
 * batch (each batch commits with the checkpoint and counters, so a crash loses nothing and
 * counts nothing twice), then marks it done (3) or failed (4, with the reason). A process whose
 * worker died is claimed again when its lease expires and resumes from its checkpoint.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { LeaseLostError } from '../store/processes.ts';
import type { Store } from '../store/store.ts';
import type { ImportProcess } from '../model/records.ts';
import type { Lease } from '../store/processes.ts';
import { planBatch, prepareBatch, type PreparedBatch } from './plan-batch.ts';

/**
 * Failures that say nothing about the import itself (a busy or restarting database, a dropped
 * connection): the process is released and tried again later instead of failing.
 */
const TRANSIENT_ERROR_CODES = new Set([
  'SQLITE_BUSY', 'SQLITE_LOCKED', // SQLite: another connection holds the lock
  '40001', '40P01', '55P03', // PostgreSQL: serialization failure, deadlock, lock not available
  '57P01', '57P02', '57P03', '08000', '08003', '08006', // PostgreSQL: shutting down, connection lost
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE',
]);

export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_ERROR_CODES.has(code);
}

/** Pause before a released process is tried again after a transient failure. */
const RETRY_PAUSE_MS = 2000;

export interface WorkerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Progress as typed events; listeners (console, metrics, tests) cannot break the worker. */
export interface WorkerEvents {
  claimed?(process: ImportProcess): void;
  batch?(process: ImportProcess, rows: number): void;
  finished?(processId: number, status: 3 | 4): void;
  /** Another worker took over the process (this one's lease had expired). */
  leaseLost?(processId: number): void;
}

/** One set of listeners that calls each given set in turn. */
export function combineWorkerEvents(...sets: (WorkerEvents | undefined)[]): WorkerEvents {
  const all = sets.filter((s): s is WorkerEvents => s !== undefined);
  return {
    claimed: (process) => all.forEach((s) => s.claimed?.(process)),
    batch: (process, rows) => all.forEach((s) => s.batch?.(process, rows)),
    finished: (id, status) => all.forEach((s) => s.finished?.(id, status)),
    leaseLost: (id) => all.forEach((s) => s.leaseLost?.(id)),
  };
}

export interface WorkerOptions {
  readonly store: Store;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly log: WorkerLog;
  readonly events?: WorkerEvents;
  readonly owner?: string;
}

/** What the service needs of a worker, wherever it runs (this thread or its own). */
export interface ImportWorkerHandle {
  readonly owner: string;
  start(): void;
  /** Looks for work now instead of at the next poll. */
  wake(): void;
  /** Stops after the current batch, releasing the lease so another worker can resume at once. */
  stop(): Promise<void>;
  /**
   * Gives up waiting for `stop` (the shutdown deadline): stops at once where it can, and answers
   * the lease of an import it left mid-batch, for the caller to release, or null. In its own
   * thread (SQLite) the worker is terminated: a batch not yet committed is rolled back with its
   * connection. In this process (PostgreSQL) a batch in flight is left to its transaction, which
   * commits and releases the lease if it can before the process exits, and is rolled back by the
   * database when the connection drops otherwise (the lease then expires after LEASE_SECONDS).
   */
  halt(): Promise<Lease | null>;
}

export class ImportWorker implements ImportWorkerHandle {
  readonly owner: string;
  private stopping = false;
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: WorkerOptions) {
    this.owner = options.owner ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Looks for work now instead of at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops after the current batch, releasing the lease so another worker can resume at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
  }

  /** A batch in flight cannot be taken back from its transaction here: see ImportWorkerHandle.halt. */
  async halt(): Promise<Lease | null> {
    this.stopping = true;
    this.wake();
    return null;
  }

  private emit<K extends keyof WorkerEvents>(name: K, ...args: Parameters<NonNullable<WorkerEvents[K]>>): void {
    try {
      (this.options.events?.[name] as ((...a: unknown[]) => void) | undefined)?.(...args);
    } catch (err) {
      this.options.log.error({ err }, `worker event listener ${name} failed`);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let lease: Lease | null = null;
      try {
        lease = await this.options.store.processes.claimProcess(this.owner, this.options.leaseMs);
      } catch (err) {
        this.options.log.error({ err }, 'claiming an import process failed');
      }
      if (lease) await this.runProcess(lease);
      else await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.pollMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  private async runProcess(lease: Lease): Promise<void> {
    const { store, log } = this.options;
    const process = lease.process;
    this.emit('claimed', process);
    log.info({ processId: process.id, checkpoint: process.checkpoint }, 'import process claimed');
    try {
      let checkpoint = process.checkpoint;
      // Read once per claim: the list's country reads the numbers that carry no country code.
      const country = await store.lists.getListCountry(process.accountId, process.listId);
      const prepareFrom = async (fromRow: number): Promise<PreparedBatch | null> => {
        const rows = await store.feeds.readFeedRows(process.feedId, fromRow);
        return rows.length === 0 ? null : prepareBatch(rows, process.options, country);
      };
      const readBatch = (fromRow: number): Promise<PreparedBatch | null> => {
        const read = prepareFrom(fromRow);
        // Marked handled at once: a read that fails while the batch before it is merged is thrown
        // where it is awaited, not as an unhandled rejection (which would end the process) before
        // that; one never awaited (a stop, a lost lease, a failed merge) is moot.
        read.catch(() => undefined);
        return read;
      };
      // The next batch is read and prepared while this one is merged: on PostgreSQL the chunk's
      // read and the JavaScript that normalises it overlap the database's work on the batch before.
      // SQLite's calls are synchronous, so there the same work simply runs one step after another.
      let next = readBatch(checkpoint + 1);
      for (;;) {
        if (this.stopping) {
          await store.processes.releaseLease(lease);
          log.info({ processId: process.id, checkpoint }, 'import process released for shutdown');
          return;
        }
        // A cancel drops the lease (src/core/import-control.ts): asked here, before the next
        // batch is merged, the import stops one round trip after the cancel commits. Reading
        // ahead writes nothing.
        if (checkpoint > process.checkpoint && !(await store.processes.renewLease(lease))) throw new LeaseLostError(process.id);
        const batch = await next;
        if (batch === null) break;
        next = readBatch(batch.lastRow + 1);
        const updated = await store.merge.mergeBatch(lease, batch.keys, batch.lastRow, (prior) => planBatch(batch, prior, process.options));
        this.emit('batch', updated, batch.lastRow - checkpoint);
        checkpoint = batch.lastRow;
        // Let waiting requests run between batches.
        await yieldToEventLoop();
      }
      await store.processes.finishProcess(lease);
      this.emit('finished', process.id, 3);
      log.info({ processId: process.id }, 'import process finished');
    } catch (err) {
      if (err instanceof LeaseLostError) {
        // A cancel ends the process and drops its lease (src/core/import-control.ts): the batch in
        // flight committed before it or not at all, and there is nothing left to record here.
        const now = await store.processes.getProcess(process.accountId, process.id).catch(() => null);
        if (now?.status === 4) log.info({ processId: process.id, reason: now.failureReason }, 'import process stopped: it was cancelled');
        else log.warn({ processId: process.id }, err.message);
        this.emit('leaseLost', process.id);
        return;
      }
      if (isTransient(err)) {
        log.warn({ err, processId: process.id }, 'import paused by a transient database error; it will be retried');
        await store.processes.releaseLease(lease).catch(() => undefined);
        await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
        return;
      }
      log.error({ err, processId: process.id }, 'import process failed');
      try {
        await store.processes.failProcess(lease, err instanceof Error ? err.message : String(err));
        this.emit('finished', process.id, 4);
      } catch (failErr) {
        // The lease will expire and another attempt will resume from the checkpoint.
        log.error({ err: failErr, processId: process.id }, 'could not record the failure of an import process');
      }
    }
  }
}
