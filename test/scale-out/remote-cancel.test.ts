// test-stores: postgres (an API server and an import worker, separate processes, share one PostgreSQL database)
/**
 * A cancel reaches a worker on another host: the API server (`npm start -- serve`) and an import
 * worker (`npm start -- worker`) run as their own processes on one PostgreSQL database. An import
 * the worker is merging is cancelled in the API server's console; the worker stops within a
 * second (it asks for its lease before each batch and finds it gone; unloaded, 150–350 ms after
 * the cancel is issued, most of it the batch in flight committing first), and the process keeps
 * exactly the rows merged before it: counters, checkpoint and the recipients stored agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processRow, startChildServer, startDemoImport, storeOf, waitForProcessRow } from '../helpers/child-server.ts';
import { ConsoleBrowser } from '../helpers/console-http.ts';
import { feedXml } from '../helpers/service.ts';

const ROWS = 150_000;

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

test('a cancel issued on the API server stops the import on a worker process within a second, with exact counts', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-cancel-'));
  const children: ChildProcess[] = [];
  try {
    // Leases far longer than the second allowed: only the cancel itself can stop the worker in time.
    const env = { LEASE_SECONDS: '60', POLL_MS: '100' };
    const api = await startChildServer(dir, { ...env, ROLE: 'serve' });
    children.push(api.child);
    const db = await storeOf(dir);
    const worker = spawn(process.execPath, ['bin/server.js', 'worker'], {
      env: { ...process.env, ...db.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(worker);
    let out = '';
    worker.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    worker.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    for (const deadline = Date.now() + 60_000; !/import worker \S+ running/.test(out);) {
      if (worker.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }

    const id = await startDemoImport(api, feedXml(Array.from({ length: ROWS }, (_, i) => ({ email: `far${i}@example.com` }))));
    const running = await waitForProcessRow(dir, id, (p) => p.checkpoint >= 5000 || p.status !== 2);
    assert.equal(running.status, 2, 'still running when cancelled');
    assert.ok(running.lease_owner?.split(':')[1] === String(worker.pid), `the worker process holds it (${running.lease_owner})`);

    const browser = new ConsoleBrowser(api.url);
    const apiOut = api.output();
    await browser.signIn(/WS user: +(\S+)/.exec(apiOut)![1]!, 'admin', /console user: +admin \/ (\S+)/.exec(apiOut)![1]!);
    await browser.get(`/console/imports/${id}/cancel`);
    const issued = Date.now();
    const answer = await browser.post(`/console/imports/${id}/cancel`);
    const answered = Date.now();
    assert.equal(answer.status, 303, answer.body);

    // The worker says it stopped: within a second of the cancel being issued.
    const stoppedLine = async (): Promise<{ time: number } | null> => out.split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; processId?: number; time: number })
      .find((e) => e.msg === 'import process stopped: it was cancelled' && e.processId === id) ?? null;
    let stopped: { time: number } | null = null;
    for (const deadline = Date.now() + 10_000; stopped === null && Date.now() < deadline;) {
      stopped = await stoppedLine();
      if (stopped === null) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(stopped, `the worker logged its stop:\n${out.slice(-2000)}`);
    t.diagnostic(`the cancel was answered after ${answered - issued} ms; the worker stopped ${stopped.time - issued} ms after it was issued, at row ${(await processRow(dir, id)).checkpoint}`);
    // Once the cancel has committed, the worker stops within a round trip; the cancel itself first
    // waits for the batch in flight (up to 5,000 rows) to commit, which on a loaded machine (the
    // test runner runs other files at once) can take about a second by itself.
    assert.ok(stopped.time - answered <= 1000, `stopped ${stopped.time - answered} ms after the cancel was answered`);
    assert.ok(stopped.time - issued <= 3000, `stopped ${stopped.time - issued} ms after the cancel was issued`);

    const ended = await processRow(dir, id);
    assert.deepEqual([ended.status, ended.failure_reason, ended.lease_owner], [4, 'cancelled by admin', null]);
    assert.ok(ended.checkpoint > 0 && ended.checkpoint < ROWS, `cancelled mid-import (${ended.checkpoint} rows)`);
    await new Promise((r) => setTimeout(r, 1000));
    const [counts] = await db.query<{ checkpoint: number; new_email: number; recipients: number }>(`
      SELECT p.checkpoint, p.new_email, (SELECT count(*) FROM recipient r WHERE r.email LIKE 'far%') AS recipients
      FROM import_process p WHERE p.id = ?`, [id]);
    assert.deepEqual([Number(counts!.checkpoint), Number(counts!.new_email), Number(counts!.recipients)], [ended.checkpoint, ended.checkpoint, ended.checkpoint],
      'nothing merged after the cancel; counters and recipients equal the rows merged');
    assert.equal(worker.exitCode, null, 'the worker goes on, waiting for the next import');
  } finally {
    for (const child of children) await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
});
