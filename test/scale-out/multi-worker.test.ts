// test-stores: postgres (separate API and worker processes share one PostgreSQL database)
/**
 * Scale-out with real processes: one API server (`npm start -- serve`) and two import workers
 * (`npm start -- worker`), each its own process, on one PostgreSQL database.
 *
 * - A worker killed with SIGKILL in the middle of an import is detected by its lease expiring;
 *   the other worker resumes the process from its checkpoint, and the result equals an
 *   uninterrupted run of the same import: same recipients, subscriptions, memberships, rejects,
 *   confirmation requests and counters.
 * - Idle workers that would not poll for minutes are woken through LISTEN/NOTIFY when the API
 *   server starts an import.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  demoAccount, importSnapshot, mixedFeed, processRow, startChildServer, startDemoImport, stopChildServer, storeOf,
  waitForProcessRow, type ChildServer,
} from '../helpers/child-server.ts';
import { callSoap, feedXml, resultFields, waitForProcess } from '../helpers/service.ts';

const ROWS = 30_000;

interface Worker {
  readonly child: ChildProcess;
  /** Everything it printed (pino JSON lines at LOG_LEVEL=info). */
  output(): string;
}

/** `npm start -- worker` on the data folder's database; resolves once it runs. */
async function startWorker(dataDir: string, env: Record<string, string>, children: ChildProcess[]): Promise<Worker> {
  const db = await storeOf(dataDir);
  // Workers answer /healthz and /metrics on PORT: a free one each.
  const child = spawn(process.execPath, ['bin/server.js', 'worker'], {
    env: { ...process.env, ...db.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const deadline = Date.now() + 60_000;
  while (!/import worker \S+ running/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { child, output: () => out };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** The log lines of a worker about one process, e.g. its claims with the checkpoint it resumed from. */
function claimsOf(worker: Worker, processId: number): { checkpoint: number }[] {
  return worker.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.msg === 'import process claimed' && e.processId === processId).map((e) => ({ checkpoint: Number(e.checkpoint) }));
}

test('two workers on two processes: one is killed mid-import, the other resumes from the checkpoint with exact results', { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-scale-'));
  const referenceDir = mkdtempSync(join(tmpdir(), 'mailup-scale-ref-'));
  const env = { LEASE_SECONDS: '2', POLL_MS: '100' };
  const children: ChildProcess[] = [];
  try {
    // The uninterrupted reference: one process doing both, as embedded.
    const reference = await startChildServer(referenceDir, env);
    const refId = await startDemoImport(reference, mixedFeed(ROWS), { ConfirmEmail: true });
    await waitForProcessRow(referenceDir, refId, (p) => p.status === 3);
    await stopChildServer(reference, 'SIGTERM');

    const api = await startChildServer(dir, { ...env, ROLE: 'serve' });
    children.push(api.child);
    const workers = [await startWorker(dir, env, children), await startWorker(dir, env, children)];
    const id = await startDemoImport(api, mixedFeed(ROWS), { ConfirmEmail: true });
    const atKill = await waitForProcessRow(dir, id, (p) => p.checkpoint >= 5000 || p.status !== 2);
    assert.equal(atKill.status, 2, 'still running when its worker is killed');
    assert.ok(atKill.checkpoint < ROWS);

    // Kill whichever worker holds the lease (its owner names its pid).
    const holder = (await processRow(dir, id)).lease_owner!;
    const victim = workers.find((w) => holder.split(':')[1] === String(w.child.pid));
    assert.ok(victim, `the lease owner ${holder} is one of the workers`);
    const survivor = workers.find((w) => w !== victim)!;
    await stop(victim.child, 'SIGKILL');
    assert.equal((await processRow(dir, id)).status, 2, 'after SIGKILL the process waits for its lease to expire');

    const done = await waitForProcessRow(dir, id, (p) => p.status !== 2);
    assert.equal(done.status, 3, done.failure_reason ?? '');
    const resumed = claimsOf(survivor, id);
    assert.ok(resumed.length >= 1 && resumed.every((c) => c.checkpoint > 0), `the survivor resumed from a checkpoint: ${JSON.stringify(resumed)}`);
    assert.deepEqual(claimsOf(victim, id), [{ checkpoint: 0 }], 'the killed worker started it');

    // GetProcessDetails through the API server agrees, and everything written equals the reference run.
    const demo = demoAccount(api);
    const details = resultFields((await waitForProcess(api.endpoint, demo.auth, demo.list.id, demo.list.guid, id)).result!);
    const row = (await importSnapshot(dir)).process as Record<string, number>[];
    assert.equal(Number(details.NewEmail), row[0]!.new_email);
    assert.deepEqual(await importSnapshot(dir), await importSnapshot(referenceDir));
  } finally {
    for (const child of children) await stop(child, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    rmSync(referenceDir, { recursive: true, force: true });
  }
});

test('idle workers on other processes are woken by NOTIFY when an import starts, not by their poll', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-notify-'));
  const children: ChildProcess[] = [];
  try {
    // Workers that would look for work only every ten minutes.
    const api: ChildServer = await startChildServer(dir, { ROLE: 'serve' });
    children.push(api.child);
    await startWorker(dir, { POLL_MS: '600000' }, children);
    await startWorker(dir, { POLL_MS: '600000' }, children);
    const demo = demoAccount(api);
    for (const round of [1, 2]) {
      const reply = await callSoap(api.endpoint, 'StartImportProcesses', {
        listsIDs: demo.list.id, listsGUIDs: demo.list.guid, xmlDoc: feedXml([{ email: `wake${round}@example.com` }]), groupsIDs: '',
        importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
      }, demo.auth);
      assert.equal(reply.returnCode, 0, reply.body);
      const id = Number(/<processID>(\d+)/.exec(reply.result!)![1]);
      const done = resultFields((await waitForProcess(api.endpoint, demo.auth, demo.list.id, demo.list.guid, id, 120_000)).result!);
      assert.deepEqual([done.StatusCode, done.NewEmail], ['3', '1']);
    }
  } finally {
    for (const child of children) await stop(child, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
