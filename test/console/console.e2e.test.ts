/**
 * The console end to end, in Debian's Chromium driven by playwright-core: sign in, watch an
 * import started over SOAP reach 100 %, open it and its reject report, press Send Now and see
 * ConfirmationSent turn True over SOAP, find a recipient, export a list, change the WS password
 * and see the old one refused over SOAP, add a console user. Then every console page, on a
 * 390 px phone and on a desktop, must fit its width: nothing scrolls sideways but a wide table
 * inside its own box. Every page is saved as a screenshot under test-output/console/.
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`); without it the test fails and says so.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hashPassword } from '../../src/core/passwords.ts';
import { addWebhook } from '../../src/core/webhooks.ts';
import { callSoap, feedXml, resultFields, startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-output', 'console');
const CONSOLE_USER = 'operator';
const CONSOLE_PASSWORD = 'console-Pass-1';
/** Big enough that the import is still running when the status page first sees it on most machines. */
const ROWS = 10_000;
const BAD_EVERY = 1_250;
const EMAIL_EVERY = 50;

let svc: TestService;
let acc: TestAccount;
let browser: Browser;
let page: Page;
let shot = 0;
const problems: string[] = [];

async function screenshot(name: string, target: Page = page): Promise<void> {
  shot++;
  await target.screenshot({ path: join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install chromium) to run the console end-to-end test`);
  }
  mkdirSync(SHOTS, { recursive: true });
  svc = await startTestService();
  acc = await svc.addAccount({ listName: 'Newsletter' });
  await svc.service.store.accounts.createConsoleUser(acc.account.id, CONSOLE_USER, await hashPassword(CONSOLE_PASSWORD));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-quic'],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, acceptDownloads: true });
  context.setDefaultTimeout(30_000);
  page = await context.newPage();
  // A script error, a CSP violation or a failed asset or htmx request is a failure (pages answered
  // 4xx on purpose, such as the refused sign-in, are documents and do not count).
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('response', (res) => {
    if (res.status() >= 400 && res.request().resourceType() !== 'document') problems.push(`${res.status()} ${res.url()}`);
  });
  // A poll still in flight when the page navigates away is aborted by the browser: not a failure.
  page.on('requestfailed', (req) => {
    if (req.resourceType() !== 'document' && req.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`failed: ${req.url()} ${req.failure()?.errorText}`);
  });
});

/** Every page of the console (its GET routes, ids filled in), so that a new page cannot miss the width check. */
async function consolePages(processId: number): Promise<string[]> {
  const store = svc.service.store;
  const recipient = (await store.queries.searchRecipients(acc.account.id, { emailPrefix: 'person1200@' }, { limit: 1 })).items[0]!.id;
  const message = (await store.queries.outboxPage(acc.account.id, { limit: 1 })).items[0]!.id;
  const user = (await store.accounts.findConsoleUser(acc.account.id, CONSOLE_USER))!.id;
  const webhook = await addWebhook(store, acc.account.id, 'https://hooks.example.com/console');
  assert.ok(webhook.ok);
  const filled: Record<string, string> = {
    '/console/sign-in': '/console/sign-in?notice=signed-out',
    '/console/imports/:id': `/console/imports/${processId}`,
    '/console/imports/:id/rejects': `/console/imports/${processId}/rejects`,
    '/console/imports/:id/cancel': `/console/imports/${processId}/cancel`,
    '/console/imports/:id/start': `/console/imports/${processId}/start`,
    '/console/lists/:id': `/console/lists/${acc.list.id}`,
    '/console/recipients/:id': `/console/recipients/${recipient}`,
    '/console/send/outbox/:id': `/console/send/outbox/${message}`,
    '/console/users/:id': `/console/users/${user}`,
    '/console/webhooks/:id': `/console/webhooks/${webhook.endpoint.id}`,
    '/console/webhooks/:id/remove': `/console/webhooks/${webhook.endpoint.id}/remove`,
  };
  // Not pages: redirects, assets, downloads and the fragments htmx loads into a page.
  const notPages = new Set(['/console', '/console/', '/console/assets/:name', '/console/imports/live', '/console/imports/:id/progress',
    '/console/imports/:id/rejects.csv', '/console/lists/:id/stats', '/console/lists/:id/row', '/console/lists/:id/export.csv', '/console/send/live']);
  const routes = consoleGetRoutes(svc.service.app.printRoutes({ commonPrefix: false, method: 'GET' })).filter((r) => !notPages.has(r));
  const missing = routes.filter((r) => r.includes(':') && filled[r] === undefined);
  assert.deepEqual(missing, [], 'a console page with an id: add it to consolePages');
  return [...routes.map((r) => filled[r] ?? r), '/console/recipients?q=person', '/console/no-such-page'];
}

/** The GET routes under /console, read from fastify's route tree (each level indented four more characters). */
function consoleGetRoutes(tree: string): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  let inside = false;
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+) \(/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    if (depth === 0) inside = m[2] === '/console';
    if (!inside) continue;
    stack.length = depth;
    stack.push(m[2]!);
    routes.push(stack.join(''));
  }
  return routes;
}

/**
 * Null when the page fits `width` (the document is no wider than the viewport, and the phone's
 * browser did not widen its layout to fit it); else the widest elements that stick out.
 */
async function sidewaysScroll(target: Page, width: number): Promise<string | null> {
  // Runs in the page (the project's types have no DOM, hence a script).
  return target.evaluate(`(() => {
    const viewport = ${width};
    const root = document.documentElement;
    if (root.scrollWidth <= innerWidth && root.scrollWidth <= root.clientWidth && innerWidth === viewport) return null;
    const sticking = [...document.querySelectorAll('body *')].filter((e) =>
      e.getBoundingClientRect().right > viewport + 1 && !(e.parentElement.getBoundingClientRect().right > viewport + 1));
    const out = sticking.map((e) => '<' + e.tagName.toLowerCase() + ' class="' + e.className + '"> to ' + Math.round(e.getBoundingClientRect().right) + ' px');
    return 'scrollWidth ' + root.scrollWidth + ', innerWidth ' + innerWidth + ': ' + out.slice(0, 5).join('; ');
  })()`);
}

after(async () => {
  await browser?.close();
  await svc?.close();
});

test('the console, end to end in Chromium', { timeout: 300_000 }, async () => {
  const auth = { User: acc.user, Password: acc.password };
  const list = { idList: acc.list.id, listGUID: acc.list.guid };

  // Sign in (the first attempt with a wrong password is refused).
  await page.goto(`${svc.url}/console/imports`);
  assert.match(page.url(), /\/console\/sign-in\?next=/);
  await page.getByLabel('Account (WS user)').fill(acc.user);
  await page.getByLabel('User name').fill(CONSOLE_USER);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The account, user name or password is not right.').waitFor();
  await screenshot('sign-in-refused');
  await page.getByLabel('Password').fill(CONSOLE_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/imports$/);
  await page.getByRole('heading', { name: 'Import status', level: 1 }).waitFor();
  await screenshot('import-status-empty');

  // Start an import over SOAP while the status page is open: the live panel picks it up.
  // Mostly mobile numbers, with an e-mail address every EMAIL_EVERY rows (those get a confirmation request) and a bad row every BAD_EVERY.
  const subscribers = Array.from({ length: ROWS }, (_, i) => i % BAD_EVERY === BAD_EVERY - 1
    ? { email: `not-an-address-${i}` }
    : i % EMAIL_EVERY === 0
      ? { email: `person${i}@example.com`, Name: i === 0 ? 'Zoë' : `Person ${i}`, fields: [`First ${i}`, `Last ${i}`] }
      : { Number: `+39 3${String(i).padStart(9, '0')}`, Name: `Person ${i}`, fields: [`First ${i}`, `Last ${i}`] });
  const start = await callSoap(svc.endpoint, 'StartImportProcesses', {
    listsIDs: list.idList, listsGUIDs: list.listGUID, groupsIDs: acc.groups[0]!.id, xmlDoc: feedXml(subscribers),
    importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: true, asOptOut: false, forceOptIn: false, replaceGroups: false,
  }, auth);
  assert.equal(start.returnCode, 0, start.body);
  const processId = Number(/<processID>(\d+)<\/processID>/.exec(start.result!)![1]);

  const live = page.locator('#live');
  await live.getByRole('link', { name: `import #${processId}` }).waitFor({ timeout: 60_000 });
  if (await live.getByText('Running now').isVisible()) await screenshot('import-status-running');
  await page.locator('[data-testid="live-percent"]', { hasText: '100 %' }).waitFor({ timeout: 120_000 });
  // The table reloads itself when the import ends.
  await page.locator('#processes tbody').getByText('Completed').waitFor();
  await screenshot('import-status-done');

  // The process page: every GetProcessDetails field, the options, the reject report.
  await live.getByRole('link', { name: `import #${processId}` }).click();
  await page.getByRole('heading', { name: `Import #${processId}` }).waitFor();
  const details = page.locator('[data-testid="process-details"]');
  for (const name of ['StartDate', 'EndDate', 'TotalContacts', 'NewMobile', 'NewEmail', 'OptOutMobile', 'OptOutEmail',
    'ExistingMobile', 'ExistingEmail', 'StatusCode', 'IsRunning', 'ConfirmationEmail', 'ConfirmationSent']) {
    await details.getByText(name, { exact: true }).waitFor();
  }
  assert.match(await details.innerText(), /TotalContacts\s+10,?000/);
  assert.match(await page.locator('#options-title + dl').innerText(), /ConfirmEmail\s+yes/);
  const rejected = ROWS / BAD_EVERY;
  assert.equal(await page.locator('#rejects-title').locator('xpath=ancestor::section').locator('tbody tr').count(), rejected);
  await screenshot('process');

  // The reject CSV: a byte-order mark, then the row number, the reason and the row as sent, in its columns.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).first().click()]);
  const rejectBytes = readFileSync((await download.path())!);
  assert.deepEqual([...rejectBytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const csv = rejectBytes.subarray(3).toString('utf8');
  assert.equal(csv.split('\r\n')[0], 'row,reason,email,Prefix,Number,Name');
  assert.equal(csv.trimEnd().split('\r\n').length, rejected + 1);
  assert.match(csv, /^1250,invalid e-mail address,not-an-address-1249,,,\r$/m);

  await page.goto(`${svc.url}/console/imports/${processId}/rejects`);
  await page.getByRole('heading', { name: `Rejected rows of import #${processId}` }).waitFor();
  await screenshot('reject-report');

  // Send Now, and ConfirmationSent turns True for SOAP clients.
  const confirmationSent = async (): Promise<string> => {
    const reply = await callSoap(svc.endpoint, 'GetProcessDetails', { ...list, idProcess: processId }, auth);
    return resultFields(reply.result!).ConfirmationSent!;
  };
  assert.equal(await confirmationSent(), 'False');
  await page.getByRole('link', { name: 'Send status' }).click();
  await page.getByRole('heading', { name: 'Send status', level: 1 }).waitFor();
  await screenshot('send-status-queued');
  await page.getByRole('button', { name: `Send Now for import ${processId}` }).click();
  await page.getByText('Send Now started').waitFor();
  await eventually('ConfirmationSent True', async () => ((await confirmationSent()) === 'True' ? true : undefined), 180_000);
  await page.locator('[data-testid="send-report"]').waitFor({ timeout: 60_000 });
  await page.locator(`[data-testid="confirmation-sent-${processId}"]`, { hasText: 'True' }).waitFor();
  await screenshot('send-status-sent');
  await page.locator('#outbox-title').locator('xpath=ancestor::section').getByRole('link', { name: /@example\.com$/ }).first().click();
  await page.getByRole('heading', { name: 'Please confirm your subscription' }).waitFor();
  assert.match(await page.locator('pre.code').first().innerText(), /\/confirm\//);
  await screenshot('outbox-message');

  // Find a recipient by e-mail.
  await page.getByRole('link', { name: 'Recipients' }).click();
  await page.getByLabel('E-mail or mobile').fill('Person1200@');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'person1200@example.com' }).click();
  await page.getByRole('heading', { name: 'person1200@example.com' }).waitFor();
  const subscriptions = await page.locator('#subs-title').locator('xpath=ancestor::section').innerText();
  assert.match(subscriptions, /Newsletter\s+e-mail\s+Pending/);
  assert.match(await page.locator('#fields-title').locator('xpath=ancestor::section').innerText(), /campo1\s+First 1200/);
  await screenshot('recipient');

  // Lists and groups.
  await page.getByRole('link', { name: 'Lists & groups' }).click();
  await page.getByRole('link', { name: 'Newsletter' }).click();
  await page.getByRole('heading', { name: 'Newsletter', level: 1 }).waitFor();
  // The counts load after the page.
  await page.locator('#counts-title').waitFor();
  await screenshot('list');
  // The export opens in Excel as written: a UTF-8 byte-order mark, then Zoë in UTF-8, and times with their offset.
  const [exported] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const exportBytes = readFileSync((await exported.path())!);
  assert.deepEqual([...exportBytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.ok(exportBytes.includes(Buffer.from('person0@example.com,,Zoë,pending,', 'utf8')), 'Zoë in UTF-8');
  assert.match(exportBytes.toString('utf8'), /,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d,\d{4}-/);

  // Web services: a new WS password; the old one is refused over SOAP at once.
  assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, auth)).returnCode, 0);
  await page.getByRole('link', { name: 'Web services' }).click();
  await page.getByLabel('New WS password', { exact: true }).fill('brand-New-ws-pass');
  await page.getByLabel('New WS password again').fill('brand-New-ws-pass');
  await page.getByLabel('Your console password').fill(CONSOLE_PASSWORD);
  await page.getByRole('button', { name: 'Change the WS password' }).click();
  await page.getByText('The WS password was changed.').waitFor();
  await screenshot('web-services');
  assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, auth)).returnCode, -1002);
  assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, { User: acc.user, Password: 'brand-New-ws-pass' })).returnCode, 0);
  await page.getByRole('link', { name: 'Endpoint, WSDL and a SOAP example' }).click();
  await page.getByRole('heading', { name: 'Endpoint and WSDL' }).waitFor();
  assert.match(await page.locator('#soap-example').innerText(), new RegExp(`<ws:User>${acc.user}</ws:User>`));
  await screenshot('endpoint');

  // Console users: one added with some lists shows its password once; the only administrator cannot be disabled.
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  await page.getByRole('heading', { name: 'Console users', level: 1 }).waitFor();
  await page.getByLabel('User name').fill('clerk');
  await page.getByLabel('Only the lists ticked below').check();
  await page.getByLabel('Newsletter').check();
  await page.getByRole('button', { name: 'Add the user' }).click();
  assert.match(await page.getByTestId('new-password').innerText(), /^[A-Za-z0-9]{16}$/);
  await screenshot('users-added');
  await page.getByRole('link', { name: CONSOLE_USER }).click();
  await page.getByRole('button', { name: 'Disable the user' }).click();
  await page.getByText(`${CONSOLE_USER} is the account's last enabled user who sees every list`).waitFor();
  await screenshot('user-last-administrator');

  // Every page on a phone (390 px) and on a desktop: the page fits its width.
  const pages = await consolePages(processId);
  const phoneSize = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
  const phone = await browser.newPage(phoneSize);
  await phone.context().addCookies(await page.context().cookies());
  // The sign-in page is seen by visitors who are not signed in.
  const visitors = { 390: await browser.newPage(phoneSize), 1366: await browser.newPage({ viewport: { width: 1366, height: 860 } }) };
  const overflowing: string[] = [];
  for (const [signedIn, width] of [[phone, 390], [page, 1366]] as const) {
    for (const path of pages) {
      const target = path.startsWith('/console/sign-in') ? visitors[width] : signedIn;
      await target.goto(`${svc.url}${path}`);
      await target.waitForLoadState('networkidle');
      const wide = await sidewaysScroll(target, width);
      if (wide !== null) overflowing.push(`${path} at ${width} px: ${wide}`);
      if (width === 390) await screenshot(`phone-${path.replace(/^\/console\//, '').replace(/\W+/g, '-') || 'start'}`, target);
    }
  }
  for (const p of [phone, visitors[390], visitors[1366]]) await p.close();
  assert.deepEqual(overflowing, []);

  // Sign out: the console is closed again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  await page.goto(`${svc.url}/console/recipients`);
  assert.match(page.url(), /\/console\/sign-in/);
  assert.deepEqual(problems, []);
});
