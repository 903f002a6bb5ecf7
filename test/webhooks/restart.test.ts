/**
 * Never lost across a crash (docs/webhooks.md): the server (a real child process) finishes an
 * import while the endpoint's listener is down, so the event waits in the outbox; the server is
 * killed with SIGKILL before any delivery succeeds; once the listener is back and the server
 * restarted, the delivery arrives, signed, with the webhook-id stored for it before the kill.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { demoAccount, startChildServer, startDemoImport, stopChildServer, storeOf, type ChildServer } from '../helpers/child-server.ts';
import { feedXml, waitForProcess } from '../helpers/service.ts';
import { startReceiver, type Receiver } from './receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailup-webhook-restart-'));
const running: ChildServer[] = [];
let receiver: Receiver | null = null;
after(async () => {
  for (const s of running) await stopChildServer(s, 'SIGKILL');
  await receiver?.close();
  await (await storeOf(dir)).drop();
  rmSync(dir, { recursive: true, force: true });
});

const ENV = { WEBHOOK_POLL_MS: '50', WEBHOOK_RETRY_FIRST_DELAY_MS: '200', WEBHOOK_TIMEOUT_MS: '1000' };

interface StoredDelivery {
  message_id: string;
  status: string;
  attempts: number;
  process_id: number;
}

test('an event stored when the import ended is delivered after a SIGKILL and a restart, with the same webhook-id', { timeout: 180_000 }, async () => {
  const db = await storeOf(dir);
  // A port for the listener, which is down until after the kill.
  const probe = await startReceiver();
  const port = probe.port;
  await probe.close();

  const first = await startChildServer(dir, ENV);
  running.push(first);
  const demo = demoAccount(first);
  const added = await runAdminProcess(['--json', 'webhook', 'add', String(demo.auth.User), `http://127.0.0.1:${port}/hook`], { ...db.env });
  assert.equal(added.code, 0, added.stderr);
  const { secret } = JSON.parse(added.stdout) as { secret: string };

  const processId = await startDemoImport(first, feedXml([{ email: 'kill@x.it' }, { email: 'kill2@x.it' }]));
  await waitForProcess(first.endpoint, demo.auth, demo.list.id, demo.list.guid, processId);
  // The listener is down: attempts fail and the delivery stays pending, with its webhook-id.
  const deadline = Date.now() + 30_000;
  let stored: StoredDelivery | undefined;
  while (!(stored && stored.attempts >= 1)) {
    assert.ok(Date.now() < deadline, 'an attempt was made and failed');
    [stored] = await db.query<StoredDelivery>('SELECT message_id, status, attempts, process_id FROM webhook_delivery WHERE process_id = ?', [processId]);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(stored!.status, 'pending');
  assert.equal(await stopChildServer(first, 'SIGKILL'), null);

  receiver = await startReceiver(port);
  receiver.secrets.set('/hook', secret);
  const second = await startChildServer(dir, ENV);
  running.push(second);
  await receiver.waitFor((r) => r.some((h) => h.answered === 204), 30_000);
  const delivered = receiver.received.filter((h) => h.answered === 204);
  assert.equal(delivered.length, 1);
  const [hook] = delivered;
  assert.equal(hook!.id, stored!.message_id, 'the webhook-id stored before the kill');
  assert.ok(hook!.verified, 'signed with the secret the CLI printed');
  assert.deepEqual([hook!.payload.type, hook!.payload.data.idProcess, hook!.payload.data.statusCode], ['import.completed', processId, 3]);

  const current = async () => (await db.query<StoredDelivery>('SELECT message_id, status, attempts, process_id FROM webhook_delivery WHERE process_id = ?', [processId]))[0]!;
  const settleBy = Date.now() + 10_000;
  while ((await current()).status !== 'delivered') {
    assert.ok(Date.now() < settleBy, 'recorded as delivered');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(receiver.received.length, 1, 'delivered once, not again after it was recorded');
  assert.equal(await stopChildServer(second, 'SIGTERM'), 0);
});
