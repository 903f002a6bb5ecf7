/**
 * The client side of the load benchmarks: keep-alive clients sending one SOAP request over and
 * over, either as fast as the server answers (closed loop: measures throughput) or each at a
 * fixed pace (measures latency at a given offered load, as polling clients produce it).
 */
import { Agent, request } from 'node:http';
import { SERVICE_PATH } from '../src/protocol/operations.ts';
import { cpuSeconds } from './lib.ts';

export interface LoadStats {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** Server CPU time (all threads of `pids`) per answered request, in ms; NaN when not measured. */
  readonly cpuMs: number;
  /** Status and start of the first answer that was not accepted, or ''. */
  readonly firstError: string;
}

export interface LoadOptions {
  /** The servers; clients are spread evenly over them. */
  readonly ports: readonly number[];
  readonly body: Buffer;
  /** The operation the body calls, for the SOAPAction header. */
  readonly operation: string;
  readonly clients: number;
  /** Polled before every request: true ends the run. */
  readonly until: () => boolean;
  /** Which answers count as served; the rest are errors. */
  readonly ok: (status: number, text: string) => boolean;
  /** Each client starts a request at most every `intervalMs` (0: as soon as the last one is answered). */
  readonly intervalMs?: number;
  /** Processes whose CPU time is charged to the requests. */
  readonly pids?: readonly number[];
  /**
   * The clients' connections, kept from one run to the next (see `connections`); by default each
   * run opens its own and closes them at the end.
   */
  readonly connections?: Connections;
}

/** Keep-alive agents, one per port; a run that uses them leaves its connections open. */
export interface Connections {
  readonly agents: readonly Agent[];
  close(): void;
}

/**
 * Connections for `clients` keep-alive clients over `ports`. Polling clients keep theirs open; a
 * measurement that opened 200 new connections per window would time connection set-up on a busy
 * server (which on this machine's loopback sometimes costs a retransmission, about 1 s) rather
 * than the answers.
 */
export function openConnections(ports: readonly number[], clients: number): Connections {
  const agents = ports.map(() => new Agent({ keepAlive: true, maxSockets: clients }));
  return { agents, close: () => agents.forEach((a) => a.destroy()) };
}

/** A GetProcessDetails answer with ReturnCode 0 (the result is escaped inside the SOAP envelope). */
export const isDetails = (status: number, text: string): boolean =>
  status === 200 && text.includes('ReturnCode&gt;0&lt;/ReturnCode') && text.includes('StatusCode');

export const perSecond = (s: LoadStats): number => s.requests / s.seconds;

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One POST over a keep-alive agent; resolves with status and body, never rejects. */
function call(agent: Agent, port: number, body: Buffer, headers: Record<string, string | number>): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: SERVICE_PATH, method: 'POST', headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', () => resolve({ status: 0, text: '' }));
    });
    req.on('error', (err) => resolve({ status: 0, text: err.message }));
    req.end(body);
  });
}

export async function drive(options: LoadOptions): Promise<LoadStats> {
  const { ports, body, clients, until, ok, intervalMs = 0, pids = [] } = options;
  const connections = options.connections ?? openConnections(ports, clients);
  const { agents } = connections;
  const headers = { 'content-type': 'text/xml; charset=utf-8', soapaction: `"http://ws.mailupnet.it/${options.operation}"`, 'content-length': body.length };
  const latencies: number[] = [];
  let errors = 0;
  let firstError = '';
  const cpu = (): number => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const started = performance.now();
  const cpuBefore = cpu();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const k = c % ports.length;
    // Paced clients start at spread-out offsets, as independent pollers would.
    let next = started + (intervalMs * c) / clients;
    while (!until()) {
      if (intervalMs > 0) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (until()) break;
        next = Math.max(next + intervalMs, performance.now());
      }
      const t0 = performance.now();
      const { status, text } = await call(agents[k]!, ports[k]!, body, headers);
      if (ok(status, text)) latencies.push(performance.now() - t0);
      else {
        errors++;
        firstError ||= `${status} ${text.slice(0, 300)}`;
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const cpuUsed = cpu() - cpuBefore;
  if (!options.connections) connections.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length, errors, seconds, firstError,
    p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN,
    cpuMs: pids.length === 0 ? NaN : (cpuUsed * 1000) / latencies.length,
  };
}

/** `drive` for `seconds` after `warmupSeconds` of the same load over the same connections. */
export async function measure(options: Omit<LoadOptions, 'until' | 'connections'>, seconds: number, warmupSeconds: number): Promise<LoadStats> {
  const deadline = (s: number): (() => boolean) => {
    const end = performance.now() + s * 1000;
    return () => performance.now() > end;
  };
  const connections = openConnections(options.ports, options.clients);
  try {
    await drive({ ...options, connections, pids: [], until: deadline(warmupSeconds) });
    return await drive({ ...options, connections, until: deadline(seconds) });
  } finally {
    connections.close();
  }
}
