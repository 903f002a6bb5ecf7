/**
 * Scenario 7, two client CLI imports at once: `mailup-import import <csv> --list N` (the client
 * package's CLI, `node --import tsx client/src/cli.ts`) into one account, one into the demo list
 * and one into a second list made with the admin CLI, each a few thousand rows in several batches
 * of NewImportProcess, started at the same moment. Both must finish with exit 0 within a bound,
 * and each list must hold exactly its own file's rows (exactness check over both).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { subscriber } from '../bench/lib.ts';
import { runAdminProcess } from '../test/helpers/admin-process.ts';
import { demoAccount, startChildServer, stopChildServer, storeOf } from '../test/helpers/child-server.ts';
import {
  addresses, checkExact, kill, secs, since, spawnScript, target, waitExit,
  type Scenario, type ScenarioContext, type ScenarioOutcome,
} from './lib.ts';

const BOUND_S = { full: 120, short: 60 };

/** A CSV of rows `from` … `from + rows - 1`: the bench feed's address, mobile, name and first field. */
function writeCsv(path: string, from: number, rows: number): void {
  const lines = ['email,number,name,campo1'];
  for (let i = from; i < from + rows; i++) {
    const attr = (name: string): string => new RegExp(` ${name}="([^"]*)"`).exec(subscriber(i))![1]!;
    lines.push([attr('email'), attr('Number'), attr('Name'), /<campo1>([^<]*)</.exec(subscriber(i))![1]!].join(','));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

async function run({ sizes, tracker, note }: ScenarioContext): Promise<ScenarioOutcome> {
  const bound = BOUND_S[sizes.mode];
  const rows = sizes.clientRows;
  const batches = Math.ceil(rows / sizes.clientBatch);
  const expected = `both exit 0 ≤ ${bound} s; each list holds exactly its ${rows.toLocaleString('en-US')} rows`;
  const dir = tracker.tmpDir('client');
  const server = tracker.track(await startChildServer(dir));
  const demo = demoAccount(server);
  const db = await storeOf(dir);
  const made = await runAdminProcess(['--json', 'list', 'create', demo.auth.User!, 'Chaos second list'], db.env);
  const second = made.code === 0 ? (JSON.parse(made.stdout) as { id: number }).id : null;
  if (second === null) return { expected, happened: `could not create a second list: ${made.stderr.trim()}`, resumeSeconds: null, exact: 'n/a', pass: false };

  const imports = [{ list: demo.list.id, from: 1 }, { list: second, from: rows + 1 }].map(({ list, from }) => {
    const csv = join(dir, `list-${list}.csv`);
    writeCsv(csv, from, rows);
    return { list, from, csv };
  });
  const env = { MAILUP_ENDPOINT: server.endpoint, MAILUP_USER: demo.auth.User!, MAILUP_PASSWORD: demo.auth.Password! };
  const t0 = performance.now();
  const runs = imports.map((i) => ({
    ...i,
    cli: spawnScript(tracker, ['client/src/cli.ts', 'import', i.csv, '--list', String(i.list), '--batch-size', String(sizes.clientBatch),
      '--poll', '0.2', '--json', '--no-progress'], env),
  }));
  const ends = await Promise.all(runs.map(async (r) => {
    const exit = await waitExit(r.cli.child, bound * 1000 - (performance.now() - t0));
    const seconds = since(t0);
    if (exit === null) await kill(r.cli.child);
    let outcome = '';
    try {
      outcome = String((JSON.parse(r.cli.stdout()) as { outcome?: string }).outcome ?? '');
    } catch {
      const lines = r.cli.output().trim().split('\n');
      outcome = (lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? '').trim().slice(0, 140);
    }
    return { list: r.list, exit, seconds, outcome };
  }));
  note(ends.map((e) => `list ${e.list}: ${e.exit === null ? 'killed' : `exit ${e.exit.code}`} after ${secs(e.seconds)}`).join(', '));
  const exact = await checkExact(target(server), dir, imports.map((i) => ({ listId: i.list, addresses: addresses(i.from, rows) })));
  await stopChildServer(server, 'SIGTERM');
  const happened = `${batches} batches each: ` + ends.map((e) =>
    `list ${e.list} ${e.exit === null ? `still running after ${bound} s (killed)` : `exit ${e.exit.code ?? e.exit.signal} after ${secs(e.seconds)}`}` +
    (e.outcome ? ` (${e.outcome})` : '')).join('; ');
  const finished = ends.every((e) => e.exit !== null && e.exit.code === 0 && e.seconds <= bound);
  return { expected, happened, resumeSeconds: null, exact, pass: finished && exact === 'exact' };
}

export const scenarios: Scenario[] = [{
  name: 'two-cli-imports', kind: 'client', stores: ['sqlite', 'postgres'], budgetMs: { full: 240_000, short: 90_000 }, run,
}];
