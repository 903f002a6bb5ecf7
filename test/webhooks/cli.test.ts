/**
 * `mailup-import-admin webhook add|ls|deliveries|resend|rm` as operators run it (child processes of
 * the real CLI), against a running service on the store TEST_STORE names: an endpoint added by the
 * CLI receives the service's signed deliveries, verified with the secret the CLI printed once;
 * refused URLs and events get a clear message and change nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
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

const admin = (...args: string[]) => runAdminProcess(args, { ...svc.storeEnv });

describe('webhook', () => {
  test('add prints the secret once; deliveries verify with it; ls, deliveries and resend show and steer them; rm removes the endpoint', async () => {
    const acc = await svc.addAccount();
    const added = await admin('webhook', 'add', acc.user, `${receiver.url}/cli`, '--events', 'import.completed');
    assert.equal(added.code, 0, added.stderr);
    const secret = /signing secret: +(whsec_\S+)/.exec(added.stdout)?.[1];
    const id = Number(/id: +(\d+)/.exec(added.stdout)?.[1]);
    assert.ok(secret && id > 0, added.stdout);
    assert.match(added.stdout, /shown only this once/);
    receiver.secrets.set('/cli', secret);

    const processId = await runImport(svc, acc, [{ email: 'cli@x.it' }]);
    await receiver.waitFor((r) => r.some((h) => h.path === '/cli'));
    const hook = receiver.received.find((h) => h.path === '/cli')!;
    assert.ok(hook.verified);
    assert.deepEqual([hook.payload.type, hook.payload.data.idProcess], ['import.completed', processId]);

    await settled(svc.service.store, acc.account.id);
    const ls = await admin('--json', 'webhook', 'ls', acc.user);
    assert.equal(ls.code, 0, ls.stderr);
    const listed = JSON.parse(ls.stdout) as Record<string, unknown>[];
    assert.deepEqual(listed.map((e) => [e.id, e.url, e.events, e.deliveries]),
      [[id, `${receiver.url}/cli`, ['import.completed'], { pending: 0, delivered: 1, given_up: 0 }]]);
    assert.ok(!ls.stdout.includes('whsec_'), 'the secret is never shown again');
    const text = await admin('webhook', 'ls', acc.user);
    assert.match(text.stdout, new RegExp(`${id} +${receiver.url.replace(/\./g, '\\.')}/cli +import\\.completed +0 +1 +0`));

    const deliveries = await admin('--json', 'webhook', 'deliveries', acc.user, String(id));
    assert.equal(deliveries.code, 0, deliveries.stderr);
    const [delivery] = JSON.parse(deliveries.stdout) as Record<string, unknown>[];
    assert.deepEqual([delivery!.webhookId, delivery!.event, delivery!.idProcess, delivery!.status, delivery!.attempts, delivery!.responseCode],
      [hook.id, 'import.completed', processId, 'delivered', 1, 204]);

    const resent = await admin('webhook', 'resend', acc.user, String(delivery!.id));
    assert.equal(resent.code, 0, resent.stderr);
    await receiver.waitFor((r) => r.filter((h) => h.path === '/cli').length === 2);
    assert.equal(receiver.received.filter((h) => h.path === '/cli')[1]!.id, hook.id, 'the same webhook-id');

    const other = await svc.addAccount();
    assert.equal((await admin('webhook', 'rm', other.user, String(id))).code, 1, "another account's endpoint");
    const removed = await admin('webhook', 'rm', acc.user, String(id));
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /removed/);
    assert.equal((await admin('--json', 'webhook', 'ls', acc.user)).stdout.trim(), '[]');
    const again = await admin('webhook', 'rm', acc.user, String(id));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /does not exist/);
  });

  test('refused URLs and events get a clear message and add nothing', async () => {
    const acc = await svc.addAccount();
    const cases: [string[], RegExp][] = [
      [['http://hooks.example.com/in'], /only on the loopback/],
      [['ftp://127.0.0.1/in'], /must use https/],
      [['not a url'], /not an absolute URL/],
      [['https://user:pw@hooks.example.com/'], /user name or password/],
      [['https://hooks.example.com/in', '--events', 'import.completed,import.exploded'], /unknown event "import\.exploded"/],
    ];
    for (const [args, message] of cases) {
      const refused = await admin('webhook', 'add', acc.user, ...args);
      assert.notEqual(refused.code, 0, args.join(' '));
      assert.match(refused.stderr, message);
    }
    assert.equal((await admin('--json', 'webhook', 'ls', acc.user)).stdout.trim(), '[]');
    const bad = await admin('webhook', 'rm', acc.user, 'abc');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /positive whole number/);
    for (let i = 0; i < 10; i++) assert.equal((await admin('webhook', 'add', acc.user, `https://hooks.example.com/${i}`)).code, 0);
    const eleventh = await admin('webhook', 'add', acc.user, 'https://hooks.example.com/10');
    assert.notEqual(eleventh.code, 0);
    assert.match(eleventh.stderr, /at most 10 webhook endpoints/);
  });
});
