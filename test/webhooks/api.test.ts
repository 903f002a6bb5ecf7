/**
 * Webhook endpoints over the JSON API (/api/webhooks) as a client calls it, on the store TEST_STORE
 * names: an endpoint added by POST gets its secret once and receives signed deliveries that verify
 * with it; GET lists endpoints (never secrets) with delivery counts and an endpoint's deliveries;
 * a delivery is resent with the same webhook-id; DELETE removes; bad input is answered 400/409
 * with a JSON message and changes nothing; another account's endpoints are 404.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { api as callApi } from '../helpers/json-api.ts';
import { runImport } from '../double-opt-in/flow-helpers.ts';
import { settled, startReceiver, type Receiver } from './receiver.ts';

let svc: TestService;
let receiver: Receiver;
before(async () => {
  receiver = await startReceiver();
  svc = await startTestService({ WEBHOOK_POLL_MS: '50', WEBHOOK_RETRY_FIRST_DELAY_MS: '100' });
});
after(async () => {
  await svc?.close();
  await receiver?.close();
});

/** A call to /api<path> as the account. */
const api = <T = Record<string, unknown>>(acc: TestAccount | null, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) =>
  callApi<T>(svc, acc, method, `/api${path}`, body);

interface Endpoint { id: number; url: string; events: string[]; enabled: boolean; createdAt: string; secret?: string; deliveries?: Record<string, number> }
interface Delivery { id: number; webhookId: string; event: string; idProcess: number; status: string; attempts: number; responseCode: number | null; nextAttemptAt: string | null }

describe('/api/webhooks', () => {
  test('POST answers the secret once; deliveries verify with it; GET lists endpoints and deliveries; resend; DELETE', async () => {
    const acc = await svc.addAccount();
    const added = await api<Endpoint>(acc, 'POST', '/webhooks', { url: `${receiver.url}/api`, events: ['import.completed', 'import.failed'] });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual({ ...added.body, id: 0, createdAt: '', secret: '' }, { id: 0, url: `${receiver.url}/api`, events: ['import.completed', 'import.failed'], enabled: true, createdAt: '', secret: '' });
    assert.match(added.body.secret!, /^whsec_/);
    receiver.secrets.set('/api', added.body.secret!);

    const processId = await runImport(svc, acc, [{ email: 'api@x.it' }]);
    await receiver.waitFor((r) => r.some((h) => h.path === '/api'));
    const hook = receiver.received.find((h) => h.path === '/api')!;
    assert.ok(hook.verified);
    assert.deepEqual([hook.payload.type, hook.payload.data.idProcess], ['import.completed', processId]);

    await settled(svc.service.store, acc.account.id);
    const listed = await api<{ items: Endpoint[] }>(acc, 'GET', '/webhooks');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.items.map((e) => [e.id, e.url, e.deliveries]), [[added.body.id, `${receiver.url}/api`, { pending: 0, delivered: 1, given_up: 0 }]]);
    assert.ok(!JSON.stringify(listed.body).includes('whsec_'), 'never the secret again');

    const deliveries = await api<{ items: Delivery[] }>(acc, 'GET', `/webhooks/${added.body.id}/deliveries`);
    assert.equal(deliveries.status, 200);
    const [d] = deliveries.body.items;
    assert.deepEqual([d!.webhookId, d!.event, d!.idProcess, d!.status, d!.attempts, d!.responseCode, d!.nextAttemptAt], [hook.id, 'import.completed', processId, 'delivered', 1, 204, null]);

    const resent = await api(acc, 'POST', `/webhooks/${added.body.id}/deliveries/${d!.id}/resend`);
    assert.deepEqual([resent.status, resent.body], [202, { resent: true }]);
    await receiver.waitFor((r) => r.filter((h) => h.path === '/api').length === 2);
    assert.equal(receiver.received.filter((h) => h.path === '/api')[1]!.id, hook.id);
    assert.equal((await api(acc, 'POST', `/webhooks/${added.body.id}/deliveries/${d!.id + 1000}/resend`)).status, 404);

    const other = await svc.addAccount();
    assert.equal((await api(other, 'GET', `/webhooks/${added.body.id}/deliveries`)).status, 404);
    assert.equal((await api(other, 'POST', `/webhooks/${added.body.id}/deliveries/${d!.id}/resend`)).status, 404);
    const theirs = await api<{ error: string }>(other, 'DELETE', `/webhooks/${added.body.id}`);
    assert.equal(theirs.status, 404);
    assert.match(theirs.body.error, /does not exist in this account/);
    assert.deepEqual((await api<{ items: Endpoint[] }>(other, 'GET', '/webhooks')).body.items, []);

    const removed = await api(acc, 'DELETE', `/webhooks/${added.body.id}`);
    assert.equal(removed.status, 204);
    assert.deepEqual((await api<{ items: Endpoint[] }>(acc, 'GET', '/webhooks')).body.items, []);
    assert.equal((await api(acc, 'DELETE', `/webhooks/${added.body.id}`)).status, 404);
  });

  test('bad input is answered with a JSON message and adds nothing; the eleventh endpoint is 409; no credentials is 401', async () => {
    const acc = await svc.addAccount();
    const cases: [unknown, RegExp][] = [
      [{ url: 'http://hooks.example.com/in' }, /only on the loopback/],
      [{ url: 'ftp://127.0.0.1/in' }, /must use https/],
      [{ url: 'https://user:pw@hooks.example.com/' }, /user name or password/],
      [{ url: 'https://hooks.example.com/', events: ['import.exploded'] }, /events/],
      [{ events: ['import.failed'] }, /url/],
      [{ url: 42 }, /not an absolute URL/],
      [Buffer.from('{"url": "https://hooks.example.com/"'), /JSON/i],
    ];
    for (const [body, message] of cases) {
      const refused = await api<{ error: string }>(acc, 'POST', '/webhooks', body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.match(refused.body.error, message);
    }
    assert.equal((await api(acc, 'GET', '/webhooks/abc/deliveries')).status, 400);
    assert.equal((await api(acc, 'DELETE', '/webhooks/0')).status, 400);
    assert.deepEqual((await api<{ items: Endpoint[] }>(acc, 'GET', '/webhooks')).body.items, []);

    for (let i = 0; i < 10; i++) assert.equal((await api(acc, 'POST', '/webhooks', { url: `https://hooks.example.com/${i}` })).status, 201);
    const eleventh = await api<{ error: string }>(acc, 'POST', '/webhooks', { url: 'https://hooks.example.com/10' });
    assert.equal(eleventh.status, 409);
    assert.match(eleventh.body.error, /at most 10 webhook endpoints/);
    const all = (await api<{ items: Endpoint[] }>(acc, 'GET', '/webhooks')).body.items;
    assert.equal(all.length, 10);
    assert.deepEqual(all[0]!.events, ['import.completed', 'import.failed', 'import.cancelled', 'confirmations.sent'], 'no events named: all of them');

    assert.equal((await api(null, 'GET', '/webhooks')).status, 401);
    assert.equal((await api(null, 'POST', '/webhooks', { url: 'https://hooks.example.com/x' })).status, 401);
  });
});
