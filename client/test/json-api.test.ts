/**
 * The JSON API through the client: the typed calls against a real server, its types checked
 * against the server's OpenAPI document, and the `mailup-import` command as a child process:
 * rejected rows in the import report (and all of them in --json), `validate` on CSV and XML
 * files with its exit codes, and a server without the API (a proxy that hides /api/), where
 * import behaves as before and validate says why it cannot run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { feedXml, type TestAccount } from '../../test/helpers/service.ts';
import {
  FEED_VALIDATION_FIELDS, IMPORT_DETAILS_FIELDS, IMPORT_RUN_FIELDS, IMPORT_SUMMARY_FIELDS, REJECTED_ROW_FIELDS,
} from '../src/api/types.ts';
import { JsonApiError, MailUpImportClient, MailUpJsonApiClient, streamFeed } from '../src/index.ts';
import { serviceAndFolder } from './service-and-folder.ts';
import { cliProcess as runCliProcess, type Run } from './cli-runs.ts';

const fixture = serviceAndFolder('mailup-json-api-test-');
const cliProcess = (args: readonly string[], env: Record<string, string>): Promise<Run> => runCliProcess(fixture.dir, args, env);


const envFor = (a: TestAccount, url = fixture.svc.url): Record<string, string> => ({ MAILUP_ENDPOINT: url, MAILUP_USER: a.user, MAILUP_PASSWORD: a.password });
const apiFor = (a: TestAccount): MailUpJsonApiClient => new MailUpJsonApiClient({ baseUrl: fixture.svc.endpoint, user: a.user, password: a.password });

/** A server of the same service without the JSON API, as MailUp's: every request but /api/… is passed on. */
let withoutApi: Server;
let withoutApiUrl: string;
before(async () => {
  withoutApi = createServer(async (req, res) => {
    if ((req.url ?? '').toLowerCase().startsWith('/api/')) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length' && k !== 'connection')) as Record<string, string>;
    const answer = await fetch(`${fixture.svc.url}${req.url}`, { method: req.method!, headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => withoutApi.listen(0, '127.0.0.1', resolve));
  withoutApiUrl = `http://127.0.0.1:${(withoutApi.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => withoutApi.close(() => resolve())));

/** A CSV of `good` valid rows with `bad` invalid addresses among them (every third row from the second on, while any are left). */
function csvWithRejects(name: string, good: number, bad: number): { path: string; badRows: number[] } {
  const lines = ['email,name'];
  const badRows: number[] = [];
  let g = 0;
  let b = 0;
  for (let row = 1; g < good || b < bad; row++) {
    if (b < bad && (row % 3 === 2 || g >= good)) {
      lines.push(`broken-${b}@,Bad ${b}`);
      badRows.push(row);
      b++;
    } else {
      lines.push(`${name}-${g}@example.com,Good ${g}`);
      g++;
    }
  }
  const path = join(fixture.dir, `${name}.csv`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { path, badRows };
}

describe('the typed client', () => {
  test('lists, reads, pages the rejects (JSON and CSV), starts and cancels, with JsonApiError for refusals', async () => {
    const a = await fixture.svc.addAccount();
    const api = apiFor(a);
    assert.equal(await api.offersApi(), true);
    const soap = new MailUpImportClient({ endpoint: fixture.svc.endpoint, user: a.user, password: a.password });
    const xmlDoc = feedXml([{ email: 'x1@example.com' }, { email: 'bad' }, { email: 'x2@example.com' }, { email: 'worse' }]);
    const idProcess = await soap.newImportProcess({ idList: a.list.id, listGUID: a.list.guid, xmlDoc });

    const waiting = await api.listImports({ status: 'waiting', list: a.list.id });
    assert.deepEqual(waiting.items.map((p) => [p.idProcess, p.waitingFor]), [[idProcess, 'start']]);
    const started = await api.startImport(idProcess);
    assert.equal(started.queued, false);
    await assert.rejects(api.startImport(idProcess), (err: unknown) => err instanceof JsonApiError && err.httpStatus === 409 && err.code === 'MAILUP_API_ERROR');
    let details = await api.getImport(idProcess);
    for (let i = 0; i < 600 && details.statusCode !== 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      details = await api.getImport(idProcess);
    }
    assert.equal(details.status, 'completed');
    assert.deepEqual([details.totalContacts, details.newEmail, details.rejectedRows, details.rowsMerged], [4, 2, 2, 4]);
    assert.deepEqual(details.run?.processIds, [idProcess]);

    const first = await api.getRejects(idProcess, { limit: 1 });
    assert.deepEqual([first.total, first.items.map((r) => [r.row, r.values.email]), typeof first.next], [2, [[2, 'bad']], 'string']);
    const all = [];
    for await (const r of api.allRejects(idProcess)) all.push([r.row, r.reason]);
    assert.deepEqual(all, [[2, 'invalid e-mail address'], [4, 'invalid e-mail address']]);
    const csv = await api.getRejectsCsv(idProcess);
    assert.equal(csv, '\uFEFFrow,reason,email,Prefix,Number,Name\r\n2,invalid e-mail address,bad,,,\r\n4,invalid e-mail address,worse,,,\r\n');

    await assert.rejects(api.cancelImport(idProcess), (err: unknown) => err instanceof JsonApiError && err.httpStatus === 409 && /already ended/.test(err.error));
    const other = await fixture.svc.addAccount();
    await assert.rejects(apiFor(other).getImport(idProcess), (err: unknown) => err instanceof JsonApiError && err.httpStatus === 404);

    const prepared = await soap.newImportProcess({ idList: a.list.id, listGUID: a.list.guid, xmlDoc });
    const cancelled = await api.cancelImport(prepared);
    assert.deepEqual([cancelled.cancelled, cancelled.import.reason], [[prepared], `cancelled by ${a.user}`]);
  });

  test('validateFeed takes the feed whole or streamed', async () => {
    const api = apiFor(fixture.acc);
    const subscribers = [{ email: 'v1@example.com' }, { email: 'nope' }, { email: 'V1@example.com' }, { number: '+393471234567' }];
    const whole = await api.validateFeed(feedXml(subscribers.map((s) => ({ email: s.email, Number: s.number }))));
    const streamed = await api.validateFeed(streamFeed(subscribers), { list: fixture.acc.list.id, importType: 3, mobileInputType: 1 });
    for (const v of [whole, streamed]) {
      assert.deepEqual([v.rows, v.rejectedRows, v.duplicateRows, v.channels], [4, 1, 1, { email: 2, sms: 1 }]);
      assert.deepEqual(v.rejected.map((r) => [r.row, r.reason]), [[2, 'invalid e-mail address']]);
    }
    await assert.rejects(api.validateFeed('<subscribers><subscriber'), (err: unknown) => err instanceof JsonApiError && err.httpStatus === 400);
  });

  test('validateCsv sends a CSV (text, bytes or a stream, in its encoding) for the server to read as mailup-import reads one', async () => {
    const api = apiFor(fixture.acc);
    const text = 'email;number;name\r\nv1@example.com;;Zoë\r\nnope;;\r\nV1@example.com;;\r\n;+393471234567;\r\n';
    const latin1 = Buffer.from(text, 'latin1');
    async function* pieces(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < latin1.length; i += 7) yield latin1.subarray(i, i + 7);
    }
    const answers = [await api.validateCsv(text), await api.validateCsv(latin1, { encoding: 'latin1' }), await api.validateCsv(pieces(), { encoding: 'latin1', delimiter: ';' })];
    for (const v of answers) {
      assert.deepEqual([v.rows, v.rejectedRows, v.duplicateRows, v.channels, v.skippedRecords], [4, 1, 1, { email: 2, sms: 1 }, []]);
      assert.deepEqual(v.rejected.map((r) => [r.row, r.reason, r.values.email]), [[2, 'invalid e-mail address', 'nope']]);
    }
    await assert.rejects(api.validateCsv('first,last\nAnna,Rossi\n'), (err: unknown) => err instanceof JsonApiError && err.httpStatus === 400 && /neither an email/.test(err.error));
  });

  test('a server without the JSON API is told apart', async () => {
    const api = new MailUpJsonApiClient({ baseUrl: withoutApiUrl, user: fixture.acc.user, password: fixture.acc.password });
    assert.equal(await api.offersApi(), false);
    await assert.rejects(api.getImport(1), (err: unknown) => err instanceof JsonApiError && err.httpStatus === 404);
  });

  test("the client's types name every property the server's OpenAPI document requires", async () => {
    const doc = (await (await fetch(`${fixture.svc.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: Schema }> }> }>>;
    };
    interface Schema { required?: string[]; properties?: Record<string, Schema>; items?: Schema }
    const ok = (path: string, method: string): Schema => doc.paths[path]![method]!.responses['200']!.content['application/json']!.schema;
    const sorted = (keys: readonly string[] | undefined): string[] => [...(keys ?? [])].sort();
    const details = ok('/api/imports/{idProcess}', 'get');
    assert.deepEqual(sorted(details.required), sorted(IMPORT_DETAILS_FIELDS));
    assert.deepEqual(sorted(details.properties!.run!.required), sorted(IMPORT_RUN_FIELDS));
    assert.deepEqual(sorted(ok('/api/imports', 'get').properties!.items!.items!.required), sorted(IMPORT_SUMMARY_FIELDS));
    assert.deepEqual(sorted(ok('/api/imports/{idProcess}/rejects', 'get').properties!.items!.items!.required), sorted(REJECTED_ROW_FIELDS));
    assert.deepEqual(sorted(ok('/api/feeds/validate', 'post').required), sorted(FEED_VALIDATION_FIELDS));
  });
});

describe('the mailup-import command', () => {
  test('import prints the rejected rows (count and the first ones) and --json has them all, at their input rows', async () => {
    const a = await fixture.svc.addAccount();
    const { path, badRows } = csvWithRejects('import-rejects', 20, 12);
    const run = await cliProcess(['import', path, '--list', String(a.list.id), '--batch-size', '10', '--poll', '0.1', '--no-progress'], envFor(a));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /rejected: 12 rows \(the first 10; --json lists them all\)/);
    assert.ok(run.stdout.includes(`    row ${badRows[0]}: invalid e-mail address (broken-0@)`), run.stdout);
    assert.equal(run.stdout.match(/^ {4}row \d+:/gm)?.length, 10);

    const json = await cliProcess(['import', path, '--list', String(a.list.id), '--batch-size', '10', '--poll', '0.1', '--json'], envFor(a));
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { rejected: { count: number; rows: { row: number; reason: string; values: { email: string } }[] } };
    assert.equal(report.rejected.count, 12);
    assert.deepEqual(report.rejected.rows.map((r) => r.row), badRows);
    assert.deepEqual(report.rejected.rows.map((r) => r.values.email), badRows.map((_, i) => `broken-${i}@`));
  });

  test('validate: exit 0 for a clean file, 3 with the rows that would be rejected; nothing is imported', async () => {
    const a = await fixture.svc.addAccount();
    const clean = csvWithRejects('clean', 5, 0);
    const cleanRun = await cliProcess(['validate', clean.path, '--list', String(a.list.id)], envFor(a));
    assert.equal(cleanRun.code, 0, cleanRun.stderr);
    assert.match(cleanRun.stdout, /5 rows, 5 valid, 0 would be rejected — it would import clean/);

    const dirty = csvWithRejects('dirty', 8, 3);
    const run = await cliProcess(['validate', dirty.path, '--list', String(a.list.id)], envFor(a));
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stdout, /11 rows, 8 valid, 3 would be rejected/);
    for (const [i, row] of dirty.badRows.entries()) assert.ok(run.stdout.includes(`row ${row}: invalid e-mail address (broken-${i}@)`), run.stdout);

    const xmlPath = join(fixture.dir, 'check.xml');
    writeFileSync(xmlPath, feedXml([{ email: 'a@example.com' }, { email: 'A@example.com' }, { Number: '+393471234567' }, { email: 'x@' }]));
    const xml = await cliProcess(['validate', xmlPath, '--json'], envFor(a));
    assert.equal(xml.code, 3, xml.stderr);
    const v = JSON.parse(xml.stdout) as { rows: number; rejected: { row: number }[]; duplicates: { row: number; firstRow: number }[]; channels: { email: number; sms: number } };
    assert.deepEqual([v.rows, v.rejected.map((r) => r.row), v.duplicates.map((d) => [d.row, d.firstRow]), v.channels], [4, [4], [[2, 1]], { email: 2, sms: 1 }]);

    const api = apiFor(a);
    assert.deepEqual((await api.listImports()).items, [], 'validate imported nothing');
  });

  test('against a server without the JSON API: import reports as before, validate exits 1 saying why', async () => {
    const a = await fixture.svc.addAccount();
    const { path } = csvWithRejects('no-api', 3, 1);
    const run = await cliProcess(['import', path, '--list', String(a.list.id), '--poll', '0.1', '--json'], envFor(a, withoutApiUrl));
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(report.outcome, 'completed');
    assert.ok(!('rejected' in report));
    const text = await cliProcess(['import', path, '--list', String(a.list.id), '--poll', '0.1'], envFor(a, withoutApiUrl));
    assert.doesNotMatch(text.stdout, /rejected/);
    const validate = await cliProcess(['validate', path], envFor(a, withoutApiUrl));
    assert.equal(validate.code, 1);
    assert.match(validate.stderr, /does not offer the JSON API/);
  });
});
