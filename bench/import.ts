/**
 * End-to-end import benchmark (npm run bench:import): a server started as a child process, one
 * StartImportProcesses call over HTTP carrying the whole feed, polled until status 3.
 *
 * Prints subscribers/s for an import into an empty list and for a second import of the same feed
 * (every row existing), the same over the REST API (bench/import-rest.ts: a JSON body through
 * POST Console/List/{id}/Recipients, 100,000 and --rows recipients, with when each was accepted),
 * the servers' peak RSS, and the ratio to a floor measured in the same run:
 * the same rows inserted straight into the same tables by prepared statements in one transaction
 * (no HTTP, no XML, no rules). Also a 10,000-row import to show the fixed overhead.
 *
 *   npm run bench:import -- [--rows 1000000] [--small 10000] [--rest-small 100000]
 *
 * With `--store postgres` the same import runs on PostgreSQL in the scale-out topology (an API
 * server and worker processes; `--workers 1,2` by default) against a COPY floor: see
 * bench/import-postgres.ts.
 *
 *   npm run bench:import -- --store postgres [--rows 1000000] [--workers 1,2]
 */
import Database from 'better-sqlite3';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { applyMigrations } from '../src/store/sqlite/migrate.ts';
import { benchmarkPostgresImport } from './import-postgres.ts';
import { benchmarkRestImport } from './import-rest.ts';
import { arg, fmt, peakRss, post, soap, startServer, unescape, writeEnvelope, type Server } from './lib.ts';

const ROWS = arg('rows', 1_000_000);
const SMALL = arg('small', 10_000);
/** The smaller REST body (the 100,000 recipients accepted in under 5 s); the larger one is --rows. */
const REST_SMALL = arg('rest-small', 100_000);

async function runImport(server: Server, envelope: string): Promise<{ seconds: number; details: string }> {
  const started = performance.now();
  const reply = unescape(await post(server.port, '/Services/WSMailUpImport.asmx', createReadStream(envelope, { highWaterMark: 1 << 16 }), {
    'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/StartImportProcesses',
  }));
  const id = /<processID>(\d+)<\/processID>/.exec(reply)?.[1];
  if (!id) throw new Error(`StartImportProcesses failed: ${reply.slice(0, 500)}`);
  const accepted = performance.now();
  for (;;) {
    const details = await soap(server, 'GetProcessDetails', `<idList>${server.list.id}</idList><listGUID>${server.list.guid}</listGUID><idProcess>${id}</idProcess>`);
    const status = /<StatusCode>(\d)<\/StatusCode>/.exec(details)?.[1];
    if (status === '4') throw new Error(`import failed: ${details}`);
    if (status === '3') {
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(`    (request answered after ${((accepted - started) / 1000).toFixed(2)} s)\n`);
      return { seconds, details };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The floor: the same rows straight into the same tables, prepared statements, one transaction. */
function floor(rows: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-floor-'));
  const db = new Database(join(dir, 'floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  applyMigrations(db);
  const t = new Date().toISOString();
  db.prepare("INSERT INTO account (id, ws_user, password_hash, created_at) VALUES (1, 'a1', 'x', ?)").run(t);
  db.prepare("INSERT INTO list (id, account_id, guid, name, created_at) VALUES (1, 1, 'g', 'l', ?)").run(t);
  db.prepare(`INSERT INTO "group" (id, list_id, name, created_at) VALUES (1, 1, 'g', ?)`).run(t);
  const recipient = db.prepare('INSERT INTO recipient (account_id, email, mobile, name, fields, created_at, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?)');
  const subscription = db.prepare("INSERT INTO subscription (recipient_id, list_id, channel, status, updated_at) VALUES (?, 1, ?, 'subscribed', ?)");
  const membership = db.prepare('INSERT INTO membership (recipient_id, group_id) VALUES (?, 1)');
  const started = performance.now();
  db.transaction(() => {
    for (let i = 1; i <= rows; i++) {
      const fields = JSON.stringify({ 1: `Name${i}`, 2: `Surname ${i % 1000}`, 3: `Company & Co ${i % 50}`, 4: `Città ${i % 20}` });
      const id = recipient.run(`user${i}@example${i % 97}.com`, `+39${3_000_000_000 + i}`, `User ${i}`, fields, t, t).lastInsertRowid;
      subscription.run(id, 'email', t);
      subscription.run(id, 'sms', t);
      membership.run(id);
    }
  })();
  const seconds = (performance.now() - started) / 1000;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return seconds;
}


async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-bench-'));
  const server = await startServer(join(dir, 'data'));
  try {
    const small = join(dir, 'small.xml');
    const big = join(dir, 'big.xml');
    await writeEnvelope(small, SMALL, server, server.list);
    const bytes = await writeEnvelope(big, ROWS, server, server.list);
    process.stdout.write(`feed: ${fmt(ROWS)} subscribers, envelope ${(bytes / 1e6).toFixed(0)} MB\n`);

    process.stdout.write(`\n${fmt(SMALL)}-subscriber import (fixed overhead):\n`);
    const s = await runImport(server, small);
    process.stdout.write(`    ${s.seconds.toFixed(2)} s, ${fmt(SMALL / s.seconds)} subscribers/s\n`);

    process.stdout.write(`\nimport into an empty list:\n`);
    const first = await runImport(server, big);
    process.stdout.write(`    ${first.seconds.toFixed(2)} s, ${fmt(ROWS / first.seconds)} subscribers/s\n`);
    process.stdout.write(`second import of the same feed (all existing):\n`);
    const second = await runImport(server, big);
    process.stdout.write(`    ${second.seconds.toFixed(2)} s, ${fmt(ROWS / second.seconds)} subscribers/s\n`);
    if (!/<ExistingEmail>1000000<\/ExistingEmail>/.test(second.details) && ROWS === 1_000_000) {
      process.stdout.write(`    warning: unexpected counters ${second.details}\n`);
    }
    const rss = peakRss(server.child.pid!);
    const rest = await benchmarkRestImport(dir, REST_SMALL, ROWS);

    const floorSeconds = floor(ROWS);
    const floorRate = ROWS / floorSeconds;
    process.stdout.write(`\nfloor (prepared INSERTs, one transaction, no XML, no rules): ${floorSeconds.toFixed(2)} s, ${fmt(floorRate)} rows/s\n`);
    process.stdout.write('\nresult                        subscribers/s   ratio to floor\n');
    process.stdout.write(`SOAP empty list               ${fmt(ROWS / first.seconds).padStart(13)}   ${(ROWS / first.seconds / floorRate).toFixed(2)}\n`);
    process.stdout.write(`SOAP all existing             ${fmt(ROWS / second.seconds).padStart(13)}   ${(ROWS / second.seconds / floorRate).toFixed(2)}\n`);
    for (const run of rest.runs) {
      const rate = run.rows / run.seconds;
      process.stdout.write(`${run.label.padEnd(30)}${fmt(rate).padStart(13)}   ${(rate / floorRate).toFixed(2)}   (accepted in ${run.acceptedSeconds.toFixed(2)} s)\n`);
    }
    process.stdout.write(`server peak RSS               ${(rss / 1024 / 1024).toFixed(0).padStart(10)} MB\n`);
    process.stdout.write(`REST server peak RSS          ${(rest.peakRss / 1024 / 1024).toFixed(0).padStart(10)} MB\n`);
  } finally {
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A word or list after `--name` (`--store postgres`, `--workers 1,2`). */
function textArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
}

const STORE = textArg('store', 'sqlite');
if (STORE === 'postgres') {
  const workers = textArg('workers', '1,2').split(',').map(Number);
  if (workers.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--workers takes counts such as 1,2');
  await benchmarkPostgresImport(ROWS, workers);
} else if (STORE === 'sqlite') {
  await main();
} else {
  throw new Error(`--store takes sqlite or postgres, not ${STORE}`);
}
