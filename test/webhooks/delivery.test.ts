/**
 * Webhook deliveries end to end (docs/webhooks.md), on the store TEST_STORE names: a real service
 * runs imports over SOAP and Send Now over HTTP, and a real HTTP listener receives the deliveries
 * and verifies their signatures with the standardwebhooks package. Events: import.completed,
 * import.failed (a stored feed that cannot be read), import.cancelled (a cancel through the core),
 * confirmations.sent (Send Now); payloads carry the import's details as the core describes them;
 * a failed or timed-out attempt is retried with the same webhook-id and the same bytes; one
 * import's events reach an endpoint in order; a delivery past its retry window is given up, and
 * resending it delivers it with the same webhook-id.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { importDetails } from '../../src/core/import-details.ts';
import { cancelImport } from '../../src/core/import-control.ts';
import { addWebhook, resendWebhookDelivery, webhookDeliveries } from '../../src/core/webhooks.ts';
import { callSoap, feedXml, startTestService, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';
import { runImport, sendNow } from '../double-opt-in/flow-helpers.ts';
import { settled, startReceiver, type Receiver, type ReceivedHook } from './receiver.ts';

const WEBHOOK_ENV = { WEBHOOK_POLL_MS: '50', WEBHOOK_RETRY_FIRST_DELAY_MS: '100', WEBHOOK_TIMEOUT_MS: '1500' };

let svc: TestService;
let receiver: Receiver;
let hooks = 0;

before(async () => {
  receiver = await startReceiver();
  svc = await startTestService(WEBHOOK_ENV);
});
after(async () => {
  await svc?.close();
  await receiver?.close();
});

/** Registers an endpoint of the account on its own path of the receiver; answers the path and the endpoint id. */
async function register(acc: TestAccount, events?: string): Promise<{ path: string; endpointId: number }> {
  const path = `/hook/${++hooks}`;
  const added = await addWebhook(svc.service.store, acc.account.id, `${receiver.url}${path}`, events);
  assert.ok(added.ok, JSON.stringify(added));
  assert.match(added.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  receiver.secrets.set(path, added.secret);
  return { path, endpointId: added.endpoint.id };
}

const at = (path: string): ReceivedHook[] => receiver.received.filter((r) => r.path === path);

const auth = (acc: TestAccount) => ({ User: acc.user, Password: acc.password });

/** NewImportProcess without a start: the process waits (status 1). */
async function prepareImport(acc: TestAccount, emails: readonly string[]): Promise<number> {
  const created = await callSoap(svc.endpoint, 'NewImportProcess', {
    idList: acc.list.id, listGUID: acc.list.guid, xmlDoc: feedXml(emails.map((email) => ({ email }))), idGroups: '', importType: 3, mobileInputType: 1,
    asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
  }, auth(acc));
  assert.ok(created.returnCode !== null && created.returnCode > 0, created.body);
  return created.returnCode;
}

describe('events', () => {
  test('import.completed then confirmations.sent, signed, with the import details, only to the endpoints subscribed', async () => {
    const acc = await svc.addAccount();
    const all = await register(acc);
    const failedOnly = await register(acc, 'import.failed');
    const id = await runImport(svc, acc, [{ email: 'a@x.it' }, { email: 'b@x.it' }], { ConfirmEmail: true });
    await receiver.waitFor(() => at(all.path).length >= 1);
    const send = await sendNow(svc, acc);
    assert.equal(send.status, 200);
    await receiver.waitFor(() => at(all.path).length >= 2);

    const [completed, sent] = at(all.path);
    assert.deepEqual([completed!.payload.type, sent!.payload.type], ['import.completed', 'confirmations.sent']);
    for (const hook of [completed!, sent!]) {
      assert.ok(hook.verified, 'the signature verifies with the secret shown when the endpoint was added');
      assert.match(hook.id, /^msg_[0-9a-f]{32}$/);
      assert.match(hook.signature, /^v1,[A-Za-z0-9+/]+=*$/);
      assert.ok(Math.abs(Number(hook.timestamp) - Date.now() / 1000) < 60);
      assert.equal(hook.payload.data.idProcess, id);
    }
    assert.notEqual(completed!.id, sent!.id);
    assert.equal(completed!.payload.data.statusCode, 3);
    assert.equal(completed!.payload.data.confirmationSent, false, 'rendered when the import had just ended');
    assert.deepEqual(sent!.payload.data, JSON.parse(JSON.stringify(await importDetails(svc.service.store, acc.account.id, id))),
      'the details as the core describes them, ConfirmationSent now true');
    assert.equal(sent!.payload.data.confirmationSent, true);
    const process = await svc.service.store.processes.getProcess(acc.account.id, id);
    assert.equal(completed!.payload.timestamp, new Date(Date.parse(completed!.payload.timestamp)).toISOString());
    assert.ok(Math.abs(Date.parse(completed!.payload.timestamp) - process!.endDate!.getTime()) < 5000, 'the time of the event');
    assert.deepEqual(at(failedOnly.path), []);

    await settled(svc.service.store, acc.account.id);
    const listed = await webhookDeliveries(svc.service.store, acc.account.id, all.endpointId);
    assert.deepEqual(listed?.deliveries.map((d) => [d.event, d.status, d.attempts, d.responseCode, d.messageId]),
      [['confirmations.sent', 'delivered', 1, 204, sent!.id], ['import.completed', 'delivered', 1, 204, completed!.id]]);
  });

  test('import.failed when the stored feed cannot be read, with the reason', async () => {
    const acc = await svc.addAccount();
    const hook = await register(acc, 'import.failed,import.completed');
    const id = await prepareImport(acc, ['c@x.it']);
    await svc.db.execute("UPDATE feed_chunk SET rows = 'not json' WHERE feed_id = (SELECT feed_id FROM import_process WHERE id = ?)", [id]);
    const started = await callSoap(svc.endpoint, 'StartProcess', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id }, auth(acc));
    assert.equal(started.returnCode, 0);
    await waitForProcess(svc.endpoint, auth(acc), acc.list.id, acc.list.guid, id);
    await receiver.waitFor(() => at(hook.path).length >= 1);
    const [failed] = at(hook.path);
    assert.ok(failed!.verified);
    assert.deepEqual([failed!.payload.type, failed!.payload.data.idProcess, failed!.payload.data.statusCode, failed!.payload.data.cancelled], ['import.failed', id, 4, false]);
    assert.equal(typeof failed!.payload.data.reason, 'string');
  });

  test('import.cancelled when a waiting import is cancelled', async () => {
    const acc = await svc.addAccount();
    const hook = await register(acc, 'import.cancelled');
    const id = await prepareImport(acc, ['d@x.it']);
    const cancelled = await cancelImport(svc.service.context.operations, acc.account.id, id, 'ops');
    assert.ok(cancelled.ok);
    await receiver.waitFor(() => at(hook.path).length >= 1);
    const [event] = at(hook.path);
    assert.ok(event!.verified);
    assert.deepEqual([event!.payload.type, event!.payload.data.idProcess, event!.payload.data.cancelled, event!.payload.data.reason], ['import.cancelled', id, true, 'cancelled by ops']);
  });
});

describe('retries and order', () => {
  test('an endpoint that answers 500, then times out, gets the same webhook-id and the same bytes until it answers 2xx', async () => {
    const acc = await svc.addAccount();
    const hook = await register(acc, 'import.completed');
    const answers: ('hang' | number)[] = [500, 'hang', 503, 200];
    receiver.answer = (path) => (path === hook.path ? answers.shift() ?? 200 : 204);
    try {
      await runImport(svc, acc, [{ email: 'e@x.it' }]);
      await receiver.waitFor(() => at(hook.path).some((r) => r.answered === 200));
    } finally {
      receiver.answer = () => 204;
    }
    await settled(svc.service.store, acc.account.id);
    const attempts = at(hook.path);
    assert.deepEqual(attempts.map((r) => r.answered), [500, 0, 503, 200]);
    assert.equal(new Set(attempts.map((r) => r.id)).size, 1, 'one webhook-id');
    assert.equal(new Set(attempts.map((r) => r.body)).size, 1, 'the same bytes');
    assert.ok(attempts.every((r) => r.verified), 'each attempt signed anew, and valid');
    const { deliveries } = (await webhookDeliveries(svc.service.store, acc.account.id, hook.endpointId))!;
    assert.deepEqual(deliveries.map((d) => [d.status, d.attempts, d.responseCode, d.lastError]), [['delivered', 4, 200, null]], 'a delivered one keeps no error');
  });

  test("an import's confirmations.sent waits until its import.completed is delivered", async () => {
    const acc = await svc.addAccount();
    const hook = await register(acc);
    let open = false;
    receiver.answer = (path, body) => (path === hook.path && !open && body.includes('"import.completed"') ? 500 : 204);
    try {
      await runImport(svc, acc, [{ email: 'f@x.it' }], { ConfirmEmail: true });
      await receiver.waitFor(() => at(hook.path).length >= 2);
      assert.equal((await sendNow(svc, acc)).status, 200);
      // Both events are stored; the endpoint keeps refusing the first for a few more attempts.
      const before = at(hook.path).length;
      await receiver.waitFor(() => at(hook.path).length >= before + 2);
      assert.ok(at(hook.path).every((r) => r.payload.type === 'import.completed'));
      open = true;
      await receiver.waitFor(() => at(hook.path).some((r) => r.payload.type === 'confirmations.sent'));
    } finally {
      receiver.answer = () => 204;
    }
    const types = at(hook.path).map((r) => `${r.payload.type}:${r.answered}`);
    assert.equal(types.at(-2), 'import.completed:204');
    assert.equal(types.at(-1), 'confirmations.sent:204');
  });
});

describe('giving up and resending', () => {
  test('a delivery still failing at the end of its retry window is given up; a resend delivers it with the same webhook-id', async () => {
    const short = await startTestService({ ...WEBHOOK_ENV, WEBHOOK_RETRY_WINDOW_SECONDS: '1' });
    try {
      const acc = await short.addAccount();
      const path = `/hook/${++hooks}`;
      const added = await addWebhook(short.service.store, acc.account.id, `${receiver.url}${path}`, 'import.completed');
      assert.ok(added.ok);
      receiver.secrets.set(path, added.secret);
      receiver.answer = (p) => (p === path ? 500 : 204);
      await runImport(short, acc, [{ email: 'g@x.it' }]);
      const gaveUp = async () => (await webhookDeliveries(short.service.store, acc.account.id, added.endpoint.id))!.deliveries[0]!;
      const deadline = Date.now() + 20_000;
      while ((await gaveUp())?.status !== 'given_up') {
        assert.ok(Date.now() < deadline, 'given up within the window');
        await new Promise((r) => setTimeout(r, 50));
      }
      const given = await gaveUp();
      assert.ok(given.attempts >= 2, `retried before giving up (${given.attempts} attempts)`);
      const tried = at(path).length;
      assert.equal(tried, given.attempts);

      receiver.answer = () => 204;
      assert.equal(await resendWebhookDelivery(short.service.store, acc.account.id, given.id), true);
      await receiver.waitFor(() => at(path).length > tried);
      await settled(short.service.store, acc.account.id);
      const last = at(path).at(-1)!;
      assert.deepEqual([last.id, last.answered, last.verified, last.body], [given.messageId, 204, true, at(path)[0]!.body]);
      const delivered = await gaveUp();
      assert.deepEqual([delivered.status, delivered.responseCode], ['delivered', 204]);
      assert.equal(await resendWebhookDelivery(short.service.store, acc.account.id + 1000, given.id), false, "another account's delivery");
    } finally {
      receiver.answer = () => 204;
      await short.close();
    }
  });
});
