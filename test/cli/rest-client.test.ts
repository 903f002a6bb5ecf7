/**
 * `mailup-import-admin rest-client add|ls|rm` as operators run it (child processes of the real
 * CLI), against a running service on the store TEST_STORE names (npm test runs it on both): a
 * client added by the CLI gets tokens from the service at once, one removed loses them at once,
 * and the CLI's `account password` and `account disable` revoke the account's tokens.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { callRest, requestToken } from '../helpers/rest.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService();
});
after(() => svc.close());

const admin = (...args: string[]) => runAdminProcess(args, { ...svc.storeEnv });

async function token(a: TestAccount, clientId: string, clientSecret: string, password = a.password): Promise<{ status: number; access: string }> {
  const answer = await requestToken(svc, { grant_type: 'password', client_id: clientId, client_secret: clientSecret, username: a.user, password });
  return { status: answer.status, access: String(answer.body.access_token ?? '') };
}

describe('rest-client', () => {
  test('add prints the id and the secret once; the service gives that client tokens at once; ls shows it, never the secret', async () => {
    const a = await svc.addAccount();
    const added = await admin('rest-client', 'add', a.user, '--name', 'Shop front');
    assert.equal(added.code, 0, added.stderr);
    const clientId = /client id: +(\S+)/.exec(added.stdout)?.[1];
    const secret = /client secret: +(\S+)/.exec(added.stdout)?.[1];
    assert.ok(clientId && secret, added.stdout);
    assert.match(added.stdout, /shown only this once/);
    assert.equal((await token(a, clientId, secret)).status, 200);

    const json = await admin('--json', 'rest-client', 'add', a.user.toUpperCase());
    assert.equal(json.code, 0, json.stderr);
    const second = JSON.parse(json.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(second).sort(), ['clientId', 'clientSecret', 'createdAt', 'name', 'wsUser']);
    assert.deepEqual([second.wsUser, second.name], [a.user, '']);
    assert.equal((await token(a, second.clientId!, second.clientSecret!)).status, 200);

    const ls = await admin('rest-client', 'ls', a.user);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`${clientId}\\s+Shop front`));
    assert.ok(ls.stdout.includes(second.clientId!));
    assert.ok(!ls.stdout.includes(secret) && !ls.stdout.includes(second.clientSecret!), 'secrets are never shown again');
    const lsJson = JSON.parse((await admin('rest-client', 'list', a.user, '--json')).stdout) as Record<string, unknown>[];
    assert.deepEqual(lsJson.map((c) => c.clientId), [clientId, second.clientId]);
    assert.ok(lsJson.every((c) => !('clientSecret' in c)));
    const none = await admin('rest-client', 'ls', (await svc.addAccount()).user);
    assert.match(none.stdout, /has no REST clients/);
  });

  test('rm ends the tokens of that client at once; bad command lines and unknown data have their exit codes', async () => {
    const a = await svc.addAccount();
    const other = await svc.addAccount();
    const added = JSON.parse((await admin('--json', 'rest-client', 'add', a.user)).stdout) as Record<string, string>;
    const { access } = await token(a, added.clientId!, added.clientSecret!);
    assert.equal((await callRest(svc, access, 'GET', '/User/Lists')).status, 200);

    const wrongAccount = await admin('rest-client', 'rm', other.user, added.clientId!);
    assert.equal(wrongAccount.code, 1);
    assert.match(wrongAccount.stderr, /does not exist in account/);
    assert.equal((await callRest(svc, access, 'GET', '/User/Lists')).status, 200, "another account's rm changed nothing");

    const removed = await admin('rest-client', 'rm', a.user, added.clientId!.toUpperCase());
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /removed; its tokens no longer work/);
    assert.equal((await callRest(svc, access, 'GET', '/User/Lists')).status, 401);
    assert.equal((await token(a, added.clientId!, added.clientSecret!)).status, 400);
    assert.equal((await admin('rest-client', 'rm', a.user, added.clientId!)).code, 1, 'already removed');

    const malformed = await admin('rest-client', 'rm', a.user, 'not-a-client-id');
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /client id/);
    assert.equal((await admin('rest-client', 'add', 'a999999')).code, 1, 'unknown account');
    assert.equal((await admin('rest-client', 'add', 'bob')).code, 2, 'not a WS user');
    const longName = await admin('rest-client', 'add', a.user, '--name', 'n'.repeat(101));
    assert.equal(longName.code, 2);
    assert.match(longName.stderr, /at most 100 characters/);
  });

  test("account password and account disable revoke the account's tokens", async () => {
    const a = await svc.addAccount();
    const added = JSON.parse((await admin('--json', 'rest-client', 'add', a.user)).stdout) as Record<string, string>;
    const first = await token(a, added.clientId!, added.clientSecret!);
    const changed = await runAdminProcess(['account', 'password', a.user, '--password-stdin'], { ...svc.storeEnv }, { input: 'brand-new-pass\n' });
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal((await callRest(svc, first.access, 'GET', '/User/Lists')).status, 401);
    const second = await token(a, added.clientId!, added.clientSecret!, 'brand-new-pass');
    assert.equal(second.status, 200);
    assert.equal((await admin('account', 'disable', a.user)).code, 0);
    assert.equal((await callRest(svc, second.access, 'GET', '/User/Lists')).status, 401);
    // The service may reuse the account row it read for LOOKUP_CACHE_MS: the refusal shows within it.
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await token(a, added.clientId!, added.clientSecret!, 'brand-new-pass')).status, 400);
  });
});
