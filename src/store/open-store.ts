/**
 * The one place that chooses the store adapter from the configuration: the embedded SQLite file
 * by default, PostgreSQL when DATABASE_URL is a postgres:// URL.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config.ts';
import { applyMigrations as applyPostgresMigrations } from './postgres/migrate.ts';
import { withClient } from './postgres/pool.ts';
import { PostgresStore } from './postgres/store.ts';
import { DataDirLock } from './sqlite/data-dir-lock.ts';
import { applyMigrations as applySqliteMigrations } from './sqlite/migrate.ts';
import { SqliteStore } from './sqlite/store.ts';
import type { Store } from './store.ts';

export { DataDirLockedError } from './sqlite/data-dir-lock.ts';

export interface OpenStoreOptions {
  /** Names this process's connections in pg_stat_activity (`mailup-import-worker`, …). */
  readonly applicationName?: string;
  /**
   * With SQLite, take the data directory's lock first and hold it until the store closes
   * (sqlite/data-dir-lock.ts): the server does, so that a second server on the same database
   * fails at once with DataDirLockedError. The admin CLI and the import thread do not. PostgreSQL
   * has no such lock: any number of servers share it.
   */
  readonly lockDataDir?: boolean;
}

export async function openStore(config: Config, options: OpenStoreOptions = {}): Promise<Store> {
  if (config.store === 'postgres') {
    return PostgresStore.open({
      connectionString: config.databaseUrl!,
      poolSize: config.databasePoolSize,
      migrate: config.migrateOnStart,
      ...(options.applicationName ? { applicationName: options.applicationName } : {}),
    });
  }
  return new SqliteStore(config.databasePath, { maxSize: config.sqliteMaxSize, lockDataDir: options.lockDataDir === true });
}

/**
 * Whether the configured store has been made already: the SQLite file exists, or the PostgreSQL
 * database holds the schema (a server has started on it, or `migrate` ran). Opening a store
 * makes it; the admin CLI asks first, so that a mistyped DATA_DIR is not a new, empty database.
 */
export async function storeExists(config: Config): Promise<boolean> {
  if (config.store === 'postgres') {
    return withClient(config.databaseUrl!, 'mailup-import-admin', async (client) =>
      (await client.query<{ present: boolean }>("SELECT to_regclass('schema_migration') IS NOT NULL AS present")).rows[0]!.present);
  }
  return existsSync(config.databasePath);
}

/**
 * Applies the pending migrations and returns their names: `npm start -- migrate`, the separate
 * upgrade step for deployments that start their servers with MIGRATE_ON_START=0.
 *
 * With SQLite it takes the data directory's lock as a server does, so it refuses (with
 * DataDirLockedError) while a server runs on the database: it would change the schema under that
 * server. Stop the server first; a SQLite server applies pending migrations itself at start-up.
 */
export async function migrateStore(config: Config): Promise<string[]> {
  if (config.store === 'postgres') {
    return withClient(config.databaseUrl!, 'mailup-import-migrate', applyPostgresMigrations);
  }
  mkdirSync(dirname(config.databasePath), { recursive: true });
  const lock = DataDirLock.acquire(config.databasePath);
  try {
    const db = new Database(config.databasePath);
    try {
      return applySqliteMigrations(db);
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}
