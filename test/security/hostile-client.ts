/**
 * Tools for the hostile-input suites: a raw HTTP/1.1 client that streams a body from a generator
 * (so a 1 GB body never sits in the test's memory) and stops as soon as the server has answered,
 * a probe that keeps calling GetNlLists on other connections (from its own thread) while a
 * hostile request is under way, and the child server's peak resident memory.
 */
import Database from 'better-sqlite3';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { soapEnvelope, type SoapAuth } from '../helpers/service.ts';

export const MB = 1024 * 1024;

/**
 * How far a child server's peak resident memory (VmHWM) may rise above its own idle peak through
 * any single hostile request. A bound on the growth, not on the total: what the server loads at
 * start-up (about 210 MB with every door, the import thread included) is not what these suites
 * test, and a fixed total failed by chance whenever start-up grew.
 *
 * On a quiet machine the worst request here (a feed breaking after 16 MB of valid rows) adds about
 * 40 MB; on a loaded one 117 MB was seen, as the collector's background threads fall behind the
 * allocation. 160 MB leaves room for that and still fails a server that holds what it is sent in
 * bulk: two copies of a 64 MB value (a string flattened from its pieces is two while both live),
 * any part of a 1 GB body, or any 300 MB value of HOSTILE_FULL, which is the run that proves it.
 */
export const RSS_GROWTH_BOUND_MB = 160;

export interface RssWatch {
  /** The server's peak after start-up and its first answered request. */
  readonly idleMb: number;
  /** Fails when the peak so far exceeds the idle peak by more than RSS_GROWTH_BOUND_MB + extraMb; returns the peak. */
  assertWithinBound(extraMb?: number): number;
}

/** Call once the server has answered its first request: its peak then is the idle figure. */
export function watchRss(pid: number): RssWatch {
  const idleMb = peakRssMb(pid);
  return {
    idleMb,
    assertWithinBound(extraMb = 0) {
      const peak = peakRssMb(pid);
      const bound = idleMb + RSS_GROWTH_BOUND_MB + extraMb;
      if (peak >= bound) {
        throw new Error(`the server's peak RSS reached ${peak.toFixed(0)} MB: more than ${RSS_GROWTH_BOUND_MB + extraMb} MB above its idle ${idleMb.toFixed(0)} MB`);
      }
      return peak;
    },
  };
}
/**
 * Bound on how long a GetNlLists call from another client may take while a hostile request is
 * being read. Generous, because the 2-core machines this runs on are often busy (on a quiet one
 * the probes answer in milliseconds); a server held up by a hostile request for longer than this
 * fails the probe, however long the request itself takes.
 */
export const PROBE_BOUND_MS = 10_000;

/** Whether the long variants run (HOSTILE_FULL=1, docs/security.md): full sizes, the default headers timeout. */
export const FULL = process.env.HOSTILE_FULL === '1';

/** The peak resident set size of a process so far (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

export interface RawReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Body bytes handed to the socket before the answer came (or the body ended). */
  readonly sent: number;
  /** Milliseconds from the connection to the complete answer. */
  readonly ms: number;
}

export type BodySource = Iterable<Buffer | string> | AsyncIterable<Buffer | string>;

export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The body's length for Content-Length, or 'chunked' for chunked transfer encoding. A declared
   * length need not be honoured by the body (a client that stops early, or lies).
   */
  readonly length: number | 'chunked';
  readonly body: BodySource;
}

/** Reads a complete HTTP/1.1 response out of the received bytes, or null while incomplete. */
function parseResponse(bytes: Buffer): { status: number; headers: Record<string, string>; body: string } | null {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(end + 4);
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    return rest.length >= length ? { status, headers, body: rest.subarray(0, length).toString('utf8') } : null;
  }
  if ((headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = rest.indexOf('\r\n', at);
      if (eol < 0) return null;
      const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
      if (size === 0) return { status, headers, body: Buffer.concat(parts).toString('utf8') };
      if (rest.length < eol + 2 + size + 2) return null;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  return null;
}

/**
 * Sends a request over a fresh connection, writing the body with backpressure, and resolves with
 * the answer. Writing stops as soon as the answer is complete or the server closes the
 * connection (a 413 arrives long before a 1 GB body has been sent). A server that answers early
 * reads on for a while before it closes (the lingering close, docs/security.md), so the answer is
 * never lost to a reset of the connection: there is no second attempt.
 */
export function sendRaw(baseUrl: string, request: RawRequest): Promise<RawReply> {
  const url = new URL(baseUrl);
  const started = performance.now();
  const socket = connect(Number(url.port), url.hostname);
  let received = Buffer.alloc(0);
  let sent = 0;
  let settled = false;
  let reset = false;
  return new Promise<RawReply>((resolve, reject) => {
    const finish = (): void => {
      if (settled) return;
      const reply = parseResponse(received);
      if (reply === null && !socket.destroyed && !socket.readableEnded) return;
      settled = true;
      socket.destroy();
      if (reply === null) {
        const message = `the connection closed without a complete answer after ${sent} body bytes: ${received.toString('latin1').slice(0, 300)}`;
        reject(new Error(reset && received.length === 0 ? `the connection was reset before the answer: ${message}` : message));
      } else {
        resolve({ ...reply, sent, ms: performance.now() - started });
      }
    };
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The server may close while we still write (it answered early): read what it sent.
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') reset = true;
      else {
        settled = true;
        reject(err);
      }
    });
    const head = [`${request.method ?? 'POST'} ${request.path} HTTP/1.1`, `Host: ${url.host}`,
      ...Object.entries(request.headers).map(([k, v]) => `${k}: ${v}`),
      request.length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${request.length}`, '', ''].join('\r\n');
    const chunked = request.length === 'chunked';
    const write = async (data: Buffer | string): Promise<void> => {
      // Let pending reads run first, and stop once the server has begun to answer: writing into a
      // connection the server has reset destroys the socket before its answer can be read.
      await new Promise((r) => setImmediate(r));
      if (settled || socket.destroyed || received.length > 0) return;
      if (socket.write(data)) return;
      // Wait for room in the socket, or for its end (the server answered and closed).
      await new Promise<void>((resolve) => {
        const go = (): void => {
          socket.off('drain', go).off('close', go);
          resolve();
        };
        socket.on('drain', go).on('close', go);
      });
    };
    (async () => {
      await once(socket, 'connect');
      await write(head);
      for await (const piece of request.body) {
        if (settled || socket.destroyed || received.length > 0) break;
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
        if (chunk.length === 0) continue;
        sent += chunk.length;
        await write(chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk);
      }
      if (chunked) await write('0\r\n\r\n');
    })().catch((err: unknown) => {
      if (!settled) {
        settled = true;
        socket.destroy();
        reject(err as Error);
      }
    });
  });
}

/** `unit` written `copies` times in a row. */
export interface Repeat {
  readonly unit: string;
  readonly copies: number;
}

/** As many whole copies of `unit` as fit in `bytes` (at least one): no character or reference is cut. */
export const times = (unit: string, bytes: number): Repeat => ({ unit, copies: Math.max(1, Math.floor(bytes / Buffer.byteLength(unit))) });

export type BodyPart = string | Buffer | Repeat;

/** A body to stream: its exact length and a generator of ~64 KiB buffers that builds it as it is sent. */
export interface StreamedBody {
  readonly length: number;
  readonly body: Iterable<Buffer>;
}

export function streamBody(...parts: readonly BodyPart[]): StreamedBody {
  const length = parts.reduce((n, p) => n + (typeof p === 'string' || Buffer.isBuffer(p) ? byteLength(p) : Buffer.byteLength(p.unit) * p.copies), 0);
  function* body(): Generator<Buffer> {
    for (const p of parts) {
      if (typeof p === 'string') yield Buffer.from(p);
      else if (Buffer.isBuffer(p)) yield p;
      else {
        const perBlock = Math.max(1, Math.floor((64 * 1024) / Buffer.byteLength(p.unit)));
        const block = Buffer.from(p.unit.repeat(perBlock));
        for (let left = p.copies; left > 0; left -= perBlock) {
          yield left >= perBlock ? block : Buffer.from(p.unit.repeat(left));
        }
      }
    }
  }
  return { length, body: { [Symbol.iterator]: body } };
}

export const byteLength = (s: string | Buffer): number => (typeof s === 'string' ? Buffer.byteLength(s) : s.length);

export const SOAP11_HEADERS = (operation: string): Record<string, string> => ({
  'Content-Type': 'text/xml; charset=utf-8',
  SOAPAction: `"http://ws.mailupnet.it/${operation}"`,
});

export const SERVICE_PATH = '/Services/WSMailUpImport.asmx';

/**
 * An envelope for `operation` cut where the hostile part goes: `[head, tail]`, with `marker`
 * (a parameter value in `params`) as the cut.
 */
export function envelopeAround(operation: string, params: Record<string, string | number | boolean>, auth: SoapAuth, marker = '@@HOSTILE@@'): [string, string] {
  const text = soapEnvelope(operation, params, auth);
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`marker ${marker} not in the envelope`);
  return [text.slice(0, at), text.slice(at + marker.length)];
}

let slowestProbe = 0;

/** The slowest probe answer since the last call, in ms (for the suites' diagnostics). */
export function takeSlowestProbe(): number {
  const ms = slowestProbe;
  slowestProbe = 0;
  return ms;
}

export interface ProbeReport<T> {
  readonly result: T;
  /** Latency of every GetNlLists answered while the task ran, in ms. */
  readonly latencies: readonly number[];
  /** How many of them were answered before the task settled (not queued behind it). */
  readonly answeredDuring: number;
}

/** The GetNlLists answer the probes must see: exactly this text, or any text the predicate accepts. */
export type ProbeExpectation = string | ((answer: string) => boolean);

type ProbeMessage =
  | { readonly done: true }
  | { readonly error: string }
  | { readonly status: number; readonly answer: string; readonly ms: number; readonly at: number };

/** One probe thread per test file, started on first use; unref'd between uses so it never keeps the process alive. */
let probeThread: Worker | null = null;
let probing = false;

/**
 * Runs `task` while another client (probe-thread.mjs, in its own thread and on its own
 * connections) keeps calling GetNlLists every `intervalMs`, until the task settles (at least once).
 * Every probe must answer HTTP 200 with the expected lists within PROBE_BOUND_MS; otherwise this
 * throws once the task has settled.
 */
export async function whileProbing<T>(endpoint: string, auth: SoapAuth, expected: ProbeExpectation, task: () => Promise<T>, intervalMs = 250): Promise<ProbeReport<T>> {
  if (probing) throw new Error('one probe at a time');
  probing = true;
  const accepts = typeof expected === 'string' ? (answer: string) => answer === expected : expected;
  const latencies: number[] = [];
  const answeredAt: number[] = [];
  const problems: string[] = [];
  const thread = probeThread ?? new Worker(new URL('./probe-thread.mjs', import.meta.url));
  probeThread = thread;
  thread.ref();
  let onMessage!: (m: ProbeMessage) => void;
  let onError!: (err: Error) => void;
  const finished = new Promise<void>((resolve) => {
    onMessage = (m) => {
      if ('done' in m) resolve();
      else if ('error' in m) problems.push(m.error);
      else if (m.status !== 200 || !accepts(m.answer)) problems.push(`GetNlLists answered HTTP ${m.status} differently during the hostile request: ${m.answer}`);
      else {
        latencies.push(m.ms);
        answeredAt.push(m.at);
      }
    };
    onError = (err) => {
      problems.push(`the probe thread failed: ${err.message}`);
      probeThread = null;
      resolve();
    };
    thread.on('message', onMessage).on('error', onError);
  });
  thread.postMessage({ endpoint, body: soapEnvelope('GetNlLists', {}, auth), headers: SOAP11_HEADERS('GetNlLists'), timeoutMs: PROBE_BOUND_MS, intervalMs });
  let result: T;
  let settledAt: number;
  try {
    result = await task();
  } finally {
    settledAt = Date.now();
    thread.postMessage('stop');
    await finished;
    thread.off('message', onMessage).off('error', onError);
    thread.unref();
    probing = false;
  }
  if (problems.length > 0) throw new Error(problems[0]);
  slowestProbe = Math.max(slowestProbe, ...latencies);
  return { result, latencies, answeredDuring: answeredAt.filter((at) => at <= settledAt).length };
}

/** One GetNlLists call over fetch (its own pooled connections); the SOAP body, or throws after `timeoutMs`. */
export async function getNlLists(endpoint: string, auth: SoapAuth, timeoutMs: number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST', body: soapEnvelope('GetNlLists', {}, auth), headers: SOAP11_HEADERS('GetNlLists'),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new Error(`GetNlLists was not answered within ${timeoutMs} ms while the hostile request ran (${(err as Error).message})`);
  }
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GetNlLists answered HTTP ${res.status}: ${body}`);
  return body;
}

/** Rows in the tables a feed upload writes, read through a separate connection. */
export function stored(dir: string): { processes: number; feeds: number; chunks: number } {
  const db = new Database(join(dir, 'mailup.db'), { readonly: true, fileMustExist: true });
  try {
    const count = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { processes: count('import_process'), feeds: count('feed'), chunks: count('feed_chunk') };
  } finally {
    db.close();
  }
}

/** A server that counts the requests an external entity or DTD would make if one were ever resolved. */
export interface Bait {
  readonly url: string;
  hits(): number;
  close(): Promise<void>;
}

/** Starts a bait answering every request with `body` (an entity declaration a resolver would use). */
export async function startBait(body: string): Promise<Bait> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
