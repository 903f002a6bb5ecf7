/**
 * The JSON API's import endpoints over real HTTP: listing with filters and paging, one process
 * with the same numbers as SOAP's GetProcessDetails, the reject report as JSON pages and as CSV,
 * cancel and start with their refusals, bad parameters, and another account's processes never
 * shown. Runs on the store TEST_STORE names (npm test runs it on both).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { callSoap, feedXml, resultFields, startTestService, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';
import { call } from '../helpers/json-api.ts';
import { prepareImport, runImport } from './api-helpers.ts';

interface Summary { idProcess: number; listId: number; statusCode: number; status: string; waitingFor: string | null; rejectedRows: number; reason: string | null; cancelled: boolean }
interface Details extends Summary {
  totalContacts: number; newEmail: number; existingEmail: number; optOutEmail: number; newMobile: number; existingMobile: number; optOutMobile: number;
  isRunning: boolean; confirmationEmail: boolean; confirmationSent: boolean | null; startDate: string | null; endDate: string | null;
  rowsMerged: number; rejectReasons: Record<string, number>; options: { importType: number; groupIds: number[] };
  run: { runId: number; processIds: number[]; state: string; totalRows: number; rowsMerged: number; percent: number } | null; runId: number | null;
}
interface Page<T> { items: T[]; next: string | null; total?: number }
interface Reject { row: number; reason: string; values: { email: string; prefix: string; number: string; name: string; fields: Record<string, string> } }

let svc: TestService;
let acc: TestAccount;
let other: TestAccount;
let done: number;

/** Rows of an import that must still be running while a few API calls are made (a busy machine merges some 50,000 rows a second). */
const BIG = 300_000;

const FEED = feedXml([
  { email: 'one@example.com', Name: 'One', fields: ['a'] },
  { email: 'not-an-address', Name: 'Bad', fields: ['=cmd'] },
  { email: 'two@example.com' },
  { Number: '3331234567' },
  { email: 'ONE@example.com' },
]);

before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount();
  other = await svc.addAccount();
  done = await runImport(svc, acc, FEED);
});
after(() => svc?.close());

describe('GET /api/imports/{idProcess}', () => {
  test('answers the GetProcessDetails numbers of SOAP, with options, run, rows merged, rejected rows by reason', async () => {
    const res = await call<Details>(svc, acc, 'GET', `/api/imports/${done}`);
    assert.equal(res.status, 200, res.text);
    const soap = await callSoap(svc.endpoint, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: done }, { User: acc.user, Password: acc.password });
    const f = resultFields(soap.result!);
    const d = res.body;
    assert.deepEqual(
      [d.totalContacts, d.newEmail, d.newMobile, d.existingEmail, d.existingMobile, d.optOutEmail, d.optOutMobile, d.statusCode],
      ['TotalContacts', 'NewEmail', 'NewMobile', 'ExistingEmail', 'ExistingMobile', 'OptOutEmail', 'OptOutMobile', 'StatusCode'].map((k) => Number(f[k])),
    );
    assert.equal(d.totalContacts, 5);
    assert.equal(d.status, 'completed');
    assert.equal(d.isRunning, false);
    assert.equal(d.confirmationEmail, false);
    assert.equal(d.confirmationSent, null);
    assert.equal(d.listId, acc.list.id);
    assert.equal(d.rowsMerged, 5);
    assert.equal(d.rejectedRows, 2);
    assert.deepEqual(d.rejectReasons, { 'invalid e-mail address': 1, 'invalid mobile number: no country code (+ or 00) and the list has no default country': 1 });
    assert.equal(d.options.importType, 3);
    assert.deepEqual(d.run && { runId: d.run.runId, processIds: d.run.processIds, state: d.run.state, totalRows: d.run.totalRows, percent: d.run.percent },
      { runId: done, processIds: [done], state: 'completed', totalRows: 5, percent: 100 });
    assert.equal(d.runId, done);
    assert.equal(d.run!.rowsMerged, d.rowsMerged, 'a run of one merged what its process merged');
    assert.ok(d.endDate !== null && !Number.isNaN(Date.parse(d.endDate)));
    assert.equal(d.reason, null);
  });

  test('a process of a run of several tells that run; rows merged are counted as the run counts them (a completed process: all its rows)', async () => {
    const a = await svc.addAccount();
    const second = await svc.service.store.lists.createList(a.account.id, 'Second');
    const auth = { User: a.user, Password: a.password };
    const reply = await callSoap(svc.endpoint, 'StartImportProcesses', {
      listsIDs: `${a.list.id};${second.id}`, listsGUIDs: `${a.list.guid};${second.guid}`, xmlDoc: feedXml([{ email: 'r1@example.com' }, { email: 'r2@example.com' }, { email: 'r3@example.com' }]),
      groupsIDs: '', importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
    }, auth);
    assert.equal(reply.returnCode, 0, reply.body);
    const [first, later] = [...reply.result!.matchAll(/<processID>(\d+)/g)].map((m) => Number(m[1]));
    await waitForProcess(svc.endpoint, auth, a.list.id, a.list.guid, first!);
    await waitForProcess(svc.endpoint, auth, second.id, second.guid, later!);
    // A completed process counts all its rows, whatever its checkpoint says.
    await svc.db.execute('UPDATE import_process SET checkpoint = 1 WHERE id = ?', [later]);
    const d = (await call<Details>(svc, a, 'GET', `/api/imports/${later}`)).body;
    assert.deepEqual([d.idProcess, d.listId, d.statusCode, d.totalContacts, d.rowsMerged], [later, second.id, 3, 3, 3]);
    assert.deepEqual(d.run, { runId: first, processIds: [first, later], state: 'completed', totalRows: 6, rowsMerged: 6, rejectedRows: 0, percent: 100 });
    assert.equal((await call(svc, other, 'GET', `/api/imports/${later}`)).status, 404, "another account's");
  });

  test("another account's process and an unknown one are both 404, alike; a bad id is 400", async () => {
    const foreign = await call(svc, other, 'GET', `/api/imports/${done}`);
    const unknown = await call(svc, other, 'GET', '/api/imports/987654');
    assert.deepEqual([foreign.status, unknown.status], [404, 404]);
    assert.equal(String(foreign.body.error), `Import process ${done} does not exist in this account.`);
    for (const bad of ['abc', '0', '-1', '1.5']) {
      const res = await call(svc, acc, 'GET', `/api/imports/${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(typeof res.body.error, 'string');
    }
  });

  test('needs the WS credentials: 401 without or with a wrong password, with a JSON error', async () => {
    const none = await call(svc, null, 'GET', `/api/imports/${done}`);
    assert.equal(none.status, 401);
    assert.match(String(none.body.error), /-1013/);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic/);
    const wrong = await call(svc, { user: acc.user, password: 'nope' }, 'GET', '/api/imports');
    assert.equal(wrong.status, 401);
    const nowhere = await call(svc, acc, 'GET', '/api/nothing-here');
    assert.equal(nowhere.status, 404);
    assert.match(String(nowhere.body.error), /There is no GET \/api\/nothing-here/);
  });
});

describe('GET /api/imports', () => {
  test('lists newest first, filters by status (number or name) and list, and pages with limit and cursor', async () => {
    const waiting = [await prepareImport(svc, acc, feedXml([{ email: 'w1@example.com' }])), await prepareImport(svc, acc, feedXml([{ email: 'w2@example.com' }]))];
    const all = await call<Page<Summary>>(svc, acc, 'GET', '/api/imports');
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.body.items.map((p) => p.idProcess), [waiting[1], waiting[0], done]);
    assert.equal(all.body.next, null);
    assert.deepEqual(all.body.items.map((p) => [p.status, p.waitingFor]), [['waiting', 'start'], ['waiting', 'start'], ['completed', null]]);

    for (const status of ['1', 'waiting']) {
      const filtered = await call<Page<Summary>>(svc, acc, 'GET', `/api/imports?status=${status}`);
      assert.deepEqual(filtered.body.items.map((p) => p.idProcess), [waiting[1], waiting[0]], status);
    }
    const completed = await call<Page<Summary>>(svc, acc, 'GET', `/api/imports?status=3&list=${acc.list.id}`);
    assert.deepEqual(completed.body.items.map((p) => p.idProcess), [done]);

    const first = await call<Page<Summary>>(svc, acc, 'GET', '/api/imports?limit=2');
    assert.deepEqual(first.body.items.map((p) => p.idProcess), [waiting[1], waiting[0]]);
    assert.equal(typeof first.body.next, 'string');
    const second = await call<Page<Summary>>(svc, acc, 'GET', `/api/imports?limit=2&cursor=${first.body.next}`);
    assert.deepEqual(second.body.items.map((p) => p.idProcess), [done]);
    assert.equal(second.body.next, null);

    // Another account sees none of them.
    const theirs = await call<Page<Summary>>(svc, other, 'GET', '/api/imports');
    assert.deepEqual(theirs.body.items, []);
    for (const id of waiting) await call(svc, acc, 'POST', `/api/imports/${id}/cancel`);
  });

  test('bad parameters are 400 with a message; another account\'s list is 404', async () => {
    for (const query of ['status=5', 'status=done', 'limit=0', 'limit=1001', 'limit=x', 'cursor=abc', 'cursor=0', 'list=0', 'list=x']) {
      const res = await call(svc, acc, 'GET', `/api/imports?${query}`);
      assert.equal(res.status, 400, query);
      assert.ok(typeof res.body.error === 'string' && res.body.error.length > 0, query);
    }
    const foreign = await call(svc, other, 'GET', `/api/imports?list=${acc.list.id}`);
    assert.equal(foreign.status, 404);
    assert.match(String(foreign.body.error), new RegExp(`List ${acc.list.id} does not exist`));
  });
});

describe('GET /api/imports/{idProcess}/rejects', () => {
  test('JSON pages of rejected rows with row number, reason and the row as sent', async () => {
    const res = await call<Page<Reject>>(svc, acc, 'GET', `/api/imports/${done}/rejects?limit=1`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.total, 2);
    assert.deepEqual(res.body.items, [{ row: 2, reason: 'invalid e-mail address', values: { email: 'not-an-address', prefix: '', number: '', name: 'Bad', fields: { 1: '=cmd' } } }]);
    assert.equal(res.body.next, '2');
    const next = await call<Page<Reject>>(svc, acc, 'GET', `/api/imports/${done}/rejects?limit=1&cursor=${res.body.next}`);
    assert.deepEqual(next.body.items.map((r) => [r.row, r.values.number]), [[4, '3331234567']]);
    assert.equal(next.body.next, null);
  });

  test('Accept: text/csv answers the whole report as the console\'s CSV', async () => {
    const res = await call(svc, acc, 'GET', `/api/imports/${done}/rejects`, { accept: 'text/csv' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(res.text, '\uFEFFrow,reason,email,Prefix,Number,Name,campo1\r\n'
      + "2,invalid e-mail address,not-an-address,,,Bad,'=cmd\r\n"
      + '4,invalid mobile number: no country code (+ or 00) and the list has no default country,,,3331234567,,\r\n');
  });

  test("another account's process is 404 in JSON and in CSV", async () => {
    assert.equal((await call(svc, other, 'GET', `/api/imports/${done}/rejects`)).status, 404);
    const csv = await call(svc, other, 'GET', `/api/imports/${done}/rejects`, { accept: 'text/csv' });
    assert.equal(csv.status, 404);
    assert.equal(typeof csv.body, 'object');
  });
});

describe('POST /api/imports/{idProcess}/start and /cancel', () => {
  test('start runs a prepared process; a second start is 409; cancel of a finished one is 409', async () => {
    const id = await prepareImport(svc, acc, feedXml([{ email: 's1@example.com' }, { email: 's2@example.com' }]));
    assert.equal((await call(svc, other, 'POST', `/api/imports/${id}/start`)).status, 404, 'not for another account');
    const started = await call<{ queued: boolean; behindListId: number | null; import: Details }>(svc, acc, 'POST', `/api/imports/${id}/start`);
    assert.equal(started.status, 200, started.text);
    assert.equal(started.body.queued, false);
    assert.equal(started.body.behindListId, null);
    assert.equal(started.body.import.idProcess, id);
    assert.ok([2, 3].includes(started.body.import.statusCode));
    const again = await call(svc, acc, 'POST', `/api/imports/${id}/start`);
    assert.equal(again.status, 409);
    assert.match(String(again.body.error), /not waiting to be started/);
    let status = started.body.import.statusCode;
    for (let i = 0; i < 600 && status !== 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await call<Details>(svc, acc, 'GET', `/api/imports/${id}`)).body.statusCode;
    }
    assert.equal(status, 3);
    const cancel = await call(svc, acc, 'POST', `/api/imports/${id}/cancel`);
    assert.equal(cancel.status, 409);
    assert.match(String(cancel.body.error), /already ended/);
  });

  test('cancel ends a waiting process with "cancelled by <WS user>", as GetProcessDetails then reports', async () => {
    const id = await prepareImport(svc, acc, feedXml([{ email: 'c1@example.com' }]));
    assert.equal((await call(svc, other, 'POST', `/api/imports/${id}/cancel`)).status, 404, 'not for another account');
    const res = await call<{ cancelled: number[]; import: Details }>(svc, acc, 'POST', `/api/imports/${id}/cancel`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.cancelled, [id]);
    assert.equal(res.body.import.statusCode, 4);
    assert.equal(res.body.import.reason, `cancelled by ${acc.user}`);
    assert.equal(res.body.import.cancelled, true);
    const soap = await callSoap(svc.endpoint, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id }, { User: acc.user, Password: acc.password });
    assert.equal(resultFields(soap.result!).StatusCode, '4');
    const start = await call(svc, acc, 'POST', `/api/imports/${id}/start`);
    assert.equal(start.status, 409);
    assert.equal((await call(svc, acc, 'POST', '/api/imports/987654/cancel')).status, 404);
  });

  test('a start while another import runs waits its turn; cancelling the running one keeps its merged rows and lets the next run', async () => {
    const a = await svc.addAccount();
    // Enough rows to be still running while the calls below are made (batches of 5,000).
    const big = await prepareImport(svc, a, feedXml(Array.from({ length: BIG }, (_, i) => ({ email: `big${i}@example.com` }))));
    const next = await prepareImport(svc, a, feedXml([{ email: 'after@example.com' }]));
    assert.equal((await call(svc, a, 'POST', `/api/imports/${big}/start`)).status, 200);
    const queued = await call<{ queued: boolean; behindListId: number | null; import: Details }>(svc, a, 'POST', `/api/imports/${next}/start`);
    assert.equal(queued.status, 200, queued.text);
    assert.deepEqual([queued.body.queued, queued.body.behindListId, queued.body.import.waitingFor], [true, a.list.id, 'turn']);
    const again = await call(svc, a, 'POST', `/api/imports/${next}/start`);
    assert.equal(again.status, 409);
    assert.match(String(again.body.error), /waits its turn/);

    const cancel = await call<{ cancelled: number[]; import: Details }>(svc, a, 'POST', `/api/imports/${big}/cancel`);
    assert.equal(cancel.status, 200, cancel.text);
    assert.deepEqual(cancel.body.cancelled, [big]);
    const stopped = cancel.body.import;
    assert.deepEqual([stopped.statusCode, stopped.reason, stopped.cancelled], [4, `cancelled by ${a.user}`, true]);
    assert.ok(stopped.rowsMerged < BIG, `rows merged ${stopped.rowsMerged}`);
    assert.equal(stopped.run!.rowsMerged, stopped.rowsMerged, 'a failed process counts its checkpoint, as its run of one does');
    assert.equal(stopped.newEmail, stopped.rowsMerged, 'the counters are those of the rows merged');
    let after = (await call<Details>(svc, a, 'GET', `/api/imports/${next}`)).body;
    for (let i = 0; i < 600 && after.statusCode !== 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = (await call<Details>(svc, a, 'GET', `/api/imports/${next}`)).body;
    }
    assert.equal(after.statusCode, 3, 'the queued import ran after the cancel');
  });
});
