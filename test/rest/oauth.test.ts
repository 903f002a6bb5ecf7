/**
 * OAuth2 of the REST API over real HTTP, on the store TEST_STORE names (npm test runs it on
 * both): the password grant with the client in the form or by HTTP Basic, every refusal of the
 * token endpoint, the bearer check on the resources (missing, wrong, expired, revoked), refresh
 * tokens that rotate and cannot be used twice, revocation when the WS password changes or the
 * account is disabled (through the core functions the admin CLI and the console call), the IP
 * check, and the login throttle shared with SOAP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { changeAccess, setWsPassword } from '../../src/core/accounts.ts';
import { removeRestClient } from '../../src/core/rest-clients.ts';
import { callRest, login, requestToken, restClientOf, TOKEN_PATH, assertMailUpError, type RestClientCredentials } from '../helpers/rest.ts';
import { callSoap, startTestService, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService();
});
after(() => svc.close());

const passwordForm = (a: TestAccount, c: RestClientCredentials, extra: Record<string, string> = {}): Record<string, string> => ({
  grant_type: 'password', client_id: c.clientId, client_secret: c.clientSecret, username: a.user, password: a.password, ...extra,
});

async function listsStatus(token: string): Promise<number> {
  return (await callRest(svc, token, 'GET', '/User/Lists')).status;
}

/** An OAuth refusal: its status, `error`, and a description under both keys clients read. */
function assertOAuthError(answer: { status: number; body: Record<string, unknown> }, status: number, error: string, description?: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body.error, error);
  assert.equal(typeof answer.body.error_description, 'string');
  assert.equal(answer.body.ErrorDescription, answer.body.error_description);
  assert.equal(answer.body.ErrorCode, String(status));
  if (description) assert.match(answer.body.error_description as string, description);
}

describe('the password grant', () => {
  test('the client in the form: a bearer pair that lasts expires_in seconds, not cached, and opens the resources', async () => {
    const a = await svc.addAccount();
    const c = await restClientOf(svc, a);
    const answer = await requestToken(svc, passwordForm(a, c));
    assert.equal(answer.status, 200);
    assert.deepEqual(Object.keys(answer.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
    assert.equal(answer.body.expires_in, 3600);
    assert.equal(answer.body.token_type, 'bearer');
    assert.match(answer.headers.get('content-type')!, /^application\/json/);
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.notEqual(answer.body.access_token, answer.body.refresh_token);
    assert.equal(await listsStatus(answer.body.access_token as string), 200);
    // The user name in any case, as the SOAP service compares it.
    assert.equal((await requestToken(svc, passwordForm(a, c, { username: a.user.toUpperCase() }))).status, 200);
  });

  test('the client by HTTP Basic, with or without repeating it in the form', async () => {
    const a = await svc.addAccount();
    const c = await restClientOf(svc, a);
    const { client_id: _id, client_secret: _secret, ...form } = passwordForm(a, c);
    const basic = await requestToken(svc, form, c);
    assert.equal(basic.status, 200, JSON.stringify(basic.body));
    assert.equal(await listsStatus(basic.body.access_token as string), 200);
    assert.equal((await requestToken(svc, { ...form, client_id: c.clientId }, c)).status, 200, 'the same client in both');
    assertOAuthError(await requestToken(svc, { ...form, client_id: (await restClientOf(svc, a)).clientId }, c), 400, 'invalid_request', /named twice/);
  });

  test('a wrong or unknown client: 400 invalid_client from the form, 401 with WWW-Authenticate by Basic; nothing is issued', async () => {
    const a = await svc.addAccount();
    const c = await restClientOf(svc, a);
    assertOAuthError(await requestToken(svc, passwordForm(a, c, { client_secret: 'wrong' })), 400, 'invalid_client');
    assertOAuthError(await requestToken(svc, passwordForm(a, c, { client_id: '00000000-0000-4000-8000-000000000000' })), 400, 'invalid_client');
    assertOAuthError(await requestToken(svc, passwordForm(a, c, { client_secret: '' })), 400, 'invalid_client');
    const { client_id: _id, client_secret: _secret, ...form } = passwordForm(a, c);
    assertOAuthError(await requestToken(svc, form), 400, 'invalid_client', /client_id and client_secret/);
    const basic = await requestToken(svc, form, { clientId: c.clientId, clientSecret: 'wrong' });
    assertOAuthError(basic, 401, 'invalid_client');
    assert.match(basic.headers.get('www-authenticate')!, /^Basic/);
    const tokens = await svc.db.query<{ n: number }>('SELECT count(*) AS n FROM oauth_token WHERE account_id = ?', [a.account.id]);
    assert.equal(Number(tokens[0]!.n), 0, 'no token pair was stored');
  });

  test("a wrong password, an unknown user, another account's user: 400 invalid_grant", async () => {
    const a = await svc.addAccount();
    const b = await svc.addAccount();
    const c = await restClientOf(svc, a);
    assertOAuthError(await requestToken(svc, passwordForm(a, c, { password: 'wrong' })), 400, 'invalid_grant', /Wrong username or password/);
    assertOAuthError(await requestToken(svc, passwordForm(a, c, { username: 'a999999' })), 400, 'invalid_grant');
    assertOAuthError(await requestToken(svc, passwordForm(b, c)), 400, 'invalid_grant', undefined);
    assertOAuthError(await requestToken(svc, passwordForm(a, c, { password: '' })), 400, 'invalid_request', /username and password/);
  });

  test('malformed requests: grant types, repeated parameters, not a form, other methods', async () => {
    const a = await svc.addAccount();
    const c = await restClientOf(svc, a);
    assertOAuthError(await requestToken(svc, { ...passwordForm(a, c), grant_type: '' }), 400, 'invalid_request', /grant_type is missing/);
    assertOAuthError(await requestToken(svc, { ...passwordForm(a, c), grant_type: 'client_credentials' }), 400, 'unsupported_grant_type', /client_credentials/);
    const repeated = await fetch(`${svc.url}${TOKEN_PATH}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `${new URLSearchParams(passwordForm(a, c)).toString()}&password=other`,
    });
    assertOAuthError({ status: repeated.status, body: await repeated.json() as Record<string, unknown> }, 400, 'invalid_request', /password is given more than once/);
    const json = await fetch(`${svc.url}${TOKEN_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(passwordForm(a, c)) });
    assertOAuthError({ status: json.status, body: await json.json() as Record<string, unknown> }, 400, 'invalid_request', /application\/x-www-form-urlencoded/);
    const get = await fetch(`${svc.url}${TOKEN_PATH}?${new URLSearchParams(passwordForm(a, c)).toString()}`);
    assertOAuthError({ status: get.status, body: await get.json() as Record<string, unknown> }, 405, 'invalid_request');
    const huge = await fetch(`${svc.url}${TOKEN_PATH}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=password&x=${'a'.repeat(200_000)}` });
    assert.equal(huge.status, 413);
    // The path in any case, as IIS matches it.
    const lower = await fetch(`${svc.url}/authorization/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(passwordForm(a, c)).toString(),
    });
    assert.equal(lower.status, 200);
  });
});

describe('bearer tokens on the resources', () => {
  test('missing, malformed or unknown: 401 with MailUp\'s error body and WWW-Authenticate', async () => {
    const missing = await callRest(svc, null, 'GET', '/User/Lists');
    assertMailUpError(missing, 401, /Access token is missing/);
    assert.deepEqual(Object.keys(missing.body as object), ['ErrorCode', 'ErrorDescription', 'ErrorName', 'ErrorStack']);
    assert.equal((missing.body as Record<string, unknown>).ErrorName, 'Unauthorized');
    assert.match(missing.headers.get('www-authenticate')!, /^Bearer/);
    assertMailUpError(await callRest(svc, 'no-such-token', 'GET', '/User/Lists'), 401, /Access token is not valid/);
    assertMailUpError(await callRest(svc, null, 'GET', '/User/Lists', undefined, { authorization: 'Basic YTE6Yg==' }), 401);
    assertMailUpError(await callRest(svc, null, 'GET', '/Nothing/Here'), 401, /missing/, );
  });

  test('an access token expires after expires_in seconds; the refresh token then gets a new pair', async () => {
    const short = await startTestService({ OAUTH_ACCESS_TOKEN_SECONDS: '1' });
    try {
      const a = await short.addAccount();
      const c = await restClientOf(short, a);
      const tokens = await login(short, a, c);
      assert.equal(tokens.expires_in, 1);
      assert.equal((await callRest(short, tokens.access_token, 'GET', '/User/Lists')).status, 200);
      await new Promise((r) => setTimeout(r, 1100));
      const expired = await callRest(short, tokens.access_token, 'GET', '/User/Lists');
      assertMailUpError(expired, 401, /^Authorization error: Access token is expired$/);
      assert.equal((expired.body as Record<string, unknown>).ErrorName, 'Unauthorized');
      const refreshed = await requestToken(short, { grant_type: 'refresh_token', client_id: c.clientId, client_secret: c.clientSecret, refresh_token: tokens.refresh_token });
      assert.equal(refreshed.status, 200);
      assert.equal((await callRest(short, refreshed.body.access_token as string, 'GET', '/User/Lists')).status, 200);
    } finally {
      await short.close();
    }
  });
});

describe('refresh tokens', () => {
  test('a refresh hands out a new pair; the old access and refresh tokens stop working; a reused refresh token is refused', async () => {
    const a = await svc.addAccount();
    const c = await restClientOf(svc, a);
    const first = await login(svc, a, c);
    const refresh = (token: string, client = c) => requestToken(svc, { grant_type: 'refresh_token', client_id: client.clientId, client_secret: client.clientSecret, refresh_token: token });
    const second = await refresh(first.refresh_token);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.deepEqual(Object.keys(second.body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
    assert.notEqual(second.body.refresh_token, first.refresh_token);
    assert.equal(await listsStatus(second.body.access_token as string), 200);
    assert.equal(await listsStatus(first.access_token), 401, 'the pair it replaced is gone');
    assertOAuthError(await refresh(first.refresh_token), 400, 'invalid_grant', /already used/);
    assert.equal(await listsStatus(second.body.access_token as string), 200, 'a refused reuse changes nothing');
    // Another client of the same account cannot use it; the right client still can.
    assertOAuthError(await refresh(second.body.refresh_token as string, await restClientOf(svc, a)), 400, 'invalid_grant');
    const third = await refresh(second.body.refresh_token as string);
    assert.equal(third.status, 200);
    assertOAuthError(await refresh(''), 400, 'invalid_request', /needs refresh_token/);
    assertOAuthError(await refresh('made-up'), 400, 'invalid_grant');
  });

  test('the same refresh token sent twice at once: one new pair, one refusal', async () => {
    const a = await svc.addAccount();
    const c = await restClientOf(svc, a);
    const { refresh_token } = await login(svc, a, c);
    const form = { grant_type: 'refresh_token', client_id: c.clientId, client_secret: c.clientSecret, refresh_token };
    const answers = await Promise.all([requestToken(svc, form), requestToken(svc, form), requestToken(svc, form)]);
    assert.deepEqual(answers.map((x) => x.status).sort(), [200, 400, 400]);
  });
});

describe('revocation', () => {
  test('a new WS password (as the CLI and the console set it) revokes every token; the new password logs in', async () => {
    const a = await svc.addAccount();
    const c = await restClientOf(svc, a);
    const [one, two] = [await login(svc, a, c), await login(svc, a, c)];
    const changed = await setWsPassword(svc.service.store, a.account.id, 'the-new-password-1');
    assert.ok(changed.ok);
    for (const t of [one, two]) {
      assertMailUpError(await callRest(svc, t.access_token, 'GET', '/User/Lists'), 401);
      assertOAuthError(await requestToken(svc, { grant_type: 'refresh_token', client_id: c.clientId, client_secret: c.clientSecret, refresh_token: t.refresh_token }), 400, 'invalid_grant');
    }
    assertOAuthError(await requestToken(svc, passwordForm(a, c)), 400, 'invalid_grant', /Wrong username or password/);
    const fresh = await requestToken(svc, passwordForm(a, c, { password: 'the-new-password-1' }));
    assert.equal(fresh.status, 200);
  });

  test('disabling the account revokes its tokens and refuses new ones; enabling it again does not bring the old ones back', async () => {
    const a = await svc.addAccount();
    const other = await svc.addAccount();
    const c = await restClientOf(svc, a);
    const oc = await restClientOf(svc, other);
    const tokens = await login(svc, a, c);
    const others = await login(svc, other, oc);
    assert.ok((await changeAccess(svc.service.store, a.account.id, { wsEnabled: false })).ok);
    assertMailUpError(await callRest(svc, tokens.access_token, 'GET', '/User/Lists'), 401);
    assertOAuthError(await requestToken(svc, passwordForm(a, c)), 400, 'invalid_grant', /disabled/);
    assert.equal(await listsStatus(others.access_token), 200, "another account's tokens are untouched");
    assert.ok((await changeAccess(svc.service.store, a.account.id, { wsEnabled: true })).ok);
    assertMailUpError(await callRest(svc, tokens.access_token, 'GET', '/User/Lists'), 401);
    assert.equal((await requestToken(svc, passwordForm(a, c))).status, 200);
  });

  test('removing a client ends its tokens at once; the IP check refuses a token used from elsewhere (403) and new grants', async () => {
    const a = await svc.addAccount();
    const [c, kept] = [await restClientOf(svc, a), await restClientOf(svc, a)];
    const [tokens, others] = [await login(svc, a, c), await login(svc, a, kept)];
    assert.ok((await removeRestClient(svc.service.store, a.account.id, c.clientId)).ok);
    assertMailUpError(await callRest(svc, tokens.access_token, 'GET', '/User/Lists'), 401);
    assertOAuthError(await requestToken(svc, passwordForm(a, c)), 400, 'invalid_client');
    assert.equal(await listsStatus(others.access_token), 200);

    assert.ok((await changeAccess(svc.service.store, a.account.id, { ipCheck: true, allowedIps: ['192.0.2.10'] })).ok);
    assertMailUpError(await callRest(svc, others.access_token, 'GET', '/User/Lists'), 403, /IP check/);
    assertOAuthError(await requestToken(svc, passwordForm(a, kept)), 400, 'invalid_grant', /address/);
    assert.ok((await changeAccess(svc.service.store, a.account.id, { allowedIps: ['192.0.2.10', '127.0.0.1'] })).ok);
    assert.equal(await listsStatus(others.access_token), 200, 'allowed again: the token was not revoked');
  });
});

describe('the login throttle', () => {
  test('wrong passwords over REST are delayed as over SOAP, and count together with SOAP; nobody is locked out', async () => {
    const throttled = await startTestService({ LOGIN_FREE_ATTEMPTS: '2' });
    try {
      const a = await throttled.addAccount();
      const c = await restClientOf(throttled, a);
      const attempt = async (password: string): Promise<[number, number]> => {
        const started = performance.now();
        const answer = await requestToken(throttled, passwordForm(a, c, { password }));
        return [answer.status, performance.now() - started];
      };
      for (let i = 0; i < 3; i++) assert.equal((await attempt('wrong'))[0], 400);
      const [status, slow] = await attempt('wrong');
      assert.equal(status, 400);
      assert.ok(slow >= 500, `the fourth failure waited ${Math.round(slow)} ms`);
      const soap = performance.now();
      const reply = await callSoap(throttled.endpoint, 'GetIdWsUser', {}, { User: a.user, Password: a.password });
      assert.equal(reply.returnCode, 0, 'the right password works over SOAP');
      assert.ok(performance.now() - soap >= 1000, 'after its delay: the REST failures count for SOAP too');
      const [ok] = await attempt(a.password);
      assert.equal(ok, 200, 'the right password gets a token: no lockout');
    } finally {
      await throttled.close();
    }
  });
});
