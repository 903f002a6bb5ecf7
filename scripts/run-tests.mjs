// Runs every *.test.ts under src/, test/ and client/ with node:test (Node 20's --test has no glob support).
// Extra arguments narrow the run: `npm test -- src/protocol` runs the files whose path contains one of them.
//
// The behavioural suites (test/, and client/test/, which drives a real server) run once per
// store: first on SQLite, then on PostgreSQL (TEST_STORE=postgres, a fresh database per test
// service on 127.0.0.1:5432); the unit tests beside the code (src/, client/src/) do not touch a
// store's engine and run in the SQLite pass only.
// A test file that is about one engine by nature says so in its first lines with
// `// test-stores: sqlite` (or postgres). TEST_STORE=sqlite|postgres runs one pass only.
// The run fails if either pass fails, and PostgreSQL being unreachable is a failure, not a skip.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ensureBuilt } from './build.mjs';

const STORES = ['sqlite', 'postgres'];
const ADMIN_URL = process.env.TEST_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

function collect(dir, out) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** The stores a file runs on: its `// test-stores:` line, else both for the behavioural suites and SQLite only for unit tests. */
function storesOf(file) {
  const head = readFileSync(file, 'utf8').slice(0, 2000);
  const declared = /^\/\/ test-stores: *((?:sqlite|postgres)(?: *, *(?:sqlite|postgres))*)/m.exec(head);
  if (declared) return declared[1].split(/ *, */);
  return file.startsWith('test/') || file.startsWith('client/test/') ? STORES : ['sqlite'];
}

const filters = process.argv.slice(2);
const files = [...collect('src', []), ...collect('test', []), ...collect('client', [])]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const only = process.env.TEST_STORE;
if (only !== undefined && !STORES.includes(only)) {
  console.error(`TEST_STORE must be one of ${STORES.join(', ')}, not "${only}"`);
  process.exit(2);
}

// The servers and CLIs the tests start as processes run the compiled service (bin/server.js,
// bin/admin.js), as operators do: built here once, if a source changed, rather than by the first of them.
ensureBuilt();

/** Runs node --test on the files with TEST_STORE set; echoes the output and returns the exit code and the totals. */
function runPass(store, passFiles, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...passFiles], {
      stdio: ['inherit', 'pipe', 'inherit'], env: { ...process.env, ...env, TEST_STORE: store },
    });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    });
    child.on('close', (code) => {
      const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tail)?.[1] ?? NaN);
      resolve({ code: code ?? 1, tests: count('tests'), pass: count('pass'), fail: count('fail') });
    });
  });
}

async function withAdmin(fn) {
  const client = new pg.Client({ connectionString: ADMIN_URL, application_name: 'mailup-test-runner' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops every database the pass left (a test process that was killed cannot drop its own). */
async function dropRunDatabases(run) {
  await withAdmin(async (client) => {
    const { rows } = await client.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [`mailup_test_${run}_%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}

const results = [];
for (const store of STORES) {
  if (only !== undefined && only !== store) continue;
  const passFiles = files.filter((f) => storesOf(f).includes(store));
  if (passFiles.length === 0) continue;
  console.log(`\n=== store: ${store} (${passFiles.length} test files) ===\n`);
  const env = {};
  if (store === 'postgres') {
    try {
      await withAdmin((client) => client.query('SELECT 1'));
    } catch (err) {
      console.error(`PostgreSQL is not reachable at ${ADMIN_URL.replace(/:[^:@/]*@/, ':***@')}: ${err.message}`);
      console.error('Start it (see .ci/run) or run only the SQLite pass with TEST_STORE=sqlite.');
      results.push({ store, code: 1, tests: NaN, pass: NaN, fail: NaN });
      continue;
    }
    env.TEST_PG_RUN = randomBytes(4).toString('hex');
  }
  const result = await runPass(store, passFiles, env);
  if (env.TEST_PG_RUN) await dropRunDatabases(env.TEST_PG_RUN);
  results.push({ store, ...result });
}

console.log('\n=== summary ===');
for (const r of results) {
  const counts = Number.isNaN(r.tests) ? '' : ` (${r.tests} tests, ${r.pass} passed, ${r.fail} failed)`;
  console.log(`${r.store.padEnd(8)} ${r.code === 0 ? 'passed' : 'FAILED'}${counts}`);
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
