// test-stores: sqlite (the data directory's lock guards the embedded database; PostgreSQL is shared by design)
/**
 * One embedded server per data directory. A second server started on the same DATA_DIR, or on the
 * same file through DATABASE_URL=sqlite:…, exits at once with status 1 and says which directory
 * and which pid holds it, before it listens, while the first keeps serving. The admin CLI still
 * works beside the server; `npm start -- migrate` refuses while a server runs and works once none
 * does. The lock is the operating system's, so it dies with its process: after SIGKILL a new
 * server starts at once.
 */
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAdminProcess, type ProcessRun } from '../helpers/admin-process.ts';
import { demoAccount, startChildServer, stopChildServer, storeOf } from '../helpers/child-server.ts';
import { callSoap } from '../helpers/service.ts';

/**
 * `npm start [-- command]` as a process expected to end on its own; its output and exit code. One
 * still running after `limitMs` (a second server that did start) is killed: code null.
 */
function runServerCommand(env: Record<string, string>, args: readonly string[] = [], limitMs = 30_000): Promise<ProcessRun & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/server.js', ...args], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

test('a second server on the same data directory exits at once naming it and the holder; after SIGKILL a new server starts at once', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-lock-'));
  const storeEnv = { ...(await storeOf(dir)).env };
  try {
    const first = await startChildServer(dir);
    const demo = demoAccount(first);

    for (const env of [storeEnv, { DATABASE_URL: `sqlite:${join(dir, 'mailup.db')}` }]) {
      const second = await runServerCommand(env);
      assert.equal(second.code, 1, `a second server exits with status 1 (${JSON.stringify(env)}):\n${second.stdout}${second.stderr}`);
      assert.doesNotMatch(second.stdout, /listening/, 'it never listened');
      assert.match(second.stderr, /^cannot start: /);
      assert.ok(second.stderr.includes(`the data directory ${dir} is in use by another server (pid ${first.child.pid})`), second.stderr);
      assert.ok(second.stderr.includes(join(dir, 'mailup.db.lock')), second.stderr);
      assert.ok(second.ms < 20_000, `it exited at once (${second.ms} ms, most of it starting Node)`);
    }

    assert.ok(existsSync(join(dir, 'mailup.db.lock')), 'the lock file sits beside the database');

    // The first server is untouched and keeps serving.
    assert.equal(first.child.exitCode, null);
    assert.equal((await fetch(`${first.url}/healthz`)).status, 200);
    assert.equal((await callSoap(first.endpoint, 'GetNlLists', {}, demo.auth)).returnCode, 0);

    // The admin CLI does not take the lock: it works beside the running server.
    const cli = await runAdminProcess(['account', 'list', '--json'], storeEnv);
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok((JSON.parse(cli.stdout) as { wsUser: string }[]).some((a) => a.wsUser === demo.auth.User));

    // migrate would change the schema under the running server: refused, and nothing else happens.
    const migrateWhileRunning = await runServerCommand(storeEnv, ['migrate']);
    assert.equal(migrateWhileRunning.code, 1, migrateWhileRunning.stderr);
    assert.match(migrateWhileRunning.stderr, new RegExp(`^cannot migrate: the data directory .* is in use by another server \\(pid ${first.child.pid}\\)`));
    assert.equal((await callSoap(first.endpoint, 'GetNlLists', {}, demo.auth)).returnCode, 0, 'still serving');

    // SIGKILL: the operating system drops the lock with the process; a new server starts at once.
    assert.equal(await stopChildServer(first, 'SIGKILL'), null);
    const restartedAt = Date.now();
    const next = await startChildServer(dir);
    const restartMs = Date.now() - restartedAt;
    try {
      assert.ok(restartMs < 30_000, `the restart took ${restartMs} ms`);
      assert.equal((await callSoap(next.endpoint, 'GetNlLists', {}, demo.auth)).returnCode, 0, 'the same data, served again');
      const refused = await runServerCommand(storeEnv);
      assert.equal(refused.code, 1);
      assert.ok(refused.stderr.includes(`(pid ${next.child.pid})`), refused.stderr);
    } finally {
      assert.equal(await stopChildServer(next, 'SIGTERM'), 0);
    }

    // With no server running, migrate works (and a SIGTERM stop gave the lock back too).
    const migrate = await runServerCommand(storeEnv, ['migrate']);
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stdout, /the database schema is up to date/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
