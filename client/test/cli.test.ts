/**
 * The `mailup-import` command as a child process against the real service: settings from the
 * environment or a config file, every command, exit codes, JSON output, a CSV with quotes,
 * commas, multi-byte characters and a byte-order mark, and a 100,000-row CSV whose counters
 * are checked afterwards through GetProcessDetails and the store.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestService, type TestAccount } from '../../test/helpers/service.ts';
import { MailUpImportClient, buildFeed, type ImportReport } from '../src/index.ts';
import { serviceAndFolder } from './service-and-folder.ts';
import { cliInProcess, cliProcess as runCliProcess, type Run } from './cli-runs.ts';

const fixture = serviceAndFolder('mailup-cli-test-');
const cliProcess = (args: readonly string[], env: Record<string, string> = {}): Promise<Run> => runCliProcess(fixture.dir, args, env);
const cli = (args: readonly string[], env: Record<string, string> = {}): Promise<Run> => cliInProcess(fixture.dir, args, env);

const envFor = (a: TestAccount): Record<string, string> => ({ MAILUP_ENDPOINT: fixture.svc.url, MAILUP_USER: a.user, MAILUP_PASSWORD: a.password });

/** No output of the run shows the password. */
function noPassword(run: Run, a: TestAccount = fixture.acc): void {
  assert.ok(!run.stdout.includes(a.password) && !run.stderr.includes(a.password), 'the password was printed');
}

describe('settings, help and exit codes', () => {
  test('--help lists the commands, the settings, the exit codes and examples', async () => {
    const run = await cliProcess(['--help']);
    assert.equal(run.code, 0);
    for (const text of ['import', 'status', 'lists', 'groups', 'whoami', 'MAILUP_PASSWORD', 'Exit codes:', 'Examples:', '3  partial failure']) {
      assert.ok(run.stdout.includes(text), text);
    }
    const help = await cli(['import', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--replace-groups/);
    assert.match(help.stdout, /\$ mailup-import import contacts.csv --list 1/);
  });

  test('usage errors exit 2: no settings, a missing option, an unknown command', async () => {
    const none = await cliProcess(['whoami']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /missing the endpoint .*the user .*the password/);
    const noList = await cli(['import', 'x.csv'], envFor(fixture.acc));
    assert.equal(noList.code, 2);
    assert.match(noList.stderr, /--list/);
    assert.equal((await cli(['frobnicate'], envFor(fixture.acc))).code, 2);
    assert.equal((await cli(['import', join(fixture.dir, 'x.unknown'), '--list', '1'], envFor(fixture.acc))).code, 2);
  });

  test('whoami with settings from the environment, over SOAP 1.1 and 1.2; JSON for scripts', async () => {
    const run = await cli(['whoami'], envFor(fixture.acc));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${fixture.acc.user} \\(id ${fixture.acc.account.id}\\) at .* over SOAP 1.1`));
    const json = await cli(['--json', '--soap-version', '1.2', 'whoami'], envFor(fixture.acc));
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), { user: fixture.acc.user, idUser: fixture.acc.account.id, endpoint: `${fixture.svc.url}/Services/WSMailupImport.asmx`, soapVersion: '1.2' });
    noPassword(run);
    noPassword(json);
  });

  test('settings from a config file; flags win over the environment; a readable file holding a password is warned about', async () => {
    const path = join(fixture.dir, 'config.json');
    writeFileSync(path, JSON.stringify({ endpoint: fixture.svc.endpoint, user: fixture.acc.user, password: fixture.acc.password, timeoutSeconds: 30 }));
    chmodSync(path, 0o644);
    const run = await cli(['lists', '--json', '--config', path]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).map((l: { idList: number }) => l.idList), [fixture.acc.list.id]);
    assert.match(run.stderr, /other users can read it: chmod 600/);
    chmodSync(path, 0o600);
    const quiet = await cli(['whoami'], { MAILUP_CONFIG: path, MAILUP_USER: 'a999999' });
    assert.equal(quiet.code, 1, 'the environment wins over the file');
    assert.equal(quiet.stderr.includes('warning'), false);
    const flag = await cli(['whoami', '--user', fixture.acc.user], { MAILUP_CONFIG: path, MAILUP_USER: 'a999999' });
    assert.equal(flag.code, 0, 'the flag wins over the environment');
    writeFileSync(path, `{ "password": "${fixture.acc.password}", `);
    const broken = await cli(['whoami'], { MAILUP_CONFIG: path });
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /not valid JSON/);
    for (const r of [run, quiet, flag, broken]) noPassword(r);
  });

  test('a refused call exits 1 and says why, with --json as an object', async () => {
    const run = await cliProcess(['--json', 'lists'], { ...envFor(fixture.acc), MAILUP_PASSWORD: 'wrong' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /ReturnCode -1002: password not valid/);
    assert.deepEqual(JSON.parse(run.stdout).error, {
      name: 'MailUpReturnCodeError', message: 'GetNlLists answered ReturnCode -1002: password not valid',
      code: 'MAILUP_RETURN_CODE', operation: 'GetNlLists', returnCode: -1002, meaning: 'password not valid', idProcess: null,
    });
    const down = await cli(['whoami'], { ...envFor(fixture.acc), MAILUP_ENDPOINT: 'http://127.0.0.1:9', MAILUP_TIMEOUT: '5' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach http:\/\/127.0.0.1:9/);
  });
});

describe('commands', () => {
  test('lists, groups create, groups list', async () => {
    const env = envFor(fixture.acc);
    const created = await cli(['groups', 'create', 'Clienti più fedeli', '--list', String(fixture.acc.list.id)], env);
    assert.equal(created.code, 0, created.stderr);
    const idGroup = Number(created.stdout.trim());
    assert.ok(idGroup > 0);
    const again = await cli(['--json', 'groups', 'create', 'Clienti più fedeli', '--list', String(fixture.acc.list.id)], env);
    assert.deepEqual(JSON.parse(again.stdout), { idGroup, groupName: 'Clienti più fedeli', idList: fixture.acc.list.id });
    const groups = await cli(['groups', 'list', '--list', String(fixture.acc.list.id)], env);
    assert.match(groups.stdout, new RegExp(`^${idGroup}\\s+Clienti più fedeli$`, 'm'));
    const lists = await cli(['lists'], env);
    assert.equal(lists.code, 0);
    assert.match(lists.stdout, /^ID\s+GUID\s+NAME\s+GROUPS/);
    assert.ok(lists.stdout.includes(fixture.acc.list.guid) && lists.stdout.includes(`${idGroup} Clienti più fedeli`));
    assert.equal((await cli(['groups', 'create', 'x', '--list', '999999'], env)).code, 1);
  });

  test('a CSV with quotes, commas, line breaks, multi-byte characters and a byte-order mark', async () => {
    const a = await fixture.svc.addAccount();
    const path = join(fixture.dir, 'quirks.csv');
    writeFileSync(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(
      'E-mail;First name;campo2;Mobile;Ignored\r\n' +
      '"anna@example.com";"Anna ""Nan""";"Via Roma, 1; scala B";"+39 333 1234567";x\r\n' +
      'luca@example.com;"Luca\nsecond line";Città di Castello – 😀 € ü ß 中文;;\r\n' +
      '"zoë@example.com";Zoë;"";;\r\n', 'utf8')]));
    const run = await cli(['import', path, '--list', String(a.list.id), '--map', 'First name=1', '--import-type', '3', '--poll', '0.1', '--json'], envFor(a));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /columns are not imported: Ignored/);
    const report = JSON.parse(run.stdout) as ImportReport;
    assert.equal(report.outcome, 'completed');
    assert.equal(report.rowsRead, 3);
    assert.equal(report.counters.newEmail, 3);
    assert.equal(report.counters.totalContacts, 3);
    const rows = await fixture.svc.db.query<{ email: string; mobile: string | null; fields: string }>(
      'SELECT email, mobile, fields FROM recipient WHERE account_id = ? ORDER BY email', [a.account.id]);
    assert.deepEqual(rows.map((r) => [r.email, r.mobile, JSON.parse(r.fields)]), [
      ['anna@example.com', '+393331234567', { 1: 'Anna "Nan"', 2: 'Via Roma, 1; scala B' }],
      ['luca@example.com', null, { 1: 'Luca\nsecond line', 2: 'Città di Castello – 😀 € ü ß 中文' }],
      // An empty field of a new recipient stores nothing with importType 3.
      ['zoë@example.com', null, { 1: 'Zoë' }],
    ]);
    noPassword(run, a);
  });

  test('a CSV record that cannot be read: the others are imported, the line is reported, exit 3', async () => {
    const a = await fixture.svc.addAccount();
    const path = join(fixture.dir, 'broken.csv');
    writeFileSync(path, 'email,campo1\nok1@example.com,a\nok2@example.com,b\nbad@example.com,"quoted"junk\n');
    const run = await cli(['import', path, '--list', String(a.list.id), '--poll', '0.1'], envFor(a));
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stdout, /^import partial: 2 rows read/m);
    assert.match(run.stdout, /unreadable CSV record at line 4: got "j" instead of delimiter/);
    const [count] = await fixture.svc.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM recipient WHERE account_id = ?', [a.account.id]);
    assert.equal(Number(count!.n), 2);
  });

  test('status finds the process in any list; --watch follows it to the end', async () => {
    const a = await fixture.svc.addAccount();
    await fixture.svc.service.store.lists.createList(a.account.id, 'Another list');
    const path = join(fixture.dir, 'status.csv');
    writeFileSync(path, `email\n${Array.from({ length: 300 }, (_, i) => `status-${i}@example.com`).join('\n')}\n`);
    const started = await cli(['import', path, '--list', String(a.list.id), '--no-wait', '--json'], envFor(a));
    assert.equal(started.code, 0, started.stderr);
    const [idProcess] = (JSON.parse(started.stdout) as ImportReport).started;
    const watched = await cli(['status', String(idProcess), '--watch', '--interval', '0.1'], envFor(a));
    assert.equal(watched.code, 0, watched.stderr);
    assert.match(watched.stdout, new RegExp(`^process ${idProcess} \\(list ${a.list.id}\\): completed \\(StatusCode 3\\)`));
    assert.match(watched.stdout, /rows 300 \| new 300 email/);
    // Times as the server writes them for people: in the endpoint's zone, named.
    assert.match(watched.stdout, /^ {2}start \d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?:[A-Z]{2,5}|UTC[+-]\d\d:\d\d) {2}end \d{4}-\d\d-\d\d \d\d:\d\d:\d\d /m);
    const json = await cli(['--json', 'status', String(idProcess)], envFor(a));
    const details = JSON.parse(json.stdout);
    assert.deepEqual([details.idList, details.idProcess, details.status, details.newEmail, details.confirmationSent], [a.list.id, idProcess, 'completed', 300, null]);
    assert.ok(!Number.isNaN(Date.parse(details.endDate)));
    const missing = await cli(['status', '999999'], envFor(a));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no list of the account has process 999999/);
  });

  test('an XML feed with a refused batch: exit 3, the batch and its rows in the JSON report', async () => {
    const a = await fixture.svc.addAccount();
    const good = buildFeed([{ email: 'x1@example.com' }, { email: 'x2@example.com' }]).slice('<subscribers>'.length, -'</subscribers>'.length);
    const path = join(fixture.dir, 'feed.xml');
    writeFileSync(path, `<?xml version="1.0" encoding="utf-8"?>\n<subscribers>${good}<subscriber email="bad@example.com"><campo1>a</campo2></subscriber><subscriber email="x3@example.com"/></subscribers>`);
    const run = await cli(['import', path, '--list', String(a.list.id), '--batch-size', '2', '--poll', '0.1', '--json'], envFor(a));
    assert.equal(run.code, 3, run.stderr);
    const report = JSON.parse(run.stdout) as Omit<ImportReport, 'failedBatches'> & { failedBatches: Array<{ rows: Array<{ xml: string; row: number }>; error: { returnCode: number } }> };
    assert.equal(report.outcome, 'partial');
    assert.equal(report.failedBatches.length, 1);
    assert.deepEqual(report.failedBatches[0]!.rows.map((r) => r.row), [3, 4]);
    assert.equal(report.failedBatches[0]!.error.returnCode, -402);
    assert.equal(report.counters.newEmail, 2);
    assert.match(run.stderr, /batch 2 \(rows 3-4\) was refused: NewImportProcess answered ReturnCode -402/);
  });
});

test('import --deadline: the run stops waiting, lists what is left with its last status and exits 3', { timeout: 60_000 }, async () => {
  // No worker: the import another client starts first runs for ever, so ours is never started.
  const stuck = await startTestService({}, { runWorker: false });
  try {
    const a = await stuck.addAccount();
    const env = { MAILUP_ENDPOINT: stuck.url, MAILUP_USER: a.user, MAILUP_PASSWORD: a.password };
    const other = new MailUpImportClient({ endpoint: stuck.endpoint, user: a.user, password: a.password });
    await other.startImportProcesses({ listsIDs: String(a.list.id), listsGUIDs: a.list.guid, xmlDoc: buildFeed([{ email: 'blocking@example.com' }]) });
    const path = join(fixture.dir, 'deadline.csv');
    writeFileSync(path, 'email\nd1@example.com\nd2@example.com\nd3@example.com\n');

    const t0 = Date.now();
    const run = await cli(['import', path, '--list', String(a.list.id), '--deadline', '1500ms', '--poll', '0.1'], env);
    assert.ok(Date.now() - t0 < 15_000);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stdout, /^import partial: 3 rows read, 3 sent in 1 process to list/m);
    const [idProcess] = /left: process (\d+)/.exec(run.stdout)!.slice(1).map(Number);
    assert.match(run.stdout, /^  the import did not finish within 1.5 s: 1 of 1 process left \(the started ones go on on the server\):$/m);
    assert.match(run.stdout, new RegExp(`^  left: process ${idProcess} waiting \\(not started\\), batch 1 \\(rows 1-3\\), StatusCode 1$`, 'm'));
    assert.match(run.stderr, /the account is busy \(ReturnCode -601\); 1 process not started yet/);

    const json = await cli(['--json', 'import', path, '--list', String(a.list.id), '--deadline', '1.5', '--poll', '0.1'], env);
    assert.equal(json.code, 3, json.stderr);
    const report = JSON.parse(json.stdout) as ImportReport & { error: { name: string; message: string } };
    assert.deepEqual([report.outcome, report.timedOut, report.error.name], ['partial', true, 'ImportTimeoutError']);
    assert.deepEqual(report.remaining, [
      { batch: 1, idProcess: report.batches[0]!.idProcess, fromRow: 1, toRow: 3, status: 'waiting', statusCode: 1, started: false, error: null },
    ]);

    const bad = await cli(['import', path, '--list', String(a.list.id), '--deadline', 'soon'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /use a duration such as 90s, 45m, 6h or 1h30m/);
    const help = await cli(['import', '--help']);
    assert.match(help.stdout, /--deadline <duration>/);
    assert.match(help.stdout, /--deadline <duration> [^]*\(default: 6h\)/);
  } finally {
    await stuck.close();
  }
});

test('100,000 CSV rows through the CLI, counters checked afterwards', { timeout: 300_000 }, async () => {
  const a = await fixture.svc.addAccount();
  const path = join(fixture.dir, 'big.csv');
  const lines = ['email,campo1,campo2'];
  for (let i = 0; i < 100_000; i++) lines.push(`big-${i}@example.com,Name ${i},"Street ${i}, ${i % 100}"`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  const run = await cliProcess(['import', path, '--list', String(a.list.id), '--group', String(a.groups[0]!.id), '--poll', '0.2', '--json'], envFor(a));
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as ImportReport;
  assert.deepEqual([report.outcome, report.rowsRead, report.rowsSent, report.batches.length], ['completed', 100_000, 100_000, 20]);
  // Plain progress lines on a pipe, ending at 100 %.
  assert.match(run.stderr, /^sending: \d+\/100000 rows/m);
  assert.match(run.stderr, /^sending: 100000\/100000 rows \(100\.0%\)/m);
  assert.match(run.stderr, /^started 20 import processes$/m);
  noPassword(run, a);

  const client = new MailUpImportClient({ endpoint: fixture.svc.endpoint, user: a.user, password: a.password });
  let total = 0;
  let created = 0;
  for (const idProcess of report.started) {
    const p = await client.getProcessDetails({ idList: a.list.id, listGUID: a.list.guid, idProcess });
    assert.equal(p.status, 'completed');
    total += p.totalContacts;
    created += p.newEmail;
  }
  assert.deepEqual([total, created], [100_000, 100_000]);
  assert.equal(report.counters.newEmail, 100_000);
  const [subscribed] = await fixture.svc.db.query<{ n: number }>(
    "SELECT COUNT(*) AS n FROM subscription_channel WHERE list_id = ? AND channel = 'email' AND status = 'subscribed'", [a.list.id]);
  assert.equal(Number(subscribed!.n), 100_000);
  const [members] = await fixture.svc.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM membership WHERE group_id = ?', [a.groups[0]!.id]);
  assert.equal(Number(members!.n), 100_000);
  const [sample] = await fixture.svc.db.query<{ fields: string }>('SELECT fields FROM recipient WHERE account_id = ? AND email = ?', [a.account.id, 'big-99999@example.com']);
  assert.deepEqual(JSON.parse(sample!.fields), { 1: 'Name 99999', 2: 'Street 99999, 99' });
});
