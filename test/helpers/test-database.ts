/**
 * The store a test runs on, chosen by TEST_STORE (`sqlite`, the default, or `postgres`), and a
 * store-agnostic way to look at what it holds.
 *
 * SQLite: a temporary folder. PostgreSQL: a fresh database on 127.0.0.1:5432 (TEST_PG_ADMIN_URL
 * overrides where), copied from a template that already has the migrations, dropped at the end.
 * Every database of a run is named `mailup_test_<run>_…`; `npm test` drops any its run leaves.
 *
 * `query` takes one SQL text for both engines (`?` placeholders, SQL both understand) and
 * answers rows as SQLite would: dates as ISO strings, booleans as 1/0, JSON as text.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { applyMigrations } from '../../src/store/postgres/migrate.ts';
import { types, withClient } from '../../src/store/postgres/pool.ts';

export type TestStoreKind = 'sqlite' | 'postgres';

function storeFromEnv(): TestStoreKind {
  const raw = process.env.TEST_STORE ?? 'sqlite';
  if (raw !== 'sqlite' && raw !== 'postgres') throw new Error(`TEST_STORE must be sqlite or postgres, not "${raw}"`);
  return raw;
}

/** The store this test run uses. */
export const TEST_STORE: TestStoreKind = storeFromEnv();

const ADMIN_URL = process.env.TEST_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
/** Names this run's databases; set by `npm test` for all its test processes, random otherwise. */
const RUN = (process.env.TEST_PG_RUN || randomBytes(4).toString('hex')).toLowerCase().replace(/[^a-z0-9]/g, '');
const OWNS_RUN = !process.env.TEST_PG_RUN;
const PREFIX = `mailup_test_${RUN}_`;

export type SqlRow = Record<string, unknown>;

export interface TestDatabase {
  readonly kind: TestStoreKind;
  /** The service's data folder (with SQLite, the database file is in it). */
  readonly dataDir: string;
  /** Environment that points a service (in this process or a child) at this database: DATA_DIR, and DATABASE_URL for PostgreSQL. */
  readonly env: Readonly<Record<string, string>>;
  /** Rows of a read-only query written for both engines, with `?` placeholders, normalised as SQLite gives them. */
  query<T = SqlRow>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a statement that changes data (test set-up only, e.g. a bounce the service has no operation for). */
  execute(sql: string, params?: readonly unknown[]): Promise<void>;
  /** The tables of the schema, by name. */
  tables(): Promise<string[]>;
  /** Closes connections; removes the database and the folder if they were made for this object. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /**
   * A folder a test made and removes itself, for services restarted on the same data: with
   * SQLite the database lives in it; with PostgreSQL the same folder always maps to the same
   * database, which stays until the end of the test process.
   */
  readonly dataDir?: string;
  /**
   * A database nothing has set up yet: with SQLite an empty folder, with PostgreSQL a database
   * without the schema (a new one, as an operator creates it before the first start).
   */
  readonly empty?: boolean;
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  return TEST_STORE === 'postgres' ? postgresDatabase(options) : sqliteDatabase(options);
}

// SQLite

function sqliteDatabase(options: TestDatabaseOptions): TestDatabase {
  const owns = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'mailup-test-'));
  const path = join(dataDir, 'mailup.db');
  const open = (readonly: boolean): Database.Database => {
    const db = new Database(path, { readonly, fileMustExist: true });
    // The service's worker thread may be writing: wait for it as the service's own connections do.
    db.pragma('busy_timeout = 5000');
    return db;
  };
  const query = async <T = SqlRow>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
    const db = open(true);
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };
  return {
    kind: 'sqlite',
    dataDir,
    env: { DATA_DIR: dataDir },
    query,
    async execute(sql, params = []) {
      const db = open(false);
      try {
        db.prepare(sql).run(...params);
      } finally {
        db.close();
      }
    },
    async tables() {
      return (await query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
        .map((t) => t.name);
    },
    async drop() {
      if (owns) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// PostgreSQL

const urlOf = (database: string): string => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
};

const admin = <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => withClient(ADMIN_URL, 'mailup-test-admin', fn);

/** The migrations' contents name the template, so a run never copies an outdated schema. */
function migrationsHash(): string {
  const dir = new URL('../../src/store/postgres/migrations/', import.meta.url);
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) hash.update(name).update(readFileSync(new URL(name, dir)));
  return hash.digest('hex').slice(0, 10);
}

let template: Promise<string> | null = null;
const TEMPLATE_LOCK = 6_246_587_002;

/** A database with every migration applied, that fresh test databases are copied from. */
function templateDatabase(): Promise<string> {
  template ??= admin(async (client) => {
    const name = `${PREFIX}tpl_${migrationsHash()}`;
    // Test processes of one run start at the same time: one builds the template, the others wait.
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) {
        await client.query(`CREATE DATABASE "${name}"`);
        await withClient(urlOf(name), 'mailup-test-template', applyMigrations);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
    }
    if (OWNS_RUN) dropAtExit.add(name);
    return name;
  });
  return template;
}

/** Databases this process keeps until it ends (restart tests, its own template). */
const dropAtExit = new Set<string>();
let exitHook = false;
function registerExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  let dropping = false;
  process.on('beforeExit', () => {
    if (dropping || dropAtExit.size === 0) return;
    dropping = true;
    const names = [...dropAtExit];
    dropAtExit.clear();
    void admin(async (client) => {
      for (const name of names) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }).catch(() => {});
  });
}

/** Turns `?` placeholders (outside quotes) into `$1`, `$2`, … */
function numberPlaceholders(sql: string): string {
  let n = 0;
  let quote: string | null = null;
  let out = '';
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}

/** A value as SQLite's driver would give it. */
function likeSqlite(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) return JSON.stringify(v);
  return v;
}

async function postgresDatabase(options: TestDatabaseOptions): Promise<TestDatabase> {
  registerExitHook();
  const keyed = options.dataDir !== undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'mailup-test-'));
  const name = keyed
    ? `${PREFIX}d${createHash('sha256').update(options.dataDir!).digest('hex').slice(0, 16)}`
    : `${PREFIX}${randomBytes(8).toString('hex')}`;
  const source = options.empty ? 'template0' : await templateDatabase();
  await admin(async (client) => {
    const exists = keyed && (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
    if (!exists) await client.query(`CREATE DATABASE "${name}" TEMPLATE "${source}"`);
  });
  if (keyed) dropAtExit.add(name);
  const url = urlOf(name);
  // Idle connections do not keep the test process alive: a database kept for restarts is never closed.
  const pool = new pg.Pool({ connectionString: url, max: 2, types, allowExitOnIdle: true, idleTimeoutMillis: 1000, application_name: 'mailup-test-inspect' });
  pool.on('error', () => {});
  const query = async <T = SqlRow>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
    const { rows } = await pool.query<SqlRow>(numberPlaceholders(sql), params as unknown[]);
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, likeSqlite(v)])) as T);
  };
  return {
    kind: 'postgres',
    dataDir,
    env: { DATA_DIR: dataDir, DATABASE_URL: url },
    query,
    async execute(sql, params = []) {
      await pool.query(numberPlaceholders(sql), params as unknown[]);
    },
    async tables() {
      return (await query<{ name: string }>(`
        SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)).map((t) => t.name);
    },
    async drop() {
      if (keyed) return;
      await pool.end();
      await admin((a) => a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
