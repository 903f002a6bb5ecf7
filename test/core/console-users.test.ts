/**
 * Console users through both doors that manage them (src/core/console-users.ts): the console's
 * users pages and the admin CLI's `console-user` commands. The account's last enabled user who
 * sees every list can never be disabled, limited to some lists or deleted, whichever door asks;
 * a disabled user cannot sign in and its open sessions end at once; a reset shows a new
 * password once and ends the user's sessions; a deleted user is gone everywhere. Runs on both
 * stores.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConsoleUser } from '../../src/core/accounts.ts';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { ConsoleBrowser } from '../helpers/console-browser.ts';
import { callSoap, startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
const PASSWORD = 'console-users-secret-1';

before(async () => {
  svc = await startTestService();
});
after(() => svc.close());

const cli = (...args: string[]) => runAdminProcess(['console-user', ...args], svc.storeEnv);

/** A fresh account whose only user, `owner`, sees every list and is signed in to the console. */
async function account(): Promise<{ a: TestAccount; owner: ConsoleBrowser; ownerId: number }> {
  const a = await svc.addAccount();
  const created = await createConsoleUser(svc.service.store, a.account.id, { username: 'owner', password: PASSWORD });
  assert.ok(created.ok);
  const owner = new ConsoleBrowser(svc.url);
  await owner.signIn(a.user, 'owner', PASSWORD);
  return { a, owner, ownerId: created.user.id };
}

const user = async (a: TestAccount, name: string) => svc.service.store.accounts.findConsoleUser(a.account.id, name);

/** Whether the browser's session still opens a page. */
async function signedIn(browser: ConsoleBrowser): Promise<boolean> {
  const res = await browser.get('/console/imports');
  if (res.status === 200) return true;
  assert.equal(res.status, 303);
  assert.match(res.location ?? '', /\/console\/sign-in/);
  return false;
}

/** A sign-in attempt's answer (without throwing on refusal). */
async function trySignIn(a: TestAccount, username: string, password: string): Promise<{ status: number; body: string }> {
  const browser = new ConsoleBrowser(svc.url);
  await browser.get('/console/sign-in');
  return browser.post('/console/sign-in', { account: a.user, username, password, next: '/console/imports' });
}

test('the last administrator can be neither disabled, limited nor deleted, through the console or the CLI; nothing changes', async () => {
  const { a, owner, ownerId } = await account();
  const before = await user(a, 'owner');

  await owner.get(`/console/users/${ownerId}`);
  for (const action of ['disable', 'delete']) {
    const refused = await owner.post(`/console/users/${ownerId}/${action}`);
    assert.equal(refused.status, 409, action);
    assert.match(refused.body, /owner is the account&#39;s last enabled user who sees every list/);
  }
  const limited = await owner.post(`/console/users/${ownerId}/lists`, { lists: 'some', list: String(a.list.id) });
  assert.equal(limited.status, 409);

  for (const args of [['disable', a.user, 'owner'], ['rm', a.user, 'owner'], ['set-lists', a.user, 'owner', String(a.list.id)]]) {
    const run = await cli(...args);
    assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /error: "owner" is the last enabled console user of a\d+ who sees every list/);
  }
  assert.deepEqual(await user(a, 'owner'), before);
  assert.equal(await signedIn(owner), true);

  // A second administrator (added in the console) lets the first go, and is then the last one.
  await owner.get('/console/users');
  const added = await owner.post('/console/users', { username: 'deputy', lists: 'all' });
  assert.equal(added.status, 200);
  assert.match(added.body, /data-testid="new-password">[A-Za-z0-9]{16}</);
  const disabled = await cli('disable', a.user, 'owner');
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.equal((await cli('rm', a.user, 'deputy')).code, 1);
  assert.equal((await cli('enable', a.user, 'owner')).code, 0);
  // Enabling is never refused, and a user limited to lists is not an administrator.
  assert.equal((await cli('set-lists', a.user, 'deputy', String(a.list.id))).code, 0);
  assert.equal((await cli('disable', a.user, 'owner')).code, 1);
});

test('a disabled user cannot sign in and its open sessions end at once; enabled again, it can', async () => {
  const { a, owner } = await account();
  assert.equal((await createConsoleUser(svc.service.store, a.account.id, { username: 'clerk', password: PASSWORD, listIds: [a.list.id] })).ok, true);
  const clerk = new ConsoleBrowser(svc.url);
  await clerk.signIn(a.user, 'clerk', PASSWORD);
  const clerkId = (await user(a, 'clerk'))!.id;

  // From the console.
  await owner.get(`/console/users/${clerkId}`);
  const disabled = await owner.post(`/console/users/${clerkId}/disable`);
  assert.equal(disabled.status, 303);
  assert.equal(await signedIn(clerk), false);
  const refused = await trySignIn(a, 'clerk', PASSWORD);
  assert.equal(refused.status, 403);
  assert.match(refused.body, /This console user is disabled/);
  // A wrong password is still only a wrong password.
  assert.match((await trySignIn(a, 'clerk', 'not-it')).body, /The account, user name or password is not right/);

  assert.equal((await cli('enable', a.user, 'clerk')).code, 0);
  await clerk.signIn(a.user, 'clerk', PASSWORD);
  // From the CLI.
  const again = await cli('disable', a.user, 'clerk');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Console user clerk \(a\d+\) is now disabled\./);
  assert.equal(await signedIn(clerk), false);
  assert.equal((await trySignIn(a, 'clerk', PASSWORD)).status, 403);
  assert.equal(await signedIn(owner), true, "the other user's session goes on");
});

test('a reset shows a new password once and ends the sessions that had the old one', async () => {
  const { a, owner, ownerId } = await account();
  assert.equal((await createConsoleUser(svc.service.store, a.account.id, { username: 'editor', password: PASSWORD })).ok, true);
  const editor = new ConsoleBrowser(svc.url);
  await editor.signIn(a.user, 'editor', PASSWORD);

  // The CLI: generated and printed once; the old password and the editor's session end.
  const reset = await cli('reset', a.user, 'editor', '--json');
  assert.equal(reset.code, 0, reset.stderr);
  const { password } = JSON.parse(reset.stdout) as { password: string };
  assert.match(password, /^[A-Za-z0-9]{16}$/);
  assert.equal(await signedIn(editor), false);
  assert.equal((await trySignIn(a, 'editor', PASSWORD)).status, 401);
  await editor.signIn(a.user, 'editor', password);

  // The console: on the page that answers the form, and nowhere after.
  const editorId = (await user(a, 'editor'))!.id;
  await owner.get(`/console/users/${editorId}`);
  const answered = await owner.post(`/console/users/${editorId}/reset`);
  assert.equal(answered.status, 200);
  const shown = /data-testid="new-password">([A-Za-z0-9]{16})</.exec(answered.body)![1]!;
  assert.doesNotMatch((await owner.get(`/console/users/${editorId}`)).body, new RegExp(shown));
  assert.equal(await signedIn(editor), false);
  await editor.signIn(a.user, 'editor', shown);

  // Resetting one's own password keeps one's own session.
  await owner.get(`/console/users/${ownerId}`);
  assert.equal((await owner.post(`/console/users/${ownerId}/reset`)).status, 200);
  assert.equal(await signedIn(owner), true);
});

test('console users are listed by both doors with their lists, state and time; a deleted one is gone everywhere', async () => {
  const { a, owner } = await account();
  const made = await cli('create', a.user, 'viewer', '--lists', String(a.list.id), '--password', PASSWORD);
  assert.equal(made.code, 0, made.stderr);
  const viewer = new ConsoleBrowser(svc.url);
  await viewer.signIn(a.user, 'viewer', PASSWORD);

  const listed = await cli('ls', a.user);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^username +id +lists +enabled +created$/m);
  assert.match(listed.stdout, new RegExp(`^viewer +\\d+ +${a.list.id} +yes +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d (?:[A-Z]{2,5}|UTC[+-]\\d\\d:\\d\\d)$`, 'm'));
  const json = JSON.parse((await cli('ls', a.user, '--json')).stdout) as { username: string; listIds: number[] | null; enabled: boolean; createdAt: string }[];
  assert.deepEqual(json.map((u) => [u.username, u.listIds, u.enabled]), [['owner', null, true], ['viewer', [a.list.id], true]]);
  assert.match(json[0]!.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
  const page = await owner.get('/console/users');
  assert.match(page.body, /viewer<\/a><\/td>\s*<td class="wrap">List \d+<\/td>\s*<td><span class="badge badge-ok">Enabled<\/span>/);
  // A user limited to lists does not manage users.
  assert.equal((await viewer.get('/console/users')).status, 403);

  const viewerId = (await user(a, 'viewer'))!.id;
  await owner.get(`/console/users/${viewerId}`);
  const deleted = await owner.post(`/console/users/${viewerId}/delete`);
  assert.deepEqual([deleted.status, deleted.location], [303, '/console/users?notice=user-deleted']);
  assert.equal(await user(a, 'viewer'), null);
  assert.equal(await signedIn(viewer), false);
  assert.equal((await trySignIn(a, 'viewer', PASSWORD)).status, 401);
  const soap = await callSoap(svc.endpoint, 'GetIdUser', { userName: 'viewer' }, { User: a.user, Password: a.password });
  assert.notEqual(soap.returnCode, viewerId, 'GetIdUser no longer finds it');
  assert.equal((await cli('rm', a.user, 'viewer')).code, 1, 'removing it again: it does not exist');
  assert.match((await cli('rm', a.user, 'viewer')).stderr, /console user "viewer" does not exist in account a\d+/);
});
