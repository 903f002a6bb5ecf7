/**
 * One rule for group names through every door that creates groups (src/core/groups.ts): SOAP
 * CreateGroup, the console's form and the admin CLI. A name is trimmed and cut to 50 characters
 * counted in code points, and a name that differs from a group's only in case finds that group
 * (accents count: MailUp's CI_AS collation). Runs on both stores.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConsoleUser } from '../../src/core/accounts.ts';
import { sameGroupName } from '../../src/core/groups.ts';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { ConsoleBrowser } from '../helpers/console-browser.ts';
import { callSoap, startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
let a: TestAccount;
let browser: ConsoleBrowser;
const CONSOLE_PASSWORD = 'group-rules-secret-1';

before(async () => {
  svc = await startTestService();
  a = await svc.addAccount();
  const user = await createConsoleUser(svc.service.store, a.account.id, { username: 'owner', password: CONSOLE_PASSWORD });
  assert.equal(user.ok, true);
  browser = new ConsoleBrowser(svc.url);
  await browser.signIn(a.user, 'owner', CONSOLE_PASSWORD);
});
after(() => svc.close());

/** CreateGroup over SOAP: the group id, or the negative ReturnCode. */
async function viaSoap(listId: number, listGUID: string, name: string): Promise<number> {
  const reply = await callSoap(svc.endpoint, 'CreateGroup', { idList: listId, listGUID, newGroupName: name }, { User: a.user, Password: a.password });
  assert.notEqual(reply.returnCode, null, reply.body);
  return reply.returnCode!;
}

/** `group create` of the admin CLI, pointed at the service's store. */
async function viaCli(listId: number, name: string): Promise<{ code: number | null; group: { id: number; name: string; created: boolean } | null; stderr: string }> {
  const run = await runAdminProcess(['group', 'create', a.user, String(listId), name, '--json'], svc.storeEnv);
  return { code: run.code, group: run.code === 0 ? JSON.parse(run.stdout) : null, stderr: run.stderr };
}

/** The console's New group form: the notice the page redirects to, or the status of a refused form. */
async function viaConsole(listId: number, name: string): Promise<string> {
  await browser.get(`/console/lists/${listId}`);
  const res = await browser.post(`/console/lists/${listId}/groups`, { name });
  return res.status === 303 ? new URL(res.location!, svc.url).searchParams.get('notice')! : String(res.status);
}

async function newList(name: string): Promise<{ id: number; guid: string }> {
  return svc.service.store.lists.createList(a.account.id, name);
}

test('a name that differs only in case finds the same group, whichever door made it', async () => {
  const list = await newList('Case');
  const id = await viaSoap(list.id, list.guid, 'Città Übersee');
  assert.ok(id > 0, `CreateGroup answered ${id}`);

  const cli = await viaCli(list.id, 'CITTÀ ÜBERSEE');
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual({ id: cli.group!.id, created: cli.group!.created }, { id, created: false });
  assert.equal(await viaConsole(list.id, '  città übersee '), 'group-exists');
  assert.equal(await viaSoap(list.id, list.guid, 'CITTÀ ÜBERSEE'), id);

  const groups = await svc.service.store.lists.getGroups(list.id);
  assert.deepEqual(groups.map((g) => g.name), ['Città Übersee'], 'one group, under the name it was created with');

  // Accents count: "Citta" is another group, through every door alike.
  assert.equal(await viaConsole(list.id, 'Citta Ubersee'), 'group-created');
  const other = (await svc.service.store.lists.getGroups(list.id)).find((g) => g.name === 'Citta Ubersee')!;
  assert.equal(await viaSoap(list.id, list.guid, 'CITTA UBERSEE'), other.id);
  assert.equal((await viaCli(list.id, 'citta ubersee')).group!.id, other.id);
  assert.equal(sameGroupName('Città Übersee', 'Citta Ubersee'), false);
});

test('a long name is cut to the same 50 characters by every door, counted in code points', async () => {
  // 45 two-byte letters and six characters outside the BMP (two UTF-16 units each): 51 code points.
  const long = `  ${'Ä'.repeat(45)}${'😀'.repeat(6)}  `;
  const cut = `${'Ä'.repeat(45)}${'😀'.repeat(5)}`;
  const viaEachDoor = await Promise.all([newList('Long 1'), newList('Long 2'), newList('Long 3')]);

  const soapId = await viaSoap(viaEachDoor[0]!.id, viaEachDoor[0]!.guid, long);
  const cli = await viaCli(viaEachDoor[1]!.id, long);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stderr, /cut to 50 characters/);
  assert.equal(await viaConsole(viaEachDoor[2]!.id, long), 'group-created-cut');

  const names = await Promise.all(viaEachDoor.map(async (l) => (await svc.service.store.lists.getGroups(l.id)).map((g) => g.name)));
  assert.deepEqual(names, [[cut], [cut], [cut]]);
  assert.deepEqual((await svc.service.store.lists.getGroups(viaEachDoor[0]!.id)).map((g) => g.id), [soapId]);
  // The cut name finds the group again, from any door.
  assert.equal(await viaSoap(viaEachDoor[1]!.id, viaEachDoor[1]!.guid, long), cli.group!.id);
  assert.equal(await viaConsole(viaEachDoor[0]!.id, cut), 'group-exists');

  // A cut that ends in a space is trimmed: 49 letters, a space, then more.
  const list = await newList('Spaced');
  const id = await viaSoap(list.id, list.guid, `${'b'.repeat(49)} and more`);
  assert.deepEqual((await svc.service.store.lists.getGroups(list.id)).map((g) => [g.id, g.name]), [[id, 'b'.repeat(49)]]);
});

test('an empty name is refused by every door, and nothing is created', async () => {
  const list = await newList('Empty');
  assert.equal(await viaSoap(list.id, list.guid, '   '), -302);
  assert.equal(await viaConsole(list.id, '   '), '400');
  assert.equal((await viaCli(list.id, '   ')).code, 2);
  assert.deepEqual(await svc.service.store.lists.getGroups(list.id), []);
});

test('a control character is refused by every door that can send one, and nothing is created', async () => {
  const list = await newList('Control');
  // XML cannot carry U+0000 or U+0001: over SOAP such a request is refused before any rule runs.
  const soap = await callSoap(svc.endpoint, 'CreateGroup', { idList: list.id, listGUID: list.guid, newGroupName: 'A\u0001B' }, { User: a.user, Password: a.password });
  assert.equal(soap.returnCode, null, 'a fault, not a result');
  assert.equal(await viaConsole(list.id, 'VIP\u0000'), '400');
  assert.equal(await viaConsole(list.id, 'VIP\u0001'), '400');
  assert.equal((await viaCli(list.id, 'VIP\u0001')).code, 2);
  assert.deepEqual(await svc.service.store.lists.getGroups(list.id), []);
});

