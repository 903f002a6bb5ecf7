/**
 * `mailup-import --api rest` against the real service: a CSV imported end to end over REST (as a
 * child process: exit code and the --json report; in-process: the text report and progress), an
 * XML feed, rows the REST API cannot take, the SOAP-only options refused, the deadline, and the
 * other commands answering as their SOAP versions do. Neither the password nor the client secret
 * is ever printed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestService, type TestAccount, type TestService } from '../../test/helpers/service.ts';
import { restClientOf, type RestClientCredentials } from '../../test/helpers/rest.ts';
import type { RestImportReport } from '../src/index.ts';
import { serviceAndFolder } from './service-and-folder.ts';
import { cliInProcess, cliProcess as runCliProcess, type Run } from './cli-runs.ts';

const fixture = serviceAndFolder('mailup-rest-cli-test-');
const cliProcess = (args: readonly string[], env: Record<string, string>): Promise<Run> => runCliProcess(fixture.dir, args, env);
const cli = (args: readonly string[], env: Record<string, string> = {}): Promise<Run> => cliInProcess(fixture.dir, args, env);

interface RestAccount {
  readonly acc: TestAccount;
  readonly creds: RestClientCredentials;
  readonly env: Record<string, string>;
}

async function restAccount(svc: TestService = fixture.svc): Promise<RestAccount> {
  const acc = await svc.addAccount();
  const creds = await restClientOf(svc, acc);
  return {
    acc, creds,
    env: { MAILUP_ENDPOINT: svc.url, MAILUP_USER: acc.user, MAILUP_PASSWORD: acc.password, MAILUP_CLIENT_ID: creds.clientId, MAILUP_CLIENT_SECRET: creds.clientSecret, MAILUP_API: 'rest' },
  };
}

/** No output shows the password or the client secret. */
function noSecrets(run: Run, a: RestAccount): void {
  for (const secret of [a.acc.password, a.creds.clientSecret]) {
    assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'a secret was printed');
  }
}

async function count(sql: string, params: readonly unknown[]): Promise<number> {
  return Number((await fixture.svc.db.query<{ n: number }>(sql, params))[0]!.n);
}

describe('import --api rest', () => {
  test('a CSV end to end: exit 0, the --json report, the recipients in the list and the group', { timeout: 180_000 }, async () => {
    const a = await restAccount();
    const path = join(fixture.dir, 'rest.csv');
    const lines = ['\ufeffE-mail;Name;campo1;campo2;Prefix;Number'];
    for (let i = 0; i < 2500; i++) lines.push(`rest-${i}@example.com;Name ${i};"Caffè, ""${i}""";Città ${i % 7};${i % 5 === 0 ? '+39' : ''};${i % 5 === 0 ? `333${String(i).padStart(7, '0')}` : ''}`);
    writeFileSync(path, `${lines.join('\r\n')}\r\n`);
    const group = a.acc.groups[0]!.id;
    const run = await cliProcess(['import', path, '--list', String(a.acc.list.id), '--group', String(group), '--batch-size', '1000', '--poll', '0.1', '--json'], a.env);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as RestImportReport & { skippedRecords: unknown[] };
    assert.deepEqual([report.api, report.outcome, report.rowsRead, report.rowsSent, report.rowsRejected, report.imports.length, report.idGroup], ['rest', 'completed', 2500, 2500, 0, 3, group]);
    assert.deepEqual(report.counters, { created: 2500, updated: 0, valid: 2500, notValid: 0, imported: 2500 });
    assert.deepEqual(report.batches.map((b) => [b.fromRow, b.toRow, b.status?.Completed, b.detail?.StatusCode]), [[1, 1000, true, 3], [1001, 2000, true, 3], [2001, 2500, true, 3]]);
    assert.deepEqual([report.remaining, report.failedBatches, report.timedOut, report.error], [[], [], false, null]);
    assert.match(run.stderr, /^sending: 2500\/2500 rows \(100\.0%\)/m);
    noSecrets(run, a);

    assert.equal(await count('SELECT COUNT(*) AS n FROM membership WHERE group_id = ?', [group]), 2500);
    assert.equal(await count("SELECT COUNT(*) AS n FROM subscription_channel WHERE list_id = ? AND channel = 'email' AND status = 'subscribed'", [a.acc.list.id]), 2500);
    const [row] = await fixture.svc.db.query<{ name: string; mobile: string | null; fields: string }>(
      'SELECT name, mobile, fields FROM recipient WHERE account_id = ? AND email = ?', [a.acc.account.id, 'rest-5@example.com']);
    assert.deepEqual([row!.name, row!.mobile, JSON.parse(row!.fields)], ['Name 5', '+393330000005', { 1: 'Caffè, "5"', 2: 'Città 5' }]);

    // Again, in text: the same rows are now updates.
    const again = await cli(['import', path, '--list', String(a.acc.list.id), '--batch-size', '1000', '--poll', '0.1'], a.env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`^import completed: 2500 rows read, 2500 sent in 3 REST imports to list ${a.acc.list.id}$`, 'm'));
    assert.match(again.stdout, /^  created 0 \| updated 2500 \| valid 2500 \| not valid 0 \| imported 2500$/m);
    assert.match(again.stderr, /^importing: \d+\/2500 rows .*\d\/3 imports done/m);
    noSecrets(again, a);

    // The status of one of those imports over REST.
    const status = await cli(['--json', 'status', String(report.imports[0])], a.env);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.deepEqual([s.idImport, s.Completed, s.CreatedRecipients, s.detail.StatusCode, s.detail.IdList], [report.imports[0], true, 1000, 3, a.acc.list.id]);
  });

  test('an XML feed; rows the REST API cannot take are listed and not sent; invalid addresses counted; exit 3', async () => {
    const a = await restAccount();
    const xml = join(fixture.dir, 'rest-feed.xml');
    writeFileSync(xml, '<?xml version="1.0" encoding="utf-8"?>\n<subscribers>' +
      '<subscriber email="x1@example.com" Prefix="+39" Number="3331112222" Name="X &amp; Y"><campo1>Zoë</campo1></subscriber>' +
      '<subscriber email="x2@example.com" Prefix="" Number="" Name=""><campo40>too far</campo40></subscriber>' +
      '<subscriber email="not-an-address" Prefix="" Number="" Name=""/></subscribers>');
    const run = await cli(['--json', 'import', xml, '--list', String(a.acc.list.id), '--poll', '0.1'], a.env);
    assert.equal(run.code, 3, run.stderr);
    const report = JSON.parse(run.stdout) as RestImportReport;
    assert.deepEqual([report.outcome, report.rowsRead, report.rowsSent, report.rowsRejected], ['partial', 3, 2, 1]);
    assert.deepEqual(report.rejectedRows.map((r) => [r.row, r.reason]), [[2, 'campo40 cannot be sent over REST: its fields run from 1 to 39']]);
    assert.deepEqual(report.counters, { created: 1, updated: 0, valid: 1, notValid: 1, imported: 1 });
    const [row] = await fixture.svc.db.query<{ name: string; mobile: string; fields: string }>('SELECT name, mobile, fields FROM recipient WHERE account_id = ?', [a.acc.account.id]);
    assert.deepEqual([row!.name, row!.mobile, JSON.parse(row!.fields)], ['X & Y', '+393331112222', { 1: 'Zoë' }]);

    const csv = join(fixture.dir, 'rest-long.csv');
    writeFileSync(csv, `email,campo2\nok@example.com,fine\nlong@example.com,${'x'.repeat(250)}\n`);
    const text = await cli(['import', csv, '--list', String(a.acc.list.id), '--poll', '0.1'], a.env);
    assert.equal(text.code, 3, text.stderr);
    assert.match(text.stdout, /^import partial: 2 rows read, 1 sent in 1 REST import to list \d+, 1 not sent$/m);
    assert.match(text.stdout, /^  not sent: row 2: campo2 is 250 characters long; the REST API takes at most 200$/m);
    assert.match(text.stderr, /^row 2 is not sent: campo2 is 250 characters long/m);
  });

  test('settings and options REST cannot take are usage errors (exit 2); refused credentials exit 1', async () => {
    const a = await restAccount();
    const path = join(fixture.dir, 'small.csv');
    writeFileSync(path, 'email\nsmall@example.com\n');
    const list = String(a.acc.list.id);
    const { MAILUP_CLIENT_ID: _id, ...noClient } = a.env;
    const missing = await cli(['import', path, '--list', list], noClient);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing the REST client id \(--client-id or MAILUP_CLIENT_ID\)/);
    const cases: Array<[readonly string[], number, RegExp]> = [
      [['--group', String(a.acc.groups[0]!.id), '--group', String(a.acc.groups[1]!.id)], 2, /over REST an import goes into one group/],
      [['--force-opt-in'], 2, /over REST there is no --force-opt-in/],
      [['--import-type', '2'], 2, /--import-type 2 picks a channel/],
      [['--replace-groups'], 2, /--replace-groups needs --group/],
      // Not a usage error: the account has no such group (nothing was sent).
      [['--group', '999999'], 1, /list \d+ has no group 999999/],
    ];
    for (const [extra, code, message] of cases) {
      const run = await cli(['import', path, '--list', list, ...extra], a.env);
      assert.equal(run.code, code, `${extra.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    const wrong = await cli(['--json', 'import', path, '--list', list], { ...a.env, MAILUP_CLIENT_SECRET: 'not-the-secret' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /the token endpoint refused the password grant \(HTTP 400 invalid_client\)/);
    assert.deepEqual([JSON.parse(wrong.stdout).error.name, JSON.parse(wrong.stdout).error.code], ['RestAuthError', 'MAILUP_AUTH_ERROR']);
    assert.ok(!wrong.stdout.includes('not-the-secret') && !wrong.stderr.includes('not-the-secret'));
    assert.equal(await count('SELECT COUNT(*) AS n FROM recipient WHERE account_id = ?', [a.acc.account.id]), 0);
  });

  test('--deadline: the imports queued behind a stuck one are left, listed with their status; exit 3', { timeout: 60_000 }, async () => {
    const stuck = await startTestService({}, { runWorker: false });
    try {
      const a = await restAccount(stuck);
      const path = join(stuck.dataDir, 'deadline.csv');
      writeFileSync(path, 'email\nd1@example.com\nd2@example.com\nd3@example.com\n');
      const t0 = Date.now();
      const run = await cli(['import', path, '--list', String(a.acc.list.id), '--batch-size', '2', '--deadline', '1500ms', '--poll', '0.1'], a.env);
      assert.ok(Date.now() - t0 < 15_000);
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stdout, /^import partial: 3 rows read, 3 sent in 2 REST imports to list/m);
      assert.match(run.stdout, /^  the import did not finish within 1.5 s: 2 of 2 imports left \(they go on on the server\):$/m);
      assert.match(run.stdout, /^  left: import \d+ not completed, 0 rows done, batch 1 \(rows 1-2\)$/m);
      const json = await cli(['--json', 'import', path, '--list', String(a.acc.list.id), '--deadline', '1', '--poll', '0.1'], a.env);
      assert.equal(json.code, 3, json.stderr);
      const report = JSON.parse(json.stdout) as RestImportReport & { error: { name: string } };
      assert.deepEqual([report.outcome, report.timedOut, report.error.name, report.remaining.length], ['partial', true, 'RestImportTimeoutError', 1]);
      assert.deepEqual(report.remaining[0]!.status?.Completed, false);
    } finally {
      await stuck.close();
    }
  });
});

describe('other commands with --api rest', () => {
  test('lists, groups, whoami answer as over SOAP; settings from a config file', async () => {
    const a = await restAccount();
    const soapEnv = { MAILUP_ENDPOINT: fixture.svc.url, MAILUP_USER: a.acc.user, MAILUP_PASSWORD: a.acc.password };
    const created = await cli(['--json', 'groups', 'create', 'Clienti più fedeli', '--list', String(a.acc.list.id)], a.env);
    assert.equal(created.code, 0, created.stderr);
    const group = JSON.parse(created.stdout);
    assert.deepEqual({ ...group, idGroup: 0 }, { idGroup: 0, groupName: 'Clienti più fedeli', idList: a.acc.list.id });
    const [restLists, soapLists] = [await cli(['--json', 'lists'], a.env), await cli(['--json', 'lists'], soapEnv)];
    assert.equal(restLists.code, 0, restLists.stderr);
    assert.deepEqual(JSON.parse(restLists.stdout), JSON.parse(soapLists.stdout));
    const groups = await cli(['groups', 'list', '--list', String(a.acc.list.id)], a.env);
    assert.match(groups.stdout, new RegExp(`^${group.idGroup}\\s+Clienti più fedeli$`, 'm'));
    const whoami = await cli(['whoami'], a.env);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(whoami.stdout, new RegExp(`^${a.acc.user} \\(client ${a.creds.clientId}\\) at ${fixture.svc.url}/API/v1.1/Rest/ConsoleService.svc over REST`));
    noSecrets(whoami, a);

    const config = join(fixture.dir, 'rest-config.json');
    writeFileSync(config, JSON.stringify({ api: 'rest', restUrl: fixture.svc.url, user: a.acc.user, password: a.acc.password, clientId: a.creds.clientId, clientSecret: a.creds.clientSecret }));
    chmodSync(config, 0o600);
    const fromFile = await cli(['--json', 'whoami', '--config', config]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.deepEqual(JSON.parse(fromFile.stdout).api, 'rest');
    const soapAgain = await cli(['--json', 'whoami', '--config', config, '--api', 'soap', '--endpoint', fixture.svc.url]);
    assert.equal(soapAgain.code, 0, soapAgain.stderr);
    assert.equal(JSON.parse(soapAgain.stdout).soapVersion, '1.1');
    noSecrets(fromFile, a);
  });
});
