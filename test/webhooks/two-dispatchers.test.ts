// test-stores: postgres (several servers share one PostgreSQL database; SQLite has one server per database)
/**
 * Two services on one PostgreSQL database, each with its own connection pool and dispatcher, as
 * two worker hosts: every delivery of many imports to many endpoints reaches its endpoint exactly
 * once (claims take rows FOR UPDATE SKIP LOCKED under a lease), although both dispatchers poll
 * the same outbox at once and the endpoint is slow to answer.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addWebhook } from '../../src/core/webhooks.ts';
import { runImport } from '../double-opt-in/flow-helpers.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { startReceiver, type Receiver } from './receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailup-webhook-two-'));
let receiver: Receiver | null = null;
let one: TestService | null = null;
let two: TestService | null = null;
after(async () => {
  await two?.service.close();
  await one?.close();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('two dispatchers on one database never both deliver one delivery', { timeout: 120_000 }, async () => {
  const env = { DATA_DIR: dir, WEBHOOK_POLL_MS: '10', WEBHOOK_RETRY_FIRST_DELAY_MS: '100' };
  receiver = await startReceiver();
  receiver.delayMs = 30;
  one = await startTestService(env);
  two = await startTestService(env);
  const acc = await one.addAccount();
  for (let i = 0; i < 10; i++) {
    const added = await addWebhook(one.service.store, acc.account.id, `${receiver.url}/two/${i}`, 'import.completed');
    assert.ok(added.ok);
    receiver.secrets.set(`/two/${i}`, added.secret);
  }
  const imports = 5;
  for (let i = 0; i < imports; i++) await runImport(i % 2 === 0 ? one : two, acc, [{ email: `two${i}@x.it` }]);
  await receiver.waitFor((r) => new Set(r.map((h) => h.id)).size === imports * 10, 60_000);
  // Leave time for a second delivery of any of them to show.
  await new Promise((r) => setTimeout(r, 500));
  const ids = receiver.received.map((h) => h.id);
  assert.equal(ids.length, imports * 10, 'each delivery received once');
  assert.equal(new Set(ids).size, imports * 10);
  assert.ok(receiver.received.every((h) => h.verified));
});
