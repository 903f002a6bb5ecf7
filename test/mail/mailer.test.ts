/**
 * The mailers: SMTP delivery to a real SMTP listener with its errors classified, and the outbox
 * mailer writing to the store TEST_STORE names (npm test runs it on both).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { classifySmtpError, createOutboxMailer, createSmtpMailer, DeliveryError, type OutgoingMail } from '../../src/mail/mailer.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { storeFixture } from '../store/store-fixture.ts';

const mail = (to: string, requestId: number | null = null): OutgoingMail => ({
  accountId: 1, requestId, from: 'Lists <lists@example.com>', to, subject: 'Please confirm', html: '<p>Hi</p>', text: 'Hi',
});

let sink: SmtpSink;
before(async () => {
  sink = await startSmtpSink((rcpt) => (rcpt.startsWith('busy') ? 451 : rcpt.startsWith('gone') ? 550 : null));
});
after(() => sink.close());

test('SMTP errors are classified: 5xx permanent (but 503), 4xx and connection problems transient', () => {
  const cases: [object, boolean, number | null][] = [
    [{ responseCode: 550, response: '550 Mailbox unavailable', code: 'EENVELOPE' }, true, 550],
    [{ responseCode: 554, message: 'Transaction failed', code: 'EMESSAGE' }, true, 554],
    [{ responseCode: 503, message: 'Bad sequence', code: 'EPROTOCOL' }, false, 503],
    [{ responseCode: 451, response: '451 Try again later', code: 'EENVELOPE' }, false, 451],
    [{ responseCode: 421, message: 'Service not available' }, false, 421],
    [{ code: 'ECONNECTION', message: 'Connection closed' }, false, null],
    [{ code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:1' }, false, null],
    [{ code: 'ETIMEDOUT', message: 'Greeting never received' }, false, null],
    [{ code: 'EAUTH', message: 'Invalid login' }, false, null],
    [{ code: 'EENVELOPE', message: 'No recipients defined' }, true, null],
    [new Error('something odd'), false, null],
  ];
  for (const [err, permanent, code] of cases) {
    const classified = classifySmtpError(err);
    assert.ok(classified instanceof DeliveryError);
    assert.equal(classified.permanent, permanent, JSON.stringify(err));
    assert.equal(classified.responseCode, code, JSON.stringify(err));
  }
  assert.equal(classifySmtpError({ responseCode: 550, response: 'Mailbox unavailable' }).message, '550 Mailbox unavailable');
});

test('the SMTP mailer delivers to a real SMTP server, with the envelope sender configured', async () => {
  const mailer = createSmtpMailer({ url: sink.url, envelopeFrom: 'bounces@example.com', ratePerSecond: 0 });
  try {
    await mailer.deliver(mail('anna@example.com'));
    const got = sink.received.find((m) => m.envelopeTo.includes('anna@example.com'));
    assert.ok(got, 'received');
    assert.equal(got.envelopeFrom, 'bounces@example.com');
    assert.equal(got.mail.subject, 'Please confirm');
    assert.equal(got.mail.from?.value[0]?.address, 'lists@example.com');
    assert.equal(got.mail.text?.trim(), 'Hi');
    assert.equal(got.mail.html, '<p>Hi</p>');
    assert.equal(got.mail.headers.get('auto-submitted'), 'auto-generated');
  } finally {
    await mailer.close();
  }
});

test('a 451 is a transient DeliveryError, a 550 a permanent one', async () => {
  const mailer = createSmtpMailer({ url: sink.url, envelopeFrom: null, ratePerSecond: 0 });
  try {
    await assert.rejects(mailer.deliver(mail('busy@example.com')), (e: unknown) =>
      e instanceof DeliveryError && !e.permanent && e.responseCode === 451 && /451/.test(e.message));
    await assert.rejects(mailer.deliver(mail('gone@example.com')), (e: unknown) =>
      e instanceof DeliveryError && e.permanent && e.responseCode === 550 && /550/.test(e.message));
    // The pooled connection stays usable after refusals.
    await mailer.deliver(mail('after@example.com'));
    assert.ok(sink.received.some((m) => m.envelopeTo.includes('after@example.com')));
  } finally {
    await mailer.close();
  }
});

test('a server that cannot be reached is a transient failure', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((r) => closed.close(() => r()));
  const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, envelopeFrom: null, ratePerSecond: 0 });
  try {
    await assert.rejects(mailer.deliver(mail('anna@example.com')), (e: unknown) => e instanceof DeliveryError && !e.permanent);
  } finally {
    await mailer.close();
  }
});

test('the outbox mailer writes every message to the outbox of its account', async () => {
  const fx = await storeFixture();
  const store = fx.store;
  try {
    const account = await store.accounts.createAccount({ passwordHash: 'x', name: 'Outbox' });
    const mailer = createOutboxMailer(store);
    assert.equal(mailer.channel, 'outbox');
    await mailer.deliver({ ...mail('anna@example.com'), accountId: account.id });
    await mailer.deliver({ ...mail('bruno@example.com'), accountId: account.id });
    const box = await store.confirmations.listOutbox(account.id);
    assert.deepEqual(box.map((m) => m.recipient), ['bruno@example.com', 'anna@example.com'], 'newest first');
    assert.deepEqual(
      { sender: box[1]!.sender, subject: box[1]!.subject, html: box[1]!.html, text: box[1]!.text, requestId: box[1]!.requestId },
      { sender: 'Lists <lists@example.com>', subject: 'Please confirm', html: '<p>Hi</p>', text: 'Hi', requestId: null },
    );
    assert.deepEqual(await store.confirmations.listOutbox(account.id + 1), [], 'another account sees nothing');
  } finally {
    await fx.close();
  }
});
