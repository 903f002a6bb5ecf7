/**
 * The one place that chooses the store adapter from the configuration: the embedded SQLite file
 * by default, PostgreSQL when DATABASE_URL is a postgres:// URL.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config.ts';
import { applyMigrations as applyPostgresMigrations } from './postgres/migrate.ts';
import { withClient } from './postgres/pool.ts';
import { PostgresStore } from './postgres/postgres-store.ts';
import { applyMigrations as applySqliteMigrations } from './sqlite/migrate.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** Names this process's connections in pg_stat_activity (`mailup-import-worker`, …). */
  readonly applicationName?: string;
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
  return new SqliteStore(config.databasePath, { maxSize: config.sqliteMaxSize });
}

/**
 * Applies the pending migrations and returns their names: `npm start -- migrate`, the separate
 * upgrade step for deployments that start their servers with MIGRATE_ON_START=0.
 */
export async function migrateStore(config: Config): Promise<string[]> {
  if (config.store === 'postgres') {
    return withClient(config.databaseUrl!, 'mailup-import-migrate', applyPostgresMigrations);
  }
  mkdirSync(dirname(config.databasePath), { recursive: true });
  const db = new Database(config.databasePath);
  try {
    return applySqliteMigrations(db);
  } finally {
    db.close();
  }
}
