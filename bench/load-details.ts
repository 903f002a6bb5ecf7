/**
 * GetProcessDetails under load on PostgreSQL with one and with two API processes, while an import
 * runs (npm run bench:load-details). The topology is the scale-out one: `serve` processes in
 * front of one database and a `worker` process importing ROWS subscribers.
 *
 * While the import runs, ROUNDS pairs of windows with the same client load (CLIENTS keep-alive
 * clients): all on API process 1, then split over processes 1 and 2. Alternating the two cancels
 * much of the drift of a shared machine and of the import's own phases. Then, once the import has
 * finished, one more pair on the idle installation.
 *
 *   npm run bench:load-details -- [--rows 1000000] [--clients 64] [--rounds 3] [--seconds 5] [--warmup-seconds 1]
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_PATH } from '../src/protocol/operations.ts';
import { arg, fmt, post, soap, soapRequest, unescape, writeEnvelope, type Server } from './lib.ts';
import { createBenchDatabase, seedAccounts, startRole, stopRole, type RoleProcess } from './postgres.ts';

const ROWS = arg('rows', 1_000_000);
const CLIENTS = arg('clients', 64);
const ROUNDS = arg('rounds', 3);
const SECONDS = arg('seconds', 5);
const WARMUP_SECONDS = arg('warmup-seconds', 1);

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

interface Stats {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

function call(agent: Agent, port: number, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1', port, path: SERVICE_PATH, method: 'POST', agent,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '"http://ws.mailupnet.it/GetProcessDetails"', 'content-length': body.length },
    }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', () => resolve({ status: 0, text: '' }));
    });
    req.on('error', (err) => resolve({ status: 0, text: err.message }));
    req.end(body);
  });
}

/** CLIENTS keep-alive clients, spread evenly over the ports, for `seconds`. */
async function drive(ports: readonly number[], body: Buffer, seconds: number): Promise<Stats> {
  const agents = ports.map(() => new Agent({ keepAlive: true, maxSockets: CLIENTS }));
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    const k = c % ports.length;
    while (performance.now() < end) {
      const t0 = performance.now();
      const { status, text } = await call(agents[k]!, ports[k]!, body);
      if (status === 200 && text.includes('ReturnCode&gt;0&lt;/ReturnCode') && text.includes('StatusCode')) latencies.push(performance.now() - t0);
      else errors++;
    }
  }));
  for (const a of agents) a.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { requests: latencies.length, errors, seconds: (performance.now() - started) / 1000, p50: at(50), p95: at(95), p99: at(99) };
}

async function measure(ports: readonly number[], body: Buffer): Promise<Stats> {
  await drive(ports, body, WARMUP_SECONDS);
  return drive(ports, body, SECONDS);
}

const rate = (s: Stats): number => s.requests / s.seconds;

/** Several windows as one: requests and time added up, latency percentiles of the middle window. */
function combine(windows: readonly Stats[]): Stats {
  const sorted = [...windows].sort((a, b) => rate(a) - rate(b));
  const middle = sorted[Math.floor(sorted.length / 2)]!;
  return {
    requests: windows.reduce((n, w) => n + w.requests, 0), errors: windows.reduce((n, w) => n + w.errors, 0),
    seconds: windows.reduce((n, w) => n + w.seconds, 0), p50: middle.p50, p95: middle.p95, p99: middle.p99,
  };
}
const row = (label: string, s: Stats): string =>
  `${label.padEnd(30)}${fmt(rate(s)).padStart(9)}${s.p50.toFixed(1).padStart(9)}${s.p95.toFixed(1).padStart(9)}${s.p99.toFixed(1).padStart(9)}${String(s.errors).padStart(8)}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-load-details-'));
  const db = await createBenchDatabase('load');
  const roles: RoleProcess[] = [];
  try {
    const [account] = await seedAccounts(db, 1);
    const envelope = join(dir, 'feed.xml');
    await writeEnvelope(envelope, ROWS, account!, account!.list, String(account!.groupId));
    const apis = [await startRole('serve', db), await startRole('serve', db)];
    roles.push(...apis);
    roles.push(await startRole('worker', db));
    const server: Server = { child: apis[0]!.child, port: apis[0]!.port, user: account!.user, password: account!.password, list: account!.list };

    const reply = unescape(await post(server.port, SERVICE_PATH, createReadStream(envelope, { highWaterMark: 1 << 16 }), {
      'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/StartImportProcesses',
    }));
    const id = /<processID>(\d+)<\/processID>/.exec(reply)?.[1];
    if (!id) throw new Error(`StartImportProcesses failed: ${reply.slice(0, 500)}`);
    const params = `<idList>${server.list.id}</idList><listGUID>${server.list.guid}</listGUID><idProcess>${id}</idProcess>`;
    const body = Buffer.from(soapRequest(server, 'GetProcessDetails', params));
    const status = async (): Promise<string> => /<StatusCode>(\d)<\/StatusCode>/.exec(await soap(server, 'GetProcessDetails', params))?.[1] ?? '?';
    out(`import of ${fmt(ROWS)} subscribers started (process ${id}); ${CLIENTS} keep-alive clients, ${ROUNDS} rounds of ` +
      `${SECONDS} s windows after ${WARMUP_SECONDS} s of warm-up`);

    const ones: Stats[] = [];
    const twos: Stats[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ones.push(await measure([apis[0]!.port], body));
      twos.push(await measure(apis.map((a) => a.port), body));
    }
    const running = await status();
    out(running === '2' ? 'the import ran during every window' : `warning: the import was in status ${running} by the end of the windows; use more --rows`);
    while (!['3', '4'].includes(await status())) await new Promise((r) => setTimeout(r, 500));
    const idleOne = await measure([apis[0]!.port], body);
    const idleTwo = await measure(apis.map((a) => a.port), body);

    const one = combine(ones);
    const two = combine(twos);
    out(`\n${'GetProcessDetails'.padEnd(30)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}`);
    out(row('import running, 1 API process', one));
    out(row('import running, 2 API processes', two));
    out(row('idle, 1 API process', idleOne));
    out(row('idle, 2 API processes', idleTwo));
    out(`\nratio 2 / 1 API processes: ${(rate(two) / rate(one)).toFixed(2)} while the import runs, ${(rate(idleTwo) / rate(idleOne)).toFixed(2)} idle`);
    out(`per window while the import runs (1, 2, 1, 2, …): ${ones.map((o, i) => `${fmt(rate(o))}, ${fmt(rate(twos[i]!))}`).join(', ')}`);
  } finally {
    for (const r of roles) await stopRole(r);
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
