/**
 * Calling the REST API in tests as a client does, over real HTTP (fetch): a REST client of an
 * account made through the core (as the admin CLI makes it), a token from the token endpoint,
 * and calls under `{base}/Console` with a bearer token.
 */
import assert from 'node:assert/strict';
import { addRestClient } from '../../src/core/rest-clients.ts';
import type { TestAccount, TestService } from './service.ts';

export const REST_BASE = '/API/v1.1/Rest/ConsoleService.svc';
export const TOKEN_PATH = '/Authorization/OAuth/Token';

export interface RestClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

export interface Tokens {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly expires_in: number;
  readonly token_type: string;
}

export interface RestAnswer<T = unknown> {
  readonly status: number;
  /** The body parsed as JSON; null when it is empty, the raw text when it is not JSON. */
  readonly body: T;
  readonly text: string;
  readonly headers: Headers;
}

/** A new REST client of the account, as `rest-client add` makes it. */
export async function restClientOf(svc: TestService, account: TestAccount, name = 'tests'): Promise<RestClientCredentials> {
  const added = await addRestClient(svc.service.store, account.account.id, name);
  assert.ok(added.ok);
  return { clientId: added.client.clientId, clientSecret: added.secret };
}

/** POSTs a token request form; `basic` sends the client by HTTP Basic instead of in the form. */
export async function requestToken(svc: TestService, form: Record<string, string>, basic?: RestClientCredentials): Promise<TokenAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${basic.clientId}:${basic.clientSecret}`).toString('base64')}`;
  const res = await fetch(`${svc.url}${TOKEN_PATH}`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

/** The password grant with the client in the form; fails the test unless it succeeds. */
export async function login(svc: TestService, account: TestAccount, client: RestClientCredentials): Promise<Tokens> {
  const answer = await requestToken(svc, {
    grant_type: 'password', client_id: client.clientId, client_secret: client.clientSecret, username: account.user, password: account.password,
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as unknown as Tokens;
}

/**
 * One call under `{base}/Console` (`path` such as `/User/Lists?pageSize=5`) with the access token.
 * A `body` that is not a string is sent as JSON.
 */
export async function callRest<T = unknown>(
  svc: TestService, token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {},
): Promise<RestAnswer<T>> {
  const res = await fetch(`${svc.url}${REST_BASE}/Console${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = null;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, body: parsed as T, text, headers: res.headers };
}

/** MailUp's error body for `status`, with any description. */
export function assertMailUpError(answer: RestAnswer, status: number, description?: RegExp): void {
  assert.equal(answer.status, status, answer.text);
  const body = answer.body as Record<string, unknown>;
  assert.equal(body.ErrorCode, String(status), answer.text);
  assert.equal(typeof body.ErrorDescription, 'string');
  assert.equal(typeof body.ErrorName, 'string');
  assert.equal(body.ErrorStack, null);
  if (description) assert.match(body.ErrorDescription as string, description);
}
