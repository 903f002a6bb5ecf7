/**
 * The console's Webhooks pages in Debian's Chromium, on the store TEST_STORE names: reached from
 * the web-service settings, an endpoint is added (its secret shown once, and the deliveries a real
 * listener receives verify with it), its recent deliveries show status, attempts and response
 * code, Resend sends one again with the same webhook-id, and Remove asks for confirmation. At
 * 1366 px and on a 390 px phone nothing scrolls sideways. Over plain HTTP: forged forms, another
 * account's endpoints and list-restricted users are refused. Screenshots go to
 * test-output/console-webhooks/.
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createConsoleUser } from '../../src/core/accounts.ts';
import { addWebhook } from '../../src/core/webhooks.ts';
import { ConsoleBrowser } from '../helpers/console-browser.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { runImport } from '../double-opt-in/flow-helpers.ts';
import { settled, startReceiver, type Receiver } from './receiver.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-output', 'console-webhooks');
const PASSWORD = 'console-Pass-1';
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const LONG_URL = `https://hooks.example.com/mailup/${'very-long-path-segment-'.repeat(6)}end?token=${'x'.repeat(40)}`;

let browser: Browser;
let svc: TestService;
let receiver: Receiver;
let acc: TestAccount;
const problems: string[] = [];

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install chromium) to run the console tests`);
  mkdirSync(SHOTS, { recursive: true });
  receiver = await startReceiver();
  svc = await startTestService({ WEBHOOK_POLL_MS: '50', WEBHOOK_RETRY_FIRST_DELAY_MS: '100' });
  acc = await svc.addAccount();
  await createConsoleUser(svc.service.store, acc.account.id, { username: 'alice', password: PASSWORD });
  await createConsoleUser(svc.service.store, acc.account.id, { username: 'carol', password: PASSWORD, listIds: [acc.list.id] });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  await svc?.close();
  await receiver?.close();
});

function watch(page: Page): void {
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(m.text());
  });
}

async function sidewaysScroll(target: Page, width: number): Promise<string | null> {
  return target.evaluate(`(() => {
    const root = document.documentElement;
    if (root.scrollWidth <= innerWidth && root.scrollWidth <= root.clientWidth && innerWidth === ${width}) return null;
    const sticking = [...document.querySelectorAll('body *')].filter((e) =>
      e.getBoundingClientRect().right > ${width} + 1 && !(e.parentElement.getBoundingClientRect().right > ${width} + 1));
    return 'scrollWidth ' + root.scrollWidth + ': ' + sticking.slice(0, 5).map((e) => '<' + e.tagName.toLowerCase() + ' class="' + e.className + '">').join('; ');
  })()`);
}

async function signIn(page: Page, user: string): Promise<void> {
  await page.goto(`${svc.url}/console/sign-in`);
  await page.getByLabel('Account (WS user)').fill(acc.user);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\//);
}

test('add an endpoint (secret shown once), see its deliveries, resend one and remove it, at desktop and phone widths', { timeout: 180_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  watch(page);
  await signIn(page, 'alice');
  await page.goto(`${svc.url}/console/settings`);
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.waitForURL(/\/console\/webhooks$/);
  assert.match(await page.locator('main').innerText(), /No webhook endpoints yet/);

  // A URL the rule refuses: the form comes back with the message and what was typed.
  await page.getByLabel('URL').fill('http://hooks.example.com/in');
  await page.getByRole('button', { name: 'Add an endpoint' }).click();
  await page.locator('#webhook-error').waitFor();
  assert.match(await page.locator('#webhook-error').innerText(), /only on the loopback/);
  assert.equal(await page.getByLabel('URL').inputValue(), 'http://hooks.example.com/in');

  await page.getByLabel('URL').fill(`${receiver.url}/console`);
  await page.getByLabel(/import\.completed/).check();
  await page.getByRole('button', { name: 'Add an endpoint' }).click();
  await page.locator('#new-webhook-secret').waitFor();
  const secret = await page.locator('#new-webhook-secret').innerText();
  assert.match(secret, /^whsec_/);
  assert.match(await page.locator('main').innerText(), /shown only this once/);
  receiver.secrets.set('/console', secret);
  // A second endpoint with a long URL: the pages must still fit a phone.
  assert.ok((await addWebhook(svc.service.store, acc.account.id, LONG_URL)).ok);

  const processId = await runImport(svc, acc, [{ email: 'console@x.it' }]);
  await receiver.waitFor((r) => r.some((h) => h.path === '/console'));
  const first = receiver.received.find((h) => h.path === '/console')!;
  assert.ok(first.verified, 'verifies with the secret the console showed');
  await settled(svc.service.store, acc.account.id, receiver.url);

  await page.goto(`${svc.url}/console/webhooks`);
  assert.ok(!(await page.content()).includes(secret), 'the secret is never shown again');
  const row = page.locator('tbody tr', { hasText: `${receiver.url}/console` });
  assert.match(await row.innerText(), /import\.completed\s+0\s+1\s+0/);
  assert.equal(await sidewaysScroll(page, 1366), null);
  await page.screenshot({ path: join(SHOTS, '01-endpoints-desktop.png'), fullPage: true });
  await row.getByRole('link', { name: /Deliveries/ }).click();
  await page.waitForURL(/\/console\/webhooks\/\d+$/);
  const delivery = page.locator('tbody tr').first();
  const cells = await delivery.locator('td').allInnerTexts();
  assert.deepEqual(cells.slice(0, 5), ['import.completed', `#${processId}`, 'Delivered', '1', '204']);
  assert.equal(await delivery.getByRole('link', { name: `#${processId}` }).getAttribute('href'), `/console/imports/${processId}`);
  assert.equal(await sidewaysScroll(page, 1366), null);

  await delivery.getByRole('button', { name: /Resend/ }).click();
  await page.getByText('The delivery will be sent again').waitFor();
  await receiver.waitFor((r) => r.filter((h) => h.path === '/console').length === 2);
  assert.equal(receiver.received.filter((h) => h.path === '/console')[1]!.id, first.id, 'the same webhook-id');
  await settled(svc.service.store, acc.account.id, receiver.url);
  await page.reload();
  assert.equal((await page.locator('tbody tr').first().locator('td').allInnerTexts())[3], '2', 'two attempts now');
  const deliveriesPath = new URL(page.url()).pathname;

  // On a phone: both pages fit the width, the long URL included.
  const phone = await browser.newPage(PHONE);
  watch(phone);
  await phone.context().addCookies(await context.cookies());
  for (const [path, name] of [['/console/webhooks', '02-endpoints-phone'], [deliveriesPath, '03-deliveries-phone']] as const) {
    await phone.goto(`${svc.url}${path}`);
    assert.equal(await sidewaysScroll(phone, 390), null, path);
    await phone.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }
  await phone.goto(`${svc.url}/console/webhooks`);
  await phone.locator('tbody tr', { hasText: LONG_URL.slice(0, 30) }).getByRole('link', { name: /Remove/ }).click();
  await phone.getByRole('button', { name: 'Remove the endpoint' }).waitFor();
  assert.equal(await sidewaysScroll(phone, 390), null, 'the confirmation');
  await phone.screenshot({ path: join(SHOTS, '04-remove-phone.png'), fullPage: true });
  await phone.close();

  // Remove, with its confirmation.
  await page.goto(`${svc.url}/console/webhooks`);
  await page.locator('tbody tr', { hasText: `${receiver.url}/console` }).getByRole('link', { name: /Remove/ }).click();
  assert.match(await page.locator('main').innerText(), /Its deliveries are removed with it/);
  await page.getByRole('button', { name: 'Remove the endpoint' }).click();
  await page.getByText('The webhook endpoint was removed').waitFor();
  assert.ok(!(await page.locator('tbody').innerText()).includes(`${receiver.url}/console`));
  assert.deepEqual(problems, []);
  await context.close();
});

test("forged forms, another account's endpoints and list-restricted users are refused", async () => {
  const other = await svc.addAccount();
  const theirs = await addWebhook(svc.service.store, other.account.id, 'https://theirs.example.com/hook');
  assert.ok(theirs.ok);
  const alice = new ConsoleBrowser(svc.url);
  await alice.signIn(acc.user, 'alice', PASSWORD);
  assert.ok(!(await alice.get('/console/webhooks')).body.includes('theirs.example.com'));
  assert.equal((await alice.get(`/console/webhooks/${theirs.endpoint.id}`)).status, 404);
  assert.equal((await alice.get(`/console/webhooks/${theirs.endpoint.id}/remove`)).status, 404);
  const removal = await alice.post(`/console/webhooks/${theirs.endpoint.id}/remove`, {});
  assert.equal(removal.location, '/console/webhooks?notice=webhook-unknown');
  assert.equal((await svc.service.store.webhooks.listEndpoints(other.account.id)).length, 1);
  assert.equal((await alice.post(`/console/webhooks/${theirs.endpoint.id}/deliveries/1/resend`, {})).status, 404);
  const forged = await alice.request('POST', '/console/webhooks/add', { _csrf: 'forged', url: 'https://x.example.com/' });
  assert.equal(forged.status, 403);
  const tooMany = [];
  for (let i = 0; i < 12; i++) tooMany.push((await alice.post('/console/webhooks/add', { url: `https://many.example.com/${i}` })).status);
  assert.ok(tooMany.includes(400));
  const full = await alice.get('/console/webhooks');
  assert.match(full.body, /the most it can have/);

  const carol = new ConsoleBrowser(svc.url);
  await carol.signIn(acc.user, 'carol', PASSWORD);
  assert.equal((await carol.get('/console/webhooks')).status, 403);
  assert.equal((await carol.post('/console/webhooks/add', { url: 'https://sneaky.example.com/' })).status, 403);
  assert.ok(!(await svc.service.store.webhooks.listEndpoints(acc.account.id)).some((e) => e.url.includes('sneaky')));
});
