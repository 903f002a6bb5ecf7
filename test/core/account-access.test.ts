/**
 * One rule for an account's web-service access through both doors that change it (src/core/
 * accounts.ts): the console's settings and the admin CLI. Allow-list entries are stored in the
 * one form the IP check compares, whichever door wrote them; what is not an address is refused
 * and nothing changes; enabling, disabling and a new password take effect at once over SOAP.
 * Runs on both stores.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConsoleUser } from '../../src/core/accounts.ts';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { ConsoleBrowser } from '../helpers/console-browser.ts';
import { callSoap, startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
const CONSOLE_PASSWORD = 'access-rules-secret-1';

before(async () => {
  // Credentials are checked afresh on every call: a change must show in the very next one.
  svc = await startTestService({ LOOKUP_CACHE_MS: '0' });
});
after(() => svc.close());

/** A fresh account, with its owner signed in to the console. */
async function signedIn(): Promise<{ a: TestAccount; browser: ConsoleBrowser }> {
  const a = await svc.addAccount();
  assert.equal((await createConsoleUser(svc.service.store, a.account.id, { username: 'owner', password: CONSOLE_PASSWORD })).ok, true);
  const browser = new ConsoleBrowser(svc.url);
  await browser.signIn(a.user, 'owner', CONSOLE_PASSWORD);
  await browser.get('/console/settings');
  return { a, browser };
}

const cli = (...args: string[]) => runAdminProcess(['account', ...args], svc.storeEnv);
const stored = async (a: TestAccount) => (await svc.service.store.accounts.getAccount(a.account.id))!;
const soapCode = async (a: TestAccount, password = a.password): Promise<number | null> =>
  (await callSoap(svc.endpoint, 'GetNlLists', {}, { User: a.user, Password: password })).returnCode;

test('allow-list entries are stored in one canonical form, whichever door wrote them', async () => {
  const { a, browser } = await signedIn();
  const written = ['::FFFF:10.0.0.1', '2001:DB8:0:0::1', '10.0.0.1'];
  const fromCli = await cli('allow-ip', a.user, 'add', ...written);
  assert.equal(fromCli.code, 0, fromCli.stderr);
  const viaCli = (await stored(a)).allowedIps;
  assert.deepEqual(viaCli, ['10.0.0.1', '2001:db8::1']);

  const fromConsole = await browser.post('/console/settings/access', { enabled: '1', ipCheck: '1', allowedIps: written.join('\n') });
  assert.equal(fromConsole.status, 303, fromConsole.body.slice(0, 500));
  assert.deepEqual((await stored(a)).allowedIps, viaCli);

  // The check compares the same forms: 127.0.0.1 is not on the list, then is.
  assert.equal(await soapCode(a), -1011);
  assert.equal((await cli('allow-ip', a.user, 'add', '::ffff:127.0.0.1')).code, 0);
  assert.equal(await soapCode(a), 0);
});

test('what is not an address is refused by both doors, and nothing changes', async () => {
  const { a, browser } = await signedIn();
  assert.equal((await cli('allow-ip', a.user, 'add', '192.0.2.7')).code, 0);
  const before = await stored(a);
  const fromCli = await cli('allow-ip', a.user, 'add', '10.0.0.0/8', '192.0.2.8');
  assert.equal(fromCli.code, 2);
  assert.match(fromCli.stderr, /not an IPv4 or IPv6 address/);
  const fromConsole = await browser.post('/console/settings/access', { enabled: '1', ipCheck: '1', allowedIps: '192.0.2.8\nexample.com' });
  assert.equal(fromConsole.status, 400);
  assert.match(fromConsole.body, /Not an IPv4 or IPv6 address: example\.com/);
  assert.deepEqual(await stored(a), before);
});

test('disabling and enabling the web service take effect at once, from either door', async () => {
  const { a, browser } = await signedIn();
  assert.equal((await cli('disable', a.user)).code, 0);
  assert.equal(await soapCode(a), -1006);
  assert.equal((await browser.post('/console/settings/access', { enabled: '1', allowedIps: '' })).status, 303);
  assert.equal(await soapCode(a), 0);
  assert.equal((await browser.post('/console/settings/access', { allowedIps: '' })).status, 303);
  assert.equal(await soapCode(a), -1006);
  assert.equal((await cli('enable', a.user)).code, 0);
  assert.equal(await soapCode(a), 0);
});

test('a new WS password works at once and the old one no longer does, from either door', async () => {
  const { a, browser } = await signedIn();
  assert.equal((await cli('password', a.user, '--password', 'from-the-cli-1')).code, 0);
  assert.equal(await soapCode(a, 'from-the-cli-1'), 0);
  assert.equal(await soapCode(a), -1002);

  const changed = await browser.post('/console/settings/password', {
    newPassword: 'from-the-console-1', confirmPassword: 'from-the-console-1', currentPassword: CONSOLE_PASSWORD,
  });
  assert.equal(changed.status, 303, changed.body.slice(0, 500));
  assert.equal(await soapCode(a, 'from-the-console-1'), 0);
  assert.equal(await soapCode(a, 'from-the-cli-1'), -1002);

  // The longest password the core takes is the same for both; a longer one changes nothing.
  const tooLong = 'x'.repeat(129);
  assert.equal((await cli('password', a.user, '--password', tooLong)).code, 2);
  const refused = await browser.post('/console/settings/password', { newPassword: tooLong, confirmPassword: tooLong, currentPassword: CONSOLE_PASSWORD });
  assert.equal(refused.status, 400);
  assert.equal(await soapCode(a, 'from-the-console-1'), 0);
});
