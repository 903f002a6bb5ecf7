/**
 * Every answer of the HTTP subscribe API's pages, who may call them, and what bad input gets (on
 * the store TEST_STORE names; npm test runs it on both), through real HTTP: each code of each
 * page; the account's HTTP-API allow-list (addresses and CIDR ranges; callers from other loopback
 * addresses play the hosts that are not on it); the rate per caller address; and malformed calls,
 * which get their documented answer and change nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { changeAccess } from '../../src/core/accounts.ts';
import { setHttpApiIps } from '../../src/core/http-api-access.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { callFrontend, code, form } from './frontend-client.ts';

let svc: TestService;

before(async () => {
  svc = await startTestService({ HTTP_API_BURST: '50', HTTP_API_CALLS_PER_SECOND: '2' });
});
after(() => svc.close());

/**
 * Each test calls from its own loopback address, so the rate limit (50 at once, 2 a second) of
 * one test never touches another's calls; the account admits 127.0.0.0/24.
 */
let nextCaller = 10;
async function setup(): Promise<{ a: TestAccount; from: string; call: (path: string, options?: Parameters<typeof callFrontend>[2]) => Promise<string> }> {
  const a = await svc.addAccount();
  assert.ok((await setHttpApiIps(svc.service.store, a.account.id, ['127.0.0.0/24'])).ok);
  const from = `127.0.0.${nextCaller++}`;
  return { a, from, call: (path, options = {}) => code(svc, path, { from, ...options }) };
}

/** Everything the account's recipients are, for "nothing changed". */
const snapshot = async (a: TestAccount) => svc.db.query(`
  SELECT r.email, r.mobile, r.name, r.fields, s.list_id, s.channel, s.status, s.reason FROM recipient r
  LEFT JOIN subscription_channel s ON s.recipient_id = r.id WHERE r.account_id = ? ORDER BY r.id, s.list_id, s.channel`, [a.account.id]);
const q = (params: Record<string, string | number>) => form(params);

describe('the codes of each page', () => {
  test('xmlSubscribe: 0, 1, 2, 3, and the text of each without retCode', async () => {
    const { a, call } = await setup();
    const sub = (params: Record<string, string | number>) => call(`xmlSubscribe.aspx?${q({ List: a.list.id, ...params })}`);
    assert.equal(await sub({ Email: 'one@example.com', Confirm: 0, retCode: 1 }), '0');
    assert.equal(await sub({ Email: 'one@example.com', Confirm: 0, retCode: 1 }), '3');
    assert.equal(await sub({ Email: 'one@example.com', Confirm: 1, retCode: 1 }), '3', 'a subscriber is never asked to confirm again');
    // Already subscribed, but a new mobile: updated, 0.
    assert.equal(await sub({ Email: 'one@example.com', Sms: '+39 333 1234567', Confirm: 0, retCode: 1 }), '0');
    assert.equal((await svc.service.store.recipients.getRecipient(a.account.id, { email: 'one@example.com' }))!.recipient.mobile, '+393331234567');
    assert.equal(await sub({ Email: 'bad@', retCode: 1 }), '2');
    assert.equal(await sub({ Sms: '12ab', retCode: 1 }), '2');
    assert.equal(await sub({ Email: '', retCode: 1 }), '2', 'neither an e-mail nor a mobile');
    assert.equal(await sub({ Email: 'two@example.com', Group: 987654, retCode: 1 }), '1', 'a group of no list named');
    assert.equal(await sub({ Sms: '+44 7700 900123', Confirm: 1, retCode: 1 }), '0', 'a mobile alone: subscribed at once (the request is an e-mail)');
    assert.deepEqual((await svc.service.store.recipients.getRecipient(a.account.id, { mobile: '+447700900123' }))!.subscriptions.map((s) => [s.channel, s.status]), [['sms', 'subscribed']]);
    // retCode 0 (the default): one sentence per code.
    assert.equal(await sub({ Email: 'three@example.com', Confirm: 0 }), 'Subscription done.');
    assert.equal(await sub({ Email: 'three@example.com', Confirm: 0, retCode: 0 }), 'Already subscribed.');
    assert.equal(await sub({ Email: 'nope' }), 'Invalid e-mail address or mobile number.');
    assert.equal(await sub({ Email: 'four@example.com', Group: 'x' }), 'Error: the subscription could not be completed.');
    // A hard-bounced address stays unsubscribed: 2; a complaint: 1.
    for (const [email, reason, expected] of [['bounced@example.com', 'bounce', '2'], ['complained@example.com', 'complaint', '1']] as const) {
      await svc.service.store.recipients.applyRecipientChange(a.account.id, { email }, () => ({
        write: { data: { email }, subscriptions: [{ listId: a.list.id, channel: 'email', status: 'unsubscribed', reason }], leaveLists: [], joinGroups: [], leaveGroups: [], confirmations: [] },
        answer: null,
      }));
      assert.equal(await sub({ Email: email, Confirm: 0, retCode: 1 }), expected, reason);
      assert.equal(await call(`Xmlchksubscriber.aspx?${q({ List: a.list.id, Email: email })}`), '3');
    }
  });

  test('Xmlchksubscriber: 1, 2, 3, 4; xmlUnSubscribe: 0, 3, 1; XmlUpdSubscriber: 0, 1', async () => {
    const { a, call } = await setup();
    const L = { List: a.list.id, ListGuid: a.list.guid };
    const check = (Email: string) => call(`Xmlchksubscriber.aspx?${q({ ...L, Email })}`);
    const unsubscribe = (Email: string) => call(`xmlUnSubscribe.aspx?${q({ ...L, Email })}`);
    const update = (params: Record<string, string | number>) => call(`XmlUpdSubscriber.aspx?${q({ ...L, ...params })}`);
    await call(`xmlSubscribe.aspx?${q({ ...L, Email: 'sub@example.com', Confirm: 0, retCode: 1 })}`);
    await call(`xmlSubscribe.aspx?${q({ ...L, Email: 'pend@example.com', Confirm: 1, retCode: 1 })}`);
    assert.deepEqual([await check('sub@example.com'), await check('pend@example.com'), await check('none@example.com'), await check('not an address')],
      ['2', '4', '1', '1']);
    assert.equal(await unsubscribe('pend@example.com'), '0', 'a pending recipient unsubscribes too');
    assert.equal(await unsubscribe('sub@example.com'), '0');
    assert.deepEqual([await check('sub@example.com'), await check('pend@example.com')], ['3', '3']);
    assert.equal(await unsubscribe('sub@example.com'), '3', 'already unsubscribed');
    assert.equal(await unsubscribe('none@example.com'), '3', 'unknown recipient');
    assert.equal(await unsubscribe('not an address'), '1');
    // Update: only a recipient on the list (in any state), values without `--`, names and values in equal number.
    assert.equal(await update({ Email: 'sub@example.com', csvFldNames: 'campo1;campo3', csvFldValues: 'A;C', Group: `${a.groups[0]!.id};${a.groups[1]!.id}` }), '0');
    assert.equal(await update({ Email: 'sub@example.com', Group: a.groups[1]!.id, Replace: 1 }), '0');
    const state = (await svc.service.store.recipients.getRecipient(a.account.id, { email: 'sub@example.com' }))!;
    assert.deepEqual([state.recipient.fields, state.groupIds, state.subscriptions.map((s) => s.status)], [{ 1: 'A', 3: 'C' }, [a.groups[1]!.id], ['unsubscribed']]);
    const before = await snapshot(a);
    for (const params of [
      { Email: 'none@example.com', csvFldNames: 'campo1', csvFldValues: 'x' },
      { Email: 'sub@example.com', csvFldNames: 'campo1', csvFldValues: 'a--b' },
      { Email: 'sub@example.com', csvFldNames: 'campo1;campo2', csvFldValues: 'only one' },
      { Email: 'sub@example.com', csvFldNames: 'nome', csvFldValues: 'x' },
      { Email: 'sub@example.com', csvFldNames: 'campo0', csvFldValues: 'x' },
      { Email: 'sub@example.com', csvFldNames: 'campo201', csvFldValues: 'x' },
      { Email: 'sub@example.com', Replace: 'perhaps' },
      { Email: 'sub@example.com', Group: 987654 },
    ] as Record<string, string | number>[]) assert.equal(await update(params), '1', JSON.stringify(params));
    assert.deepEqual(await snapshot(a), before, 'a refused update changes nothing');
  });
});

describe("the account's HTTP-API allow-list", () => {
  test('a caller off the list gets -1011 on every page and changes nothing; CIDR ranges and single addresses admit', async () => {
    const { a } = await setup();
    await svc.service.store.recipients.applyRecipientChange(a.account.id, { email: 'kept@example.com' }, () => ({
      write: { data: { email: 'kept@example.com' }, subscriptions: [{ listId: a.list.id, channel: 'email', status: 'subscribed', reason: null }], leaveLists: [], joinGroups: [], leaveGroups: [], confirmations: [] },
      answer: null,
    }));
    const pages = (email: string) => [
      `xmlSubscribe.aspx?${q({ List: a.list.id, Email: email, Confirm: 0, retCode: 1 })}`,
      `Xmlchksubscriber.aspx?${q({ List: a.list.id, Email: 'kept@example.com' })}`,
      `XmlUpdSubscriber.aspx?${q({ List: a.list.id, Email: 'kept@example.com', csvFldNames: 'campo1', csvFldValues: 'changed' })}`,
      `xmlUnSubscribe.aspx?${q({ List: a.list.id, Email: 'kept@example.com' })}`,
    ];
    const before = await snapshot(a);
    assert.ok((await setHttpApiIps(svc.service.store, a.account.id, ['127.0.0.1', '10.0.0.0/8'])).ok);
    for (const path of pages('off@example.com')) assert.equal(await code(svc, path, { from: '127.0.0.99' }), '-1011', path);
    assert.equal(await code(svc, `xmlSubscribe.aspx?${q({ List: a.list.id, Email: 'off@example.com' })}`, { from: '127.0.0.99' }), 'IP address not registered.');
    assert.ok((await setHttpApiIps(svc.service.store, a.account.id, [])).ok);
    for (const path of pages('off@example.com')) assert.equal(await code(svc, path, { from: '127.0.0.1' }), '-1011', 'an empty list admits nobody');
    assert.deepEqual(await snapshot(a), before, 'nothing changed');
    assert.ok((await setHttpApiIps(svc.service.store, a.account.id, ['127.0.0.96/30'])).ok);
    assert.equal(await code(svc, pages('in@example.com')[1]!, { from: '127.0.0.99' }), '2', 'inside the range');
    assert.equal(await code(svc, pages('in@example.com')[1]!, { from: '127.0.0.100' }), '-1011', 'just outside it');
    assert.ok((await setHttpApiIps(svc.service.store, a.account.id, ['::ffff:127.0.0.100'])).ok);
    assert.equal(await code(svc, pages('in@example.com')[1]!, { from: '127.0.0.100' }), '2', 'an IPv4-mapped entry is the IPv4 address');
    // The web service's own IP check does not concern this API, nor does this list the web service.
    assert.ok((await changeAccess(svc.service.store, a.account.id, { ipCheck: true, allowedIps: ['192.0.2.1'] })).ok);
    assert.equal(await code(svc, pages('in@example.com')[1]!, { from: '127.0.0.100' }), '2');
  });

  test('a disabled account answers the generic error on every page', async () => {
    const { a, call } = await setup();
    assert.ok((await changeAccess(svc.service.store, a.account.id, { wsEnabled: false })).ok);
    assert.equal(await call(`xmlSubscribe.aspx?${q({ List: a.list.id, Email: 'x@example.com', retCode: 1 })}`), '1');
    assert.equal(await call(`Xmlchksubscriber.aspx?${q({ List: a.list.id, Email: 'x@example.com' })}`), '1');
    assert.deepEqual(await snapshot(a), []);
  });
});

describe('bad input', () => {
  test('unknown lists, wrong or foreign GUIDs, garbage parameters: 1, and nothing changes', async () => {
    const { a, call } = await setup();
    const other = await svc.addAccount();
    const sub = (params: Record<string, string | number>) => call(`xmlSubscribe.aspx?${q({ Email: 'g@example.com', Confirm: 0, retCode: 1, ...params })}`);
    for (const params of [
      { List: 987654321 },
      { List: 'abc' },
      { List: '' },
      { List: `${a.list.id},${other.list.id}` },
      { List: a.list.id, ListGuid: other.list.guid },
      { List: a.list.id, ListGuid: 'not-a-guid' },
      { List: a.list.id, ListGuid: `${a.list.guid},${a.list.guid}` },
      { List: a.list.id, Confirm: 'maybe' },
      { List: a.list.id, Group: '1,x' },
      { List: a.list.id, csvFldNames: 'campo1;campo2', csvFldValues: 'x' },
      { List: a.list.id, csvFldValues: 'orphan' },
      { List: a.list.id, ConfirmListID: 987654 },
      { List: a.list.id, Dynsndmail: 'not an address' },
      { List: a.list.id, csvFldNames: 'campo1', csvFldValues: 'nul\u0000' },
    ] as Record<string, string | number>[]) assert.equal(await sub(params), '1', JSON.stringify(params));
    assert.equal(await call(`xmlSubscribe.aspx?${q({ List: a.list.id, list: a.list.id + 1, Email: 'g@example.com', retCode: 1 })}`), '1', 'one name, two values');
    assert.equal(await call(`Xmlchksubscriber.aspx?${q({ List: `${a.list.id},${a.list.id}`, Email: 'g@example.com' })}`), '1', 'one list only here');
    assert.equal(await call(`xmlSubscribe.aspx?${q({ List: a.list.id, Email: 'g@example.com', retCode: 1 })}`, {
      method: 'POST', body: '{"Email":"g@example.com"}', contentType: 'application/json',
    }), '1', 'a body that is not a form');
    assert.deepEqual(await snapshot(a), []);
    assert.deepEqual(await snapshot(other), []);
  });

  test('a 10 MB body is refused with 413 and the generic error before it is read; a HEAD subscribes nobody', async () => {
    const { a, from } = await setup();
    const huge = await callFrontend(svc, `xmlSubscribe.aspx?${q({ List: a.list.id, Email: 'big@example.com', retCode: 1 })}`, {
      from, method: 'POST', body: Buffer.alloc(10 * 1024 * 1024, 'a'),
    });
    assert.deepEqual([huge.status, huge.body], [413, '1']);
    const head = await callFrontend(svc, `xmlSubscribe.aspx?${q({ List: a.list.id, Email: 'head@example.com', Confirm: 0 })}`, { from, method: 'HEAD' });
    assert.notEqual(head.status, 200);
    assert.deepEqual(await snapshot(a), []);
  });

  test('page and parameter names in any case; the form body and the query together', async () => {
    const { a, call } = await setup();
    assert.equal(await call(`XMLSUBSCRIBE.ASPX?LIST=${a.list.id}&EMAIL=Case@Example.com&CONFIRM=false&RETCODE=true`), '0');
    assert.equal(await call(`xmlchksubscriber.aspx?lIsT=${a.list.id}`, { method: 'POST', body: q({ eMaIl: 'case@example.com', listguid: a.list.guid.toUpperCase() }) }), '2');
    assert.equal(await call('subscribe.aspx', { method: 'POST', body: q({ list: a.list.id, email: 'sibling@example.com', confirm: 0, retcode: 1 }) }), '0', 'subscribe.aspx answers as xmlSubscribe');
  });
});

describe('the rate per caller address', () => {
  test('past its burst a caller gets 429 with the generic error and Retry-After; other callers are unaffected', async () => {
    const { a, from } = await setup();
    const path = `Xmlchksubscriber.aspx?${q({ List: a.list.id, Email: 'rate@example.com' })}`;
    const replies = await Promise.all(Array.from({ length: 70 }, () => callFrontend(svc, path, { from })));
    const refused = replies.filter((r) => r.status === 429);
    assert.ok(refused.length >= 10, `${refused.length} of 70 refused`);
    assert.ok(refused.every((r) => r.body === '1' && Number(r.retryAfter) >= 1));
    assert.ok(replies.filter((r) => r.status === 200).every((r) => r.body === '1'));
    assert.equal((await callFrontend(svc, path, { from: `127.0.0.${nextCaller++}` })).status, 200, 'another address');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await callFrontend(svc, path, { from })).status, 200, 'the bucket refills');
  });
});
