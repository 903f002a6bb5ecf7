/**
 * Scenario 6, PostgreSQL scale-out: one API server (ROLE=serve) and two workers (ROLE=worker),
 * LEASE_SECONDS=5. Once the import's first batch is committed, the worker holding its lease
 * (found by the process row's lease_owner, `host:pid:id`) is
 *
 * - `worker-kill`: killed with SIGKILL;
 * - `worker-stop`: frozen with SIGSTOP, and let go with SIGCONT once the other worker has taken
 *   over (or the wait for it is over): it wakes believing it holds the lease and must not write.
 *
 * The other worker must take the import over within the lease (plus a margin for its poll and a
 * batch), and the import must end exact (checked again after the frozen worker has run a while).
 */
import { type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRole, type BenchDatabase } from '../bench/postgres.ts';
import { processRow, startChildServer, stopChildServer, storeOf, waitForProcessRow } from '../test/helpers/child-server.ts';
import {
  addresses, alive, checkExact, kill, secs, since, startStreamedImport, target, waitFor,
  type Scenario, type ScenarioContext, type ScenarioOutcome,
} from './lib.ts';

const LEASE_SECONDS = 5;
const MARGIN_S = 3;
const BATCH = 5000;

const pidOf = (owner: string | null): number | null => (owner === null ? null : Number(owner.split(':')[1]));

function takeover(signal: 'SIGKILL' | 'SIGSTOP'): Scenario['run'] {
  return async ({ sizes, tracker, note }: ScenarioContext): Promise<ScenarioOutcome> => {
    const bound = LEASE_SECONDS + MARGIN_S;
    const expected = `other worker takes over ≤ ${bound} s after ${signal} (lease ${LEASE_SECONDS} s); exact` +
      (signal === 'SIGSTOP' ? ', also after SIGCONT' : '');
    const env = { LEASE_SECONDS: String(LEASE_SECONDS), POLL_MS: '100' };
    const rows = sizes.mergeRows;
    const dir = tracker.tmpDir(`workers-${signal.toLowerCase()}`);
    const db = await storeOf(dir);
    const api = tracker.track(await startChildServer(dir, { ...env, ROLE: 'serve' }));
    const database: BenchDatabase = { name: '', url: db.env.DATABASE_URL!, drop: async () => {} };
    const workers: ChildProcess[] = [];
    for (let i = 0; i < 2; i++) workers.push(tracker.track(await startRole('worker', database, env)).child);

    const id = await startStreamedImport(target(api), rows);
    const running = await waitForProcessRow(dir, id, (p) => (p.checkpoint >= BATCH && p.lease_owner !== null) || p.status !== 2, 120_000);
    const victim = workers.find((w) => w.pid === pidOf(running.lease_owner));
    const survivor = workers.find((w) => w !== victim)!;
    if (running.status !== 2 || victim === undefined) {
      return { expected, happened: `no worker of ours held the running import (status ${running.status}, owner ${running.lease_owner})`, resumeSeconds: null, exact: 'n/a', pass: false };
    }
    victim.kill(signal);
    const t0 = performance.now();
    const atSignal = await processRow(dir, id);
    note(`${signal} to worker ${victim.pid} at checkpoint ${atSignal.checkpoint}`);

    // Short runs stop waiting just past the bound; full runs wait longer to report when it happened.
    const limitMs = (sizes.mode === 'short' ? bound + 1 : bound + 30) * 1000;
    const taken = await waitFor(async () => {
      const p = await processRow(dir, id);
      return (pidOf(p.lease_owner) === survivor.pid || p.status !== 2) && p;
    }, limitMs, 20);
    const takeoverSeconds = taken === null ? null : since(t0);
    let after = '';
    if (signal === 'SIGSTOP') {
      // Let the survivor commit at least one batch of its own, then wake the frozen worker.
      if (taken !== null) await waitFor(async () => { const p = await processRow(dir, id); return (p.checkpoint > taken.checkpoint || p.status !== 2) && p; }, 30_000);
      victim.kill('SIGCONT');
      await sleep(2000);
      after = `; after SIGCONT the frozen worker is ${alive(victim) ? 'running' : `gone (exit ${victim.exitCode ?? victim.signalCode})`}`;
    }
    const done = await waitForProcessRow(dir, id, (p) => p.status !== 2, sizes.mode === 'short' ? 60_000 : 300_000).catch(() => null);
    let exact = done?.status === 3
      ? await checkExact(target(api), dir, [{ listId: target(api).list.id, addresses: addresses(1, rows), groups: [1] }])
      : `process ended with status ${done?.status ?? 2}: ${done?.failure_reason ?? 'still running'}`;
    if (signal === 'SIGSTOP' && exact === 'exact') {
      // The woken worker has had time to do whatever it would: still exact?
      await sleep(LEASE_SECONDS * 1000);
      exact = await checkExact(target(api), dir, [{ listId: target(api).list.id, addresses: addresses(1, rows), groups: [1] }]);
    }
    for (const w of workers) if (alive(w)) await kill(w, 'SIGTERM');
    await stopChildServer(api, 'SIGTERM');
    const happened = `${signal} to the lease holder at checkpoint ${atSignal.checkpoint.toLocaleString('en-US')}/${rows.toLocaleString('en-US')}; ` +
      (taken === null ? `no takeover within ${secs(limitMs / 1000)}` : `taken over after ${secs(takeoverSeconds)}`) +
      `; import ${done?.status === 3 ? 'completed' : `status ${done?.status ?? 2}`}${after}`;
    return { expected, happened, resumeSeconds: takeoverSeconds, exact, pass: takeoverSeconds !== null && takeoverSeconds <= bound && exact === 'exact' };
  };
}

export const scenarios: Scenario[] = [
  { name: 'worker-kill', kind: 'workers', stores: ['postgres'], budgetMs: { full: 300_000, short: 90_000 }, run: takeover('SIGKILL') },
  { name: 'worker-stop', kind: 'workers', stores: ['postgres'], budgetMs: { full: 300_000, short: 90_000 }, run: takeover('SIGSTOP') },
];
