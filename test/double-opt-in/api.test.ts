/**
 * The Send Now endpoint's answers to bad requests: authentication like the web service's, one
 * account never reaching another's processes, clear 4xx answers for malformed bodies, and confirm
 * links that are not links at all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { api } from '../helpers/json-api.ts';
import { openLink, runImport, sendNow } from './flow-helpers.ts';

let svc: TestService;
let acc: TestAccount;
let other: TestAccount;
let confirmProcess: number;
let plainProcess: number;
before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount();
  other = await svc.addAccount();
  confirmProcess = await runImport(svc, acc, [{ email: 'a@example.com' }], { ConfirmEmail: true });
  plainProcess = await runImport(svc, acc, [{ email: 'b@example.com' }]);
});
after(() => svc.close());

test('Send Now needs the account\'s WS credentials over HTTP Basic', async () => {
  const none = await api(svc, null, 'POST', '/api/confirmations/send-now', {});
  assert.equal(none.status, 401);
  assert.match(String(none.body.error), /-1013/);
  const wrong = await api(svc, { user: acc.user, password: 'wrong' }, 'POST', '/api/confirmations/send-now', {});
  assert.equal(wrong.status, 401);
  assert.match(String(wrong.body.error), /password not valid/);
  const unknown = await api(svc, { user: 'a999999', password: 'x' }, 'POST', '/api/confirmations/send-now', {});
  assert.equal(unknown.status, 401);
  await svc.service.store.accounts.updateAccount(other.account.id, { wsEnabled: false });
  try {
    const disabled = await api(svc, other, 'POST', '/api/confirmations/send-now', {});
    assert.equal(disabled.status, 403);
    assert.match(String(disabled.body.error), /-1006/);
  } finally {
    await svc.service.store.accounts.updateAccount(other.account.id, { wsEnabled: true });
  }
});

test('a process of another account, an unknown one, or one without ConfirmEmail is refused by name', async () => {
  const foreign = await sendNow(svc, other, { processId: confirmProcess });
  assert.equal(foreign.status, 404);
  assert.equal((await sendNow(svc, acc, { processId: 987654 })).status, 404);
  const plain = await sendNow(svc, acc, { processId: plainProcess });
  assert.equal(plain.status, 409);
  assert.match(String((plain.body as unknown as { error: string }).error), /did not ask for ConfirmEmail/);
  // Nothing was sent by the refused calls.
  const status = await api<{ processes: { processId: number; queued: number }[] }>(svc, acc, 'GET', `/api/confirmations?processId=${confirmProcess}`);
  assert.deepEqual(status.body.processes.map((p) => [p.processId, p.queued]), [[confirmProcess, 1]]);
  assert.equal((await api(svc, other, 'GET', `/api/confirmations?processId=${confirmProcess}`)).status, 404);
});

test('malformed bodies get a 400 that says what is wrong', async () => {
  const cases: [unknown, RegExp][] = [
    [{ processId: 'twelve' }, /processId must be a positive whole number/],
    [{ processId: -3 }, /processId must be a positive whole number/],
    [{ processId: 1.5 }, /processId must be a positive whole number/],
    [{ process: 1 }, /Unknown field "process"/],
    [{ retryFailed: 'yes' }, /retryFailed must be true or false/],
    [[1, 2], /JSON object/],
    ['text', /JSON object/],
  ];
  for (const [body, message] of cases) {
    const reply = await sendNow(svc, acc, body as object);
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.match(String((reply.body as unknown as { error: string }).error), message, JSON.stringify(body));
  }
  const broken = await api<{ error: unknown }>(svc, acc, 'POST', '/api/confirmations/send-now', Buffer.from('{"processId":'));
  assert.equal(broken.status, 400);
  assert.ok(typeof broken.body.error === 'string');
  const query = await api(svc, acc, 'GET', '/api/confirmations?processId=abc');
  assert.equal(query.status, 400);
});

test('an empty POST sends everything the account has queued', async () => {
  const { status, body } = await api<{ queued: number; written_to_outbox: number; confirmationSent: number[] }>(svc, acc, 'POST', '/api/confirmations/send-now');
  assert.equal(status, 200);
  assert.deepEqual([body.queued, body.written_to_outbox, body.confirmationSent], [1, 1, [confirmProcess]]);
});

test('confirm links that are not links are refused plainly, as escaped pages', async () => {
  for (const token of ['nothing', 'a.b', '%3Cscript%3Ealert(1)%3C%2Fscript%3E', `${'x'.repeat(38)}.${'y'.repeat(43)}`]) {
    const page = await openLink(`${svc.url}/confirm/${token}`);
    assert.equal(page.status, 400, token);
    assert.match(page.body, /<h1>Invalid confirmation link<\/h1>/);
    assert.doesNotMatch(page.body, /<script>/);
  }
  const res = await fetch(`${svc.url}/confirm/nothing`);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.match(res.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
});
