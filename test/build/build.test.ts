// test-stores: sqlite
/**
 * The build the service runs from (scripts/build.mjs, through bin/server.js and bin/admin.js), on a
 * copy of the project's sources: the first start builds dist/, a start with nothing changed (or
 * only a test) does not, a changed source is built before the next start, processes started together on a stale tree
 * all run the new code, and a lock left by a build that died does not stop the next one. The
 * copy's admin CLI is the program run: it needs no store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let copy: string;

before(() => {
  copy = mkdtempSync(join(tmpdir(), 'mailup-build-'));
  for (const part of ['src', 'client/src', 'scripts', 'bin', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) {
    cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
});
after(() => rmSync(copy, { recursive: true, force: true }));

/** `node bin/admin.js --help` in the copy: its exit code and what it printed. */
function adminHelp(): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/admin.js', '--help'], { cwd: copy }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

/** Changes the admin CLI's description in the copy's source, as an edit or a pull would. */
function describeAdmin(text: string): void {
  const file = join(copy, 'src/cli/admin.ts');
  const source = readFileSync(file, 'utf8');
  const changed = source.replace(/\.description\('[^']*'\)/, `.description('${text}')`);
  assert.notEqual(changed, source, 'the admin CLI source names its description');
  writeFileSync(file, changed);
}

const stamp = (): number => statSync(join(copy, 'dist/.built')).mtimeMs;
const leftovers = (): string[] => ['dist.next', 'dist.old', 'dist.lock'].filter((name) => existsSync(join(copy, name)));

test('the first start builds dist/; a start with nothing changed, or only a test, runs the same build', async () => {
  assert.equal(existsSync(join(copy, 'dist')), false);
  const first = await adminHelp();
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /Usage: mailup-import-admin/);
  for (const file of ['dist/src/main.js', 'dist/src/import/worker-thread.js', 'dist/src/store/sqlite/migrations/0001_initial.sql', 'dist/src/store/postgres/migrations/0001_initial.sql', 'dist/src/console/assets/console.css']) {
    assert.ok(existsSync(join(copy, file)), `${file} is built`);
  }
  assert.equal(existsSync(join(copy, 'dist/src/import/worker-thread-entry.mjs')), false, 'the thread entry for running from source stays out');
  assert.doesNotMatch(readFileSync(join(copy, 'dist/src/main.js'), 'utf8'), /from '\.[^']*\.ts'/, 'imports name the compiled .js modules');

  const built = stamp();
  const second = await adminHelp();
  assert.equal(second.code, 0, second.out);
  assert.equal(stamp(), built, 'nothing was rebuilt');
  // Tests are not part of the build: editing one leaves it fresh.
  writeFileSync(join(copy, 'src/cli/admin.test.ts'), '// edited\n');
  const third = await adminHelp();
  assert.equal(third.code, 0, third.out);
  assert.equal(stamp(), built, 'a test edit rebuilt nothing');
  assert.deepEqual(leftovers(), []);
});

test('a changed source is built before the next start', async () => {
  describeAdmin('Administer the copied service');
  const run = await adminHelp();
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, /Administer the copied service/);
  assert.deepEqual(leftovers(), []);
});

test('processes started together on a stale tree all run the new code', async () => {
  describeAdmin('Administer the service started three times');
  const runs = await Promise.all([adminHelp(), adminHelp(), adminHelp()]);
  for (const run of runs) {
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /Administer the service started three times/);
  }
  assert.deepEqual(leftovers(), []);
});

test('a lock left by a build that died is taken over; a fresh one is waited for', async () => {
  const lock = join(copy, 'dist.lock');
  mkdirSync(lock);
  const longAgo = new Date(Date.now() - 10 * 60_000);
  utimesSync(lock, longAgo, longAgo);
  describeAdmin('Administer after a dead build');
  const run = await adminHelp();
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, /Administer after a dead build/);
  assert.deepEqual(leftovers(), []);

  // A build in progress elsewhere: the start waits for its lock to go, then builds what is stale.
  mkdirSync(lock);
  describeAdmin('Administer after waiting');
  const waiting = adminHelp();
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(existsSync(join(copy, 'dist.next')), false, 'nothing is built while the lock is held');
  rmSync(lock, { recursive: true });
  const waited = await waiting;
  assert.equal(waited.code, 0, waited.out);
  assert.match(waited.out, /Administer after waiting/);
});
