/**
 * End-to-end import benchmark (npm run bench:import): a server started as a child process, one
 * StartImportProcesses call over HTTP carrying the whole feed, polled until status 3.
 *
 * Prints subscribers/s for an import into an empty list and for a second import of the same feed
 * (every row existing), the server's peak RSS, and the ratio to a floor measured in the same run:
 * the same rows inserted straight into the same tables by prepared statements in one transaction
 * (no HTTP, no XML, no rules). Also a 10,000-row import to show the fixed overhead.
 *
 *   npm run bench:import -- [--rows 1000000] [--small 10000]
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { applyMigrations } from '../src/store/sqlite/migrate.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const ROWS = arg('rows', 1_000_000);
const SMALL = arg('small', 10_000);

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function subscriber(i: number): string {
  const mobile = `39${String(3_000_000_000 + i)}`;
  return `<subscriber email="user${i}@example${i % 97}.com" Prefix="" Number="+${mobile}" Name="User ${i}">` +
    `<campo1>Name${i}</campo1><campo2>Surname ${i % 1000}</campo2><campo3>Company &amp; Co ${i % 50}</campo3><campo4>Città ${i % 20}</campo4></subscriber>`;
}

/** Writes the SOAP envelope with the feed escaped inside xmlDoc, as a client sends it. */
async function writeEnvelope(path: string, rows: number, auth: { user: string; password: string }, list: { id: number; guid: string }): Promise<number> {
  const out = createWriteStream(path);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Header><Authentication xmlns="http://ws.mailupnet.it/"><User>${auth.user}</User><Password>${esc(auth.password)}</Password></Authentication></soap:Header>` +
    `<soap:Body><StartImportProcesses xmlns="http://ws.mailupnet.it/"><listsIDs>${list.id}</listsIDs><listsGUIDs>${list.guid}</listsGUIDs><xmlDoc>`);
  await write(esc('<subscribers>'));
  let buf = '';
  for (let i = 1; i <= rows; i++) {
    buf += subscriber(i);
    if (buf.length > 1 << 16) {
      await write(esc(buf));
      buf = '';
    }
  }
  await write(esc(`${buf}</subscribers>`));
  await write('</xmlDoc><groupsIDs>1</groupsIDs><importType>3</importType><mobileInputType>1</mobileInputType>' +
    '<asPending>false</asPending><ConfirmEmail>false</ConfirmEmail><asOptOut>false</asOptOut><forceOptIn>false</forceOptIn>' +
    '<replaceGroups>false</replaceGroups></StartImportProcesses></soap:Body></soap:Envelope>');
  out.end();
  await once(out, 'finish');
  return statSync(path).size;
}

interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly list: { id: number; guid: string };
}

async function startServer(dataDir: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', POLL_MS: '50' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!/WSDL: +http/.test(out)) {
    if (Date.now() > deadline) throw new Error(`server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const user = /WS user: +(\S+)/.exec(out)![1]!;
  const password = /WS password: +(\S+)/.exec(out)![1]!;
  const m = /idList (\d+), listGUID (\S+)/.exec(out)!;
  return { child, port, user, password, list: { id: Number(m[1]), guid: m[2]! } };
}

function post(port: number, path: string, body: NodeJS.ReadableStream | string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve(data));
    });
    req.on('error', reject);
    if (typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

async function soap(server: Server, op: string, params: string): Promise<string> {
  const body = '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Header><Authentication xmlns="http://ws.mailupnet.it/"><User>${server.user}</User><Password>${esc(server.password)}</Password></Authentication></soap:Header>` +
    `<soap:Body><${op} xmlns="http://ws.mailupnet.it/">${params}</${op}></soap:Body></soap:Envelope>`;
  return unescape(await post(server.port, '/Services/WSMailUpImport.asmx', body, { 'content-type': 'text/xml; charset=utf-8', soapaction: `http://ws.mailupnet.it/${op}` }));
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

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

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

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

    const floorSeconds = floor(ROWS);
    const floorRate = ROWS / floorSeconds;
    process.stdout.write(`\nfloor (prepared INSERTs, one transaction, no XML, no rules): ${floorSeconds.toFixed(2)} s, ${fmt(floorRate)} rows/s\n`);
    process.stdout.write('\nresult                        subscribers/s   ratio to floor\n');
    process.stdout.write(`empty list                    ${fmt(ROWS / first.seconds).padStart(13)}   ${(ROWS / first.seconds / floorRate).toFixed(2)}\n`);
    process.stdout.write(`all existing                  ${fmt(ROWS / second.seconds).padStart(13)}   ${(ROWS / second.seconds / floorRate).toFixed(2)}\n`);
    process.stdout.write(`server peak RSS               ${(rss / 1024 / 1024).toFixed(0).padStart(10)} MB\n`);
  } finally {
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
