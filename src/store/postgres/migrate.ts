/**
 * PostgreSQL migrations: the numbered files of `./migrations`, mirroring the SQLite store's, each
 * applied once in its own transaction. Several servers may start at the same moment against one
 * database, so the whole run holds an advisory lock: the first applies, the others wait and then
 * find nothing left to do.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
/** Advisory lock key of the migration run (the two-key locks of the store are a separate key space). */
const MIGRATION_LOCK = 6_246_587_001;

export class SchemaBehindError extends Error {
  constructor(readonly pending: readonly string[]) {
    super(`the PostgreSQL schema is behind this version (pending: ${pending.join(', ')}); run \`npm start -- migrate\` or start with MIGRATE_ON_START=1`);
    this.name = 'SchemaBehindError';
  }
}

function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort();
}

async function appliedMigrations(client: pg.ClientBase): Promise<Set<string>> {
  await client.query('CREATE TABLE IF NOT EXISTS schema_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  const { rows } = await client.query<{ name: string }>('SELECT name FROM schema_migration');
  return new Set(rows.map((r) => r.name));
}

/**
 * Applies the pending migrations; returns their names. `through` stops after the migration whose
 * number it names ('0010'): a database made by an earlier version, for the tests that move one forward.
 */
export async function applyMigrations(client: pg.ClientBase, options: { readonly through?: string } = {}): Promise<string[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    const done = await appliedMigrations(client);
    const applied: string[] = [];
    for (const name of migrationFiles()) {
      if (done.has(name) || (options.through !== undefined && name.slice(0, 4) > options.through)) continue;
      const sql = readFileSync(new URL(name, MIGRATIONS_DIR), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migration (name) VALUES ($1)', [name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      applied.push(name);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}

/** The migrations this version has that the database has not applied. */
export async function pendingMigrations(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ present: boolean }>("SELECT to_regclass('schema_migration') IS NOT NULL AS present");
  const done = rows[0]!.present
    ? new Set((await client.query<{ name: string }>('SELECT name FROM schema_migration')).rows.map((r) => r.name))
    : new Set<string>();
  return migrationFiles().filter((name) => !done.has(name));
}
