/**
 * The one better-sqlite3 connection of an embedded store (WAL): opening the file (pragmas,
 * migrations, the size cap), the cache of the concepts' inline statements, the read-only reader
 * connections of streamed reads, transactions, and closing. Every multi-statement change runs in a
 * synchronous better-sqlite3 transaction, so nothing else on the one connection can interleave
 * with it; the async Store methods only wrap those calls.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { applyMigrations } from './migrate.ts';
import { prepare, type Statement } from './prepare.ts';

/** The current time as the tables keep it (ISO text). */
export const now = (): string => new Date().toISOString();
/**
 * SQLite's own page cache per connection, in KiB (a negative cache_size). The operating system
 * keeps the file's pages cached as well, so a bigger cache bought nothing measurable: a
 * 1,000,000-subscriber import merged at the same rate with 2, 4, 16 and 256 MiB. It is memory each
 * connection holds once the pages are touched, though, and a server has two (the HTTP thread's
 * and the import thread's), and the server's peak fell by more than the two caches' difference:
 * over two imports of 1,000,000 subscribers it peaked at 420-451 MB with 16 MiB and at
 * 367-379 MB with 4 or 2 MiB (docs/decisions.md, "Running compiled JavaScript").
 */
const PAGE_CACHE_KIB = 4 * 1024;
/** How many inline statements a store keeps prepared (see `prepare` below). */
const MAX_CACHED_STATEMENTS = 256;

/** The pragmas of every read-write connection (and of the benchmark's floors, which must match). */
export function setPragmas(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
}

export class SqliteConnection {
  private readonly db: Database.Database;
  /**
   * Statements of the queries the concepts write inline, prepared on first use: preparing parses
   * and plans the SQL, which costs more than running most of these queries. Only this connection
   * runs them, one at a time (none is left iterating), so sharing a statement is safe. SQL built
   * with varying parts (filters, SET lists) has a few forms each; the cap bounds it anyway.
   */
  private readonly statements = new Map<string, Statement>();
  readonly prepare = (sql: string): Statement => {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = prepare(this.db, sql);
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  };

  /** Read-only connections of exports and streamed reports still open; closed with the store. */
  private readonly readers = new Set<Database.Database>();

  /**
   * @param options.maxSize caps the file (bytes): past it writes fail with SQLITE_FULL, as on a
   *   full disk, and the import that hit it ends in status 4.
   */
  constructor(path: string, options: { maxSize?: number | null } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    setPragmas(this.db);
    applyMigrations(this.db);
    if (options.maxSize) {
      const pageSize = Number(this.db.pragma('page_size', { simple: true }));
      this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxSize / pageSize))}`);
    }
  }

  /**
   * Prepares a named statement now, outside the cache. Each concept prepares its named statements
   * in its constructor, once, at start-up, so a typo fails on boot.
   */
  named(sql: string): Statement {
    return prepare(this.db, sql);
  }

  /**
   * A better-sqlite3 transaction on the connection: call it, or its `.immediate()` when it reads
   * before it writes (why: createAccount in ./accounts.ts).
   */
  transaction<F extends (...params: any[]) => unknown>(fn: F): Database.Transaction<F> {
    return this.db.transaction(fn);
  }

  /**
   * A read-only connection for one long read (an export), so that its snapshot never blocks the
   * main connection between the chunks it streams. WAL lets it read while imports write. An
   * in-memory database cannot be opened twice, so streamed reads need a database file.
   */
  openReader(): Database.Database {
    if (this.db.memory) throw new Error('streamed reads need a database file, not :memory:');
    const reader = new Database(this.db.name, { readonly: true, fileMustExist: true });
    reader.pragma('busy_timeout = 5000');
    this.readers.add(reader);
    // The whole read sees one snapshot.
    reader.exec('BEGIN');
    return reader;
  }

  closeReader(reader: Database.Database): void {
    if (!this.readers.delete(reader)) return;
    try {
      if (reader.inTransaction) reader.exec('COMMIT');
    } finally {
      reader.close();
    }
  }

  close(): void {
    for (const reader of [...this.readers]) this.closeReader(reader);
    this.db.close();
  }
}
