/**
 * The HTTP subscribe API as shop plugins call it: plain HTTP requests to `/frontend/<page>`, GET
 * with a query string or POST with a form body (or an empty one), from a chosen loopback address
 * (Linux routes all of 127.0.0.0/8 to the loopback interface, so a test can call from 127.0.0.5
 * as another host would), answered with a bare body.
 */
import { request } from 'node:http';
import type { TestService } from '../helpers/service.ts';

export interface FrontendReply {
  readonly status: number;
  readonly contentType: string;
  readonly retryAfter: string | null;
  readonly body: string;
}

export interface CallOptions {
  readonly method?: 'GET' | 'POST' | 'HEAD';
  /** The form body, sent as application/x-www-form-urlencoded unless `contentType` says otherwise. */
  readonly body?: string | Buffer;
  readonly contentType?: string | null;
  /** The caller's address (default 127.0.0.1). */
  readonly from?: string;
}

/** Calls `path` (a page and its query, such as `xmlSubscribe.aspx?List=1`) under /frontend/. */
export function callFrontend(svc: TestService, path: string, options: CallOptions = {}): Promise<FrontendReply> {
  const url = new URL(`/frontend/${path}`, svc.url);
  const body = options.body ?? (options.method === 'POST' ? '' : undefined);
  const contentType = options.contentType === undefined ? (body !== undefined ? 'application/x-www-form-urlencoded' : null) : options.contentType;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? 'GET', localAddress: options.from ?? '127.0.0.1', agent: false,
      headers: {
        ...(contentType ? { 'content-type': contentType } : {}),
        ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({
        status: res.statusCode!, contentType: String(res.headers['content-type'] ?? ''),
        retryAfter: (res.headers['retry-after'] as string | undefined) ?? null, body: text,
      }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The body of a call, which must be answered 200. */
export async function code(svc: TestService, path: string, options: CallOptions = {}): Promise<string> {
  const reply = await callFrontend(svc, path, options);
  if (reply.status !== 200) throw new Error(`${path}: HTTP ${reply.status} ${reply.body}`);
  return reply.body;
}

/** A form body or query from name/value pairs, encoded as PHP's http_build_query does. */
export const form = (params: Record<string, string | number>): string =>
  new URLSearchParams(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]))).toString();
