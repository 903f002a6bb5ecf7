/**
 * Builds the service: the TypeScript of src/ (and the client modules it imports) compiled by tsc
 * (tsconfig.build.json) into dist/, beside the files the code reads at run time (the stores'
 * migrations, the console's assets). The service runs from dist/, not through a TypeScript loader:
 * it starts faster and holds less memory in each of its threads (docs/decisions.md, "Running
 * compiled JavaScript").
 *
 *   npm run build         always builds
 *   bin/server.js, bin/admin.js (npm start, npm run admin) build first when a source is newer
 *   than the last build, so an edited or freshly pulled tree never runs stale code
 *
 * The build compiles without type checking (tsc's noCheck, as a loader would): a type error does
 * not stop the service from starting; `npm run typecheck` reports it. Nor does it load type
 * definitions (`types: []`), which are development packages: `npm ci --omit=dev` builds too.
 * It is written to dist.next and then put in place, so a process starting meanwhile never loads
 * half a build, and a lock lets only one of several processes started together do it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const NEXT = join(ROOT, 'dist.next');
const OLD = join(ROOT, 'dist.old');
const LOCK = join(ROOT, 'dist.lock');
/** Written when a build starts and left in the build it made: a source newer than it is not built yet. */
const STAMP = '.built';
/** What a build is made from: a change to any of these (tests aside) makes dist/ stale. */
const SOURCES = ['src', 'client/src', 'tsconfig.json', 'tsconfig.build.json'];
/** A lock older than this was left by a build that died; the next one takes it over. */
const STALE_LOCK_MS = 5 * 60_000;

function* files(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return;
  if (!stat.isDirectory()) {
    yield { path, mtimeMs: stat.mtimeMs };
    return;
  }
  for (const entry of readdirSync(path)) yield* files(join(path, entry));
}

/** Whether dist/ is missing or older than one of its sources. */
export function isStale() {
  const stamp = statSync(join(DIST, STAMP), { throwIfNoEntry: false });
  if (stamp === undefined) return true;
  for (const source of SOURCES) {
    for (const file of files(join(ROOT, source))) {
      if (file.mtimeMs > stamp.mtimeMs && !file.path.endsWith('.test.ts')) return true;
    }
  }
  return false;
}

/** Compiles into dist.next, copies the run-time files beside the code, and puts it in place of dist/. */
export function build() {
  const started = new Date();
  rmSync(NEXT, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', NEXT], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`the build failed: tsc exited with ${result.status ?? result.signal}`);
  // Every file of src/ that is not TypeScript is read at run time. The one JavaScript module there
  // is the thread entry that registers the loader when the service runs from source (tests).
  for (const { path } of files(join(ROOT, 'src'))) {
    if (path.endsWith('.ts') || path.endsWith('.mjs')) continue;
    const target = join(NEXT, relative(ROOT, path));
    cpSync(path, target);
  }
  writeFileSync(join(NEXT, STAMP), '');
  utimesSync(join(NEXT, STAMP), started, started);
  rmSync(OLD, { recursive: true, force: true });
  if (existsSync(DIST)) renameSync(DIST, OLD);
  renameSync(NEXT, DIST);
  rmSync(OLD, { recursive: true, force: true });
}

/** Runs `work` holding the build lock, waiting (synchronously: nothing else runs before a start) while another process holds it. */
function locked(work) {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const held = statSync(LOCK, { throwIfNoEntry: false });
      if (held !== undefined && Date.now() - held.mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Builds when dist/ is stale; a process that finds another building waits for it and then looks again. */
export function ensureBuilt() {
  if (isStale()) locked(() => isStale() && build());
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) locked(build);
