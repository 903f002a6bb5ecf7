/**
 * The service's metrics and its audit trail of web-service calls. Counters are fed by the HTTP
 * edge (one call per WS request) and the worker's events; gauges are read from the store when
 * /metrics is scraped, so every API process of a scaled-out installation reports the same
 * import figures.
 */
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
  readonly seconds: number;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Counts a web-service call, times it, and writes its audit line. */
  recordCall(call: WsCall): void;
  /** Worker events feeding the import counters. */
  readonly workerEvents: WorkerEvents;
}

export function createServiceMetrics(store: Store, audit: Logger): ServiceMetrics {
  const registry = new Registry();
  const calls = registry.register(new Counter('mailup_ws_calls_total', 'Web-service calls by operation and ReturnCode.'));
  const latency = registry.register(new Histogram('mailup_ws_call_duration_seconds', 'Time to answer a web-service call.'));
  const rows = registry.register(new Counter('mailup_rows_merged_total', 'Feed rows merged by import workers in this process.'));
  const leaseLosses = registry.register(new Counter('mailup_worker_lease_losses_total', 'Imports taken over by another worker after a lease expired.'));
  const finished = registry.register(new Counter('mailup_imports_finished_total', 'Imports finished by workers in this process, by status.'));
  const counts = () => store.processStatusCounts();
  registry.register(new Gauge('mailup_import_processes', 'Import processes by status (1 to run, 2 running, 3 done, 4 failed).', async () => {
    const { byStatus } = await counts();
    return Object.entries(byStatus).map(([status, value]) => ({ labels: { status }, value }));
  }));
  registry.register(new Gauge('mailup_import_queue_depth', 'Started imports waiting for their account\'s running one.', async () =>
    [{ labels: {}, value: (await counts()).queued }]));
  registry.register(new Gauge('mailup_process_memory_bytes', 'Memory of this process.', () => {
    const m = process.memoryUsage();
    return [{ labels: { kind: 'rss' }, value: m.rss }, { labels: { kind: 'heap_used' }, value: m.heapUsed }];
  }));
  return {
    registry,
    recordCall(call) {
      calls.inc({ operation: call.operation, return_code: call.returnCode });
      latency.observe({ operation: call.operation }, call.seconds);
      audit.info({ user: call.user, operation: call.operation, returnCode: call.returnCode, ip: call.ip }, 'ws call');
    },
    workerEvents: {
      batch: (_process, n) => rows.inc({}, n),
      finished: (_id, status) => finished.inc({ status }),
      leaseLost: () => leaseLosses.inc(),
    },
  };
}
