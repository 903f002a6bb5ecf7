/**
 * Entry point of the embedded import worker's thread. SQLite merges are synchronous: run on the
 * HTTP thread, every batch would hold up the requests waiting behind it (clients polling
 * GetProcessDetails most of all). Here the worker has its own thread and its own connection to
 * the same database file (WAL lets readers go on while it writes); it reports progress to the
 * main thread as messages.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import type { Config } from '../config.ts';
import { openStore } from '../store/open-store.ts';
import type { ThreadMessage, ThreadCommand } from './threaded-worker.ts';
import { ImportWorker } from './worker.ts';

const { config, owner } = workerData as { config: Config; owner: string };
const port = parentPort!;
const post = (message: ThreadMessage): void => port.postMessage(message);

// The composition root runs this thread only for the embedded store (service.ts); the store is
// opened from the same configuration as the main thread's, by the one place that chooses it.
const log = pino({ level: config.logLevel }).child({ component: 'worker' });
// On Linux a nice value belongs to a thread: raising this one's lets the HTTP thread answer first
// whenever both want the CPU, and the import takes what is left. Raising it needs no privilege.
if (config.workerNice !== 0) {
  try {
    setPriority(config.workerNice);
  } catch (err) {
    log.warn({ err }, 'could not set the import thread\'s nice value');
  }
}
const store = await openStore(config);
const worker = new ImportWorker({
  store,
  owner,
  leaseMs: config.leaseMs,
  pollMs: config.pollMs,
  log,
  events: {
    claimed: (process) => post({ type: 'claimed', process }),
    batch: (process, rows) => post({ type: 'batch', process, rows }),
    finished: (processId, status) => post({ type: 'finished', processId, status }),
    leaseLost: (processId) => post({ type: 'leaseLost', processId }),
  },
});

port.on('message', (command: ThreadCommand) => {
  if (command.type === 'wake') worker.wake();
  else if (command.type === 'stop') {
    void worker.stop().then(() => store.close()).then(() => {
      post({ type: 'stopped' });
      port.close();
    });
  }
});
worker.start();
