/**
 * The composition root: builds the store, the operation context, the HTTP app and the worker
 * from a Config, once. `main.ts` runs it as a process; tests start it in-process.
 */
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';
import type { AppContext } from './http/context.ts';
import { ThreadedImportWorker } from './import/threaded-worker.ts';
import type { ImportWorkerHandle, WorkerEvents } from './import/worker.ts';
import { CredentialCache } from './operations/credential-cache.ts';
import { makeDateFormatter } from './protocol/result.ts';
import { SqliteStore } from './store/sqlite/sqlite-store.ts';
import type { Store } from './store/store.ts';

export interface Service {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly worker: ImportWorkerHandle;
  readonly context: AppContext;
  readonly log: Logger;
  /** The base URL the server listens on, once `listen` resolved. */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  readonly logger?: Logger;
  readonly workerEvents?: WorkerEvents;
  /** Run the import worker in this process (the default). */
  readonly runWorker?: boolean;
}

export async function createService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const log = options.logger ?? pino({
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', '*.Password', '*.password', 'credentials'], censor: '[redacted]' },
  });
  const store = new SqliteStore(config.databasePath, { maxSize: config.sqliteMaxSize });
  let worker: ImportWorkerHandle | null = null;
  const context: AppContext = Object.freeze({
    config,
    store,
    formatDate: makeDateFormatter(config.timeZone),
    operations: Object.freeze({ store, credentials: new CredentialCache(), wakeWorkers: () => worker?.wake() }),
  });
  // The embedded worker runs in its own thread so that synchronous SQLite merges never hold up requests.
  worker = new ThreadedImportWorker({ config, log: log.child({ component: 'worker' }), events: options.workerEvents });
  const app = await buildApp(context, log.child({ component: 'http' }));
  const service: Service = {
    app, store, worker, context, log, url: '',
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      const port = new URL(address).port;
      service.url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
      if (options.runWorker !== false) worker!.start();
      return service.url;
    },
    async close() {
      await app.close();
      await worker!.stop();
      await store.close();
    },
  };
  return service;
}
