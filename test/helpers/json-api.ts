/**
 * Calls of the JSON API (/api/…) over real HTTP, as a client sends them: HTTP Basic with the
 * account's WS credentials (none: `acc` null). `call` sends any body with any content type and
 * answers the raw text as well (a CSV's byte-order mark is part of what some tests check); `api`
 * sends and reads JSON.
 */
import type { TestAccount, TestService } from './service.ts';

export interface ApiAnswer<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The answer parsed, when its content type says JSON. */
  readonly body: T;
}

export type Caller = TestAccount | { user: string; password: string } | null;
export type Method = 'GET' | 'POST' | 'DELETE';

export async function call<T = Record<string, unknown>>(
  svc: TestService, acc: Caller, method: Method, path: string,
  options: { body?: string | Buffer; contentType?: string; accept?: string } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = {};
  if (acc) headers.authorization = `Basic ${Buffer.from(`${acc.user}:${acc.password}`).toString('base64')}`;
  if (options.contentType) headers['content-type'] = options.contentType;
  if (options.accept) headers.accept = options.accept;
  const res = await fetch(`${svc.url}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: options.body }) });
  // Kept whole: a CSV's byte-order mark is part of what is checked.
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, text, body: (json ? JSON.parse(text) : undefined) as T };
}

export interface ApiReply<T> {
  readonly status: number;
  readonly body: T;
}

/**
 * A JSON call: a Buffer body is sent as it is (a test of malformed JSON), anything else as JSON;
 * the answer is read as JSON whatever its content type says, and an empty one (204) has no body.
 */
export async function api<T = Record<string, unknown>>(svc: TestService, acc: Caller, method: Method, path: string, body?: unknown): Promise<ApiReply<T>> {
  const sent = body === undefined ? {} : { body: body instanceof Buffer ? body : JSON.stringify(body), contentType: 'application/json' };
  const answer = await call<unknown>(svc, acc, method, path, sent);
  return { status: answer.status, body: (answer.text === '' ? undefined : JSON.parse(answer.text)) as T };
}
