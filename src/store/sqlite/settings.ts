/**
 * Key/value settings of the installation on SQLite.
 */
import type { Row } from '../common/row-mappers.ts';
import type { SettingStore } from '../settings.ts';
import type { SqliteConnection } from './connection.ts';

export class SqliteSettings implements SettingStore {
  constructor(private readonly db: SqliteConnection) {}

  async getSetting(key: string): Promise<string | null> {
    const r = this.db.prepare('SELECT value FROM setting WHERE key = ?').get(key) as Row | undefined;
    return r ? String(r.value) : null;
  }

  async setSettingIfAbsent(key: string, value: string): Promise<string> {
    this.db.prepare('INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
    return (await this.getSetting(key))!;
  }
}
