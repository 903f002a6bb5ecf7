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
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_PATH } from '../src/protocol/operations.ts';
import { arg, fmt, post, soap, soapRequest, unescape, writeEnvelope, type Server } from './lib.ts';
import { isDetails, measure, perSecond, type LoadStats } from './load-driver.ts';
import { createBenchDatabase, seedAccounts, startRole, stopRole, type RoleProcess } from './postgres.ts';

const ROWS = arg('rows', 1_000_000);
const CLIENTS = arg('clients', 64);
const ROUNDS = arg('rounds', 3);
const SECONDS = arg('seconds', 5);
const WARMUP_SECONDS = arg('warmup-seconds', 1);

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** CLIENTS keep-alive clients, spread evenly over the ports, for SECONDS after the warm-up. */
const measureOn = (ports: readonly number[], body: Buffer): Promise<LoadStats> =>
  measure({ ports, body, operation: 'GetProcessDetails', clients: CLIENTS, ok: isDetails }, SECONDS, WARMUP_SECONDS);

const rate = perSecond;

/** Several windows as one: requests and time added up, latency percentiles of the middle window. */
function combine(windows: readonly LoadStats[]): LoadStats {
  const sorted = [...windows].sort((a, b) => rate(a) - rate(b));
  const middle = sorted[Math.floor(sorted.length / 2)]!;
  return {
    requests: windows.reduce((n, w) => n + w.requests, 0), errors: windows.reduce((n, w) => n + w.errors, 0),
    seconds: windows.reduce((n, w) => n + w.seconds, 0), p50: middle.p50, p95: middle.p95, p99: middle.p99,
    max: Math.max(...windows.map((w) => w.max)), cpuMs: NaN, firstError: windows.find((w) => w.firstError)?.firstError ?? '',
  };
}
const row = (label: string, s: LoadStats): string =>
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

    const ones: LoadStats[] = [];
    const twos: LoadStats[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ones.push(await measureOn([apis[0]!.port], body));
      twos.push(await measureOn(apis.map((a) => a.port), body));
    }
    const running = await status();
    out(running === '2' ? 'the import ran during every window' : `warning: the import was in status ${running} by the end of the windows; use more --rows`);
    while (!['3', '4'].includes(await status())) await new Promise((r) => setTimeout(r, 500));
    const idleOne = await measureOn([apis[0]!.port], body);
    const idleTwo = await measureOn(apis.map((a) => a.port), body);

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
