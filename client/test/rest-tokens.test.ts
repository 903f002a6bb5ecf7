/**
 * The REST client's OAuth2 handling and its answers to refusals, against the real service with
 * access tokens that last 2 seconds and a limit of 5 REST calls per second per account: a
 * log-in on the first call, a refresh before expiry, refresh tokens that rotate, a 401 answered by
 * one renewal (refresh, else a new log-in), one token request shared by concurrent calls, 429
 * waited out (also for a streamed bulk import, sent again whole, against a second server that
 * allows one call a second), and the typed errors.
 * Each test uses its own account, so the limits of one do not reach another.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { removeRestClient } from '../../src/core/rest-clients.ts';
import { startTestService, type TestAccount, type TestService } from '../../test/helpers/service.ts';
import { callRest, login, requestToken, restClientOf, type RestClientCredentials } from '../../test/helpers/rest.ts';
import { MailUpRestClient, RestApiError, RestAuthError, type MailUpRestClientOptions, type RestTokens } from '../src/index.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService({ OAUTH_ACCESS_TOKEN_SECONDS: '2', REST_MAX_CALLS_PER_SECOND: '5' });
});
after(() => svc.close());

/** One request as the client sent it and the status it got. */
interface Sent {
  readonly what: string;
  readonly status: number;
}

/** Node's fetch, with every request noted (`token password`, `token refresh_token`, `GET User/Lists`). */
function recordingFetch(sent: Sent[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    const body = typeof init?.body === 'string' ? init.body : '';
    const grant = /(?:^|&)grant_type=([^&]+)/.exec(body)?.[1];
    const what = grant ? `token ${grant}` : `${init?.method ?? 'GET'} ${url.pathname.replace(/^.*\/Console\//, '')}`;
    const response = await fetch(input, init);
    sent.push({ what, status: response.status });
    return response;
  };
}

interface Setup {
  readonly acc: TestAccount;
  readonly creds: RestClientCredentials;
  readonly sent: Sent[];
  readonly issued: RestTokens[];
  readonly rest: MailUpRestClient;
}

async function setup(options: Partial<MailUpRestClientOptions> = {}): Promise<Setup> {
  const acc = await svc.addAccount();
  const creds = await restClientOf(svc, acc);
  const sent: Sent[] = [];
  const issued: RestTokens[] = [];
  const rest = new MailUpRestClient({
    baseUrl: svc.url, clientId: creds.clientId, clientSecret: creds.clientSecret, username: acc.user, password: acc.password,
    fetch: recordingFetch(sent), onTokens: (t) => issued.push(t), retryDelayMs: 50, ...options,
  });
  return { acc, creds, sent, issued, rest };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const what = (sent: readonly Sent[]): string[] => sent.map((s) => `${s.what} ${s.status}`);

test('the first call logs in; before the access token expires it is refreshed, and refresh tokens rotate', async () => {
  const { acc, creds, sent, issued, rest } = await setup();
  assert.equal(rest.tokens, null);
  assert.deepEqual((await rest.getAllLists()).map((l) => l.idList), [acc.list.id]);
  assert.deepEqual(what(sent), ['token password 200', 'GET User/Lists 200']);
  const first = issued[0]!;
  assert.ok(first.expiresAt.getTime() - Date.now() <= 2000);

  // Inside the last tenth of its life the token is refreshed before the call: no 401 is seen.
  await sleep(first.expiresAt.getTime() - Date.now() - 100);
  sent.length = 0;
  await rest.getAllGroups(acc.list.id);
  assert.deepEqual(what(sent), ['token refresh_token 200', `GET List/${acc.list.id}/Groups 200`]);
  const second = issued[1]!;
  assert.notEqual(second.refreshToken, first.refreshToken);
  assert.notEqual(second.accessToken, first.accessToken);
  assert.deepEqual(rest.tokens, second);

  // The old refresh token is spent on the server; the client uses the new one next time.
  const spent = await requestToken(svc, { grant_type: 'refresh_token', client_id: creds.clientId, client_secret: creds.clientSecret, refresh_token: first.refreshToken });
  assert.equal(spent.status, 400);
  assert.equal(spent.body.error, 'invalid_grant');
  await sleep(second.expiresAt.getTime() - Date.now() + 50);
  sent.length = 0;
  await rest.getDynamicFields();
  assert.deepEqual(what(sent), ['token refresh_token 200', 'GET Recipient/DynamicFields 200']);
  assert.equal(issued.length, 3);
});

test('the client may name itself by HTTP Basic instead of in the form', async () => {
  const { acc, sent, rest } = await setup({ clientAuth: 'basic' });
  assert.equal((await rest.getLists()).Items[0]?.idList, acc.list.id);
  assert.deepEqual(what(sent), ['token password 200', 'GET User/Lists 200']);
});

test('a 401 is answered by one refresh and the call sent again', async () => {
  const acc = await svc.addAccount();
  const creds = await restClientOf(svc, acc);
  const tokens = await login(svc, acc, creds);
  const sent: Sent[] = [];
  const rest = new MailUpRestClient({
    baseUrl: svc.url, clientId: creds.clientId, clientSecret: creds.clientSecret, username: acc.user, password: acc.password, fetch: recordingFetch(sent),
    // A token the server does not know, believed valid for an hour; a good refresh token.
    tokens: { accessToken: 'not-a-token', refreshToken: tokens.refresh_token, expiresAt: new Date(Date.now() + 3_600_000) },
  });
  assert.equal((await rest.getLists()).TotalElementsCount, 1);
  assert.deepEqual(what(sent), ['GET User/Lists 401', 'token refresh_token 200', 'GET User/Lists 200']);
});

test('tokens revoked on the server: the refresh is refused, the client logs in again with the password', async () => {
  const { acc, sent, rest } = await setup();
  await rest.getLists();
  await svc.db.execute('DELETE FROM oauth_token WHERE account_id = ?', [acc.account.id]);
  sent.length = 0;
  await rest.getLists();
  assert.deepEqual(what(sent), ['GET User/Lists 401', 'token refresh_token 400', 'token password 200', 'GET User/Lists 200']);
});

test('calls made at the same time share one log-in, and one refresh', async () => {
  const { acc, sent, issued, rest } = await setup({ rateLimit: { retries: 10 } });
  await Promise.all(Array.from({ length: 4 }, () => rest.getLists()));
  assert.equal(sent.filter((s) => s.what.startsWith('token')).length, 1);
  await sleep(issued[0]!.expiresAt.getTime() - Date.now() + 50);
  sent.length = 0;
  await Promise.all(Array.from({ length: 4 }, () => rest.getAllGroups(acc.list.id)));
  assert.deepEqual(sent.filter((s) => s.what.startsWith('token')).map((s) => `${s.what} ${s.status}`), ['token refresh_token 200']);
  assert.equal(issued.length, 2);
});

test('a refused log-in is a RestAuthError with the endpoint\'s description; nothing reaches the API', async () => {
  const { sent, rest } = await setup({ password: 'wrong-password' });
  const err = await rest.getLists().then(() => null, (e: unknown) => e);
  assert.ok(err instanceof RestAuthError, String(err));
  assert.deepEqual([err.code, err.httpStatus, err.error, err.grantType], ['MAILUP_AUTH_ERROR', 400, 'invalid_grant', 'password']);
  assert.match(err.errorDescription, /Wrong username or password/);
  assert.ok(!err.message.includes('wrong-password'));
  assert.deepEqual(what(sent), ['token password 400']);

  // A client removed: its tokens stop working, and it cannot log in again.
  const other = await setup();
  await other.rest.getLists();
  assert.ok((await removeRestClient(svc.service.store, other.acc.account.id, other.creds.clientId)).ok);
  const gone = await other.rest.getLists().then(() => null, (e: unknown) => e);
  assert.ok(gone instanceof RestAuthError, String(gone));
  assert.equal(gone.error, 'invalid_client');
});

test('429 is waited out (Retry-After) and the call sent again; with no retries left it is a RestApiError', async () => {
  const { sent, rest } = await setup({ rateLimit: { retries: 10 } });
  const pages = await Promise.all(Array.from({ length: 12 }, () => rest.getLists()));
  assert.equal(pages.length, 12);
  assert.ok(sent.some((s) => s.status === 429), 'the limit of 5 calls per second was reached');
  assert.equal(sent.filter((s) => s.what === 'GET User/Lists' && s.status === 200).length, 12);

  const strict = await setup({ rateLimit: { retries: 0 } });
  await strict.rest.logIn();
  // All at once, more than the 5 the account may make: the tokens that come back meanwhile (one per 200 ms) cannot serve them all.
  const results = await Promise.allSettled(Array.from({ length: 12 }, () => strict.rest.getLists()));
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  assert.ok(refused.length >= 3, `${refused.length} refused`);
  for (const err of refused) {
    assert.ok(err instanceof RestApiError, String(err));
    assert.deepEqual([err.httpStatus, err.errorCode, err.errorName, err.retryAfterMs], [429, '429', 'TooManyRequests', 1000]);
    assert.match(err.errorDescription, /^Too many requests\. Max:5 calls per second/);
  }
});

test('a streamed bulk import refused with 401 or 429 is sent again whole: the counts are exact', async () => {
  const acc = await svc.addAccount();
  const creds = await restClientOf(svc, acc);
  const tokens = await login(svc, acc, creds);
  const sent: Sent[] = [];
  const rest = new MailUpRestClient({
    baseUrl: svc.url, clientId: creds.clientId, clientSecret: creds.clientSecret, username: acc.user, password: acc.password, fetch: recordingFetch(sent),
    tokens: { accessToken: 'not-a-token', refreshToken: tokens.refresh_token, expiresAt: new Date(Date.now() + 3_600_000) },
  });
  async function* recipients(from: number, n: number) {
    for (let i = from; i < from + n; i++) yield { Email: `replay-${i}@example.com`, Name: `R ${i}`, Fields: [{ Id: 1, Value: `v${i}` }] };
  }
  const id401 = await rest.importRecipients({ idList: acc.list.id }, recipients(0, 2000));
  assert.deepEqual(what(sent), [`POST List/${acc.list.id}/Recipients 401`, 'token refresh_token 200', `POST List/${acc.list.id}/Recipients 200`]);
  const done401 = await rest.waitForImport(id401, { intervalMs: 50, deadlineMs: 60_000 });
  assert.deepEqual([done401.CreatedRecipients, done401.ValidRecipients, done401.NotValidRecipients], [2000, 2000, 0]);

  // The account's calls used up just before the import, on a server that allows one call a second:
  // another log-in calls until it is refused, and the import sent at once finds no call left (the
  // next comes back a second after the last one answered, where at five a second it would be 200
  // ms, within reach of a slow call's latency). Refused with 429, it waits and sends its body again.
  const strict = await startTestService({ REST_MAX_CALLS_PER_SECOND: '1' });
  try {
    const strictAcc = await strict.addAccount();
    const strictCreds = await restClientOf(strict, strictAcc);
    const [own, other] = [await login(strict, strictAcc, strictCreds), await login(strict, strictAcc, strictCreds)];
    const limited = new MailUpRestClient({
      baseUrl: strict.url, clientId: strictCreds.clientId, clientSecret: strictCreds.clientSecret, username: strictAcc.user, password: strictAcc.password,
      fetch: recordingFetch(sent), tokens: { accessToken: own.access_token, refreshToken: own.refresh_token, expiresAt: new Date(Date.now() + 3_600_000) },
    });
    sent.length = 0;
    while ((await callRest(strict, other.access_token, 'GET', '/User/Lists')).status !== 429);
    const id429 = await limited.importRecipients({ idList: strictAcc.list.id }, recipients(2000, 1500));
    const posts = sent.filter((s) => s.what.startsWith('POST'));
    assert.ok(posts.length >= 2 && posts.slice(0, -1).every((s) => s.status === 429) && posts.at(-1)!.status === 200, JSON.stringify(posts));
    const done429 = await limited.waitForImport(id429, { intervalMs: 50, deadlineMs: 60_000 });
    assert.deepEqual([done429.CreatedRecipients, done429.ValidRecipients, done429.NotValidRecipients], [1500, 1500, 0]);
  } finally {
    await strict.close();
  }

  // A stream that went further than what is kept for a replay is not sent again: the 401 is the answer.
  const noReplay = new MailUpRestClient({
    baseUrl: svc.url, clientId: creds.clientId, clientSecret: creds.clientSecret, username: acc.user, password: acc.password, replayLimitBytes: 1,
    tokens: { accessToken: 'not-a-token', refreshToken: 'not-a-refresh-token', expiresAt: new Date(Date.now() + 3_600_000) },
  });
  const err = await noReplay.importRecipients({ idList: acc.list.id }, recipients(5000, 500)).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof RestApiError, String(err));
  assert.deepEqual([err.httpStatus, err.errorCode, err.attempts], [401, '401', 1]);
});
