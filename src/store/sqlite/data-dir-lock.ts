/**
 * The data directory's lock: one embedded server per SQLite database. The server takes it at
 * start-up, before it opens (and migrates) the database, and holds it for the life of the
 * process; a second server on the same database fails at once with DataDirLockedError.
 *
 * The lock is SQLite's own file lock on a small lock database beside the data (`<database>.lock`,
 * e.g. `data/mailup.db.lock`): a connection in exclusive locking mode with a transaction that is
 * never committed holds an exclusive POSIX lock on that file. The operating system drops the lock
 * with the process, however it ends (SIGKILL, a crash), so no stale lock ever blocks a restart:
 * the file stays, the lock does not. Another opener asks without a busy timeout and gets
 * SQLITE_BUSY at once. The admin CLI and the server's import thread open the database itself,
 * never this file, so they work while the server runs.
 *
 * A POSIX lock belongs to the process and is dropped when the process closes any descriptor of
 * the file, so nothing but this connection may open the lock file in a server (SQLite's own
 * connections know it: a second one in the same process is refused like another process).
 */
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** The lock file of a SQLite database. */
export function lockPathOf(databasePath: string): string {
  return `${databasePath}.lock`;
}

export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';

  constructor(readonly databasePath: string, readonly lockPath: string, readonly holderPid: number | null) {
    super(`the data directory ${dirname(databasePath)} is in use by another server${holderPid === null ? '' : ` (pid ${holderPid})`}: `
      + `it holds ${lockPath}, the lock of the database ${databasePath}`);
    this.name = 'DataDirLockedError';
  }
}

export class DataDirLock {
  private constructor(private db: Database.Database | null, readonly path: string) {}

  /** Takes the lock of the database at `databasePath`, or throws DataDirLockedError at once. */
  static acquire(databasePath: string): DataDirLock {
    const path = lockPathOf(databasePath);
    mkdirSync(dirname(path), { recursive: true });
    // timeout 0: a held lock is an answer now, not something to wait for.
    const db = new Database(path, { timeout: 0 });
    try {
      // Exclusive locking mode never gives a file lock back before the connection closes; the
      // open EXCLUSIVE transaction takes SQLite's exclusive lock at once. Nothing is written (a
      // journal in memory leaves no file beside the lock).
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new DataDirLockedError(databasePath, path, lockHolderPid(path));
      throw err;
    }
    return new DataDirLock(db, path);
  }

  /** Gives the lock back (closing the connection ends the transaction and drops the file lock). */
  release(): void {
    this.db?.close();
    this.db = null;
  }
}

/** SQLite's lock bytes start at its PENDING_BYTE, 0x40000000. */
const SQLITE_LOCK_START = 0x40000000;

/**
 * The pid of the process that holds a POSIX lock on the file, as the kernel lists it in
 * /proc/locks (Linux); null where that cannot be told.
 */
export function lockHolderPid(path: string): number | null {
  try {
    const { ino, dev } = statSync(path, { bigint: true });
    // glibc's encoding of st_dev; /proc/locks prints major:minor in hex.
    const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
    const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
    const candidates: { pid: number; sameDevice: boolean }[] = [];
    for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
      // "1: POSIX  ADVISORY  WRITE 4711 fe:00:2171660 1073741824 1073742335" (blocked waiters start with "->")
      const m = /^\d+:\s+POSIX\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s+(\d+)\s/.exec(line);
      if (!m || BigInt(m[4]!) !== ino || Number(m[5]) < SQLITE_LOCK_START) continue;
      candidates.push({ pid: Number(m[1]), sameDevice: BigInt(`0x${m[2]}`) === major && BigInt(`0x${m[3]}`) === minor });
    }
    // The device numbers can differ on layered filesystems (overlayfs): the inode alone then decides.
    const found = candidates.find((c) => c.sameDevice) ?? candidates[0];
    return found && found.pid > 0 ? found.pid : null;
  } catch {
    return null;
  }
}
