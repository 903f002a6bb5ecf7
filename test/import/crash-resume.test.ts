/**
 * Crash safety with real processes: a server killed with SIGKILL in the middle of an import is
 * restarted on the same data folder, the worker reclaims the process when its lease expires and
 * resumes from the checkpoint. The result must equal an uninterrupted run of the same import:
 * same recipients, subscriptions, memberships, rejects and counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callSoap, feedXml } from '../helpers/service.ts';

const ROWS = 30_000;

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

async function startServer(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', LEASE_SECONDS: '2', POLL_MS: '50' },
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
  return { child, url: /listening on (http:\/\/[\d.:]+)/.exec(out)![1]!, output: () => out };
}

async function stop(server: Running, signal: NodeJS.Signals): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = once(server.child, 'exit');
  server.child.kill(signal);
  await exited;
}

function feed(): string {
  return feedXml(Array.from({ length: ROWS }, (_, i) => {
    if (i % 1000 === 999) return { email: `broken-${i}` };
    const n = i % 7 === 6 ? i - 3 : i; // repeats of earlier rows
    return { email: `user${n}@example.com`, Number: `+39333${String(n).padStart(7, '0')}`, fields: [`Name ${n}`, i % 2 ? '' : `Row ${i}`] };
  }));
}

async function startImport(server: Running): Promise<number> {
  const out = server.output();
  const auth = { User: /WS user: +(\S+)/.exec(out)![1]!, Password: /WS password: +(\S+)/.exec(out)![1]! };
  const m = /idList (\d+), listGUID (\S+)/.exec(out)!;
  const reply = await callSoap(`${server.url}/Services/WSMailUpImport.asmx`, 'StartImportProcesses', {
    listsIDs: m[1], listsGUIDs: m[2], xmlDoc: feed(), groupsIDs: '1,2', importType: 3, mobileInputType: 1,
    asPending: false, ConfirmEmail: true, asOptOut: false, forceOptIn: false, replaceGroups: false,
  }, auth);
  assert.equal(reply.returnCode, 0, reply.body);
  return Number(/<processID>(\d+)/.exec(reply.result!)![1]);
}

function processRow(dataDir: string, id: number): Record<string, number> {
  const db = new Database(join(dataDir, 'mailup.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT status, checkpoint, total_contacts FROM import_process WHERE id = ?').get(id) as Record<string, number>;
  } finally {
    db.close();
  }
}

async function waitFor(dataDir: string, id: number, done: (p: Record<string, number>) => boolean, timeoutMs: number): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = processRow(dataDir, id);
    if (done(p)) return p;
    if (Date.now() > deadline) throw new Error(`timed out waiting; process is ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Everything an import writes, in a form that does not depend on timing or row ids. */
function snapshot(dataDir: string): Record<string, unknown> {
  const db = new Database(join(dataDir, 'mailup.db'), { readonly: true, fileMustExist: true });
  try {
    const all = (sql: string) => db.prepare(sql).all();
    return {
      recipients: all('SELECT email, mobile, name, fields FROM recipient ORDER BY email'),
      subscriptions: all('SELECT r.email, s.list_id, s.channel, s.status, s.reason FROM subscription s JOIN recipient r ON r.id = s.recipient_id ORDER BY r.email, s.channel'),
      memberships: all('SELECT r.email, m.group_id FROM membership m JOIN recipient r ON r.id = m.recipient_id ORDER BY r.email, m.group_id'),
      confirmations: all('SELECT r.email, c.list_id, c.status FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id ORDER BY r.email'),
      rejects: all('SELECT row_no, raw, reason FROM import_reject ORDER BY row_no'),
      process: all(`SELECT status, total_contacts, new_email, new_mobile, existing_email, existing_mobile, optout_email, optout_mobile,
        rejected, checkpoint, lease_owner FROM import_process`),
    };
  } finally {
    db.close();
  }
}

test('an import killed with SIGKILL resumes after restart and ends exactly like an uninterrupted run', { timeout: 600_000 }, async () => {
  const crashedDir = mkdtempSync(join(tmpdir(), 'mailup-crash-'));
  const referenceDir = mkdtempSync(join(tmpdir(), 'mailup-reference-'));
  try {
    // The uninterrupted reference run.
    const reference = await startServer(referenceDir);
    const refId = await startImport(reference);
    await waitFor(referenceDir, refId, (p) => p.status === 3, 300_000);
    await stop(reference, 'SIGTERM');

    // The same import, killed while batches are being merged.
    const first = await startServer(crashedDir);
    const id = await startImport(first);
    const atKill = await waitFor(crashedDir, id, (p) => p.checkpoint >= 5000 || p.status !== 2, 300_000);
    await stop(first, 'SIGKILL');
    assert.equal(atKill.status, 2, 'the process was still running when the server was killed');
    assert.ok(atKill.checkpoint < ROWS, `killed mid-import (checkpoint ${atKill.checkpoint})`);
    const killed = processRow(crashedDir, id);
    assert.equal(killed.status, 2, 'after SIGKILL the process is left running with a lease that will expire');

    const second = await startServer(crashedDir);
    try {
      await waitFor(crashedDir, id, (p) => p.status === 3, 300_000);
    } finally {
      await stop(second, 'SIGTERM');
    }
    assert.deepEqual(snapshot(crashedDir), snapshot(referenceDir));
  } finally {
    rmSync(crashedDir, { recursive: true, force: true });
    rmSync(referenceDir, { recursive: true, force: true });
  }
});
