/**
 * The import benchmark on PostgreSQL (npm run bench:import -- --store postgres [--workers 1,2]):
 * the scale-out topology as separate processes, one `serve` API server and N `worker`
 * processes on a fresh database per worker count.
 *
 * One running import per account is the rule, so N workers share the same 1,000,000 subscribers
 * as N accounts of ROWS/N each, uploaded at the same time: the figure is the throughput of the
 * whole installation, from the first byte of the uploads to the last process in status 3. Then
 * the same feeds again (every row existing). The floor of the same run: the same rows loaded
 * with COPY into the same tables (bench/postgres.ts).
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, peakRss, post, soap, unescape, writeEnvelope, type Server } from './lib.ts';
import { copyFloor, createBenchDatabase, seedAccounts, startRole, stopRole, type BenchAccount, type RoleProcess } from './postgres.ts';

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** Uploads every envelope at once and waits for all their processes to finish; seconds from the first byte. */
async function importAll(api: RoleProcess, jobs: readonly { account: BenchAccount; envelope: string }[]): Promise<{ seconds: number; details: string[] }> {
  const started = performance.now();
  const ids = await Promise.all(jobs.map(async ({ envelope }) => {
    const reply = unescape(await post(api.port, '/Services/WSMailUpImport.asmx', createReadStream(envelope, { highWaterMark: 1 << 16 }), {
      'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/StartImportProcesses',
    }));
    const id = /<processID>(\d+)<\/processID>/.exec(reply)?.[1];
    if (!id) throw new Error(`StartImportProcesses failed: ${reply.slice(0, 500)}`);
    return id;
  }));
  out(`    (requests answered after ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  const details = await Promise.all(jobs.map(async ({ account }, i) => {
    const server: Server = { child: api.child, port: api.port, user: account.user, password: account.password, list: account.list };
    for (;;) {
      const d = await soap(server, 'GetProcessDetails', `<idList>${account.list.id}</idList><listGUID>${account.list.guid}</listGUID><idProcess>${ids[i]}</idProcess>`);
      const status = /<StatusCode>(\d)<\/StatusCode>/.exec(d)?.[1];
      if (status === '4') throw new Error(`import failed: ${d}`);
      if (status === '3') return d;
      await new Promise((r) => setTimeout(r, 200));
    }
  }));
  return { seconds: (performance.now() - started) / 1000, details };
}

/** What the import left on disk: the subscriber tables with their indexes, and the stored feeds. */
async function sizes(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ subscribers: string; feeds: string }>(`
      SELECT pg_size_pretty(sum(pg_total_relation_size(c)) FILTER (WHERE c::text <> 'feed_chunk')) AS subscribers,
        pg_size_pretty(pg_total_relation_size('feed_chunk')) AS feeds
      FROM unnest(ARRAY['recipient', 'subscription', 'membership', 'feed_chunk']::regclass[]) AS c`);
    return `subscriber tables and indexes ${rows[0]!.subscribers}, stored feeds ${rows[0]!.feeds}`;
  } finally {
    await client.end();
  }
}

interface Result {
  readonly workers: number;
  readonly empty: number;
  readonly existing: number;
}

async function measure(rows: number, workers: number, dir: string): Promise<Result> {
  const db = await createBenchDatabase(`w${workers}`);
  const roles: RoleProcess[] = [];
  try {
    const accounts = await seedAccounts(db, workers);
    const jobs = await Promise.all(accounts.map(async (account, i) => {
      const envelope = join(dir, `feed-${workers}-${i}.xml`);
      await writeEnvelope(envelope, Math.floor(rows / workers) + (i < rows % workers ? 1 : 0), account, account.list, String(account.groupId));
      return { account, envelope };
    }));
    const api = await startRole('serve', db);
    roles.push(api);
    for (let i = 0; i < workers; i++) roles.push(await startRole('worker', db));

    out(`\n${workers} worker process${workers > 1 ? 'es' : ''}, ${jobs.length} account${jobs.length > 1 ? 's' : ''} of ${fmt(rows / workers)} subscribers:`);
    out('  import into empty lists:');
    const first = await importAll(api, jobs);
    out(`    ${first.seconds.toFixed(1)} s, ${fmt(rows / first.seconds)} subscribers/s`);
    out(`    on disk: ${await sizes(db.url)}`);
    out('  the same feeds again (all existing):');
    const second = await importAll(api, jobs);
    out(`    ${second.seconds.toFixed(1)} s, ${fmt(rows / second.seconds)} subscribers/s`);
    const existing = second.details.reduce((n, d) => n + Number(/<ExistingEmail>(\d+)<\/ExistingEmail>/.exec(d)?.[1] ?? 0), 0);
    if (existing !== rows) out(`    warning: ExistingEmail adds up to ${existing}, not ${rows}`);
    const mb = (p: RoleProcess): string => `${(peakRss(p.child.pid!) / 1024 / 1024).toFixed(0)} MB`;
    out(`  peak RSS: API server ${mb(api)}, worker${workers > 1 ? 's' : ''} ${roles.slice(1).map(mb).join(', ')}`);
    return { workers, empty: rows / first.seconds, existing: rows / second.seconds };
  } finally {
    for (const r of roles) await stopRole(r);
    await db.drop();
  }
}

export async function benchmarkPostgresImport(rows: number, workerCounts: readonly number[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-bench-pg-'));
  try {
    out(`PostgreSQL import benchmark: ${fmt(rows)} subscribers; 1 API server (serve) and 1..N worker processes`);
    // The floor is measured before and after the imports: on a shared machine their mean is the fairer yardstick.
    const floorBefore = await copyFloor(rows);
    out(`\nfloor, before the imports: ${floorBefore.toFixed(1)} s, ${fmt(rows / floorBefore)} rows/s`);
    const results: Result[] = [];
    for (const workers of workerCounts) results.push(await measure(rows, workers, dir));
    const floorAfter = await copyFloor(rows);
    out(`\nfloor, after the imports: ${floorAfter.toFixed(1)} s, ${fmt(rows / floorAfter)} rows/s`);
    const floorRate = rows / ((floorBefore + floorAfter) / 2);
    out(`floor (COPY into the same tables, one transaction, no XML, no rules), mean: ${fmt(floorRate)} rows/s`);
    out('\nworkers   empty lists subscribers/s   ratio to floor   all existing subscribers/s   ratio to floor');
    for (const r of results) {
      out(`${String(r.workers).padStart(7)}   ${fmt(r.empty).padStart(25)}   ${(r.empty / floorRate).toFixed(2).padStart(14)}   ` +
        `${fmt(r.existing).padStart(26)}   ${(r.existing / floorRate).toFixed(2).padStart(14)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
