/**
 * Migration 0011 (one subscription row per recipient and list, both channels in it) on a
 * database made by the schema before it: 100,000 recipients with e-mail, SMS or both, on three
 * lists, pending and unsubscribed ones with their reasons, confirmation dates, request addresses,
 * import processes and groups. After the move, every recipient's state read through the store
 * (the single-recipient store, the listings, the console's detail, counts and export) is the one
 * the old rows held, and the per-channel view gives back the old rows exactly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/store/open-store.ts';
import { applyMigrations as applyPostgresMigrations } from '../../src/store/postgres/migrate.ts';
import { withClient } from '../../src/store/postgres/pool.ts';
import { applyMigrations as applySqliteMigrations } from '../../src/store/sqlite/migrate.ts';
import type { Store } from '../../src/store/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

const RECIPIENTS = 100_000;
/** The last migration before the one under test. */
const BEFORE = '0010';
const REASONS = ['user', 'import', 'bounce', 'complaint'] as const;

interface OldRow {
  recipient: number; // fixture index, 1-based
  list: number; // 0, 1, 2
  channel: 'email' | 'sms';
  status: 'subscribed' | 'pending' | 'unsubscribed';
  reason: string | null;
  process: number | null;
  updatedAt: string;
  confirmedAt: string | null;
  requestIp: string | null;
}

const at = (seconds: number): string => new Date(Date.UTC(2026, 0, 1) + seconds * 1000).toISOString();

function fixtureRecipient(i: number): { email: string | null; mobile: string | null; name: string } {
  const email = i % 5 === 0 ? null : `r${i}@example.it`;
  const mobile = i % 3 === 0 || email === null ? `+39300${String(i).padStart(7, '0')}` : null;
  return { email, mobile, name: `R${i}` };
}

function channelRow(i: number, list: number, channel: 'email' | 'sms', salt: number): OldRow {
  const k = (i * 31 + salt) % 17;
  const status = k === 1 || k === 2 ? 'pending' : k >= 3 && k <= 6 ? 'unsubscribed' : 'subscribed';
  return {
    recipient: i, list, channel, status,
    reason: status === 'unsubscribed' ? REASONS[k % 4]! : null,
    process: i % 13 === 0 ? null : 1000 + (i + salt) % 5,
    updatedAt: at(i * 3 + salt),
    confirmedAt: channel === 'email' && status === 'subscribed' && i % 4 === 0 ? at(i * 3 + salt + 1) : null,
    requestIp: i % 6 === 0 ? `10.0.${i % 250}.${salt}` : null,
  };
}

/** The old rows: list 0 holds everyone on every channel they have; list 1 every third by e-mail; list 2 every tenth by SMS. */
function oldRows(): OldRow[] {
  const rows: OldRow[] = [];
  for (let i = 1; i <= RECIPIENTS; i++) {
    const r = fixtureRecipient(i);
    if (r.email !== null) rows.push(channelRow(i, 0, 'email', 1));
    if (r.mobile !== null) rows.push(channelRow(i, 0, 'sms', 2));
    if (i % 3 === 1 && r.email !== null) rows.push(channelRow(i, 1, 'email', 3));
    if (i % 10 === 7 && r.mobile !== null) rows.push(channelRow(i, 2, 'sms', 4));
  }
  return rows;
}

/** Group 0 (list 0) holds every fourth recipient, group 1 (list 0) every ninth, group 2 (list 1) every fifteenth. */
const groupsOf = (i: number): number[] => [i % 4 === 0 ? 0 : -1, i % 9 === 0 ? 1 : -1, i % 15 === 1 ? 2 : -1].filter((g) => g >= 0);

interface Ids { account: number; lists: number[]; groups: number[]; recipients: number[] }

/** Writes the fixture into a database at migration BEFORE, in the old schema's own terms. */
async function writeOldDatabase(db: TestDatabase, rows: readonly OldRow[]): Promise<Ids> {
  const people = Array.from({ length: RECIPIENTS }, (_, n) => fixtureRecipient(n + 1));
  if (db.kind === 'sqlite') {
    const conn = new Database(join(db.dataDir, 'mailup.db'));
    try {
      applySqliteMigrations(conn, { through: BEFORE });
      return conn.transaction((): Ids => {
        const t = at(0);
        const account = Number(conn.prepare("INSERT INTO account (ws_user, password_hash, created_at) VALUES ('a-mig', 'x', ?) RETURNING id").pluck().get(t));
        const lists = [0, 1, 2].map((n) => Number(conn.prepare('INSERT INTO list (account_id, guid, name, created_at) VALUES (?, ?, ?, ?) RETURNING id')
          .pluck().get(account, `guid-mig-${n}`, `List ${n}`, t)));
        const groups = [lists[0]!, lists[0]!, lists[1]!].map((list, n) => Number(conn.prepare('INSERT INTO "group" (list_id, name, created_at) VALUES (?, ?, ?) RETURNING id')
          .pluck().get(list, `Group ${n}`, t)));
        const insertRecipient = conn.prepare('INSERT INTO recipient (account_id, email, mobile, name, fields, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
        const recipients = people.map((p, n) => Number(insertRecipient.run(account, p.email, p.mobile, p.name, JSON.stringify({ 1: `f${n}` }), t, t).lastInsertRowid));
        const insertSubscription = conn.prepare(`INSERT INTO subscription (recipient_id, list_id, channel, status, reason, process_id, updated_at, confirmed_at, request_ip)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
        for (const r of rows) {
          insertSubscription.run(recipients[r.recipient - 1], lists[r.list], r.channel, r.status, r.reason, r.process, r.updatedAt, r.confirmedAt, r.requestIp);
        }
        const insertMembership = conn.prepare('INSERT INTO membership (recipient_id, group_id) VALUES (?, ?)');
        for (let i = 1; i <= RECIPIENTS; i++) for (const g of groupsOf(i)) insertMembership.run(recipients[i - 1], groups[g]);
        return { account, lists, groups, recipients };
      })();
    } finally {
      conn.close();
    }
  }
  return withClient(db.env.DATABASE_URL!, 'mailup-test-migration', async (c) => {
    await applyPostgresMigrations(c, { through: BEFORE });
    await c.query('BEGIN');
    const one = async (sql: string, values: unknown[]): Promise<number> => Number((await c.query<{ id: string }>(sql, values)).rows[0]!.id);
    const account = await one("INSERT INTO account (id, ws_user, password_hash) VALUES (7, 'a-mig', 'x') RETURNING id", []);
    const lists: number[] = [];
    for (const n of [0, 1, 2]) lists.push(await one('INSERT INTO list (account_id, guid, name) VALUES ($1, $2, $3) RETURNING id', [account, `guid-mig-${n}`, `List ${n}`]));
    const groups: number[] = [];
    for (const [n, list] of [lists[0]!, lists[0]!, lists[1]!].entries()) {
      groups.push(await one('INSERT INTO "group" (list_id, name) VALUES ($1, $2) RETURNING id', [list, `Group ${n}`]));
    }
    const { rows: inserted } = await c.query<{ id: string; name: string }>(`
      INSERT INTO recipient (account_id, email, mobile, name, fields, created_at, updated_at)
      SELECT $1, u.email, u.mobile, u.name, u.fields::jsonb, $6, $6 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(email, mobile, name, fields)
      RETURNING id, name`,
    [account, people.map((p) => p.email), people.map((p) => p.mobile), people.map((p) => p.name), people.map((_, n) => JSON.stringify({ 1: `f${n}` })), at(0)]);
    const recipients: number[] = new Array(RECIPIENTS);
    for (const r of inserted) recipients[Number(r.name.slice(1)) - 1] = Number(r.id);
    for (let from = 0; from < rows.length; from += 20_000) {
      const chunk = rows.slice(from, from + 20_000);
      await c.query(`
        INSERT INTO subscription (recipient_id, list_id, channel, status, reason, process_id, updated_at, confirmed_at, request_ip)
        SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::text[])`,
      [chunk.map((r) => recipients[r.recipient - 1]), chunk.map((r) => lists[r.list]), chunk.map((r) => r.channel), chunk.map((r) => r.status),
        chunk.map((r) => r.reason), chunk.map((r) => r.process), chunk.map((r) => r.updatedAt), chunk.map((r) => r.confirmedAt), chunk.map((r) => r.requestIp)]);
    }
    const members: [number, number][] = [];
    for (let i = 1; i <= RECIPIENTS; i++) for (const g of groupsOf(i)) members.push([recipients[i - 1]!, groups[g]!]);
    await c.query('INSERT INTO membership (recipient_id, group_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])', [members.map((m) => m[0]), members.map((m) => m[1])]);
    await c.query('COMMIT');
    return { account, lists, groups, recipients };
  });
}

let db: TestDatabase;
let store: Store;
let ids: Ids;
const rows = oldRows();

before(async () => {
  db = await createTestDatabase({ empty: true });
  ids = await writeOldDatabase(db, rows);
  // Opening the store applies the migrations after BEFORE, as a server started on the old database does.
  store = await openStore(loadConfig({ ...db.env, LOG_LEVEL: 'silent', DATABASE_POOL_SIZE: '4' }));
});

after(async () => {
  await store?.close();
  await db?.drop();
});

/** The old rows of one recipient id, in the order the store sorts them (list, then channel). */
const byRecipient = new Map<number, OldRow[]>();
for (const r of rows) {
  if (!byRecipient.has(r.recipient)) byRecipient.set(r.recipient, []);
  byRecipient.get(r.recipient)!.push(r);
}
const sorted = (list: readonly OldRow[]): OldRow[] => [...list].sort((a, b) => a.list - b.list || a.channel.localeCompare(b.channel));

test('the per-channel view gives back every old row, column for column', async () => {
  const listIndex = new Map(ids.lists.map((id, n) => [id, n]));
  const recipientIndex = new Map(ids.recipients.map((id, n) => [id, n + 1]));
  const seen = await db.query<Record<string, unknown>>(`
    SELECT recipient_id, list_id, channel, status, reason, process_id, updated_at, confirmed_at, request_ip
    FROM subscription_channel ORDER BY recipient_id, list_id, channel`);
  const expected = [...rows].sort((a, b) => a.recipient - b.recipient || a.list - b.list || a.channel.localeCompare(b.channel));
  assert.equal(seen.length, expected.length);
  seen.forEach((s, n) => {
    const e = expected[n]!;
    assert.deepEqual({
      recipient: recipientIndex.get(Number(s.recipient_id)), list: listIndex.get(Number(s.list_id)), channel: s.channel, status: s.status,
      reason: s.reason, process: s.process_id === null ? null : Number(s.process_id), updatedAt: new Date(String(s.updated_at)).toISOString(),
      confirmedAt: s.confirmed_at === null ? null : new Date(String(s.confirmed_at)).toISOString(), requestIp: s.request_ip,
    }, e);
  });
  // One row per recipient and list.
  const [count] = await db.query<{ n: number }>('SELECT count(*) AS n FROM subscription');
  assert.equal(Number(count!.n), new Set(rows.map((r) => `${r.recipient}:${r.list}`)).size);
});

test('every recipient of every list reads as before through the listings, with each channel\'s reason, dates and address', async () => {
  for (const [n, listId] of ids.lists.entries()) {
    const page = await store.recipients.listRecipients(ids.account, { listId, status: null, channel: null }, { filter: [], order: [], offset: 0, limit: RECIPIENTS });
    assert.ok(page);
    const expected = new Map<number, OldRow[]>();
    for (const r of rows) if (r.list === n) expected.set(r.recipient, [...(expected.get(r.recipient) ?? []), r]);
    assert.equal(page.total, expected.size);
    assert.equal(page.items.length, expected.size);
    for (const item of page.items) {
      const i = Number(item.name!.slice(1));
      assert.deepEqual(item.subscriptions.map((s) => ({
        list: ids.lists.indexOf(s.listId), channel: s.channel, status: s.status, reason: s.reason, updatedAt: s.updatedAt.toISOString(),
        confirmedAt: s.confirmedAt?.toISOString() ?? null, requestIp: s.requestIp, lastRequestAt: s.lastRequestAt,
      })), sorted(expected.get(i)!).map((r) => ({
        list: r.list, channel: r.channel, status: r.status, reason: r.reason, updatedAt: r.updatedAt, confirmedAt: r.confirmedAt,
        requestIp: r.requestIp, lastRequestAt: null,
      })), `recipient ${i} on list ${n}`);
    }
  }
  // The listings filtered by status and channel count what the old rows held.
  for (const [status, channel] of [['pending', 'email'], ['unsubscribed', null], ['subscribed', 'sms']] as const) {
    const page = await store.recipients.listRecipients(ids.account, { listId: ids.lists[0]!, status, channel }, { filter: [], order: [], offset: 0, limit: 1 });
    const expected = new Set(rows.filter((r) => r.list === 0 && r.status === status && (channel === null || r.channel === channel)).map((r) => r.recipient));
    assert.equal(page!.total, expected.size, `${status} ${channel ?? 'any'}`);
  }
});

test('recipients read one at a time keep their subscriptions, processes and groups', async () => {
  for (let i = 1; i <= RECIPIENTS; i += 97) {
    const id = ids.recipients[i - 1]!;
    const state = await store.recipients.getRecipient(ids.account, { id });
    const expected = sorted(byRecipient.get(i)!);
    assert.deepEqual(state!.subscriptions.map((s) => [ids.lists.indexOf(s.listId), s.channel, s.status, s.reason]),
      expected.map((r) => [r.list, r.channel, r.status, r.reason]), `recipient ${i}`);
    assert.deepEqual(state!.groupIds, groupsOf(i).map((g) => ids.groups[g]!).sort((a, b) => a - b));
    const detail = await store.queries.recipientDetail(ids.account, id);
    assert.deepEqual(detail!.subscriptions.map((s) => [ids.lists.indexOf(s.listId), s.channel, s.status, s.processId, s.updatedAt.toISOString()]),
      expected.map((r) => [r.list, r.channel, r.status, r.process, r.updatedAt]), `detail of recipient ${i}`);
  }
});

test('the lists\' and groups\' counts and the export are the old rows\'', async () => {
  const stats = await store.queries.listStats(ids.account, ids.lists, { groups: true });
  const countsOf = (list: readonly OldRow[]): Record<string, Record<string, number>> => {
    const out = { email: { subscribed: 0, pending: 0, unsubscribed: 0 }, sms: { subscribed: 0, pending: 0, unsubscribed: 0 } };
    for (const r of list) out[r.channel][r.status]++;
    return out;
  };
  for (const [n, s] of stats.entries()) {
    const onList = rows.filter((r) => r.list === n);
    assert.deepEqual(s.counts, countsOf(onList), `list ${n}`);
    assert.equal(s.recipients, new Set(onList.map((r) => r.recipient)).size);
    for (const g of s.groups) {
      const group = ids.groups.indexOf(g.groupId);
      const members = onList.filter((r) => groupsOf(r.recipient).includes(group));
      assert.deepEqual(g.counts, countsOf(members), `group ${group}`);
    }
  }
  const exported = await store.queries.exportList(ids.account, ids.lists[0]!);
  let n = 0;
  for await (const row of exported!.rows) {
    const i = Number(row.name!.slice(1));
    const mine = byRecipient.get(i)!.filter((r) => r.list === 0);
    assert.deepEqual([row.emailStatus, row.smsStatus], [
      mine.find((r) => r.channel === 'email')?.status ?? null, mine.find((r) => r.channel === 'sms')?.status ?? null,
    ], `export of recipient ${i}`);
    n++;
  }
  assert.equal(n, new Set(rows.filter((r) => r.list === 0).map((r) => r.recipient)).size);
});
