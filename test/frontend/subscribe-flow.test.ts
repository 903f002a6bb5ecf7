/**
 * What an HTTP subscribe does beyond its answer (on the store TEST_STORE names; npm test runs it
 * on both): with Confirm=1 the recipient gets, at once, the very confirmation message an import
 * queues, whose link subscribes it; several lists share one message (ConfirmListID); a sender may
 * be named; a request that cannot be delivered stays for Send Now; and a recipient imported over
 * SOAP and subscribed over HTTP is one recipient.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setHttpApiIps } from '../../src/core/http-api-access.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { openLink, runImport, sendNow, subscriptionOf } from '../double-opt-in/flow-helpers.ts';
import { code, form } from './frontend-client.ts';

let svc: TestService;

before(async () => {
  svc = await startTestService({ HTTP_API_BURST: '1000' });
});
after(() => svc.close());

async function account(service: TestService = svc): Promise<TestAccount> {
  const a = await service.addAccount();
  assert.ok((await setHttpApiIps(service.service.store, a.account.id, ['127.0.0.1'])).ok);
  return a;
}

const outbox = (service: TestService, a: TestAccount) => service.service.store.confirmations.listOutbox(a.account.id);
const linkIn = (text: string): string => /(http:\/\/\S+\/confirm\/[A-Za-z0-9_.-]+)/.exec(text)![1]!;

test('Confirm=1: pending, and the same confirmation message as an import, at once; its link subscribes', async () => {
  const a = await account();
  assert.equal(await code(svc, `xmlSubscribe.aspx?${form({ List: a.list.id, Email: 'Visitor@Example.com', csvFldNames: 'campo1', csvFldValues: 'Vi', retCode: 1 })}`), '0');
  assert.equal((await subscriptionOf(svc, 'visitor@example.com', a.list.id))?.status, 'pending');
  const [sent] = await outbox(svc, a);
  assert.ok(sent, 'delivered without a Send Now');
  assert.equal(sent.recipient, 'visitor@example.com');
  // An import with ConfirmEmail, and its Send Now: the same message but for the address and link.
  await runImport(svc, a, [{ email: 'imported@example.com' }], { ConfirmEmail: true });
  assert.equal((await sendNow(svc, a)).status, 200);
  const imported = (await outbox(svc, a)).find((m) => m.recipient === 'imported@example.com')!;
  const generic = (s: string) => s.replace(/http:\/\/\S+\/confirm\/[A-Za-z0-9_.-]+/g, 'LINK');
  assert.deepEqual([sent.sender, sent.subject, generic(sent.text), generic(sent.html)],
    [imported.sender, imported.subject, generic(imported.text), generic(imported.html)]);
  assert.equal(new URL(linkIn(sent.text)).origin, new URL(linkIn(imported.text)).origin);

  const opened = await openLink(linkIn(sent.text));
  assert.equal(opened.status, 200);
  assert.match(opened.body, /visitor@example\.com is now subscribed/);
  assert.equal((await subscriptionOf(svc, 'visitor@example.com', a.list.id))?.status, 'subscribed');
  assert.equal(await code(svc, `Xmlchksubscriber.aspx?${form({ List: a.list.id, Email: 'visitor@example.com' })}`), '2');
  // The request was sent: a later Send Now has nothing of it left to send.
  const later = await sendNow(svc, a);
  assert.equal(later.body.queued, 0);
});

test('several lists: one message, on ConfirmListID, whose link confirms them all; Dynsndmail names the sender', async () => {
  const a = await account();
  const second = await svc.service.store.lists.createList(a.account.id, 'Second list');
  const third = await svc.service.store.lists.createList(a.account.id, 'Third list');
  const group = (await svc.service.store.lists.createGroup(third.id, 'Third group')).group;
  assert.equal(await code(svc, `xmlSubscribe.aspx?${form({
    List: `${a.list.id},${second.id},${third.id}`, ListGuid: `${a.list.guid},${second.guid}`, Group: group.id, Email: 'many@example.com',
    ConfirmListID: third.id, Dynsndmail: 'news@shop.example', dynsndname: 'The Shop', retCode: 1,
  })}`), '0');
  const messages = await outbox(svc, a);
  assert.equal(messages.length, 1, 'one message for the three lists');
  assert.equal(messages[0]!.sender, '"The Shop" <news@shop.example>');
  const page = await openLink(linkIn(messages[0]!.text));
  assert.match(page.body, /subscribed to Third list/, 'the request is on ConfirmListID');
  for (const list of [a.list.id, second.id, third.id]) assert.equal((await subscriptionOf(svc, 'many@example.com', list))?.status, 'subscribed', String(list));
  const state = (await svc.service.store.recipients.getRecipient(a.account.id, { email: 'many@example.com' }))!;
  assert.deepEqual(state.groupIds, [group.id]);
});

test('a request that cannot be delivered now stays for Send Now; the subscribe still succeeds', async () => {
  // Nothing listens on port 1: every delivery attempt is refused, a transient failure.
  const failing = await startTestService({ SMTP_URL: 'smtp://127.0.0.1:1', HTTP_API_BURST: '1000' });
  try {
    const a = await account(failing);
    assert.equal(await code(failing, `xmlSubscribe.aspx?${form({ List: a.list.id, Email: 'later@example.com', retCode: 1 })}`), '0');
    assert.equal((await subscriptionOf(failing, 'later@example.com', a.list.id))?.status, 'pending');
    const [request] = await failing.service.store.confirmations.listConfirmationRequests(a.account.id, null);
    assert.equal(request?.status, 'failed');
    assert.ok(request?.nextAttemptAt instanceof Date, 'a transient failure, retried by a later Send Now');
    const failures = await failing.service.store.confirmations.confirmationFailures(a.account.id, null);
    assert.deepEqual(failures.map((f) => [f.email, f.permanent]), [['later@example.com', false]]);
  } finally {
    await failing.close();
  }
});

test('imported over SOAP and subscribed over HTTP: one recipient, in one state', async () => {
  const a = await account();
  await runImport(svc, a, [{ email: 'both@example.com', fields: ['From SOAP'] }]);
  assert.equal(await code(svc, `xmlSubscribe.aspx?${form({ List: a.list.id, Email: 'BOTH@example.com', Confirm: 0, retCode: 1 })}`), '3');
  assert.equal(await code(svc, `XmlUpdSubscriber.aspx?${form({ List: a.list.id, Email: 'both@example.com', Group: a.groups[1]!.id, Sms: '+39 345 0000001' })}`), '0');
  // The other way round: subscribed (pending) over HTTP first, then imported with asPending.
  assert.equal(await code(svc, `xmlSubscribe.aspx?${form({ List: a.list.id, Email: 'http-first@example.com', retCode: 1 })}`), '0');
  await runImport(svc, a, [{ email: 'http-first@example.com', fields: ['Imported later'] }], { asPending: true });
  const rows = await svc.db.query<{ email: string; n: number }>(
    'SELECT email, count(*) AS n FROM recipient WHERE account_id = ? GROUP BY email ORDER BY email', [a.account.id]);
  assert.deepEqual(rows.map((r) => [r.email, Number(r.n)]), [['both@example.com', 1], ['http-first@example.com', 1]]);
  const both = (await svc.service.store.recipients.getRecipient(a.account.id, { email: 'both@example.com' }))!;
  assert.deepEqual([both.recipient.fields, both.recipient.mobile, both.groupIds, both.subscriptions.map((s) => s.status)],
    [{ 1: 'From SOAP' }, '+393450000001', [a.groups[1]!.id], ['subscribed']]);
  const first = (await svc.service.store.recipients.getRecipient(a.account.id, { email: 'http-first@example.com' }))!;
  assert.deepEqual([first.recipient.fields, first.subscriptions.map((s) => s.status)], [{ 1: 'Imported later' }, ['subscribed']]);
  // The console's search shows each once.
  const found = await svc.service.store.queries.searchRecipients(a.account.id, { listId: a.list.id }, { limit: 10 });
  assert.deepEqual(found.items.map((r) => r.email).sort(), ['both@example.com', 'http-first@example.com']);
});
