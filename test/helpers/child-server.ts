/**
 * The service as a real child process (bin/server.js, which `npm start` runs), for tests that kill, stop and restart
 * it; plus read-only views of its store that do not depend on timing or row ids. The data folder
 * names the store: with TEST_STORE=postgres, each folder maps to its own database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { callSoap, feedXml, type SoapAuth } from './service.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

const databases = new Map<string, Promise<TestDatabase>>();

/** The store of a data folder (the same one for every server started on it). */
export function storeOf(dataDir: string): Promise<TestDatabase> {
  let db = databases.get(dataDir);
  if (!db) {
    db = createTestDatabase({ dataDir });
    databases.set(dataDir, db);
  }
  return db;
}

export interface ChildServer {
  readonly child: ChildProcess;
  readonly url: string;
  readonly endpoint: string;
  /** Everything the child printed so far (stdout and stderr). */
  output(): string;
}

export async function startChildServer(dataDir: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const db = await storeOf(dataDir);
  const child = spawn(process.execPath, ['bin/server.js'], {
    env: { ...process.env, ...db.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', POLL_MS: '50', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const deadline = Date.now() + 60_000;
  while (!/listening on (http:\/\/[\d.:]+)/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  await new Promise((r) => setTimeout(r, 100)); // the demo credentials follow the first line
  const url = /listening on (http:\/\/[\d.:]+)/.exec(out)![1]!;
  return { child, url, endpoint: `${url}/Services/WSMailUpImport.asmx`, output: () => out };
}

/** Sends a signal and waits for the exit; resolves to the exit code (null when killed). */
export async function stopChildServer(server: ChildServer, signal: NodeJS.Signals): Promise<number | null> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.child.exitCode;
  const exited = once(server.child, 'exit') as Promise<[number | null]>;
  server.child.kill(signal);
  return (await exited)[0];
}

/** The demo account the first start printed: credentials and list. */
export function demoAccount(server: ChildServer): { auth: SoapAuth; list: { id: number; guid: string } } {
  const out = server.output();
  const m = /idList (\d+), listGUID (\S+)/.exec(out)!;
  return { auth: { User: /WS user: +(\S+)/.exec(out)![1]!, Password: /WS password: +(\S+)/.exec(out)![1]! }, list: { id: Number(m[1]), guid: m[2]! } };
}

/** Starts an import of `xmlDoc` into the demo list (groups 1 and 2) and returns its id. */
export async function startDemoImport(server: ChildServer, xmlDoc: string, flags: { ConfirmEmail?: boolean } = {}): Promise<number> {
  const demo = demoAccount(server);
  const reply = await callSoap(server.endpoint, 'StartImportProcesses', {
    listsIDs: demo.list.id, listsGUIDs: demo.list.guid, xmlDoc, groupsIDs: '1,2', importType: 3, mobileInputType: 1,
    asPending: false, ConfirmEmail: flags.ConfirmEmail ?? false, asOptOut: false, forceOptIn: false, replaceGroups: false,
  }, demo.auth);
  if (reply.returnCode !== 0) throw new Error(`StartImportProcesses failed: ${reply.body}`);
  return Number(/<processID>(\d+)/.exec(reply.result!)![1]);
}

/** Valid rows, rows repeating earlier ones (every 7th) and invalid rows (every 1000th). */
export function mixedFeed(rows: number): string {
  return feedXml(Array.from({ length: rows }, (_, i) => {
    if (i % 1000 === 999) return { email: `broken-${i}` };
    const n = i % 7 === 6 ? i - 3 : i;
    return { email: `user${n}@example.com`, Number: `+39333${String(n).padStart(7, '0')}`, fields: [`Name ${n}`, i % 2 ? '' : `Row ${i}`] };
  }));
}

export interface ProcessRow {
  readonly status: number;
  readonly checkpoint: number;
  readonly total_contacts: number;
  readonly lease_owner: string | null;
  readonly failure_reason: string | null;
}

export async function processRow(dataDir: string, id: number): Promise<ProcessRow> {
  const [row] = await (await storeOf(dataDir)).query<ProcessRow>(
    'SELECT status, checkpoint, total_contacts, lease_owner, failure_reason FROM import_process WHERE id = ?', [id]);
  return row!;
}

export async function waitForProcessRow(dataDir: string, id: number, done: (p: ProcessRow) => boolean, timeoutMs = 300_000): Promise<ProcessRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await processRow(dataDir, id);
    if (done(p)) return p;
    if (Date.now() > deadline) throw new Error(`timed out waiting; process is ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Everything an import writes, in a form that does not depend on timing or row ids. */
export async function importSnapshot(dataDir: string): Promise<Record<string, unknown>> {
  const db = await storeOf(dataDir);
  const all = (sql: string): Promise<unknown[]> => db.query(sql);
  return {
    recipients: await all('SELECT email, mobile, name, fields FROM recipient ORDER BY email'),
    subscriptions: await all('SELECT r.email, s.list_id, s.channel, s.status, s.reason FROM subscription_channel s JOIN recipient r ON r.id = s.recipient_id ORDER BY r.email, s.channel'),
    memberships: await all('SELECT r.email, m.group_id FROM membership m JOIN recipient r ON r.id = m.recipient_id ORDER BY r.email, m.group_id'),
    confirmations: await all('SELECT r.email, c.list_id, c.status FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id ORDER BY r.email, c.id'),
    rejects: await all('SELECT row_no, raw, reason FROM import_reject ORDER BY row_no'),
    process: await all(`SELECT status, total_contacts, new_email, new_mobile, existing_email, existing_mobile, optout_email, optout_mobile,
      rejected, checkpoint, lease_owner FROM import_process ORDER BY id`),
  };
}
