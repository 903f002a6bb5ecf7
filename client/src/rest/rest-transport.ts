/**
 * The one way every REST call goes: `{base}/Console/{path}` with the bearer token, JSON in and
 * out, and the API's refusals handled the way MailUp's SDKs do:
 *
 * - 401: the token is renewed (refresh, else a new log-in) and the call sent again, once;
 * - 429 (and 503 with Retry-After): the call is sent again after Retry-After (default 1 s), up to
 *   `rateLimit.retries` times, never waiting longer than `rateLimit.maxWaitMs` at once;
 * - a network failure or timeout is retried (`retries`, doubling `retryDelayMs`) for idempotent
 *   calls only (GET, PUT, DELETE): a POST whose answer was lost may have been carried out;
 * - any other error status is a RestApiError carrying MailUp's error body.
 * A request is only sent again when its body can be (see JsonArrayBody).
 */
import { RestApiError, TransportError, type RestOperation } from '../errors.ts';
import { sleep } from '../retry.ts';
import { describeNetworkError } from '../transport.ts';
import { retryAfterMs, type RateLimitPolicy } from './http-support.ts';
import type { JsonArrayBody } from './json-array-body.ts';
import type { TokenKeeper } from './tokens.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A query value; undefined leaves the parameter out. */
export type QueryValue = string | number | boolean | undefined;

export interface RestRequest {
  readonly method: HttpMethod;
  /** The path under `{base}/Console`, ids already in it: `List/7/Groups`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** A JSON body, sent as one string (small bodies). */
  readonly json?: unknown;
  /** A streamed JSON array body (bulk imports). */
  readonly stream?: JsonArrayBody<unknown>;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
}

export interface RestReply {
  readonly status: number;
  readonly text: string;
  readonly attempts: number;
}

export interface RestTransportOptions {
  /** The REST base, `…/API/v1.1/Rest/ConsoleService.svc`. */
  readonly baseUrl: URL;
  readonly tokens: TokenKeeper;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly rateLimit: RateLimitPolicy;
  readonly fetch: typeof globalThis.fetch;
}

/** `a=1&b=x%20y`: every value percent-encoded (no `+` for spaces, which not every server reads). */
export function queryString(query: Readonly<Record<string, QueryValue>> | undefined): string {
  if (!query) return '';
  const parts = Object.entries(query)
    .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** MailUp's error body, or what can be said of an answer that is not one. */
function errorDetails(status: number, text: string): { errorCode: string | null; errorDescription: string; errorName: string | null } {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body === 'object' && body !== null) {
      const description = [body.ErrorDescription, body.error_description, body.Message].find((d): d is string => typeof d === 'string' && d !== '');
      if (description !== undefined) {
        return {
          errorCode: typeof body.ErrorCode === 'string' || typeof body.ErrorCode === 'number' ? String(body.ErrorCode) : null,
          errorDescription: description,
          errorName: typeof body.ErrorName === 'string' ? body.ErrorName : null,
        };
      }
    }
  } catch {
    // Not JSON: the text says what it can.
  }
  const trimmed = text.trim();
  return { errorCode: null, errorDescription: trimmed === '' ? `HTTP ${status} with no body` : trimmed.slice(0, 300), errorName: null };
}

export class RestTransport {
  readonly #o: RestTransportOptions;

  constructor(options: RestTransportOptions) {
    this.#o = options;
  }

  get baseUrl(): URL {
    return this.#o.baseUrl;
  }

  urlOf(path: string, query?: Readonly<Record<string, QueryValue>>): URL {
    return new URL(`${this.#o.baseUrl.href.replace(/\/+$/, '')}/Console/${path}${queryString(query)}`);
  }

  async send(request: RestRequest): Promise<RestReply> {
    const o = this.#o;
    const operation = `${request.method} ${request.path}` as RestOperation;
    const idempotent = request.method !== 'POST';
    const url = this.urlOf(request.path, request.query);
    const replayable = (): boolean => request.stream === undefined || request.stream.replayable;
    const timeoutMs = request.timeoutMs ?? o.timeoutMs;
    let attempts = 0;
    let renewed = false;
    let waits = 0;
    let networkRetries = 0;
    let delayMs = o.retryDelayMs;
    let token = await o.tokens.accessToken(request.signal);
    for (;;) {
      attempts++;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      let body: string | ReadableStream<Uint8Array> | undefined;
      if (request.stream) {
        headers['content-type'] = 'application/json; charset=utf-8';
        body = request.stream.stream();
      } else if (request.json !== undefined) {
        headers['content-type'] = 'application/json; charset=utf-8';
        body = JSON.stringify(request.json);
      }
      let status: number;
      let text: string;
      let retryAfter: number | null;
      try {
        const response = await o.fetch(url, {
          method: request.method, headers, signal, ...(body === undefined ? {} : { body }),
          ...(request.stream ? { duplex: 'half' as const } : {}),
        });
        status = response.status;
        retryAfter = retryAfterMs(response.headers.get('retry-after'));
        text = await response.text();
      } catch (err) {
        if (request.signal?.aborted) throw request.signal.reason;
        if (request.stream?.sourceError !== undefined) throw request.stream.sourceError;
        const failure = timeout.aborted ? 'timeout' : 'network';
        if (idempotent && replayable() && networkRetries < o.retries) {
          networkRetries++;
          await sleep(delayMs, request.signal);
          delayMs *= 2;
          continue;
        }
        throw new TransportError({
          operation, failure, attempts, httpStatus: null,
          reason: failure === 'timeout' ? `no answer within ${timeoutMs} ms` : `cannot reach ${url.origin}: ${describeNetworkError(err)}`,
        }, { cause: err });
      }
      if (request.stream?.sourceError !== undefined) throw request.stream.sourceError;
      if (status === 401 && !renewed && replayable()) {
        renewed = true;
        token = await o.tokens.renewAfterRefusal(token, request.signal);
        continue;
      }
      const rateLimited = status === 429 || (status === 503 && retryAfter !== null);
      if (rateLimited && waits < o.rateLimit.retries && (retryAfter ?? 0) <= o.rateLimit.maxWaitMs && replayable()) {
        waits++;
        await sleep(retryAfter ?? 1000, request.signal);
        // The token may have come close to its end while waiting.
        token = await o.tokens.accessToken(request.signal);
        continue;
      }
      if (status >= 400) {
        throw new RestApiError({ operation, httpStatus: status, ...errorDetails(status, text), retryAfterMs: retryAfter, attempts });
      }
      return { status, text, attempts };
    }
  }
}
