/**
 * Scenario 2, SIGKILL during the merge: an import is killed early (its first batch committed) or
 * late (all but its last two batches committed), and the server is restarted on the same store at
 * once. Measured: the time from the SIGKILL until the checkpoint moves again. With SQLite the
 * restarted server holds the data folder alone and resumes its dead predecessor's import at once,
 * well before LEASE_SECONDS; with PostgreSQL (ROLE=all) the import resumes when the lease expires.
 * Either way the import must end exact.
 */
import { processRow, startChildServer, stopChildServer, waitForProcessRow } from '../test/helpers/child-server.ts';
import {
  addresses, checkExact, kill, secs, since, startStreamedImport, target, waitFor,
  type Scenario, type ScenarioContext, type ScenarioOutcome,
} from './lib.ts';

const BATCH = 5000;
/** SQLite: the lease is long (the default), resuming must not wait for it. */
const SQLITE_LEASE_SECONDS = 30;
const SQLITE_RESUME_BOUND_S = 10;
/** PostgreSQL with ROLE=all: a short lease, resumed when it expires. */
const PG_LEASE_SECONDS = 5;
const PG_MARGIN_S = 5;

function merge(when: 'early' | 'late'): Scenario['run'] {
  return async ({ sizes, store, tracker, note }: ScenarioContext): Promise<ScenarioOutcome> => {
    const lease = store === 'sqlite' ? SQLITE_LEASE_SECONDS : PG_LEASE_SECONDS;
    const bound = store === 'sqlite' ? SQLITE_RESUME_BOUND_S : PG_LEASE_SECONDS + PG_MARGIN_S;
    const expected = store === 'sqlite'
      ? `resumes ≤ ${bound} s after SIGKILL (LEASE_SECONDS=${lease}); exact`
      : `resumes ≤ ${bound} s after SIGKILL (lease ${lease} s + ${PG_MARGIN_S} s); exact`;
    const env = { LEASE_SECONDS: String(lease) };
    const rows = sizes.mergeRows;
    const killAt = when === 'early' ? BATCH : Math.max(BATCH, rows - 2 * BATCH);
    const dir = tracker.tmpDir(`merge-${when}`);
    const first = tracker.track(await startChildServer(dir, env));
    const id = await startStreamedImport(target(first), rows);
    const atKill = await waitForProcessRow(dir, id, (p) => p.checkpoint >= killAt || p.status !== 2, 120_000);
    await kill(first.child);
    const killedAt = performance.now();
    const killed = await processRow(dir, id);
    if (killed.status !== 2) {
      return { expected, happened: `the import finished before the kill (raise --merge-rows above ${rows})`, resumeSeconds: null, exact: 'n/a', pass: false };
    }
    note(`killed at checkpoint ${killed.checkpoint} of ${rows} (${atKill.checkpoint} seen)`);

    const second = tracker.track(await startChildServer(dir, env));
    const listening = since(killedAt);
    // Short runs stop waiting at the bound; full runs wait out the lease to report when it did resume.
    const limitMs = (sizes.mode === 'short' ? bound + 1 : Math.max(bound, lease) + 30) * 1000 - (performance.now() - killedAt);
    const resumed = await waitFor(async () => {
      const p = await processRow(dir, id);
      return (p.checkpoint > killed.checkpoint || p.status !== 2) && p;
    }, limitMs, 20);
    const resumeSeconds = resumed === null ? null : since(killedAt);
    const what = `killed at checkpoint ${killed.checkpoint.toLocaleString('en-US')}/${rows.toLocaleString('en-US')}, restarted (listening after ${secs(listening)})`;
    if (resumed === null) {
      await stopChildServer(second, 'SIGTERM');
      return { expected, happened: `${what}; no progress within ${secs(limitMs / 1000 + listening)}`, resumeSeconds: null, exact: 'not reached', pass: false };
    }
    const done = await waitForProcessRow(dir, id, (p) => p.status !== 2, 300_000).catch(() => null);
    const exact = done?.status === 3
      ? await checkExact(target(second, first), dir, [{ listId: target(first).list.id, addresses: addresses(1, rows), groups: [1] }])
      : `process ended with status ${done?.status ?? 2}: ${done?.failure_reason ?? 'still running'}`;
    await stopChildServer(second, 'SIGTERM');
    const inTime = resumeSeconds! <= bound;
    return {
      expected, happened: `${what}; resumed ${secs(resumeSeconds)} after the kill`, resumeSeconds, exact, pass: inTime && exact === 'exact',
    };
  };
}

export const scenarios: Scenario[] = [
  { name: 'merge-kill-early', kind: 'merge-kill', stores: ['sqlite', 'postgres'], budgetMs: { full: 300_000, short: 60_000 }, run: merge('early') },
  { name: 'merge-kill-late', kind: 'merge-kill', stores: ['sqlite', 'postgres'], budgetMs: { full: 300_000, short: 60_000 }, run: merge('late') },
];
