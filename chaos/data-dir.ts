/**
 * Scenario 5, two servers on one DATA_DIR (SQLite): while a first server runs, a second one is
 * started on the same data folder. It must exit at once (within a few seconds, start-up included)
 * with a message that names the data folder and says it is in use; the first must keep serving:
 * it answers /readyz and runs an import to an exact end.
 */
import { startChildServer, stopChildServer, waitForProcessRow, type ChildServer } from '../test/helpers/child-server.ts';
import {
  addresses, alive, checkExact, secs, since, startStreamedImport, target,
  type Scenario, type ScenarioContext, type ScenarioOutcome,
} from './lib.ts';

const EXIT_BOUND_S = 10;
const ROWS = 5_000;

async function run({ tracker }: ScenarioContext): Promise<ScenarioOutcome> {
  const expected = `second exits ≤ ${EXIT_BOUND_S} s naming the data folder in use; first keeps serving, import exact`;
  const dir = tracker.tmpDir('data-dir');
  const first = tracker.track(await startChildServer(dir));

  const t0 = performance.now();
  let second: ChildServer | null = null;
  let refusal = '';
  try {
    second = tracker.track(await startChildServer(dir));
  } catch (err) {
    refusal = (err as Error).message.replace(/^server did not start:\s*/, '').trim();
  }
  const secondSeconds = since(t0);
  if (second !== null) await stopChildServer(second, 'SIGTERM');
  const message = refusal.split('\n').find((l) => l.trim() !== '') ?? '';
  const clear = second === null && (message.includes(dir) || /DATA_DIR|data (folder|director)/i.test(message)) &&
    /in use|lock|another|already/i.test(message);

  // The first server still serves: readiness, and an import that ends exact.
  const ready = await fetch(`${first.url}/readyz`).then((r) => r.status, () => 0);
  let exact = 'not reached';
  if (alive(first.child) && ready === 200) {
    const id = await startStreamedImport(target(first), ROWS);
    const done = await waitForProcessRow(dir, id, (p) => p.status !== 2, 120_000).catch(() => null);
    exact = done?.status === 3
      ? await checkExact(target(first), dir, [{ listId: target(first).list.id, addresses: addresses(1, ROWS), groups: [1] }])
      : `the import ended with status ${done?.status ?? 2}`;
  }
  const firstUp = alive(first.child);
  await stopChildServer(first, 'SIGTERM');
  const happened = (second === null
    ? `second exited after ${secs(secondSeconds)}: "${message.slice(0, 160)}"`
    : `second started too (listening at ${second.url} after ${secs(secondSeconds)})`) +
    `; first ${firstUp ? 'still up' : 'gone'}, /readyz ${ready}`;
  return {
    expected, happened, resumeSeconds: null, exact,
    pass: clear && secondSeconds <= EXIT_BOUND_S && firstUp && ready === 200 && exact === 'exact',
  };
}

export const scenarios: Scenario[] = [{
  name: 'two-servers-one-dir', kind: 'data-dir', stores: ['sqlite'], budgetMs: { full: 120_000, short: 60_000 }, run,
}];
