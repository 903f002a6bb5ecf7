/**
 * Cancelling and starting imports through the doors operators use: the console over real HTTP
 * (confirmation page, CSRF-checked form, notice) and the admin CLI as a real process, against a
 * real service whose worker imports while it is cancelled. A cancelled process keeps what it
 * merged, with counters equal to the rows merged and to the recipients stored, stops at once,
 * takes the waiting processes of its run with it, and reports status 4 over SOAP. Runs on the
 * store TEST_STORE names (npm test runs it on both).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/core/passwords.ts';
import { callSoap, feedXml, resultFields, startTestService, waitForProcess, type SoapAuth, type TestAccount, type TestService } from '../helpers/service.ts';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { ConsoleBrowser } from '../helpers/console-http.ts';

const PASSWORD = 'control-secret-1';
/**
 * Enough rows (batches of 5,000) for an import to be still running after two admin CLI processes
 * have started and answered (a few seconds each on a busy machine; an idle one merges 100,000
 * rows in about as long).
 */
const BIG = 400_000;

let svc: TestService;

before(async () => {
  svc = await startTestService();
});

after(async () => {
  await svc?.close();
});

const auth = (acc: TestAccount): SoapAuth => ({ User: acc.user, Password: acc.password });
const uniqueFeed = (rows: number, tag: string): string => feedXml(Array.from({ length: rows }, (_, i) => ({ email: `${tag}${i}@example.com` })));
const FLAGS = { importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false };

/** StartImportProcesses of a feed into the given lists: one run; answers the process ids, in the lists' order. */
async function startRun(acc: TestAccount, lists: readonly { id: number; guid: string }[], xmlDoc: string): Promise<number[]> {
  const reply = await callSoap(svc.endpoint, 'StartImportProcesses', {
    listsIDs: lists.map((l) => l.id).join(';'), listsGUIDs: lists.map((l) => l.guid).join(';'), groupsIDs: '', xmlDoc, ...FLAGS,
  }, auth(acc));
  assert.equal(reply.returnCode, 0, reply.body);
  return [...reply.result!.matchAll(/<processID>(\d+)<\/processID>/g)].map((m) => Number(m[1]));
}

/** NewImportProcess: a process prepared and not started. */
async function newProcess(acc: TestAccount, xmlDoc: string): Promise<number> {
  const reply = await callSoap(svc.endpoint, 'NewImportProcess', { idList: acc.list.id, listGUID: acc.list.guid, xmlDoc, groupsIDs: '', ...FLAGS }, auth(acc));
  assert.ok(reply.returnCode !== null && reply.returnCode > 0, reply.body);
  return reply.returnCode!;
}

interface Row { status: number; checkpoint: number; new_email: number; failure_reason: string | null; lease_owner: string | null; queued_seq: number | null }

async function row(id: number): Promise<Row> {
  const [r] = await svc.db.query<Row>('SELECT status, checkpoint, new_email, failure_reason, lease_owner, queued_seq FROM import_process WHERE id = ?', [id]);
  return { ...r!, status: Number(r!.status), checkpoint: Number(r!.checkpoint), new_email: Number(r!.new_email) };
}

async function waitFor(id: number, done: (r: Row) => boolean, timeoutMs = 60_000): Promise<Row> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await row(id);
    if (done(r)) return r;
    if (Date.now() > deadline) throw new Error(`timed out; process ${id} is ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The recipients of one feed (their addresses start with its tag) stored in the account, and their subscriptions on the list. */
async function stored(acc: TestAccount, listId: number, tag: string): Promise<{ recipients: number; subscriptions: number }> {
  const [r] = await svc.db.query<{ n: number }>('SELECT count(*) AS n FROM recipient WHERE account_id = ? AND email LIKE ?', [acc.account.id, `${tag}%`]);
  const [s] = await svc.db.query<{ n: number }>(
    'SELECT count(*) AS n FROM subscription_channel s JOIN recipient r ON r.id = s.recipient_id WHERE s.list_id = ? AND r.email LIKE ?', [listId, `${tag}%`]);
  return { recipients: Number(r!.n), subscriptions: Number(s!.n) };
}

/** Checks what a cancel must leave: status 4 with the reason, no lease, counters = rows merged = recipients stored, and no more rows merged after it. */
async function assertStoppedExactly(acc: TestAccount, id: number, tag: string, reason: string): Promise<Row> {
  const atCancel = await row(id);
  assert.deepEqual([atCancel.status, atCancel.failure_reason, atCancel.lease_owner], [4, reason, null]);
  // A worker still merging would move the checkpoint within a batch or two; a second is several batches.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const later = await row(id);
  assert.equal(later.checkpoint, atCancel.checkpoint, 'nothing merged after the cancel');
  assert.ok(later.checkpoint > 0 && later.checkpoint < BIG, `cancelled mid-import (${later.checkpoint} rows merged)`);
  assert.equal(later.new_email, later.checkpoint, 'each merged row counted once');
  assert.deepEqual(await stored(acc, acc.list.id, tag), { recipients: later.checkpoint, subscriptions: later.checkpoint });
  const details = resultFields((await callSoap(svc.endpoint, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id }, auth(acc))).result!);
  assert.deepEqual([details.StatusCode, details.NewEmail], ['4', String(later.checkpoint)], 'GetProcessDetails: failed, with the counters so far');
  return later;
}

describe('the console', () => {
  test('a running import is cancelled after a confirmation: it stops at once with exact counters, and its run\'s waiting process ends with it', async () => {
    const acc = await svc.addAccount();
    const second = await svc.service.store.lists.createList(acc.account.id, 'Second');
    await svc.service.store.accounts.createConsoleUser(acc.account.id, 'alice', await hashPassword(PASSWORD));
    const browser = new ConsoleBrowser(svc.url);
    await browser.signIn(acc.user, 'alice', PASSWORD);

    const [running, sibling] = await startRun(acc, [acc.list, second], uniqueFeed(BIG, 'run'));
    await waitFor(running!, (r) => r.checkpoint >= 5000);
    assert.equal((await row(running!)).status, 2, 'still running');
    assert.ok((await row(sibling!)).queued_seq !== null, 'its sibling waits its turn');

    const list = await browser.get('/console/imports');
    assert.match(list.body, new RegExp(`href="/console/imports/${running}/cancel"`), 'the imports list offers Cancel');
    const pageOf = await browser.get(`/console/imports/${running}`);
    assert.match(pageOf.body, new RegExp(`href="/console/imports/${running}/cancel"`));
    assert.doesNotMatch(pageOf.body, new RegExp(`/imports/${running}/start"`), 'a running import cannot be started');
    const confirm = await browser.get(`/console/imports/${running}/cancel`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.body, /<form method="post" action="\/console\/imports\/\d+\/cancel"><input type="hidden" name="_csrf"/);
    assert.equal((await row(running!)).status, 2, 'the confirmation page changes nothing');

    // Without the CSRF token: refused, nothing changed.
    const forged = await browser.request('POST', `/console/imports/${running}/cancel`, {});
    assert.equal(forged.status, 403);
    assert.equal((await row(running!)).status, 2);

    const done = await browser.post(`/console/imports/${running}/cancel`);
    assert.deepEqual([done.status, done.location], [303, `/console/imports/${running}?notice=import-run-cancelled`]);
    await assertStoppedExactly(acc, running!, 'run', 'cancelled by alice');
    const s = await row(sibling!);
    assert.deepEqual([s.status, s.failure_reason, s.checkpoint, s.queued_seq], [4, 'cancelled by alice', 0, null]);
    const after = await browser.get(done.location!);
    assert.match(after.body, /The import was cancelled, with the imports started with it/);
    assert.match(after.body, /The import was cancelled:<\/strong> cancelled by alice/);
    assert.doesNotMatch(after.body, new RegExp(`/imports/${running}/cancel"`), 'nothing left to cancel');

    // A second cancel is refused with its reason; another account's process is not found.
    await browser.get(`/console/imports/${running}/cancel`);
    const again = await browser.post(`/console/imports/${running}/cancel`);
    assert.equal(again.status, 409);
    assert.match(again.body, /already ended and cannot be cancelled/);
    const other = await svc.addAccount();
    const foreign = await newProcess(other, uniqueFeed(2, 'foreign'));
    assert.equal((await browser.get(`/console/imports/${foreign}/cancel`)).status, 404);
    assert.equal((await browser.post(`/console/imports/${foreign}/cancel`)).status, 404);
    assert.equal((await row(foreign)).status, 1, "another account's process is untouched");
  });

  test('a process waiting for its start is started after a confirmation, or cancelled', async () => {
    const acc = await svc.addAccount();
    await svc.service.store.accounts.createConsoleUser(acc.account.id, 'bea', await hashPassword(PASSWORD));
    const browser = new ConsoleBrowser(svc.url);
    await browser.signIn(acc.user, 'bea', PASSWORD);
    const waiting = await newProcess(acc, uniqueFeed(3, 'start'));
    const list = await browser.get('/console/imports');
    assert.match(list.body, new RegExp(`href="/console/imports/${waiting}/start"`));
    await browser.get(`/console/imports/${waiting}/start`);
    const started = await browser.post(`/console/imports/${waiting}/start`);
    assert.deepEqual([started.status, started.location], [303, `/console/imports/${waiting}?notice=import-started`]);
    const details = resultFields((await waitForProcess(svc.endpoint, auth(acc), acc.list.id, acc.list.guid, waiting)).result!);
    assert.deepEqual([details.StatusCode, details.NewEmail], ['3', '3']);
    const refused = await browser.post(`/console/imports/${waiting}/start`);
    assert.equal(refused.status, 409);
    assert.match(refused.body, /not waiting to be started/);

    const toCancel = await newProcess(acc, uniqueFeed(3, 'never'));
    await browser.get(`/console/imports/${toCancel}/cancel`);
    const cancelled = await browser.post(`/console/imports/${toCancel}/cancel`);
    assert.deepEqual([cancelled.status, cancelled.location], [303, `/console/imports/${toCancel}?notice=import-cancelled`]);
    assert.deepEqual([(await row(toCancel)).status, (await row(toCancel)).checkpoint], [4, 0]);
  });
});

describe('the admin CLI', () => {
  const admin = (...args: string[]) => runAdminProcess(args, svc.storeEnv);

  test('import ls, start (queued behind a running import), cancel of a running one, and the refusals', { timeout: 120_000 }, async () => {
    const acc = await svc.addAccount();
    const waiting = await newProcess(acc, uniqueFeed(4, 'cliwait'));
    const listed = await admin('--json', 'import', 'ls', acc.user);
    assert.equal(listed.code, 0, listed.stderr);
    const [one] = JSON.parse(listed.stdout) as Record<string, unknown>[];
    assert.deepEqual([one!.id, one!.status, one!.state, one!.waitingFor, one!.totalContacts, one!.rowsMerged, one!.runId], [waiting, 1, 'waiting', 'start', 4, 0, null]);
    const text = await admin('import', 'ls', acc.user);
    assert.match(text.stdout, new RegExp(`${waiting}.*waiting \\(not started\\)`));

    // A running import: the waiting one, started now, is queued behind it.
    const [running] = await startRun(acc, [acc.list], uniqueFeed(BIG, 'clirun'));
    await waitFor(running!, (r) => r.checkpoint >= 5000);
    const start = await admin('import', 'start', acc.user, String(waiting));
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, new RegExp(`Import ${waiting} started: it waits its turn behind the running import on list ${acc.list.id}`));
    assert.ok((await row(waiting)).queued_seq !== null);

    const cancel = await admin('--json', 'import', 'cancel', acc.user, String(running), '--by', 'ops');
    assert.equal(cancel.code, 0, cancel.stderr);
    const answer = JSON.parse(cancel.stdout) as Record<string, unknown>;
    assert.deepEqual([answer.status, answer.failureReason, answer.cancelled], [4, 'cancelled by ops', [running]], 'the queued process is another run');
    const stopped = await assertStoppedExactly(acc, running!, 'clirun', 'cancelled by ops');
    assert.equal(answer.rowsMerged, stopped.checkpoint);
    // The account's queue moved on: the process queued behind it runs and completes.
    const next = resultFields((await waitForProcess(svc.endpoint, auth(acc), acc.list.id, acc.list.guid, waiting)).result!);
    assert.deepEqual([next.StatusCode, next.NewEmail], ['3', '4']);

    const refusedCancel = await admin('import', 'cancel', acc.user, String(running));
    assert.equal(refusedCancel.code, 1);
    assert.match(refusedCancel.stderr, /already ended and cannot be cancelled/);
    const refusedStart = await admin('import', 'start', acc.user, String(waiting));
    assert.equal(refusedStart.code, 1);
    assert.match(refusedStart.stderr, /not waiting to be started/);
    const unknown = await admin('import', 'cancel', acc.user, '987654321');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no such import process in this account/);
    assert.equal((await admin('import', 'cancel', 'nobody', '1')).code, 2, 'not a WS user: usage');
    assert.equal((await admin('import', 'start', acc.user, 'x')).code, 2, 'not a process id: usage');
  });

  test('import cancel of a waiting process ends it alone, with nothing merged', async () => {
    const acc = await svc.addAccount();
    const [first, second] = [await newProcess(acc, uniqueFeed(2, 'w1')), await newProcess(acc, uniqueFeed(2, 'w2'))];
    const cancel = await admin('import', 'cancel', acc.user, String(first));
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, new RegExp(`Import ${first} cancelled`));
    assert.deepEqual([(await row(first)).status, (await row(first)).failure_reason, (await row(second)).status], [4, 'cancelled by administrator', 1]);
    const details = resultFields((await callSoap(svc.endpoint, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: first }, auth(acc))).result!);
    assert.equal(details.StatusCode, '4');
  });
});
