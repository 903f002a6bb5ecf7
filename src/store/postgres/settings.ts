/**
 * Key/value settings of the installation on PostgreSQL.
 */
import type pg from 'pg';
import type { SettingStore } from '../settings.ts';
import { queryRow, queryRows } from './pool.ts';

export class PgSettings implements SettingStore {
  constructor(private readonly pool: pg.Pool) {}

  async getSetting(key: string): Promise<string | null> {
    const r = await queryRow(this.pool, 'SELECT value FROM setting WHERE key = $1', [key]);
    return r ? String(r.value) : null;
  }

  async setSettingIfAbsent(key: string, value: string): Promise<string> {
    await queryRows(this.pool, 'INSERT INTO setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.getSetting(key))!;
  }
}
