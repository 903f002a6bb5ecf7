/**
 * The service's metrics and its audit trail of web-service calls. Counters are fed by the HTTP
 * edge (one call per WS request) and the worker's events; gauges are read from the store when
 * /metrics is scraped, so every API process of a scaled-out installation reports the same
 * import figures.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { WorkerEvents } from '../import/worker.ts';
import type { Store } from '../store/store.ts';
import { Counter, Gauge, Histogram, Registry } from './metrics.ts';

export interface WsCall {
  readonly operation: string;
  /** The first ReturnCode of the result, or "fault" when the request was answered with a fault. */
  readonly returnCode: number | 'fault';
  /** The WS user the request named, when it named one. */
  readonly user: string | null;
  readonly ip: string;
  /** The request id of the call (src/http/app.ts: one sequence with fastify's), also on its request log lines. */
  readonly reqId: string;
  readonly seconds: number;
}

/** How many feed uploads are being decoded and how many wait for a slot (src/http/upload-gate.ts). */
export interface UploadLoad {
  readonly inProgress: number;
  readonly waiting: number;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Counts a web-service call, times it, and writes its audit line. */
  recordCall(call: WsCall): void;
  /** Worker events feeding the import counters. */
  readonly workerEvents: WorkerEvents;
  /** Stops sampling the event loop (with the service). */
  close(): void;
}

export function createServiceMetrics(store: Store, audit: Logger, uploads?: UploadLoad): ServiceMetrics {
  const registry = new Registry();
  const calls = registry.register(new Counter('mailup_ws_calls_total', 'Web-service calls by operation and ReturnCode.'));
  const latency = registry.register(new Histogram('mailup_ws_call_duration_seconds', 'Time to answer a web-service call.'));
  const rows = registry.register(new Counter('mailup_rows_merged_total', 'Feed rows merged by import workers in this process.'));
  const leaseLosses = registry.register(new Counter('mailup_worker_lease_losses_total', 'Imports taken over by another worker after a lease expired.'));
  const finished = registry.register(new Counter('mailup_imports_finished_total', 'Imports finished by workers in this process, by status.'));
  const counts = () => store.processes.processStatusCounts();
  registry.register(new Gauge('mailup_import_processes', 'Import processes by status (1 to run, 2 running, 3 done, 4 failed).', async () => {
    const { byStatus } = await counts();
    return Object.entries(byStatus).map(([status, value]) => ({ labels: { status }, value }));
  }));
  registry.register(new Gauge('mailup_import_queue_depth', 'Started imports waiting for their account\'s running one.', async () =>
    [{ labels: {}, value: (await counts()).queued }]));
  registry.register(new Gauge('mailup_uploads_in_progress', 'Feed uploads being decoded and stored by this process.', () =>
    [{ labels: {}, value: uploads?.inProgress ?? 0 }]));
  registry.register(new Gauge('mailup_uploads_waiting', 'Feed uploads waiting for a slot (MAX_CONCURRENT_UPLOADS) in this process.', () =>
    [{ labels: {}, value: uploads?.waiting ?? 0 }]));
  // How long callbacks waited for the HTTP thread: a synchronous stall shows here before clients time out.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  registry.register(new Gauge('mailup_event_loop_delay_seconds', 'Event-loop delay of this process since the previous scrape.', () => {
    const values = [
      { labels: { quantile: '0.5' }, value: loopDelay.percentile(50) / 1e9 },
      { labels: { quantile: '0.99' }, value: loopDelay.percentile(99) / 1e9 },
      { labels: { quantile: '1' }, value: loopDelay.max / 1e9 },
    ];
    loopDelay.reset();
    return values;
  }));
  registry.register(new Gauge('mailup_process_memory_bytes', 'Memory of this process.', () => {
    const m = process.memoryUsage();
    return [{ labels: { kind: 'rss' }, value: m.rss }, { labels: { kind: 'heap_used' }, value: m.heapUsed }];
  }));
  return {
    registry,
    recordCall(call) {
      calls.inc({ operation: call.operation, return_code: call.returnCode });
      latency.observe({ operation: call.operation }, call.seconds);
      audit.info({ reqId: call.reqId, user: call.user, operation: call.operation, returnCode: call.returnCode, ip: call.ip }, 'ws call');
    },
    workerEvents: {
      batch: (_process, n) => rows.inc({}, n),
      finished: (_id, status) => finished.inc({ status }),
      leaseLost: () => leaseLosses.inc(),
    },
    close: () => loopDelay.disable(),
  };
}
