/**
 * Load benchmark (npm run bench:load), loopback only, bounded in count and time.
 *
 * 1. Our server as a child process starts a big import (1,000,000 subscribers by default) and,
 *    while it runs, 200 keep-alive clients poll GetProcessDetails for at most --poll-seconds (or
 *    until the import ends): requests/s, p50/p95/p99 latency, errors.
 * 2. In the same run, GetProcessDetails requests/s under the same client load (64 keep-alive
 *    clients for --compare-seconds each) against: our server with no import running, a bare
 *    node:http server answering a fixed GetProcessDetails response, and the `soap` package's
 *    server on our WSDL returning the same fixed result (bench/baseline-server.ts). Prints the
 *    ratios ours/bare and ours/soap, and each server's CPU time per request (user + system, all
 *    threads, from /proc), which varies far less than requests/s when the machine is shared.
 *
 *   npm run bench:load -- [--rows 1000000] [--clients 200] [--poll-seconds 30]
 *                         [--compare-clients 64] [--compare-seconds 10] [--warmup-seconds 2]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { SERVICE_PATH } from '../src/protocol/operations.ts';
import { arg, cpuSeconds, fmt, peakRss, post, soap, soapRequest, startServer, unescape, writeEnvelope, type Server } from './lib.ts';

const ROWS = arg('rows', 1_000_000);
const CLIENTS = arg('clients', 200);
const POLL_SECONDS = arg('poll-seconds', 30);
const COMPARE_CLIENTS = arg('compare-clients', 64);
const COMPARE_SECONDS = arg('compare-seconds', 10);
const WARMUP_SECONDS = arg('warmup-seconds', 2);
/** The longest the import may take before the benchmark gives up. */
const IMPORT_TIMEOUT_MS = 60 * 60 * 1000;

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
  readonly max: number;
  /** Server CPU time (all threads) per answered request, in ms; NaN when not measured. */
  readonly cpuMs: number;
}

const perSecond = (s: Stats): number => s.requests / s.seconds;

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One POST over the shared keep-alive agent; resolves with status and body, never rejects. */
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

/**
 * `clients` keep-alive clients each send `body` again and again until `until()` says stop;
 * latencies of the answers `ok` accepts are kept, everything else counts as an error.
 */
async function drive(port: number, body: Buffer, clients: number, until: () => boolean, ok: (status: number, text: string) => boolean, pid?: number): Promise<Stats> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const headers = { 'content-type': 'text/xml; charset=utf-8', soapaction: '"http://ws.mailupnet.it/GetProcessDetails"', 'content-length': body.length };
  const latencies: number[] = [];
  let errors = 0;
  let firstError = '';
  const started = performance.now();
  const cpuBefore = pid === undefined ? NaN : cpuSeconds(pid);
  await Promise.all(Array.from({ length: clients }, async () => {
    while (!until()) {
      const t0 = performance.now();
      const { status, text } = await call(agent, port, body, headers);
      if (ok(status, text)) latencies.push(performance.now() - t0);
      else {
        errors++;
        firstError ||= `${status} ${text.slice(0, 300)}`;
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const cpu = pid === undefined ? NaN : cpuSeconds(pid) - cpuBefore;
  agent.destroy();
  if (firstError) out(`    first error: ${firstError}`);
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length, errors, seconds,
    p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN,
    cpuMs: (cpu * 1000) / latencies.length,
  };
}

/** Runs `clients` for `seconds` after a warm-up of the same load. */
async function measure(port: number, pid: number, body: Buffer, clients: number, seconds: number, ok: (status: number, text: string) => boolean): Promise<Stats> {
  const warmEnd = performance.now() + WARMUP_SECONDS * 1000;
  await drive(port, body, clients, () => performance.now() > warmEnd, ok);
  const end = performance.now() + seconds * 1000;
  return drive(port, body, clients, () => performance.now() > end, ok, pid);
}

/** Starts bench/baseline-server.ts in `mode` and waits for its port. */
async function startBaseline(mode: 'bare' | 'soap', file: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/baseline-server.ts', mode, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
  const deadline = Date.now() + 60_000;
  while (!/listening (\d+)/.test(text)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the ${mode} server did not start: ${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port: Number(/listening (\d+)/.exec(text)![1]) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

const ms = (n: number): string => (Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1));

function row(label: string, s: Stats): string {
  return `${label.padEnd(34)}${fmt(perSecond(s)).padStart(9)}${ms(s.p50).padStart(9)}${ms(s.p95).padStart(9)}${ms(s.p99).padStart(9)}${ms(s.max).padStart(9)}` +
    `${fmt(s.requests).padStart(10)}${String(s.errors).padStart(8)}${ms(s.cpuMs).padStart(9)}`;
}

const HEADER = `${'target'.padEnd(34)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'requests'.padStart(10)}${'errors'.padStart(8)}${'CPU ms'.padStart(9)}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-load-'));
  const children: ChildProcess[] = [];
  let server: Server | null = null;
  try {
    server = await startServer(join(dir, 'data'));
    children.push(server.child);
    const envelope = join(dir, 'feed.xml');
    const bytes = await writeEnvelope(envelope, ROWS, server, server.list);
    out(`feed: ${fmt(ROWS)} subscribers, envelope ${(bytes / 1e6).toFixed(0)} MB`);

    // 1. Poll while the import runs.
    const uploadStarted = performance.now();
    const reply = unescape(await post(server.port, SERVICE_PATH, createReadStream(envelope, { highWaterMark: 1 << 16 }), {
      'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/StartImportProcesses',
    }));
    const id = /<processID>(\d+)<\/processID>/.exec(reply)?.[1];
    if (!id) throw new Error(`StartImportProcesses failed: ${reply.slice(0, 500)}`);
    out(`upload answered after ${((performance.now() - uploadStarted) / 1000).toFixed(1)} s (process ${id})`);
    const details = Buffer.from(soapRequest(server, 'GetProcessDetails',
      `<idList>${server.list.id}</idList><listGUID>${server.list.guid}</listGUID><idProcess>${id}</idProcess>`));
    const isDetails = (status: number, text: string): boolean => status === 200 && text.includes('ReturnCode&gt;0&lt;/ReturnCode') && text.includes('StatusCode');

    let importStatus = '2';
    let importEnded = 0;
    const watching = (async () => {
      const s = server!;
      while (importStatus !== '3' && importStatus !== '4') {
        const d = await soap(s, 'GetProcessDetails', `<idList>${s.list.id}</idList><listGUID>${s.list.guid}</listGUID><idProcess>${id}</idProcess>`);
        importStatus = /<StatusCode>(\d)<\/StatusCode>/.exec(d)?.[1] ?? importStatus;
        if (importStatus === '3' || importStatus === '4') importEnded = performance.now();
        else await new Promise((r) => setTimeout(r, 250));
        if (performance.now() - uploadStarted > IMPORT_TIMEOUT_MS) throw new Error('the import did not finish within an hour');
      }
    })();
    const pollEnd = performance.now() + POLL_SECONDS * 1000;
    out(`\n${CLIENTS} keep-alive clients polling GetProcessDetails while the import runs (at most ${POLL_SECONDS} s)...`);
    const during = await drive(server.port, details, CLIENTS, () => performance.now() > pollEnd || importStatus === '3' || importStatus === '4', isDetails, server.child.pid!);
    const stillRunning = importStatus === '2';
    await watching;
    if (importStatus === '4') throw new Error('the import failed');
    const importSeconds = (importEnded - uploadStarted) / 1000;
    out(`import finished: ${importSeconds.toFixed(1)} s from the start of the upload, ${fmt(ROWS / importSeconds)} subscribers/s` +
      (stillRunning ? '; it ran during the whole polling window' : '; it ended before the polling window did'));

    // 2. The same request against our idle server and the two baselines.
    const fixedResponse = await post(server.port, SERVICE_PATH, details.toString('utf8'), { 'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/GetProcessDetails' });
    const fixedResult = unescape(/<GetProcessDetailsResult>([\s\S]*)<\/GetProcessDetailsResult>/.exec(fixedResponse)![1]!);
    writeFileSync(join(dir, 'response.xml'), fixedResponse);
    writeFileSync(join(dir, 'result.xml'), fixedResult);
    const bare = await startBaseline('bare', join(dir, 'response.xml'));
    children.push(bare.child);
    const soapServer = await startBaseline('soap', join(dir, 'result.xml'));
    children.push(soapServer.child);
    const isSoapResult = (status: number, text: string): boolean => status === 200 && text.includes('GetProcessDetailsResult') && text.includes('StatusCode');

    out(`\nGetProcessDetails, ${COMPARE_CLIENTS} keep-alive clients, ${COMPARE_SECONDS} s each after ${WARMUP_SECONDS} s of warm-up...`);
    const ours = await measure(server.port, server.child.pid!, details, COMPARE_CLIENTS, COMPARE_SECONDS, isDetails);
    const bareStats = await measure(bare.port, bare.child.pid!, details, COMPARE_CLIENTS, COMPARE_SECONDS, isDetails);
    const soapStats = await measure(soapServer.port, soapServer.child.pid!, details, COMPARE_CLIENTS, COMPARE_SECONDS, isSoapResult);
    const rss = peakRss(server.child.pid!);

    out(`\n${HEADER}`);
    out(row(`ours, ${CLIENTS} clients, import running`, during));
    out(row(`ours, ${COMPARE_CLIENTS} clients, idle`, ours));
    out(row(`bare node:http, fixed answer`, bareStats));
    out(row(`soap (npm) server, fixed result`, soapStats));
    out(`\nours / bare node:http   ${(perSecond(ours) / perSecond(bareStats) * 100).toFixed(0)} %   (target: at least 60 %)`);
    out(`ours / soap (npm)       ${(perSecond(ours) / perSecond(soapStats)).toFixed(1)}x   (target: at least 3x)`);
    out(`server CPU per request  ours ${ms(ours.cpuMs)} ms, bare ${ms(bareStats.cpuMs)} ms, soap ${ms(soapStats.cpuMs)} ms (all threads; steadier than req/s on a busy machine)`);
    out(`while importing: ${during.errors} errors, p99 ${ms(during.p99)} ms   (target: zero errors, p99 under 50 ms)`);
    out(`server peak RSS         ${(rss / 1024 / 1024).toFixed(0)} MB`);
  } finally {
    for (const child of children.reverse()) await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
