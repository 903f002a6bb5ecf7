/**
 * The console's REST API clients page over real HTTP (a running service on the store TEST_STORE
 * names; npm test runs it on both): reached from the web-service settings, it lists the
 * account's clients, adds one (its secret shown once, and it gets tokens at once) and removes one
 * (its tokens end at once); account-wide only, CSRF-checked, never another account's clients.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConsoleUser } from '../../src/core/accounts.ts';
import { addRestClient } from '../../src/core/rest-clients.ts';
import { ConsoleBrowser } from '../helpers/console-browser.ts';
import { callRest, requestToken } from '../helpers/rest.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
let a: TestAccount;
let b: TestAccount;
const PASSWORD = 'console-secret-1';

before(async () => {
  svc = await startTestService();
  a = await svc.addAccount();
  b = await svc.addAccount();
  await createConsoleUser(svc.service.store, a.account.id, { username: 'alice', password: PASSWORD });
  await createConsoleUser(svc.service.store, a.account.id, { username: 'carol', password: PASSWORD, listIds: [a.list.id] });
});
after(() => svc.close());

async function signedIn(user: string): Promise<ConsoleBrowser> {
  const browser = new ConsoleBrowser(svc.url);
  await browser.signIn(a.user, user, PASSWORD);
  return browser;
}

test('the settings page leads to the REST clients page, which shows the REST URLs and the account\'s clients only', async () => {
  const theirs = await addRestClient(svc.service.store, b.account.id, 'theirs');
  assert.ok(theirs.ok);
  const browser = await signedIn('alice');
  const settings = await browser.get('/console/settings');
  assert.match(settings.body, /href="\/console\/settings\/rest"/);
  const page = await browser.get('/console/settings/rest');
  assert.equal(page.status, 200);
  assert.match(page.body, new RegExp(`<code id="rest-base">${svc.url}/API/v1.1/Rest/ConsoleService.svc</code>`));
  assert.match(page.body, new RegExp(`<code id="rest-token">${svc.url}/Authorization/OAuth/Token</code>`));
  assert.match(page.body, /No REST clients yet/);
  assert.ok(!page.body.includes(theirs.client.clientId), "another account's client is not shown");
});

test('adding a client shows its secret once; it gets tokens at once; removing it ends them', async () => {
  const browser = await signedIn('alice');
  await browser.get('/console/settings/rest');
  const added = await browser.post('/console/settings/rest/add', { name: 'Shop <front>' });
  assert.equal(added.status, 200);
  const clientId = /<code id="new-client-id">([^<]+)<\/code>/.exec(added.body)?.[1];
  const secret = /<code id="new-client-secret">([^<]+)<\/code>/.exec(added.body)?.[1];
  assert.ok(clientId && secret, added.body);
  assert.match(added.body, /shown only this once/);
  assert.match(added.body, /Shop &lt;front&gt;/, 'the name is escaped');
  const answer = await requestToken(svc, { grant_type: 'password', client_id: clientId, client_secret: secret, username: a.user, password: a.password });
  assert.equal(answer.status, 200);
  const access = answer.body.access_token as string;

  const listed = await browser.get('/console/settings/rest');
  assert.ok(listed.body.includes(clientId));
  assert.ok(!listed.body.includes(secret), 'the secret is never shown again');

  const tooLong = await browser.post('/console/settings/rest/add', { name: 'n'.repeat(101) });
  assert.equal(tooLong.status, 400);
  assert.match(tooLong.body, /at most 100 characters/);

  const removed = await browser.post('/console/settings/rest/remove', { clientId });
  assert.equal(removed.status, 303);
  assert.equal(removed.location, '/console/settings/rest?notice=rest-client-removed');
  assert.match((await browser.get(removed.location!)).body, /The REST client was removed/);
  assert.equal((await callRest(svc, access, 'GET', '/User/Lists')).status, 401);
  const again = await browser.post('/console/settings/rest/remove', { clientId });
  assert.equal(again.location, '/console/settings/rest?notice=rest-client-unknown');
});

test("another account's client cannot be removed; a forged form and a restricted user are refused", async () => {
  const theirs = await addRestClient(svc.service.store, b.account.id, 'theirs');
  assert.ok(theirs.ok);
  const browser = await signedIn('alice');
  await browser.get('/console/settings/rest');
  const attempt = await browser.post('/console/settings/rest/remove', { clientId: theirs.client.clientId });
  assert.equal(attempt.location, '/console/settings/rest?notice=rest-client-unknown');
  assert.deepEqual((await svc.service.store.oauth.listRestClients(b.account.id)).map((c) => c.clientId).includes(theirs.client.clientId), true);

  const forged = await browser.request('POST', '/console/settings/rest/add', { _csrf: 'forged', name: 'x' });
  assert.equal(forged.status, 403);
  const restricted = await signedIn('carol');
  assert.equal((await restricted.get('/console/settings/rest')).status, 403);
  assert.equal((await restricted.post('/console/settings/rest/add', { name: 'sneaky' })).status, 403);
  assert.deepEqual((await svc.service.store.oauth.listRestClients(a.account.id)).map((c) => c.name).includes('sneaky'), false);
});
