/**
 * Applies the numbered migrations of `./migrations` that the database has not seen, in order,
 * each in its own transaction. Runs at start-up.
 */
import type Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

/**
 * `through` stops after the migration whose number it names ('0010'): a database made by an
 * earlier version, for the tests that move one forward.
 */
export function applyMigrations(db: Database.Database, options: { readonly through?: string } = {}): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migration (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const done = new Set((db.prepare('SELECT name FROM schema_migration').all() as { name: string }[]).map((r) => r.name));
  const applied: string[] = [];
  for (const name of readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort()) {
    if (done.has(name) || (options.through !== undefined && name.slice(0, 4) > options.through)) continue;
    const sql = readFileSync(new URL(name, MIGRATIONS_DIR), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migration (name, applied_at) VALUES (?, ?)').run(name, new Date().toISOString());
    }).immediate();
    applied.push(name);
  }
  return applied;
}
