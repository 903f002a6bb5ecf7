/**
 * The composition root: builds the store, the operation context, the HTTP app and the worker
 * from a Config, once. `main.ts` runs it as a process; tests start it in-process.
 *
 * The role decides what runs: `all` (the embedded default) serves HTTP and runs the import
 * worker; with PostgreSQL, `serve` runs only the stateless API and console and `worker` only the
 * worker, so each can be scaled on its own hosts (docs/deployment.md).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';
import type { AppContext } from './http/app-context.ts';
import { healthRoutes } from './http/health-routes.ts';
import { HALT_GRACE_MS, haltHttp, settlesWithin } from './http/shutdown.ts';
import { UploadGate } from './http/upload-gate.ts';
import { ThreadedImportWorker } from './import/threaded-worker.ts';
import { combineWorkerEvents, ImportWorker, type ImportWorkerHandle, type WorkerEvents } from './import/worker.ts';
import { createMailContext } from './mail/confirmation-setup.ts';
import type { RetryPolicy } from './mail/confirmation-setup.ts';
import { createServiceMetrics } from './observability/service-metrics.ts';
import { CredentialCache } from './core/credential-cache.ts';
import { WebhookDispatcher } from './core/webhook-dispatcher.ts';
import { DEFAULT_THROTTLE, LoginThrottle } from './core/login-throttle.ts';
import { makeDateFormatter } from './protocol/mailup-message.ts';
import { withLookupCache } from './store/lookup-cache.ts';
import { openStore } from './store/open-store.ts';
import { listenForWork, type WakeChannel } from './store/postgres/wake-channel.ts';
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
  /** Run the import worker in this process (the default, unless the role is `serve`). */
  readonly runWorker?: boolean;
  /** How Send Now retries transient SMTP failures (tests shorten the pauses). */
  readonly mailRetry?: Partial<RetryPolicy>;
}

export async function createService(config: Config, options: ServiceOptions = {}): Promise<Service> {
  const log = options.logger ?? pino({
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', '*.Password', '*.password', 'credentials'], censor: '[redacted]' },
  });
  // With SQLite, the server holds the data directory's lock from here to its exit: a second
  // server on the same database fails here, before it migrates or listens (DataDirLockedError).
  const store = withLookupCache(await openStore(config, { applicationName: `mailup-import-${config.role}`, lockDataDir: true }), config.lookupCacheMs);
  if (config.store === 'sqlite') {
    // Holding the lock, this server knows no other worker lives on this database: a lease left in
    // it belongs to a server that died (SIGKILL, a crash). Freeing them lets the worker resume
    // those imports at once rather than after LEASE_SECONDS. Never with PostgreSQL, whose other
    // workers hold their leases rightly.
    const released = await store.processes.releaseAllLeases();
    if (released.length > 0) log.child({ component: 'worker' }).info({ processIds: released }, 'released the leases of imports a stopped server left running');
    // The same for the webhook deliveries it was sending: they go out again at once.
    const claims = await store.webhooks.releaseAllClaims();
    if (claims > 0) log.child({ component: 'webhooks' }).info({ deliveries: claims }, 'released the webhook deliveries a stopped server was sending');
    // Likewise, no upload is in progress before this server listens: every partial feed is one a
    // stopped server left, and goes now rather than when its lease runs out.
    const feeds = await store.feeds.deleteAbandonedFeeds({ everyIncomplete: true });
    if (feeds > 0) log.child({ component: 'http' }).info({ feeds }, 'deleted the partial feeds of uploads a stopped server left');
  }
  const servesHttp = config.role !== 'worker';
  const runsWorker = config.role !== 'serve' && options.runWorker !== false;
  let wakeChannel: WakeChannel | null = null;
  let worker: ImportWorkerHandle | null = null;
  let listenUrl = `http://127.0.0.1:${config.port}`;
  const mail = await createMailContext(config, store, {
    listenUrl: () => listenUrl, log: log.child({ component: 'mail' }), ...(options.mailRetry ? { retry: options.mailRetry } : {}),
  });
  const uploads = new UploadGate(config.maxConcurrentUploads, config.uploadQueueTimeoutMs);
  const metrics = createServiceMetrics(store, log.child({ component: 'audit' }), uploads);
  const context: AppContext = Object.freeze({
    config,
    store,
    formatDate: makeDateFormatter(config.timeZone),
    mail,
    metrics,
    uploads,
    operations: Object.freeze({
      store,
      credentials: new CredentialCache(),
      throttle: new LoginThrottle({ ...DEFAULT_THROTTLE, freeAttempts: config.loginFreeAttempts }),
      wakeWorkers: () => worker?.wake(),
    }),
  });
  // Webhooks go out from every process that runs a worker (docs/webhooks.md); an import ending wakes them.
  const webhooks = runsWorker ? new WebhookDispatcher({
    store, log: log.child({ component: 'webhooks' }), owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    timeoutMs: config.webhookTimeoutMs, pollMs: config.webhookPollMs,
    retryFirstDelayMs: config.webhookRetryFirstDelayMs, retryWindowMs: config.webhookRetryWindowMs,
  }) : null;
  const workerEvents = combineWorkerEvents(metrics.workerEvents, options.workerEvents, { finished: () => webhooks?.wake() });
  const workerLog = log.child({ component: 'worker' });
  // The embedded worker runs in its own thread so that synchronous SQLite merges never hold up
  // requests. PostgreSQL merges are asynchronous: that worker shares this process and its pool.
  worker = config.store === 'sqlite'
    ? new ThreadedImportWorker({ config, log: workerLog, events: workerEvents, releaseLease: (lease) => store.processes.releaseLease(lease) })
    : new ImportWorker({
      store, leaseMs: config.leaseMs, pollMs: config.pollMs, log: workerLog, events: workerEvents,
      owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    });
  const httpLog = log.child({ component: 'http' });
  // Aborted at the shutdown deadline (close, below): uploads still being read are answered 503.
  const shutdown = new AbortController();
  const app = servesHttp ? await buildApp(context, httpLog, { shutdown: shutdown.signal }) : await buildOperationsApp(context, httpLog);
  const service: Service = {
    app, store, worker, context, log, url: '',
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      const port = new URL(address).port;
      service.url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
      listenUrl = service.url;
      if (runsWorker) {
        // Processes started on other hosts wake this worker through the database; the poll is the fallback.
        if (config.store === 'postgres') {
          wakeChannel = listenForWork(config.databaseUrl!, () => worker!.wake(), workerLog);
          await wakeChannel.ready;
        }
        worker!.start();
        webhooks?.start();
      }
      return service.url;
    },
    async close() {
      // Both at once: in-flight requests finish (a slow upload can take a while) while the worker
      // commits its batch and releases its lease, rather than merging more batches meanwhile.
      const stopWorker = async (): Promise<void> => {
        await wakeChannel?.close();
        await Promise.all([worker!.stop(), webhooks?.stop()]);
      };
      const appClosed = app.close();
      const graceful = Promise.all([appClosed, stopWorker()]);
      // Past SHUTDOWN_TIMEOUT_SECONDS the service stops waiting (docs/operations.md): unfinished
      // requests are answered 503 or cut, the partial feeds of this server's uploads deleted, the
      // worker's uncommitted batch rolled back and its lease released.
      if (!await settlesWithin(graceful, config.shutdownTimeoutMs)) {
        log.warn({ seconds: config.shutdownTimeoutMs / 1000 }, 'shutdown deadline reached: cutting unfinished requests');
        const [, lease] = await Promise.all([haltHttp(app.server, appClosed, shutdown), worker!.halt()]);
        try {
          const feeds = await store.feeds.abortOpenFeeds();
          if (feeds > 0) log.warn({ feeds }, 'deleted the partial feeds of uploads cut short by the shutdown');
          if (lease) await store.processes.releaseLease(lease);
        } catch (err) {
          log.error({ err }, 'cleaning up at the shutdown deadline failed');
        }
        await settlesWithin(graceful, HALT_GRACE_MS).catch(() => false);
      }
      await mail.mailer.close();
      await store.close();
      metrics.close();
    },
  };
  return service;
}

/** A worker serves no API, only /healthz, /readyz and /metrics for its supervisor and Prometheus. */
async function buildOperationsApp(ctx: AppContext, loggerInstance: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance });
  await app.register(healthRoutes, { ctx });
  return app;
}
