/**
 * The list page's default country through fastify.inject() (on the store TEST_STORE names; npm
 * test runs it on both): shown, set, cleared, a bad code refused with the list unchanged, and out
 * of reach of another account's console user.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { hashPassword } from '../../src/core/passwords.ts';
import { consoleRoutes } from '../../src/console/console-routes.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

const PASSWORD = 'console-secret-1';
let svc: TestService;
let app: FastifyInstance;
let a: TestAccount;
let b: TestAccount;

/** A signed-in console user over inject(): its cookies and the CSRF token of its last page. */
async function signIn(account: TestAccount, username: string) {
  const cookies = new Map<string, string>();
  let csrf = '';
  const call = async (method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<LightMyRequestResponse> => {
    const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await app.inject({
      method, url,
      headers: { ...(cookie ? { cookie } : {}), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { payload: new URLSearchParams({ _csrf: csrf, ...form }).toString() } : {}),
    });
    for (const c of ([] as string[]).concat((res.headers['set-cookie'] as string | string[] | undefined) ?? [])) {
      const pair = c.split(';')[0]!;
      cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    csrf = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1] ?? csrf;
    return res;
  };
  await call('GET', '/console/sign-in');
  const signedIn = await call('POST', '/console/sign-in', { account: account.user, username, password: PASSWORD, next: '/console/lists' });
  assert.equal(signedIn.statusCode, 303);
  return { get: (url: string) => call('GET', url), post: (url: string, form: Record<string, string>) => call('POST', url, form) };
}

before(async () => {
  svc = await startTestService();
  a = await svc.addAccount();
  b = await svc.addAccount();
  await svc.service.store.accounts.createConsoleUser(a.account.id, 'alice', await hashPassword(PASSWORD));
  await svc.service.store.accounts.createConsoleUser(b.account.id, 'bob', await hashPassword(PASSWORD));
  app = Fastify({ routerOptions: { caseSensitive: false } });
  await app.register(consoleRoutes, { ctx: svc.service.context, prefix: '/console' });
  await app.ready();
});

after(async () => {
  await app?.close();
  await svc?.close();
});

test("the list page shows the list's default country and sets it; a bad code is refused, nothing changed", async () => {
  const alice = await signIn(a, 'alice');
  const page = `/console/lists/${a.list.id}`;
  assert.match((await alice.get(page)).body, /No default country: a mobile number without \+ or 00 is rejected\./);
  const set = await alice.post(`${page}/country`, { country: ' it ' });
  assert.equal(set.statusCode, 303);
  assert.equal(set.headers.location, `${page}?notice=list-country-set`);
  const shown = await alice.get(set.headers.location!);
  assert.match(shown.body, /read as a number of <strong id="list-country">IT<\/strong>/);
  assert.match(shown.body, /The list&#39;s default country was saved\.|The list's default country was saved\./);
  assert.equal(await svc.service.store.lists.getListCountry(a.account.id, a.list.id), 'IT');

  const refused = await alice.post(`${page}/country`, { country: 'Italy' });
  assert.equal(refused.statusCode, 400);
  assert.match(refused.body, /aria-invalid="true"/);
  assert.match(refused.body, /Enter an ISO 3166 country code of two letters/);
  assert.equal(await svc.service.store.lists.getListCountry(a.account.id, a.list.id), 'IT', 'unchanged');

  assert.equal((await alice.post(`${page}/country`, { country: '' })).statusCode, 303);
  assert.equal(await svc.service.store.lists.getListCountry(a.account.id, a.list.id), null, 'empty clears it');
});

test("another account's console user cannot set a list's country", async () => {
  const bob = await signIn(b, 'bob');
  await bob.get('/console/lists');
  assert.equal((await bob.post(`/console/lists/${a.list.id}/country`, { country: 'DE' })).statusCode, 404);
  assert.equal(await svc.service.store.lists.getListCountry(a.account.id, a.list.id), null);
});
