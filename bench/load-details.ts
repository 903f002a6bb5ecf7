/**
 * GetProcessDetails under load on PostgreSQL with one and with two API processes, while an import
 * runs (npm run bench:load-details). The topology is the scale-out one: `serve` processes in
 * front of one database and a `worker` process importing ROWS subscribers.
 *
 * Three windows while the import runs, the same client load each (CLIENTS keep-alive clients):
 * all clients on API process 1; the clients split over processes 1 and 2; process 1 alone again.
 * The ratio is the two-process window over the mean of the two one-process windows, which
 * cancels some of the drift of a shared machine.
 *
 *   npm run bench:load-details -- [--rows 1000000] [--clients 64] [--seconds 10] [--warmup-seconds 2]
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
const SECONDS = arg('seconds', 10);
const WARMUP_SECONDS = arg('warmup-seconds', 2);

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
    out(`import of ${fmt(ROWS)} subscribers started (process ${id}); ${CLIENTS} keep-alive clients, ${SECONDS} s per window after ${WARMUP_SECONDS} s of warm-up`);

    const one = await measure([apis[0]!.port], body);
    const two = await measure(apis.map((a) => a.port), body);
    const oneAgain = await measure([apis[0]!.port], body);
    const running = await status();

    out(`\n${'GetProcessDetails'.padEnd(30)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}`);
    out(row('1 API process', one));
    out(row('2 API processes', two));
    out(row('1 API process, again', oneAgain));
    out(`\nratio 2 / 1 API processes: ${(rate(two) / ((rate(one) + rate(oneAgain)) / 2)).toFixed(2)}`);
    out(running === '2' ? 'the import ran during all three windows' : `warning: the import was in status ${running} by the end of the windows; use more --rows`);
  } finally {
    for (const r of roles) await stopRole(r);
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
