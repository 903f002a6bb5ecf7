/**
 * One rule for list names through both doors that create and rename lists (src/core/lists.ts):
 * the console and the admin CLI. A name is kept on one line (runs of white space become one
 * space) and trimmed; an empty one, or one over 100 characters counted in code points, is
 * refused and nothing changes. Runs on both stores.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConsoleUser } from '../../src/core/accounts.ts';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { ConsoleBrowser } from '../helpers/console-browser.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
let a: TestAccount;
let browser: ConsoleBrowser;
const CONSOLE_PASSWORD = 'list-rules-secret-1';

before(async () => {
  svc = await startTestService();
  a = await svc.addAccount();
  assert.equal((await createConsoleUser(svc.service.store, a.account.id, { username: 'owner', password: CONSOLE_PASSWORD })).ok, true);
  browser = new ConsoleBrowser(svc.url);
  await browser.signIn(a.user, 'owner', CONSOLE_PASSWORD);
});
after(() => svc.close());

const lists = async () => (await svc.service.store.lists.listLists(a.account.id)).map((l) => l.name);

async function createViaCli(name: string): Promise<{ code: number | null; name?: string; stderr: string }> {
  const run = await runAdminProcess(['list', 'create', a.user, name, '--json'], svc.storeEnv);
  return { code: run.code, stderr: run.stderr, ...(run.code === 0 ? { name: JSON.parse(run.stdout).name as string } : {}) };
}

async function createViaConsole(name: string): Promise<{ status: number; name?: string }> {
  await browser.get('/console/lists');
  const res = await browser.post('/console/lists', { name });
  if (res.status !== 303) return { status: res.status };
  const id = Number(/\/console\/lists\/(\d+)/.exec(res.location!)![1]);
  return { status: res.status, name: (await svc.service.store.lists.getList(a.account.id, id))!.name };
}

test('a name is put on one line and trimmed the same way by both doors', async () => {
  const given = '  Spring\t  news \n 2027  ';
  assert.equal((await createViaCli(given)).name, 'Spring news 2027');
  assert.equal((await createViaConsole(given)).name, 'Spring news 2027');
});

test('100 characters are allowed, counted in code points; more, or none, are refused by both doors', async () => {
  const longest = '😀'.repeat(100); // 200 UTF-16 units
  assert.equal((await createViaCli(longest)).name, longest);
  assert.equal((await createViaConsole(longest)).name, longest);

  const before = await lists();
  const tooLong = 'n'.repeat(101);
  const cli = await createViaCli(tooLong);
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /at most 100 characters/);
  assert.equal((await createViaConsole(tooLong)).status, 400);
  assert.equal((await createViaConsole(' \t ')).status, 400);
  assert.equal((await createViaCli(' \t ')).code, 2, 'the CLI refuses an empty name before opening the store');
  assert.deepEqual(await lists(), before);
});

test('renaming follows the same rule through both doors', async () => {
  const list = await svc.service.store.lists.createList(a.account.id, 'Before');
  const cli = await runAdminProcess(['list', 'rename', a.user, String(list.id), '  After   one ', '--json'], svc.storeEnv);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(JSON.parse(cli.stdout).name, 'After one');
  await browser.get(`/console/lists/${list.id}`);
  assert.equal((await browser.post(`/console/lists/${list.id}/rename`, { name: '  After   two ' })).status, 303);
  assert.equal((await svc.service.store.lists.getList(a.account.id, list.id))!.name, 'After two');
  assert.equal((await browser.post(`/console/lists/${list.id}/rename`, { name: 'x'.repeat(101) })).status, 400);
  assert.equal((await runAdminProcess(['list', 'rename', a.user, String(list.id), 'x'.repeat(101)], svc.storeEnv)).code, 2);
  assert.equal((await svc.service.store.lists.getList(a.account.id, list.id))!.name, 'After two');
});

test('a control character is refused by both doors, U+0000 included (PostgreSQL cannot store it)', async () => {
  const before = await lists();
  assert.equal((await createViaConsole('News\u0000')).status, 400);
  assert.equal((await createViaConsole('News\u007f')).status, 400);
  assert.equal((await createViaCli('News\u0001')).code, 2);
  assert.deepEqual(await lists(), before);
});

