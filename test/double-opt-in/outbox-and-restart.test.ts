/**
 * Without SMTP_URL every message goes to the outbox in the store; and a restart between the
 * import and Send Now (or between Send Now and the click) loses nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService } from '../helpers/service.ts';
import { startSmtpSink } from '../helpers/smtp-sink.ts';
import { api } from '../helpers/json-api.ts';
import { confirmLinkOf, openLink, processDetails, runImport, sendNow, subscriptionOf } from './flow-helpers.ts';

const sentFlag = async (...args: Parameters<typeof processDetails>): Promise<string | undefined> =>
  (await processDetails(...args)).find(([name]) => name === 'ConfirmationSent')?.[1];

test('without SMTP_URL, Send Now writes every message to the outbox, where the links work', async () => {
  const svc = await startTestService({ PUBLIC_URL: 'http://127.0.0.1:1/' });
  try {
    const acc = await svc.addAccount();
    const id = await runImport(svc, acc, [{ email: 'anna@example.com', fields: ['Anna'] }, { email: 'bruno@example.com' }], { ConfirmEmail: true });
    assert.equal(await sentFlag(svc, acc, id), 'False');
    assert.deepEqual((await api<{ messages: unknown[] }>(svc, acc, 'GET', '/api/confirmations/outbox')).body.messages, []);

    const sent = await sendNow(svc, acc, { processId: id });
    assert.deepEqual(
      [sent.body.queued, sent.body.sent, sent.body.written_to_outbox, sent.body.failed],
      [2, 0, 2, 0],
    );
    assert.equal(await sentFlag(svc, acc, id), 'True');

    type Entry = { recipient: string; sender: string; subject: string; html: string; text: string; requestId: number };
    const { body } = await api<{ messages: Entry[] }>(svc, acc, 'GET', '/api/confirmations/outbox');
    assert.deepEqual(body.messages.map((m) => m.recipient).sort(), ['anna@example.com', 'bruno@example.com']);
    const anna = body.messages.find((m) => m.recipient === 'anna@example.com')!;
    assert.equal(anna.subject, 'Please confirm your subscription');
    assert.equal(anna.sender, `no-reply@${acc.user}.invalid`, 'the sender of the account\'s default message');
    // PUBLIC_URL decides the links; the test opens the same path on the service itself.
    const link = /(http:\/\/127\.0\.0\.1:1\/confirm\/\S+)/.exec(anna.text)?.[1];
    assert.ok(link, anna.text);
    assert.ok(anna.html.includes(`href="${link}"`));
    const opened = await openLink(link.replace('http://127.0.0.1:1', svc.url));
    assert.equal(opened.status, 200);
    assert.equal((await subscriptionOf(svc, 'anna@example.com', acc.list.id))?.status, 'subscribed');
    assert.equal((await subscriptionOf(svc, 'bruno@example.com', acc.list.id))?.status, 'pending');

    // Another account's outbox is its own.
    const other = await svc.addAccount();
    assert.deepEqual((await api<{ messages: unknown[] }>(svc, other, 'GET', '/api/confirmations/outbox')).body.messages, []);
  } finally {
    await svc.close();
  }
});

test('a restart between the import and Send Now, and between Send Now and the click, loses nothing', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailup-restart-'));
  const sink = await startSmtpSink();
  const env = { DATA_DIR: dataDir, SMTP_URL: sink.url };
  try {
    let svc = await startTestService(env);
    const acc = await svc.addAccount();
    const people = ['p1@example.com', 'p2@example.com', 'p3@example.com'].map((email) => ({ email }));
    const id = await runImport(svc, acc, people, { ConfirmEmail: true });
    assert.equal(await sentFlag(svc, acc, id), 'False');
    await svc.close();
    assert.equal(sink.received.length, 0, 'nothing sent before Send Now, nor on shutdown');

    svc = await startTestService(env);
    assert.equal(await sentFlag(svc, acc, id), 'False', 'still queued after the restart');
    const sent = await sendNow(svc, acc, { processId: id });
    assert.deepEqual([sent.body.queued, sent.body.sent], [3, 3]);
    await sink.waitFor(3);
    assert.deepEqual(sink.received.map((m) => m.envelopeTo[0]).sort(), people.map((p) => p.email));
    const link = confirmLinkOf(sink.received.find((m) => m.envelopeTo[0] === 'p2@example.com')!);
    const path = new URL(link).pathname;
    await svc.close();

    // The secret is persisted: a link issued before the restart still confirms after it.
    svc = await startTestService(env);
    try {
      assert.equal(await sentFlag(svc, acc, id), 'True');
      const opened = await openLink(`${svc.url}${path}`);
      assert.equal(opened.status, 200, opened.body);
      assert.equal((await subscriptionOf(svc, 'p2@example.com', acc.list.id))?.status, 'subscribed');
    } finally {
      await svc.close();
    }
  } finally {
    await sink.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a Send Now that died after claiming leaves its requests to the next one once the claim expires; the outbox never doubles', async () => {
  const svc = await startTestService();
  try {
    const acc = await svc.addAccount();
    const store = svc.service.store;
    const held = await runImport(svc, acc, [{ email: 'held@example.com' }], { ConfirmEmail: true });
    const crashed = await runImport(svc, acc, [{ email: 'crash@example.com' }], { ConfirmEmail: true });

    // A run claimed these requests and is still at work (or died an instant ago): nobody else sends them meanwhile.
    const claim = await store.confirmations.claimConfirmations(acc.account.id, held, { limit: 10, leaseMs: 3600_000, now: new Date() });
    assert.equal(claim.requests.length, 1);
    const meanwhile = await sendNow(svc, acc, { processId: held });
    assert.deepEqual([meanwhile.body.queued, meanwhile.body.written_to_outbox, meanwhile.body.claimedElsewhere], [0, 0, 1]);
    assert.equal(await sentFlag(svc, acc, held), 'False');

    // A run that died long enough ago: its claim expired, and the next Send Now takes the request over.
    const dead = await store.confirmations.claimConfirmations(acc.account.id, crashed, { limit: 10, leaseMs: 1, now: new Date() });
    const requestId = dead.requests[0]!.requestId;
    await new Promise((r) => setTimeout(r, 10));
    const next = await sendNow(svc, acc, { processId: crashed });
    assert.deepEqual([next.body.queued, next.body.written_to_outbox], [1, 1]);
    assert.equal(await sentFlag(svc, acc, crashed), 'True');

    // Writing the same request's message again (a run that died between the outbox and the status) keeps one entry.
    const [entry] = (await api<{ messages: { id: number; requestId: number }[] }>(svc, acc, 'GET', '/api/confirmations/outbox')).body.messages;
    assert.equal(entry?.requestId, requestId);
    const again = await store.confirmations.writeOutbox({
      accountId: acc.account.id, requestId, sender: 's@example.com', recipient: 'crash@example.com', subject: 'x', html: 'x', text: 'x',
    });
    assert.equal(again, entry.id);
    assert.equal((await api<{ messages: unknown[] }>(svc, acc, 'GET', '/api/confirmations/outbox')).body.messages.length, 1);
  } finally {
    await svc.close();
  }
});
