/**
 * The PostgreSQL side of the benchmarks: a fresh database per measurement on a local server
 * (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres names the server and its
 * admin database), the scale-out topology as child processes (`serve` API servers, `worker`
 * processes), accounts seeded through the store, and the COPY floor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { loadConfig } from '../src/config.ts';
import { createAccount } from '../src/core/accounts.ts';
import { applyMigrations } from '../src/store/postgres/migrate.ts';
import { withClient } from '../src/store/postgres/pool.ts';
import { openStore } from '../src/store/open-store.ts';

const ADMIN_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

const admin = <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => withClient(ADMIN_URL, 'mailup-bench', fn);

/** A fresh, empty database, with the schema when `migrate`. */
export async function createBenchDatabase(label: string, migrate = true): Promise<BenchDatabase> {
  const name = `mailup_bench_${label}_${randomBytes(3).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db: BenchDatabase = {
    name, url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
  if (migrate) await withClient(db.url, 'mailup-bench', applyMigrations);
  return db;
}

export interface BenchAccount {
  readonly user: string;
  readonly password: string;
  readonly list: { id: number; guid: string };
  readonly groupId: number;
}

/** Accounts with one list and one group each, made through the store as the admin CLI makes them. */
export async function seedAccounts(db: BenchDatabase, count: number): Promise<BenchAccount[]> {
  const store = await openStore(loadConfig({ DATABASE_URL: db.url, DATABASE_POOL_SIZE: '2' }));
  try {
    const out: BenchAccount[] = [];
    for (let i = 0; i < count; i++) {
      const password = `bench-${randomBytes(6).toString('hex')}`;
      const account = await createAccount(store, { name: `Bench ${i + 1}`, password });
      const list = await store.lists.createList(account.id, 'Newsletter');
      const group = await store.lists.createGroup(list.id, 'Customers');
      out.push({ user: account.wsUser, password, list: { id: list.id, guid: list.guid }, groupId: group.group.id });
    }
    return out;
  } finally {
    await store.close();
  }
}

export interface RoleProcess {
  readonly child: ChildProcess;
  /** The API port (serve); 0 for a worker. */
  readonly port: number;
}

/** `npm start -- <role>` on the database, resolved once it serves (or, for a worker, runs). */
export async function startRole(role: 'serve' | 'worker', db: BenchDatabase, env: Record<string, string> = {}): Promise<RoleProcess> {
  const child = spawn(process.execPath, ['bin/server.js', role], {
    env: {
      ...process.env, DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', POLL_MS: '50', DEMO: '0',
      BODY_LIMIT: '2gb', ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const ready = role === 'serve' ? /listening on http:\/\/127\.0\.0\.1:(\d+)/ : /import worker \S+ running/;
  const deadline = Date.now() + 60_000;
  while (!ready.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${role} did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port: role === 'serve' ? Number(ready.exec(out)![1]) : 0 };
}

export async function stopRole(p: RoleProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = once(p.child, 'exit');
  p.child.kill('SIGTERM');
  await exited;
}

/** The bench feed's row `i` (bench/lib.ts subscriber()) as the tables hold it. */
function floorRow(i: number): { email: string; mobile: string; name: string; fields: string } {
  return {
    email: `user${i}@example${i % 97}.com`, mobile: `+39${3_000_000_000 + i}`, name: `User ${i}`,
    fields: JSON.stringify({ 1: `Name${i}`, 2: `Surname ${i % 1000}`, 3: `Company & Co ${i % 50}`, 4: `Città ${i % 20}` }),
  };
}

/** COPY text format: tab-separated, with backslash, tab and newline escaped. */
const copyText = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

async function copyRows(client: pg.Client, sql: string, rows: number, line: (i: number) => string): Promise<void> {
  const stream = client.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  let buf = '';
  for (let i = 1; i <= rows; i++) {
    buf += line(i);
    if (buf.length > 1 << 16) {
      if (!stream.write(buf)) await once(stream, 'drain');
      buf = '';
    }
  }
  stream.end(buf);
  await done;
}

/**
 * The floor: the same rows as the import writes (recipients, their subscription rows with both
 * channels, the group membership) loaded with COPY into the same tables of a fresh database, in one transaction:
 * no HTTP, no XML, no rules, no lookups. Returns seconds.
 */
export async function copyFloor(rows: number): Promise<number> {
  const db = await createBenchDatabase('floor');
  try {
    return await withClient(db.url, 'mailup-bench-floor', async (client) => {
      await client.query("INSERT INTO account (id, ws_user, password_hash) VALUES (1, 'a1', 'x')");
      await client.query("INSERT INTO list (id, account_id, guid, name) VALUES (1, 1, 'g', 'l')");
      await client.query(`INSERT INTO "group" (id, list_id, name) VALUES (1, 1, 'g')`);
      const t = new Date().toISOString();
      const started = performance.now();
      await client.query('BEGIN');
      await copyRows(client, 'COPY recipient (id, account_id, email, mobile, name, fields, created_at, updated_at) FROM STDIN', rows, (i) => {
        const r = floorRow(i);
        return `${i}\t1\t${copyText(r.email)}\t${copyText(r.mobile)}\t${copyText(r.name)}\t${copyText(r.fields)}\t${t}\t${t}\n`;
      });
      await copyRows(client, `COPY subscription (list_id, recipient_id, email_status, email_process_id, email_updated_at,
        sms_status, sms_process_id, sms_updated_at) FROM STDIN`, rows, (i) => `1\t${i}\tsubscribed\t1\t${t}\tsubscribed\t1\t${t}\n`);
      await copyRows(client, 'COPY membership (recipient_id, group_id) FROM STDIN', rows, (i) => `${i}\t1\n`);
      await client.query('COMMIT');
      return (performance.now() - started) / 1000;
    });
  } finally {
    await db.drop();
  }
}
