/**
 * The admin CLI works only on a store that exists (a server has started on it, or `migrate`
 * ran): a mistyped DATA_DIR or DATABASE_URL is an error that creates nothing, and `--create`
 * makes the empty store on purpose. On both stores: with SQLite no database file, with
 * PostgreSQL a database without the schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { createTestDatabase, TEST_STORE, type TestDatabase } from '../helpers/test-database.ts';

/** Whether the store holds the schema, as the engine itself says. */
async function hasSchema(db: TestDatabase): Promise<boolean> {
  if (TEST_STORE === 'sqlite') return existsSync(join(db.dataDir, 'mailup.db'));
  const rows = await db.query<{ present: number }>("SELECT to_regclass('schema_migration') IS NOT NULL AS present");
  return rows[0]!.present === 1;
}

test('a store that does not exist yet is refused, and nothing is created', async () => {
  const db = await createTestDatabase({ empty: true });
  try {
    const run = await runAdminProcess(['account', 'list'], db.env);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`there is no ${TEST_STORE === 'sqlite' ? 'SQLite' : 'PostgreSQL'} database`));
    assert.match(run.stderr, /--create/);
    assert.doesNotMatch(run.stderr, /postgres:\/\/[^@\s]*:[^*@\s]+@/, 'no password in the message');
    assert.equal(await hasSchema(db), false);
  } finally {
    await db.drop();
  }
});

test('--create makes the empty store, which then works without it', async () => {
  const db = await createTestDatabase({ empty: true });
  try {
    const created = await runAdminProcess(['--create', 'account', 'create', '--name', 'First', '--json'], db.env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).wsUser, 'a1001');
    assert.equal(await hasSchema(db), true);
    const listed = await runAdminProcess(['account', 'list', '--json'], db.env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).map((a: { wsUser: string }) => a.wsUser), ['a1001']);
  } finally {
    await db.drop();
  }
});
