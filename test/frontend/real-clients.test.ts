/**
 * The HTTP subscribe API called exactly as the real integrations of spec §1.6 call it (on the
 * store TEST_STORE names; npm test runs it on both), through real HTTP: the requests each one
 * sends, byte for byte in method, page spelling, parameter names and body, and the answers each
 * one reads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setHttpApiIps } from '../../src/core/http-api-access.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { callFrontend, code, form } from './frontend-client.ts';

let svc: TestService;

before(async () => {
  svc = await startTestService({ HTTP_API_BURST: '1000' });
});
after(() => svc.close());

/** A fresh account whose HTTP-API allow-list admits the test's loopback callers. */
async function account(): Promise<TestAccount> {
  const a = await svc.addAccount();
  assert.ok((await setHttpApiIps(svc.service.store, a.account.id, ['127.0.0.1'])).ok);
  return a;
}

const stateOf = async (a: TestAccount, email: string) => svc.service.store.recipients.getRecipient(a.account.id, { email });

test('ilGhera/MailUp-for-WooCommerce: check, then subscribe or update, all by POST with an empty body and the query', async () => {
  const a = await account();
  const [g1, g2] = a.groups.map((g) => g.id);
  const e = 'shopper@example.com';
  // Not yet a subscriber: anything but 2.
  assert.equal(await code(svc, `Xmlchksubscriber.aspx?list=${a.list.id}&email=${e}`, { method: 'POST' }), '1');
  // The plugin's subscribe; success is any body but 1.
  assert.equal(await code(svc, `xmlSubscribe.aspx?list=${a.list.id}&group=${g1}&email=${e}&confirm=0&csvFldNames=campo1&csvFldValues=Mario&retCode=1`, { method: 'POST' }), '0');
  assert.equal(await code(svc, `Xmlchksubscriber.aspx?list=${a.list.id}&email=${e}`, { method: 'POST' }), '2', 'exactly 2: already subscribed');
  // Subscribed: the plugin adds the group with XmlUpdSubscriber.
  assert.equal(await code(svc, `XmlUpdSubscriber.aspx?list=${a.list.id}&email=${e}&group=${g2}`, { method: 'POST' }), '0');
  const state = (await stateOf(a, e))!;
  assert.deepEqual([state.recipient.fields, state.groupIds, state.subscriptions.map((s) => s.status)], [{ 1: 'Mario' }, [g1, g2], ['subscribed']]);
  // The same subscribe again (a second order): already subscribed, nothing changes.
  assert.equal(await code(svc, `xmlSubscribe.aspx?list=${a.list.id}&group=${g1}&email=${e}&confirm=0&csvFldNames=campo1&csvFldValues=Other&retCode=1`, { method: 'POST' }), '3');
  assert.deepEqual((await stateOf(a, e))!.recipient.fields, { 1: 'Mario' });
});

test("mailup/mailup-magento: ListGuid, List, Email, Confirm, ipAddress and Group by GET; unsubscribe; the connection test's GUID that is no GUID", async () => {
  const a = await account();
  const e = 'magento@example.com';
  const subscribe = `Xmlsubscribe.aspx?ListGuid=${encodeURIComponent(a.list.guid)}&List=${a.list.id}&Email=${encodeURIComponent(e)}&Confirm=1&ipAddress=203.0.113.9&Group=${a.groups[0]!.id}`;
  // No retCode: MailUp's default answer is a sentence (the module only logs it).
  assert.equal(await code(svc, subscribe), 'Subscription done: please confirm it with the link sent to your e-mail address.');
  const state = (await stateOf(a, e))!;
  assert.deepEqual(state.subscriptions.map((s) => [s.status, s.requestIp]), [['pending', '203.0.113.9']], 'the opt-in request IP is recorded');
  assert.deepEqual(state.groupIds, [a.groups[0]!.id]);
  assert.equal((await svc.service.store.confirmations.listOutbox(a.account.id)).length, 1, 'the confirmation request went out at once');
  assert.equal(await code(svc, `Xmlunsubscribe.aspx?ListGuid=${encodeURIComponent(a.list.guid)}&List=${a.list.id}&Email=${encodeURIComponent(e)}&Confirm=1`), '0');
  assert.deepEqual((await stateOf(a, e))!.subscriptions.map((s) => [s.status, s.reason]), [['unsubscribed', 'user']]);
  // The connection test only needs an answer.
  assert.equal(await code(svc, `Xmlchksubscriber.aspx?ListGuid=e347gh87347gh374hg34&List=${a.list.id}&Email=logintest@test.com`), '1');
});

test('logisticdesign/statamic-mailup and craft-formie-mailup: lower-case page, list, email, source, confirm, retCode=1 by POST', async () => {
  const a = await account();
  const post = (email: string, confirm: number) =>
    code(svc, `xmlsubscribe.aspx?${form({ list: a.list.id, email, source: 'Newsletter form', confirm, retCode: 1 })}`, { method: 'POST' });
  assert.equal(await post('form@example.com', 1), '0');
  assert.equal(await post('form@example.com', 1), '0', 'pending: asked again, a new request');
  assert.equal((await svc.service.store.confirmations.listOutbox(a.account.id)).length, 2);
  assert.equal(await post('not an address', 1), '2');
  assert.equal(await post('direct@example.com', 0), '0');
  assert.equal(await post('direct@example.com', 0), '3');
  const other = await svc.addAccount();
  assert.equal(await code(svc, `xmlsubscribe.aspx?${form({ list: other.list.id, email: 'x@example.com', confirm: 0, retCode: 1 })}`, { method: 'POST' }), '-1011',
    'a list of an account that allows nobody');
});

test('scaccogatto/vue-mailup: Xmlchksubscriber with Confirm and retCode it does not need; XmlUpdSubscriber with campo1;campo2', async () => {
  const a = await account();
  const e = 'vue@example.com';
  assert.equal(await code(svc, `xmlSubscribe.aspx?${form({ List: a.list.id, email: e, Confirm: 0, retCode: 1 })}`), '0');
  assert.equal(await code(svc, `Xmlchksubscriber.aspx?List=${a.list.id}&ListGuid=${a.list.guid}&Confirm=1&retCode=1&email=${e}`), '2');
  assert.equal(await code(svc, `XmlUpdSubscriber.aspx?${form({ List: a.list.id, ListGuid: a.list.guid, email: e, csvFldNames: 'campo1;campo2', csvFldValues: 'Ada;Lovelace' })}`), '0');
  assert.deepEqual((await stateOf(a, e))!.recipient.fields, { 1: 'Ada', 2: 'Lovelace' });
});

test("the PHP library's checkSubscription: a form POST of Email, Sms, List and ListGuid; 1 error, 2/3/4 subscribed/unsubscribed/pending", async () => {
  const a = await account();
  const check = (email: string) => callFrontend(svc, 'Xmlchksubscriber.aspx', {
    method: 'POST', body: form({ Email: email, Sms: '', List: a.list.id, ListGuid: a.list.guid }),
  });
  await code(svc, `xmlSubscribe.aspx?${form({ List: a.list.id, Email: 'sub@example.com', Confirm: 0, retCode: 1 })}`);
  await code(svc, `xmlSubscribe.aspx?${form({ List: a.list.id, Email: 'pend@example.com', Confirm: 1, retCode: 1 })}`);
  await code(svc, `xmlSubscribe.aspx?${form({ List: a.list.id, Email: 'gone@example.com', Confirm: 0, retCode: 1 })}`);
  await code(svc, `xmlUnSubscribe.aspx?${form({ List: a.list.id, Email: 'gone@example.com' })}`);
  for (const [email, expected] of [['sub@example.com', '2'], ['gone@example.com', '3'], ['pend@example.com', '4'], ['nobody@example.com', '1']]) {
    const reply = await check(email!);
    assert.deepEqual([reply.status, reply.body], [200, expected], email);
    assert.match(reply.contentType, /^text\/plain/);
  }
});
