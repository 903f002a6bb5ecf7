/**
 * The double opt-in flow end to end, over SOAP, HTTP and a real SMTP listener: an import with
 * ConfirmEmail queues requests and mails nobody; Send Now delivers one message per pending
 * recipient; GetProcessDetails follows MailUp's samples B then C; the links confirm.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { signConfirmToken, verifyConfirmToken } from '../../src/mail/confirm-token.ts';
import { api } from '../helpers/json-api.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import {
  confirmLinkOf, openLink, processDetails, runImport, seedVariants, sendNow, subscriptionOf,
} from './flow-helpers.ts';

let sink: SmtpSink;
let svc: TestService;
before(async () => {
  sink = await startSmtpSink();
  svc = await startTestService({ SMTP_URL: sink.url, SMTP_FROM: 'bounces@example.com' }, { mailRetry: { firstDelayMs: 20 } });
});
after(async () => {
  await svc.close();
  await sink.close();
});

const mailsTo = (email: string) => sink.received.filter((m) => m.envelopeTo.includes(email));

/** Compares with a seed sample: same elements in the same order, same values but ids, dates and counters. */
function assertLikeSeed(actual: [string, string][], sample: [string, string][]): void {
  assert.deepEqual(actual.map(([name]) => name), sample.map(([name]) => name), 'element names and order');
  const compared = ['StatusCode', 'IsRunning', 'ConfirmationEmail', 'ConfirmationSent'];
  assert.deepEqual(
    actual.filter(([name]) => compared.includes(name)),
    sample.filter(([name]) => compared.includes(name)),
  );
}

test('import with ConfirmEmail → False → Send Now → one message each → True → links confirm; tampered, expired, replayed refused', async () => {
  const acc = await svc.addAccount();
  const people = [
    { email: 'anna@example.com', fields: ['Anna'] },
    { email: 'bruno@example.com', fields: ['Bruno'] },
    { email: 'carla@example.com', fields: ['Carla'] },
  ];
  const id = await runImport(svc, acc, people, { ConfirmEmail: true });
  const seed = seedVariants();

  // Queued, not sent: sample B, recipients pending, nobody mailed.
  assertLikeSeed(await processDetails(svc, acc, id), seed.B);
  for (const p of people) assert.equal((await subscriptionOf(svc, p.email, acc.list.id))?.status, 'pending', p.email);
  assert.equal(people.filter((p) => mailsTo(p.email).length > 0).length, 0, 'nothing is sent before Send Now');

  const sent = await sendNow(svc, acc, { processId: id });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  assert.deepEqual(
    { queued: sent.body.queued, sent: sent.body.sent, outbox: sent.body.written_to_outbox, failed: sent.body.failed },
    { queued: 3, sent: 3, outbox: 0, failed: 0 },
  );
  assert.deepEqual(sent.body.confirmationSent, [id]);

  // One message per pending recipient, with the default subject, a link in both parts, the configured envelope sender.
  await sink.waitFor(3);
  const links = new Map<string, string>();
  for (const p of people) {
    const got = mailsTo(p.email);
    assert.equal(got.length, 1, `one message for ${p.email}`);
    assert.equal(got[0]!.mail.subject, 'Please confirm your subscription');
    assert.equal(got[0]!.envelopeFrom, 'bounces@example.com');
    const link = confirmLinkOf(got[0]!);
    assert.ok(link.startsWith(`${svc.url}/confirm/`), link);
    links.set(p.email, link);
  }

  // Sent: sample C.
  assertLikeSeed(await processDetails(svc, acc, id), seed.C);

  // Anna opens her link: subscribed, with the time of confirmation.
  const opened = await openLink(links.get('anna@example.com')!);
  assert.equal(opened.status, 200);
  assert.match(opened.body, /Subscription confirmed/);
  assert.match(opened.body, /anna@example\.com is now subscribed to List \d+/);
  const anna = (await subscriptionOf(svc, 'anna@example.com', acc.list.id))!;
  assert.equal(anna.status, 'subscribed');
  assert.ok(anna.confirmed_at !== null && Math.abs(Date.parse(anna.confirmed_at) - Date.now()) < 60_000);

  // Replayed: says so and changes nothing.
  const replay = await openLink(links.get('anna@example.com')!);
  assert.equal(replay.status, 200);
  assert.match(replay.body, /already used/);
  // The time in the one form people read, its zone named (src/core/time-format.ts).
  assert.match(replay.body, /confirmed on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?:[A-Z]{2,5}|UTC[+-]\d\d:\d\d)\./);
  assert.deepEqual((await subscriptionOf(svc, 'anna@example.com', acc.list.id)), anna);

  // Tampered (one character of the signature changed): refused, Bruno stays pending.
  const bruno = links.get('bruno@example.com')!;
  const last = bruno.at(-1) === 'A' ? 'B' : 'A';
  const tampered = await openLink(bruno.slice(0, -1) + last);
  assert.equal(tampered.status, 400);
  assert.match(tampered.body, /not valid/);
  assert.equal((await subscriptionOf(svc, 'bruno@example.com', acc.list.id))?.status, 'pending');

  // Expired: Bruno's own claims, genuinely signed, with an expiry in the past.
  const secret = svc.service.context.mail.secret;
  const check = verifyConfirmToken(secret, bruno.split('/confirm/')[1]!);
  assert.ok(check.ok);
  const stale = signConfirmToken(secret, { ...check.claims, expiresAt: new Date(Date.now() - 3600_000) });
  const expired = await openLink(`${svc.url}/confirm/${stale}`);
  assert.equal(expired.status, 400);
  assert.match(expired.body, /expired/);
  assert.equal((await subscriptionOf(svc, 'bruno@example.com', acc.list.id))?.status, 'pending');

  // A HEAD (what link scanners send) confirms nothing.
  const head = await openLink(links.get('carla@example.com')!, 'HEAD');
  assert.notEqual(head.status, 200);
  assert.equal((await subscriptionOf(svc, 'carla@example.com', acc.list.id))?.status, 'pending');

  // The genuine link still works after all that.
  assert.equal((await openLink(bruno)).status, 200);
  assert.equal((await subscriptionOf(svc, 'bruno@example.com', acc.list.id))?.status, 'subscribed');

  // A second Send Now finds nothing to do.
  const again = await sendNow(svc, acc, { processId: id });
  assert.deepEqual([again.body.queued, again.body.sent], [0, 0]);
  assert.equal(mailsTo('anna@example.com').length, 1);
});

test('idConfirmNL picks the account\'s message, filled per recipient; an unknown one is -410', async () => {
  const acc = await svc.addAccount();
  const messageId = await svc.service.store.confirmations.createConfirmationMessage(acc.account.id, {
    isDefault: false, sender: 'Newsletter <news@example.com>', subject: 'Welcome [campo1], please confirm',
    html: '<p>Ciao [campo1] &amp; [campo2]</p><p><a href="[confirm_link]">Confirm [email]</a></p>',
    text: 'Ciao [campo1]\nConfirm: [confirm_link]\n',
  });
  assert.equal(await runImport(svc, acc, [{ email: 'x@example.com' }], { ConfirmEmail: true, idConfirmNL: messageId + 1000 }), -410);

  const id = await runImport(svc, acc, [{ email: 'dora@example.com', fields: ['Dora', '<b>Rossi</b>'] }], { ConfirmEmail: true, idConfirmNL: messageId });
  const sent = await sendNow(svc, acc, { processId: id });
  assert.equal(sent.body.sent, 1);
  const [got] = mailsTo('dora@example.com');
  assert.ok(got);
  assert.equal(got.mail.subject, 'Welcome Dora, please confirm');
  assert.equal(got.mail.from?.value[0]?.address, 'news@example.com');
  assert.ok(got.mail.html && got.mail.html.includes('Ciao Dora &amp; &lt;b&gt;Rossi&lt;/b&gt;'), String(got.mail.html));
  assert.ok(got.mail.html.includes('Confirm dora@example.com'));
  const link = confirmLinkOf(got);
  assert.match(got.mail.text ?? '', /^Ciao Dora\nConfirm: http/);
  assert.equal((await openLink(link)).status, 200);
  assert.equal((await subscriptionOf(svc, 'dora@example.com', acc.list.id))?.status, 'subscribed');
});

test('a 451 on the first attempt is retried with backoff and delivered in the same Send Now', async () => {
  const acc = await svc.addAccount();
  sink.refuse = (rcpt, attempt) => (rcpt === 'flaky@example.com' && attempt === 1 ? 451 : null);
  try {
    const id = await runImport(svc, acc, [{ email: 'flaky@example.com' }, { email: 'steady@example.com' }], { ConfirmEmail: true });
    const sent = await sendNow(svc, acc, { processId: id });
    assert.deepEqual([sent.body.sent, sent.body.failed], [2, 0], JSON.stringify(sent.body));
    assert.equal(sink.attempts.get('flaky@example.com'), 2, 'refused once, accepted the second time');
    assert.equal(mailsTo('flaky@example.com').length, 1);
    assert.equal((await processDetails(svc, acc, id)).find(([n]) => n === 'ConfirmationSent')?.[1], 'True');
  } finally {
    sink.refuse = () => null;
  }
});

test('a transient failure that outlasts the run waits for a later Send Now', async () => {
  const acc = await svc.addAccount();
  sink.refuse = (rcpt) => (rcpt === 'later@example.com' ? 421 : null);
  try {
    const id = await runImport(svc, acc, [{ email: 'later@example.com' }], { ConfirmEmail: true });
    const first = await sendNow(svc, acc, { processId: id });
    assert.deepEqual([first.body.sent, first.body.failed], [0, 1]);
    const [failure] = first.body.failures;
    assert.equal(failure?.permanent, false);
    assert.equal(failure?.attempts, 3, 'three attempts within the run');
    assert.ok(failure?.nextAttemptAt && Date.parse(failure.nextAttemptAt) > Date.now(), 'a retry time in the future');
    assert.match(failure.error, /421/);
    assert.equal((await processDetails(svc, acc, id)).find(([n]) => n === 'ConfirmationSent')?.[1], 'False');
    // Not due yet: an immediate Send Now leaves it alone.
    const early = await sendNow(svc, acc, { processId: id });
    assert.deepEqual([early.body.queued, early.body.sent], [0, 0]);
    // The server recovers; asking for failures to be retried sends it now.
    sink.refuse = () => null;
    const retried = await sendNow(svc, acc, { processId: id, retryFailed: true });
    assert.equal(retried.body.sent, 0, 'retryFailed concerns permanent failures only');
  } finally {
    sink.refuse = () => null;
  }
});

test('a permanent 550 is recorded and visible; ConfirmationSent stays False until it is retried and delivered', async () => {
  const acc = await svc.addAccount();
  sink.refuse = (rcpt) => (rcpt === 'gone@example.com' ? 550 : null);
  try {
    const id = await runImport(svc, acc, [{ email: 'gone@example.com' }, { email: 'here@example.com' }], { ConfirmEmail: true });
    const sent = await sendNow(svc, acc, { processId: id });
    assert.deepEqual([sent.body.queued, sent.body.sent, sent.body.failed], [2, 1, 1]);
    assert.deepEqual(sent.body.failures.map((f) => [f.email, f.permanent, f.attempts]), [['gone@example.com', true, 1]]);
    assert.match(sent.body.failures[0]!.error, /^550 /);
    assert.equal(sink.attempts.get('gone@example.com'), 1, 'a permanent failure is not retried');
    assert.deepEqual(sent.body.confirmationSent, []);
    assert.equal((await processDetails(svc, acc, id)).find(([n]) => n === 'ConfirmationSent')?.[1], 'False');

    // Visible later through the status endpoint.
    const status = (await api<{ processes: Record<string, unknown>[]; failures: Record<string, unknown>[] }>(svc, acc, 'GET', `/api/confirmations?processId=${id}`)).body;
    assert.deepEqual(
      status.processes.map((p) => [p.processId, p.requests, p.sent, p.failed, p.confirmationSent]),
      [[id, 2, 1, 1, false]],
    );
    assert.deepEqual(status.failures.map((f) => [f.email, f.permanent]), [['gone@example.com', true]]);

    // A plain Send Now does not retry it; retryFailed does, and once delivered the process is True.
    assert.equal((await sendNow(svc, acc, { processId: id })).body.queued, 0);
    sink.refuse = () => null;
    const retried = await sendNow(svc, acc, { processId: id, retryFailed: true });
    assert.deepEqual([retried.body.sent, retried.body.failed], [1, 0]);
    assert.deepEqual(retried.body.confirmationSent, [id]);
    assert.equal((await processDetails(svc, acc, id)).find(([n]) => n === 'ConfirmationSent')?.[1], 'True');
  } finally {
    sink.refuse = () => null;
  }
});

test('two imports asking the same recipient get one message; Send Now for the account settles both processes', async () => {
  const acc = await svc.addAccount();
  const first = await runImport(svc, acc, [{ email: 'twice@example.com' }, { email: 'once@example.com' }], { ConfirmEmail: true });
  const second = await runImport(svc, acc, [{ email: 'twice@example.com' }], { ConfirmEmail: true });
  const sent = await sendNow(svc, acc);
  assert.deepEqual([sent.body.requests, sent.body.queued, sent.body.sent], [3, 2, 2]);
  assert.deepEqual(sent.body.confirmationSent, [first, second]);
  assert.equal(mailsTo('twice@example.com').length, 1);
  for (const id of [first, second]) {
    assert.equal((await processDetails(svc, acc, id)).find(([n]) => n === 'ConfirmationSent')?.[1], 'True', `process ${id}`);
  }
});

test('an unsubscribe wins: before Send Now nothing is sent; after it, the late confirmation changes nothing', async () => {
  const acc = await svc.addAccount();
  const optOut = { asOptOut: true, asPending: true };

  // Unsubscribed before Send Now: the request is cancelled, nobody is mailed, the process is settled.
  const early = await runImport(svc, acc, [{ email: 'early@example.com' }], { ConfirmEmail: true });
  await runImport(svc, acc, [{ email: 'early@example.com' }], optOut);
  assert.equal((await subscriptionOf(svc, 'early@example.com', acc.list.id))?.status, 'unsubscribed');
  const sent = await sendNow(svc, acc, { processId: early });
  assert.deepEqual([sent.body.queued, sent.body.cancelled, sent.body.sent], [0, 1, 0]);
  assert.deepEqual(sent.body.confirmationSent, [early]);
  assert.equal(mailsTo('early@example.com').length, 0);

  // Unsubscribed after the message went out: the link says so and leaves the unsubscribe.
  const late = await runImport(svc, acc, [{ email: 'late@example.com' }], { ConfirmEmail: true });
  await sendNow(svc, acc, { processId: late });
  const link = confirmLinkOf(mailsTo('late@example.com')[0]!);
  await runImport(svc, acc, [{ email: 'late@example.com' }], optOut);
  const before = (await subscriptionOf(svc, 'late@example.com', acc.list.id));
  assert.equal(before?.status, 'unsubscribed');
  const opened = await openLink(link);
  assert.equal(opened.status, 409);
  assert.match(opened.body, /unsubscribe stands/);
  assert.deepEqual((await subscriptionOf(svc, 'late@example.com', acc.list.id)), before);
});

test('a ConfirmEmail process that queued no request becomes True at its first Send Now', async () => {
  const acc = await svc.addAccount();
  // asOptOut wins over ConfirmEmail: the new recipient is unsubscribed and no request is queued.
  const id = await runImport(svc, acc, [{ email: 'nobody@example.com' }], { ConfirmEmail: true, asOptOut: true });
  assert.equal((await processDetails(svc, acc, id)).find(([n]) => n === 'ConfirmationSent')?.[1], 'False');
  const sent = await sendNow(svc, acc, { processId: id });
  assert.deepEqual([sent.body.requests, sent.body.queued], [0, 0]);
  assert.deepEqual(sent.body.confirmationSent, [id]);
  assert.equal((await processDetails(svc, acc, id)).find(([n]) => n === 'ConfirmationSent')?.[1], 'True');
});
