/**
 * Load benchmark (npm run bench:load), loopback only, bounded in count and time.
 *
 * 1. Our server as a child process starts a big import (1,000,000 subscribers by default) and,
 *    while it runs, 200 keep-alive clients poll GetProcessDetails (stopping early if the import
 *    ends), in windows of --poll-seconds each: first each client polls at each pace of
 *    --poll-interval-ms (every 1,000 ms, then every 100 ms: the latency pollers see at that
 *    offered load), then every client sends its next request as soon as the last is answered
 *    (the most the server answers while importing; with a closed loop, latency is then
 *    clients / throughput). Requests/s, p50/p95/p99 latency, errors, and from the server's
 *    /metrics its longest event-loop delay in each window, which tells a server stall from a
 *    slow network or client.
 * 2. In the same run, GetProcessDetails requests/s under the same client load (64 keep-alive
 *    clients for --compare-seconds each) against: our server with no import running (every call
 *    decoded, authenticated, read and written out), a bare node:http server answering a fixed
 *    GetProcessDetails response, and the `soap` package's server on our WSDL returning the same
 *    fixed result (bench/baseline-server.ts). Prints the ratios to both, and each server's CPU
 *    time per request (user + system, all threads, from /proc), which varies far less than
 *    requests/s when the machine is shared.
 *
 *   npm run bench:load -- [--rows 1000000] [--clients 200] [--poll-seconds 8] [--poll-interval-ms 1000,100]
 *                         [--compare-clients 64] [--compare-seconds 10] [--warmup-seconds 2]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { SERVICE_PATH } from '../src/protocol/operations.ts';
import { arg, fmt, peakRss, post, soap, soapRequest, startServer, unescape, writeEnvelope, type Server } from './lib.ts';
import { drive, isDetails, measure, openConnections, perSecond, type LoadOptions, type LoadStats } from './load-driver.ts';

const ROWS = arg('rows', 1_000_000);
const CLIENTS = arg('clients', 200);
/** Each window's length: the three (and a warm-up) must fit in a 1,000,000-subscriber import, about 30 s here after its upload is answered. */
const POLL_SECONDS = arg('poll-seconds', 8);
/** Each polling client's pace in the paced windows: every second (as shops poll), then ten times a second. */
const POLL_INTERVALS_MS = (() => {
  const i = process.argv.indexOf('--poll-interval-ms');
  return i > 0 ? process.argv[i + 1]!.split(',').map(Number) : [1000, 100];
})();
const COMPARE_CLIENTS = arg('compare-clients', 64);
const COMPARE_SECONDS = arg('compare-seconds', 10);
const WARMUP_SECONDS = arg('warmup-seconds', 2);
/** The longest the import may take before the benchmark gives up. */
const IMPORT_TIMEOUT_MS = 60 * 60 * 1000;

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

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

/** From the server's /metrics: its longest event-loop delay since the previous scrape (ms). */
async function scrape(port: number): Promise<{ loopDelayMax: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? NaN);
  return {
    loopDelayMax: value(/^mailup_event_loop_delay_seconds\{quantile="1"\} (\S+)$/m) * 1000,
  };
}

const ms = (n: number): string => (Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1));

function row(label: string, s: LoadStats): string {
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
    const importing = (seconds: number) => {
      const end = performance.now() + seconds * 1000;
      return () => performance.now() > end || importStatus === '3' || importStatus === '4';
    };
    const connections = openConnections([server.port], CLIENTS);
    const polling: Omit<LoadOptions, 'until'> = {
      ports: [server.port], body: details, operation: 'GetProcessDetails', clients: CLIENTS, ok: isDetails, pids: [server.child.pid!], connections,
    };
    out(`\n${CLIENTS} keep-alive clients polling GetProcessDetails while the import runs, ${POLL_SECONDS} s per window: ` +
      POLL_INTERVALS_MS.map((i) => `each every ${i} ms (${fmt((CLIENTS * 1000) / i)} requests/s offered)`).join(', ') + ', then as fast as answered...');
    // The clients open their connections and the server's code is optimised before the clock starts, as for a server in service.
    await drive({ ...polling, pids: [], intervalMs: POLL_INTERVALS_MS.at(-1)!, until: importing(WARMUP_SECONDS) });
    await scrape(server.port); // starts each window's event-loop delay afresh
    const windows: { label: string; stats: LoadStats; stall: number }[] = [];
    for (const intervalMs of [...POLL_INTERVALS_MS, 0]) {
      const stats = await drive({ ...polling, intervalMs, until: importing(POLL_SECONDS) });
      const after = await scrape(server.port);
      windows.push({
        label: intervalMs > 0 ? `ours, import, ${CLIENTS} x 1/${intervalMs} ms` : `ours, import, ${CLIENTS} closed loop`, stats,
        stall: after.loopDelayMax,
      });
    }
    connections.close();
    const stillRunning = importStatus === '2';
    await watching;
    if (importStatus === '4') throw new Error('the import failed');
    const importSeconds = (importEnded - uploadStarted) / 1000;
    out(`import finished: ${importSeconds.toFixed(1)} s from the start of the upload, ${fmt(ROWS / importSeconds)} subscribers/s` +
      (stillRunning ? '; it ran during every polling window' : '; it ended before the polling windows did'));

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
    const comparing = (port: number, pid: number, ok: LoadOptions['ok']) => measure({
      ports: [port], body: details, operation: 'GetProcessDetails', clients: COMPARE_CLIENTS, ok, pids: [pid],
    }, COMPARE_SECONDS, WARMUP_SECONDS);

    out(`\nGetProcessDetails, ${COMPARE_CLIENTS} keep-alive clients, ${COMPARE_SECONDS} s each after ${WARMUP_SECONDS} s of warm-up...`);
    const ours = await comparing(server.port, server.child.pid!, isDetails);
    const bareStats = await comparing(bare.port, bare.child.pid!, isDetails);
    const soapStats = await comparing(soapServer.port, soapServer.child.pid!, isSoapResult);
    for (const [label, s] of [...windows.map((w) => [w.label, w.stats] as const), ['ours', ours], ['bare', bareStats], ['soap', soapStats]] as const) {
      if (s.firstError) out(`    first error (${label}): ${s.firstError}`);
    }
    const rss = peakRss(server.child.pid!);

    out(`\n${HEADER}`);
    for (const w of windows) out(row(w.label, w.stats));
    out(row(`ours, ${COMPARE_CLIENTS} clients, idle`, ours));
    out(row(`bare node:http, fixed answer`, bareStats));
    out(row(`soap (npm) server, fixed result`, soapStats));
    const ratios = (s: LoadStats): string =>
      `${(perSecond(s) / perSecond(bareStats) * 100).toFixed(0).padStart(3)} % of bare node:http, ${(perSecond(s) / perSecond(soapStats)).toFixed(1)}x the soap server`;
    out(`\nours  ${ratios(ours)}`);
    out(`server CPU per request  ours ${ms(ours.cpuMs)} ms, bare ${ms(bareStats.cpuMs)} ms, soap ${ms(soapStats.cpuMs)} ms (all threads; steadier than req/s on a busy machine)`);
    out(`while importing: ${windows.reduce((n, w) => n + w.stats.errors, 0)} errors; p99 ` +
      windows.map((w) => `${ms(w.stats.p99)} ms (${w.label.replace('ours, import, ', '')})`).join(', ') + '   (target: zero errors, p99 under 50 ms)');
    out(`server event loop, longest delay in each window: ${windows.map((w) => `${ms(w.stall)} ms`).join(', ')}`);
    out(`server peak RSS         ${(rss / 1024 / 1024).toFixed(0)} MB`);
  } finally {
    for (const child of children.reverse()) await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
