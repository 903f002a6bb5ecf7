/**
 * The main thread's handle on the import worker thread (see worker-thread.ts): starts it, wakes
 * it when a process is started, relays its events, restarts it if it dies, and stops it
 * gracefully (the current batch commits and the lease is released).
 */
import { Worker } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import type { ImportProcess } from '../model/records.ts';
import type { Lease } from '../store/processes.ts';
import type { ImportWorkerHandle, WorkerEvents, WorkerLog } from './worker.ts';

export type ThreadCommand = { type: 'wake' } | { type: 'stop' };
export type ThreadMessage =
  | { type: 'claimed'; process: ImportProcess }
  | { type: 'batch'; process: ImportProcess; rows: number }
  | { type: 'finished'; processId: number; status: 3 | 4 }
  | { type: 'leaseLost'; processId: number }
  | { type: 'stopped' };

const RESTART_DELAY_MS = 1000;
/**
 * The thread's module. Compiled (dist/, how the service runs) it is worker-thread.js itself; from
 * source (the tests, under tsx) a thread does not inherit its parent's loader on Node 20, so it
 * starts at an entry that registers the loader first.
 */
const THREAD_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './worker-thread-entry.mjs' : './worker-thread.js', import.meta.url);

export class ThreadedImportWorker implements ImportWorkerHandle {
  readonly owner = `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  private thread: Worker | null = null;
  private stopping = false;
  /** The import the thread holds a lease on, as its messages tell (null between imports). */
  private current: ImportProcess | null = null;

  constructor(private readonly options: {
    config: Config;
    log: WorkerLog;
    events?: WorkerEvents;
    /**
     * Releases a lease the thread held when it died (the store's releaseLease, from this thread's
     * own connection): the restarted thread then resumes the import at once instead of when the
     * lease runs out (LEASE_SECONDS).
     */
    releaseLease?: (lease: Lease) => Promise<void>;
  }) {}

  start(): void {
    if (this.thread || this.stopping) return;
    const thread = new Worker(THREAD_ENTRY, {
      workerData: { config: this.options.config, owner: this.owner },
    });
    thread.on('message', (message: ThreadMessage) => this.relay(message));
    thread.on('error', (err) => this.options.log.error({ err }, 'import worker thread failed'));
    thread.on('exit', (code) => {
      const held = this.current;
      this.thread = null;
      this.current = null;
      if (this.stopping) return;
      this.options.log.error({ code, processId: held?.id }, 'import worker thread exited; restarting');
      // Its connection went with it, rolling back the batch in flight: nothing holds the lease
      // any more but the row. Released, the import resumes from its checkpoint when the thread is back.
      const released = held === null || this.options.releaseLease === undefined
        ? Promise.resolve()
        : this.options.releaseLease(this.leaseOf(held)).catch((err: unknown) => {
          this.options.log.error({ err, processId: held.id }, 'could not release the lease of the dead import thread; it resumes when the lease expires');
        });
      void released.then(() => setTimeout(() => this.start(), RESTART_DELAY_MS).unref());
    });
    this.thread = thread;
  }

  wake(): void {
    this.thread?.postMessage({ type: 'wake' } satisfies ThreadCommand);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const thread = this.thread;
    if (!thread) return;
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    thread.postMessage({ type: 'stop' } satisfies ThreadCommand);
    await exited;
  }

  /**
   * Terminates the thread: a batch it was merging, not yet committed, is rolled back when its
   * connection goes with it. Answers the lease it held, which the thread can no longer release.
   */
  async halt(): Promise<Lease | null> {
    this.stopping = true;
    const thread = this.thread;
    if (!thread) return null;
    const process = this.current;
    await thread.terminate();
    return process === null ? null : this.leaseOf(process);
  }

  /** The lease the thread holds on `process` (it claims as this handle's owner). */
  private leaseOf(process: ImportProcess): Lease {
    return { process, owner: this.owner, leaseMs: this.options.config.leaseMs };
  }

  private relay(message: ThreadMessage): void {
    const events = this.options.events;
    try {
      if (message.type === 'claimed') this.current = message.process;
      else if (message.type === 'finished' || message.type === 'leaseLost') this.current = null;
      if (message.type === 'claimed') events?.claimed?.(message.process);
      else if (message.type === 'batch') events?.batch?.(message.process, message.rows);
      else if (message.type === 'finished') events?.finished?.(message.processId, message.status);
      else if (message.type === 'leaseLost') events?.leaseLost?.(message.processId);
    } catch (err) {
      this.options.log.error({ err }, `worker event listener ${message.type} failed`);
    }
  }
}
