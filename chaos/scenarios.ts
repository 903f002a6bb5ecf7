/**
 * Every chaos scenario, how a run picks them, and how one is run: within its time budget, with
 * every process it started ended and every folder it made removed, whatever happens. Used by the
 * runner (chaos/run.ts) and by the short run in `npm test` (test/reliability/chaos.test.ts).
 */
import { scenarios as clientImports } from './client-imports.ts';
import { scenarios as dataDir } from './data-dir.ts';
import { secs, Tracker, since, type ChaosResult, type ChaosSizes, type Scenario, type TestStoreKind } from './lib.ts';
import { scenarios as mergeKill } from './merge-kill.ts';
import { scenarios as sendNow } from './send-now.ts';
import { scenarios as shutdown } from './shutdown.ts';
import { scenarios as uploadKill } from './upload-kill.ts';
import { scenarios as workers } from './workers.ts';

/** In the order of the table: 1 upload-kill … 7 client. */
export const ALL_SCENARIOS: readonly Scenario[] = [
  ...uploadKill, ...mergeKill, ...sendNow, ...shutdown, ...dataDir, ...workers, ...clientImports,
];

/** One line per scenario kind, for the table's readers and for `--list`. */
export const KIND_SUMMARY: Record<string, string> = {
  'upload-kill': 'SIGKILL while a big NewImportProcess body is being sent; restart: the partial feed is pruned within 1.5 feed leases',
  'merge-kill': 'SIGKILL early/late in the merge; restart: time until progress resumes; import exact',
  'send-now': 'SIGKILL during Send Now (HTTP API: server; admin CLI: the CLI); Send Now again: one message each, ConfirmationSent True',
  shutdown: 'SIGTERM with an upload trickling in: exit within SHUTDOWN_TIMEOUT_SECONDS + margin, no partial feed',
  'data-dir': 'a second server on the same DATA_DIR exits at once with a clear message; the first keeps serving',
  workers: 'PostgreSQL, API + 2 workers: SIGKILL / SIGSTOP the lease holder; the other takes over within the lease; exact',
  client: 'two client CLI imports into one account at once: both exit 0 in time, each list exactly its rows',
};

/**
 * The scenarios of a run on `store`: all of them, or (`short`) the first of each kind; `only`
 * narrows to the names or kinds it lists.
 */
export function selectScenarios(store: TestStoreKind, options: { short?: boolean; only?: readonly string[] } = {}): Scenario[] {
  const seen = new Set<string>();
  return ALL_SCENARIOS.filter((s) => {
    if (!s.stores.includes(store)) return false;
    if (options.only && options.only.length > 0 && !options.only.includes(s.name) && !options.only.includes(s.kind)) return false;
    if (options.short && seen.has(s.kind)) return false;
    seen.add(s.kind);
    return true;
  });
}

/** Runs one scenario on the store TEST_STORE names; never throws: an error or an overrun is a FAIL row. */
export async function runScenario(
  scenario: Scenario, sizes: ChaosSizes, store: TestStoreKind, note: (message: string) => void = () => {},
): Promise<ChaosResult> {
  const tracker = new Tracker();
  const t0 = performance.now();
  const budget = scenario.budgetMs[sizes.mode];
  let timer: NodeJS.Timeout | undefined;
  try {
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`stopped: over its ${budget / 1000} s budget`)), budget);
    });
    const outcome = await Promise.race([scenario.run({ sizes, store, tracker, note: (m) => note(`${scenario.name}: ${m}`) }), overrun]);
    return { ...outcome, scenario: scenario.name, store, seconds: since(t0) };
  } catch (err) {
    return {
      scenario: scenario.name, store, expected: KIND_SUMMARY[scenario.kind] ?? scenario.kind,
      happened: `error: ${err instanceof Error ? err.message.split('\n').slice(0, 3).join(' ').slice(0, 300) : String(err)}`,
      resumeSeconds: null, exact: 'n/a', pass: false, seconds: since(t0),
    };
  } finally {
    clearTimeout(timer);
    await tracker.cleanup();
  }
}

const cell = (s: string, max = 400): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The results as a Markdown table (the runner prints it; docs/operations.md keeps one). */
export function formatTable(results: readonly ChaosResult[]): string {
  const head = '| scenario | store | expected | what happened | resume | exact | took | result |\n|---|---|---|---|---:|---|---:|---|\n';
  return head + results.map((r) => `| ${r.scenario} | ${r.store} | ${cell(r.expected)} | ${cell(r.happened)} | ${secs(r.resumeSeconds)} | ` +
    `${cell(r.exact, 200)} | ${secs(r.seconds)} | ${r.pass ? 'PASS' : '**FAIL**'} |`).join('\n');
}

