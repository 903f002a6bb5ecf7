import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirLock, DataDirLockedError, lockHolderPid, lockPathOf } from './data-dir-lock.ts';

test('the lock is held until released, refused at once meanwhile (naming the holder), and taken again after', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-lock-unit-'));
  try {
    const database = join(dir, 'sub', 'mailup.db');
    const lock = DataDirLock.acquire(database);
    assert.equal(lock.path, `${database}.lock`);
    assert.equal(lockPathOf(database), lock.path);
    const started = Date.now();
    const refused = (() => {
      try {
        DataDirLock.acquire(database);
      } catch (err) {
        return err;
      }
      assert.fail('a second lock was granted');
    })();
    assert.ok(Date.now() - started < 1000, 'refused without waiting');
    assert.ok(refused instanceof DataDirLockedError);
    assert.deepEqual([refused.databasePath, refused.lockPath], [database, lock.path]);
    if (process.platform === 'linux') assert.equal(refused.holderPid, process.pid);
    assert.match(refused.message, new RegExp(`^the data directory ${join(dir, 'sub')} is in use by another server`));
    lock.release();
    lock.release();
    const again = DataDirLock.acquire(database);
    again.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the operating system drops the lock with a process killed by SIGKILL', { skip: process.platform === 'win32' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-lock-kill-'));
  try {
    const database = join(dir, 'mailup.db');
    const holder = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      const { DataDirLock } = await import(${JSON.stringify(new URL('./data-dir-lock.ts', import.meta.url).href)});
      DataDirLock.acquire(${JSON.stringify(database)});
      process.stdout.write('held\\n');
      setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(holder.stdout!, 'data');
    assert.throws(() => DataDirLock.acquire(database), (err) => err instanceof DataDirLockedError && (process.platform !== 'linux' || err.holderPid === holder.pid));
    if (process.platform === 'linux') assert.equal(lockHolderPid(lockPathOf(database)), holder.pid);
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const lock = DataDirLock.acquire(database);
    lock.release();
    assert.equal(lockHolderPid(lockPathOf(database)), null, 'nobody holds it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
