/**
 * Runs in the console, in Debian's Chromium: a file the client imports in processes of N rows
 * (as our importer and MailUp's Magento module split it) is one run, and the status page shows it
 * as one line with the rows merged over all its processes, the percent, the rate and the time
 * left, opening to its processes; the live panel shows the run's totals, keeps its list of
 * processes open while it polls, and cancels the running import (with the run's waiting ones)
 * through the process page's confirmation. At 1366 px and on a 390 px phone, nothing scrolls
 * sideways. Screenshots go to test-output/console-runs/. Runs on the store TEST_STORE names.
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { hashPassword } from '../../src/core/passwords.ts';
import { importSubscribers, MailUpImportClient, type Subscriber } from '../../client/src/index.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-output', 'console-runs');
const CONSOLE_USER = 'operator';
const CONSOLE_PASSWORD = 'console-Pass-1';
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

let browser: Browser;
const services: TestService[] = [];
const problems: string[] = [];
let shot = 0;

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install chromium) to run the console tests`);
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  for (const s of services) await s.close();
});

async function screenshot(target: Page, name: string): Promise<void> {
  shot++;
  await target.screenshot({ path: join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** A service with an account whose console user is signed in, in a desktop page. */
async function signedIn(options: { runWorker?: boolean } = {}): Promise<{ svc: TestService; acc: TestAccount; page: Page; context: BrowserContext }> {
  const svc = await startTestService({}, options);
  services.push(svc);
  const acc = await svc.addAccount({ listName: 'Newsletter' });
  await svc.service.store.accounts.createConsoleUser(acc.account.id, CONSOLE_USER, await hashPassword(CONSOLE_PASSWORD));
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  watch(page);
  await page.goto(`${svc.url}/console/sign-in`);
  await page.getByLabel('Account (WS user)').fill(acc.user);
  await page.getByLabel('User name').fill(CONSOLE_USER);
  await page.getByLabel('Password').fill(CONSOLE_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\//);
  return { svc, acc, page, context };
}

/** A script error or a failed asset or htmx request is a failure. */
function watch(page: Page): void {
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(m.text());
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && res.request().resourceType() !== 'document') problems.push(`${res.status()} ${res.url()}`);
  });
}

/** Null when the page fits `width`; else what sticks out (as the console's end-to-end test checks). */
async function sidewaysScroll(target: Page, width: number): Promise<string | null> {
  return target.evaluate(`(() => {
    const root = document.documentElement;
    if (root.scrollWidth <= innerWidth && root.scrollWidth <= root.clientWidth && innerWidth === ${width}) return null;
    const sticking = [...document.querySelectorAll('body *')].filter((e) =>
      e.getBoundingClientRect().right > ${width} + 1 && !(e.parentElement.getBoundingClientRect().right > ${width} + 1));
    return 'scrollWidth ' + root.scrollWidth + ': ' + sticking.slice(0, 5).map((e) => '<' + e.tagName.toLowerCase() + ' class="' + e.className + '">').join('; ');
  })()`);
}

const people = (n: number, tag: string): Subscriber[] => Array.from({ length: n }, (_, i) => ({ email: `${tag}-${i}@example.com` }));

/** The file imported as the client does it: NewImportProcess per batch, then one StartImportProcesses. */
async function importInBatches(svc: TestService, acc: TestAccount, rows: number, batchSize: number, wait: boolean): Promise<number[]> {
  const client = new MailUpImportClient({ endpoint: svc.endpoint, user: acc.user, password: acc.password });
  const report = await importSubscribers(client, people(rows, `run${rows}`), { idList: acc.list.id, batchSize, wait, pollIntervalMs: 100 });
  assert.deepEqual(report.failedBatches, []);
  return report.batches.map((b) => b.idProcess!);
}

test('a file imported in batches is one run: one line with its totals, opening to its processes, at desktop and phone widths', { timeout: 300_000 }, async () => {
  const { svc, acc, page, context } = await signedIn();
  const ids = await importInBatches(svc, acc, 12_000, 3_000, true);
  assert.equal(ids.length, 4);
  const runId = ids[0]!;
  const processes = await Promise.all(ids.map((id) => svc.service.store.processes.getProcess(acc.account.id, id)));
  assert.deepEqual(processes.map((p) => [p!.runId, p!.status]), ids.map(() => [runId, 3]), 'one StartImportProcesses: one run');

  await page.goto(`${svc.url}/console/imports`);
  const line = page.getByTestId(`run-${runId}`);
  assert.match(await line.locator('summary').innerText(), /run #\d+ · 4 imports/);
  assert.equal(await line.getByTestId('run-rows').innerText(), '12,000 / 12,000 rows');
  assert.equal(await line.getByTestId('run-percent').innerText(), '100 %');
  assert.equal(await line.getByRole('link').count(), 0, 'closed: the processes are not shown');
  await line.locator('summary').click();
  for (const id of ids) await line.getByRole('link', { name: `#${id}`, exact: true }).waitFor();
  assert.equal(await line.locator('tbody tr').count(), 4);
  assert.match(await line.locator('tbody').innerText(), /3,000 \/ 3,000/);

  // The live panel: the last run, with its totals; its list of processes stays open across polls.
  const live = page.locator('#live');
  assert.match(await live.locator('h2').first().innerText(), new RegExp(`Completed: run #${runId} · 4 imports`));
  assert.equal(await live.getByTestId('live-percent').innerText(), '100 %');
  assert.match(await live.getByTestId('live-run').innerText(), /12,000 \/ 12,000\s+rows merged, whole run/);
  await live.locator('details > summary').click();
  // Mark the panel, then wait for the poll to replace it with a new one.
  await page.evaluate(`document.getElementById('live').dataset.seen = 'yes'`);
  await page.locator('#live:not([data-seen])').waitFor({ state: 'attached' });
  assert.equal(await page.locator(`#live-run-${runId}`).getAttribute('open'), '', 'still open after the panel replaced itself');
  assert.equal(await live.getByRole('link', { name: `#${ids[3]}`, exact: true }).count(), 1);
  assert.equal(await sidewaysScroll(page, 1366), null);
  await screenshot(page, 'runs-desktop');

  // On a phone: the same line, opened, fits the width.
  const phone = await browser.newPage(PHONE);
  watch(phone);
  await phone.context().addCookies(await context.cookies());
  await phone.goto(`${svc.url}/console/imports`);
  const phoneLine = phone.getByTestId(`run-${runId}`);
  assert.equal(await phoneLine.getByTestId('run-percent').innerText(), '100 %');
  assert.equal(await sidewaysScroll(phone, 390), null);
  await phoneLine.locator('summary').click();
  await phoneLine.getByRole('link', { name: `#${ids[0]}`, exact: true }).waitFor();
  await phone.locator('#live details > summary').click();
  assert.equal(await sidewaysScroll(phone, 390), null);
  await screenshot(phone, 'runs-phone');
  await phone.close();
  await context.close();
  assert.deepEqual(problems, []);
});

test("the live panel shows the running run's totals and cancels it, with its waiting processes, through the confirmation page", { timeout: 300_000 }, async () => {
  // No worker: the run stays running at 0 rows, whatever the machine's speed.
  const { svc, acc, page, context } = await signedIn({ runWorker: false });
  const ids = await importInBatches(svc, acc, 3_000, 1_000, false);
  const runId = ids[0]!;
  await page.goto(`${svc.url}/console/imports`);
  const live = page.locator('#live');
  assert.match(await live.locator('h2').first().innerText(), new RegExp(`Running now: run #${runId} · 3 imports`));
  assert.match(await live.innerText(), new RegExp(`Merging now: import #${runId}\\s+\\(1 of 3\\) on Newsletter; 2 of the run wait their turn`));
  assert.match(await live.getByTestId('live-run').innerText(), /0 \/ 3,000\s+rows merged, whole run/);
  assert.equal(await live.getByTestId('live-percent').innerText(), '0 %');
  assert.match(await page.getByTestId(`run-${runId}`).locator('summary').innerText(), /Running[\s\S]*0 \/ 3,000 rows/);
  await screenshot(page, 'run-running');

  await live.getByRole('link', { name: 'Cancel…' }).click();
  await page.getByRole('heading', { name: `Cancel import #${runId}` }).waitFor();
  await page.getByRole('button', { name: `Cancel import #${runId}` }).click();
  await page.waitForURL(new RegExp(`/console/imports/${runId}\\?notice=import-run-cancelled`));
  const ended = await Promise.all(ids.map((id) => svc.service.store.processes.getProcess(acc.account.id, id)));
  assert.deepEqual(ended.map((p) => [p!.status, p!.failureReason]), ids.map(() => [4, `cancelled by ${CONSOLE_USER}`]));

  await page.goto(`${svc.url}/console/imports`);
  assert.match(await live.locator('h2').first().innerText(), new RegExp(`Failed: run #${runId} · 3 imports`));
  assert.equal(await live.getByRole('link', { name: 'Cancel…' }).count(), 0, 'nothing runs: no Cancel');
  assert.match(await page.getByTestId(`run-${runId}`).locator('summary').innerText(), /Failed\s+cancelled/);
  await screenshot(page, 'run-cancelled');
  await context.close();
  assert.deepEqual(problems, []);
});
