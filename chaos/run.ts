/**
 * The chaos suite: crash scenarios against real server processes (and the client and admin CLIs)
 * on loopback, each followed by an exactness check of the store against the feed, then a table:
 * scenario, expected, what happened, time to resume, exactness, PASS/FAIL. Exits 1 if any fails.
 *
 *   npm run chaos                                  every scenario, full feed sizes, SQLite then PostgreSQL
 *   npm run chaos -- --short                       one scenario per kind, small feeds (as in npm test)
 *   npm run chaos -- --store sqlite|postgres|both  (default both)
 *   npm run chaos -- --only merge-kill,worker-stop scenarios by name or kind (--list shows them)
 *   npm run chaos -- --upload-rows N --merge-rows N --send-now-rows N --send-now-rows-postgres N
 *                    --trickle-rows N --client-rows N --client-batch N    feed sizes (defaults: chaos/lib.ts FULL, SHORT)
 *   npm run chaos -- --verbose                     progress notes on stderr
 *
 * Each store runs in a child process of its own (TEST_STORE picks the store of the test helpers);
 * PostgreSQL databases are made on 127.0.0.1:5432 (TEST_PG_ADMIN_URL overrides where) under one
 * run name, and every database of the run is dropped at its end, whatever happened. Every server
 * and CLI process a scenario starts is ended and every folder it makes removed by the scenario.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withClient } from '../src/store/postgres/pool.ts';
import { FULL, secs, SHORT, type ChaosResult, type ChaosSizes, type TestStoreKind } from './lib.ts';
import { ALL_SCENARIOS, formatTable, KIND_SUMMARY, runScenario, selectScenarios } from './scenarios.ts';

const USAGE = 'usage: npm run chaos -- [--short] [--store sqlite|postgres|both] [--only name,kind,...] [--list] [--verbose]\n' +
  '       [--upload-rows N] [--merge-rows N] [--send-now-rows N] [--send-now-rows-postgres N] [--trickle-rows N]\n' +
  '       [--client-rows N] [--client-batch N]';

interface Options {
  readonly short: boolean;
  readonly stores: TestStoreKind[];
  readonly only: string[];
  readonly verbose: boolean;
  readonly list: boolean;
  readonly sizes: ChaosSizes;
  /** Set in the per-store child: where it writes its results. */
  readonly childResults: string | null;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Options {
  const value = (i: number): string => argv[i + 1] ?? fail(`${argv[i]} needs a value`);
  const count = (i: number): number => {
    const n = Number(value(i));
    if (!Number.isInteger(n) || n < 1) fail(`${argv[i]} must be a positive whole number`);
    return n;
  };
  let short = false;
  let store = 'both';
  let only: string[] = [];
  let verbose = false;
  let list = false;
  let childResults: string | null = null;
  const sizes: Record<string, number> = {};
  const sizeFlags: Record<string, keyof ChaosSizes> = {
    '--upload-rows': 'uploadRows', '--merge-rows': 'mergeRows', '--send-now-rows': 'sendNowRows', '--trickle-rows': 'trickleBurstRows',
    '--client-rows': 'clientRows', '--client-batch': 'clientBatch',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--short') short = true;
    else if (a === '--full') short = false;
    else if (a === '--verbose') verbose = true;
    else if (a === '--list') list = true;
    else if (a === '--store') store = value(i++);
    else if (a === '--only') only = value(i++).split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--child') childResults = value(i++);
    else if (a in sizeFlags) sizes[sizeFlags[a]!] = count(i++);
    else if (a === '--send-now-rows-postgres') sizes.sendNowRowsPostgres = count(i++);
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  if (!['sqlite', 'postgres', 'both'].includes(store)) fail(`--store must be sqlite, postgres or both, not "${store}"`);
  const known = new Set(ALL_SCENARIOS.flatMap((s) => [s.name, s.kind]));
  const unknown = only.filter((o) => !known.has(o));
  if (unknown.length > 0) fail(`unknown scenario ${unknown.join(', ')} (--list shows them)`);
  return {
    short, only, verbose, list, childResults,
    stores: store === 'both' ? ['sqlite', 'postgres'] : [store as TestStoreKind],
    sizes: { ...(short ? SHORT : FULL), ...sizes },
  };
}

/** In the child: the scenarios of TEST_STORE, one after the other, results to the file. */
async function runChild(options: Options, file: string): Promise<void> {
  const store = (process.env.TEST_STORE ?? 'sqlite') as TestStoreKind;
  const results: ChaosResult[] = [];
  for (const scenario of selectScenarios(store, { short: options.short, only: options.only })) {
    process.stderr.write(`[chaos ${store}] ${scenario.name} ...\n`);
    const note = options.verbose ? (m: string): void => void process.stderr.write(`[chaos ${store}]   ${m}\n`) : undefined;
    const result = await runScenario(scenario, options.sizes, store, note);
    process.stderr.write(`[chaos ${store}] ${scenario.name}: ${result.pass ? 'PASS' : 'FAIL'} (${secs(result.seconds)})\n`);
    results.push(result);
    writeFileSync(file, JSON.stringify(results));
  }
  writeFileSync(file, JSON.stringify(results));
}

const ADMIN_URL = process.env.TEST_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** Drops every database of this run (the test helpers name them mailup_test_<run>_…). */
async function dropRunDatabases(run: string): Promise<void> {
  await withClient(ADMIN_URL, 'mailup-chaos', async (client) => {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`mailup_test_${run}_%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}

/** Runs one store's scenarios in a child process; its results, or a FAIL row if it could not run. */
async function runStore(store: TestStoreKind, options: Options): Promise<ChaosResult[]> {
  const selected = selectScenarios(store, { short: options.short, only: options.only });
  if (selected.length === 0) return [];
  const crashed = (happened: string): ChaosResult[] => [{
    scenario: '(runner)', store, expected: 'the scenarios run', happened, resumeSeconds: null, exact: 'n/a', pass: false, seconds: 0,
  }];
  const run = `chaos${randomBytes(4).toString('hex')}`;
  if (store === 'postgres') {
    try {
      await withClient(ADMIN_URL, 'mailup-chaos', (c) => c.query('SELECT 1'));
    } catch (err) {
      return crashed(`PostgreSQL is not reachable at ${ADMIN_URL.replace(/:[^:@/]*@/, ':***@')}: ${(err as Error).message}`);
    }
  }
  const file = join(tmpdir(), `mailup-chaos-results-${run}.json`);
  const budget = selected.reduce((ms, s) => ms + s.budgetMs[options.short ? 'short' : 'full'], 0) + 120_000;
  const child = spawn(process.execPath, ['--import', 'tsx', 'chaos/run.ts', ...process.argv.slice(2), '--store', store, '--child', file], {
    env: { ...process.env, TEST_STORE: store, TEST_PG_RUN: run }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), budget);
  const [code, signal] = await once(child, 'exit') as [number | null, string | null];
  clearTimeout(timer);
  let results: ChaosResult[] = [];
  try {
    results = JSON.parse(readFileSync(file, 'utf8')) as ChaosResult[];
  } catch {
    // no results: reported below
  }
  rmSync(file, { force: true });
  if (store === 'postgres') await dropRunDatabases(run).catch((err) => process.stderr.write(`dropping the run's databases failed: ${(err as Error).message}\n`));
  if (results.length < selected.length) {
    results.push(...crashed(`the ${store} runner ended (${signal ?? `exit ${code}`}) after ${results.length} of ${selected.length} scenarios`));
  }
  return results;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.childResults !== null) {
    await runChild(options, options.childResults);
    // Whatever a stopped scenario left polling must not keep the child alive; the parent drops the databases.
    process.exit(0);
  }
  if (options.list) {
    for (const s of ALL_SCENARIOS) process.stdout.write(`${s.name.padEnd(22)} ${s.kind.padEnd(12)} ${s.stores.join(',').padEnd(16)} ${KIND_SUMMARY[s.kind]}\n`);
    return;
  }
  const t0 = performance.now();
  const results: ChaosResult[] = [];
  for (const store of options.stores) results.push(...await runStore(store, options));
  const failed = results.filter((r) => !r.pass);
  process.stdout.write(`\nChaos suite (${options.short ? 'short' : 'full'} run, ${secs((performance.now() - t0) / 1000)}; ` +
    `feeds: upload ${options.sizes.uploadRows}, merge ${options.sizes.mergeRows}, Send Now ${options.sizes.sendNowRows} ` +
    `(PostgreSQL ${options.sizes.sendNowRowsPostgres}), ` +
    `client 2×${options.sizes.clientRows} in batches of ${options.sizes.clientBatch})\n\n${formatTable(results)}\n\n` +
    `${results.length - failed.length} passed, ${failed.length} failed${failed.length ? `: ${failed.map((r) => `${r.scenario} (${r.store})`).join(', ')}` : ''}\n`);
  process.exitCode = failed.length > 0 || results.length === 0 ? 1 : 0;
}

await main();
