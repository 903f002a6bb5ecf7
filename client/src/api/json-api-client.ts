/**
 * The JSON API of a compatible server (`/api/…`: import listings and details, reject reports,
 * cancel and start, feed validation), with the same WS user and password as the SOAP service,
 * over HTTP Basic. MailUp itself has no such API: `offersApi()` tells whether a server has it
 * (its OpenAPI document at `/api/openapi.json` lists the reject report).
 *
 * Errors: an HTTP error status is a {@link JsonApiError} with the server's `{ "error" }`
 * message; a network failure, a timeout or an answer that is not JSON is a {@link TransportError}.
 *
 * @example
 * ```ts
 * const api = new MailUpJsonApiClient({ baseUrl: 'http://localhost:8080', user: 'a1', password: '…' });
 * const details = await api.getImport(17);
 * for await (const row of api.allRejects(17)) console.log(row.row, row.reason);
 * ```
 */
import { JsonApiError, TransportError, type RestOperation } from '../errors.ts';
import type {
  CancelAnswer, FeedValidation, ImportDetails, ImportSummary, JsonPage, JsonRejectedRow, ListImportsQuery, PageQuery, RejectsPage, StartAnswer,
  ValidateCsvOptions, ValidateFeedOptions,
} from './types.ts';

export interface MailUpJsonApiClientOptions {
  /** The server's origin (`http://host:8080`); a SOAP endpoint URL is fine too, only its origin is used. */
  readonly baseUrl: string | URL;
  readonly user: string;
  readonly password: string;
  /** Time allowed for one request, answer included, in milliseconds (default 60 000). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof globalThis.fetch;
}

/** The page size `allRejects` reads with (the API's largest). */
const WALK_LIMIT = 1000;

type Method = 'GET' | 'POST';

export class MailUpJsonApiClient {
  readonly #origin: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof globalThis.fetch;

  constructor(options: MailUpJsonApiClientOptions) {
    if (typeof options.user !== 'string' || typeof options.password !== 'string') throw new TypeError('user and password are required');
    this.#origin = new URL(options.baseUrl).origin;
    this.#authorization = `Basic ${Buffer.from(`${options.user}:${options.password}`, 'utf8').toString('base64')}`;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** Whether the server offers the JSON API (a server of MailUp's does not): false for any failure to read the document. */
  async offersApi(): Promise<boolean> {
    try {
      const res = await this.#fetch(`${this.#origin}/api/openapi.json`, { signal: AbortSignal.timeout(this.#timeoutMs) });
      if (!res.ok) return false;
      const doc = (await res.json()) as { paths?: Record<string, unknown> };
      return typeof doc.paths === 'object' && doc.paths !== null && '/api/imports/{idProcess}/rejects' in doc.paths;
    } catch {
      return false;
    }
  }

  /** The account's import processes, newest first, a page at a time. */
  listImports(query: ListImportsQuery = {}): Promise<JsonPage<ImportSummary>> {
    return this.#json('GET', '/api/imports', { query: { status: query.status, list: query.list, limit: query.limit, cursor: query.cursor } });
  }

  /** One import process: the GetProcessDetails numbers, options, run, rows merged, rejected rows by reason, failure reason. */
  getImport(idProcess: number): Promise<ImportDetails> {
    return this.#json('GET', `/api/imports/${id(idProcess)}`);
  }

  /** A page of the rows the import rejected, in row order. */
  getRejects(idProcess: number, page: PageQuery = {}): Promise<RejectsPage> {
    return this.#json('GET', `/api/imports/${id(idProcess)}/rejects`, { query: { limit: page.limit, cursor: page.cursor } });
  }

  /** Every rejected row of the import, page after page. */
  async *allRejects(idProcess: number): AsyncGenerator<JsonRejectedRow> {
    let cursor: string | undefined;
    do {
      const page = await this.getRejects(idProcess, { limit: WALK_LIMIT, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.items;
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
  }

  /** The whole reject report as CSV (UTF-8, with its byte-order mark): `row,reason,email,Prefix,Number,Name,campoN…`. */
  async getRejectsCsv(idProcess: number): Promise<string> {
    const path = `/api/imports/${id(idProcess)}/rejects`;
    const res = await this.#send('GET', path, { accept: 'text/csv' });
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
  }

  /** Cancels a waiting or running import, with the waiting processes of its run. */
  cancelImport(idProcess: number): Promise<CancelAnswer> {
    return this.#json('POST', `/api/imports/${id(idProcess)}/cancel`);
  }

  /** Starts an import prepared and never started; it waits its turn when the account runs another. */
  startImport(idProcess: number): Promise<StartAnswer> {
    return this.#json('POST', `/api/imports/${id(idProcess)}/start`);
  }

  /**
   * Checks a subscribers feed as an import would, without importing it. `feed` is the XML
   * (`<subscribers>…`), whole or in pieces (e.g. {@link streamFeed}).
   */
  validateFeed(feed: string | AsyncIterable<string> | Iterable<string>, options: ValidateFeedOptions = {}): Promise<FeedValidation> {
    const body = typeof feed === 'string' ? feed : encodedStream(feed);
    return this.#json('POST', '/api/feeds/validate', {
      query: { list: options.list, importType: options.importType, mobileInputType: options.mobileInputType },
      body, contentType: 'application/xml',
    });
  }

  /**
   * Checks a CSV with a header row (`email`, `prefix`, `number` or `mobile`, `name`, `campoN`)
   * as the server's copy of the `mailup-import` CSV reader reads it, without importing it.
   * Records that cannot be read come back in `skippedRecords`.
   */
  validateCsv(csv: string | Uint8Array | AsyncIterable<Uint8Array>, options: ValidateCsvOptions = {}): Promise<FeedValidation> {
    const body = typeof csv === 'string' || csv instanceof Uint8Array ? csv : byteStream(csv);
    return this.#json('POST', '/api/feeds/validate', {
      query: { list: options.list, importType: options.importType, mobileInputType: options.mobileInputType, delimiter: options.delimiter },
      body, contentType: `text/csv; charset=${options.encoding ?? 'utf-8'}`,
    });
  }

  async #json<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.#send(method, path, { ...options, accept: 'application/json' });
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TransportError({ operation: `${method} ${path}`, failure: 'invalid-response', reason: `the answer is not JSON: ${text.slice(0, 200)}`, httpStatus: res.status, attempts: 1 });
    }
  }

  async #send(method: Method, path: string, options: RequestOptions & { accept: string }): Promise<Response> {
    const operation: RestOperation = `${method} ${path}`;
    const url = new URL(path, this.#origin);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: this.#authorization, accept: options.accept };
    if (options.contentType) headers['content-type'] = options.contentType;
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method, headers, signal: AbortSignal.timeout(this.#timeoutMs),
        ...(options.body === undefined ? {} : { body: options.body, duplex: 'half' } as RequestInit),
      });
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new TransportError({
        operation, failure: timeout ? 'timeout' : 'network', httpStatus: null, attempts: 1,
        reason: timeout ? `no answer within ${this.#timeoutMs} ms` : `the request failed: ${err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : String(err)}`,
      }, { cause: err });
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let error = text.slice(0, 500);
    try {
      const body = JSON.parse(text) as { error?: unknown };
      if (typeof body.error === 'string') error = body.error;
    } catch {
      // Not the API's JSON error: keep the start of the body.
    }
    throw new JsonApiError({ operation, httpStatus: res.status, error });
  }
}

interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: string | Uint8Array | ReadableStream<Uint8Array>;
  readonly contentType?: string;
}

function id(idProcess: number): number {
  if (!Number.isSafeInteger(idProcess) || idProcess < 1) throw new RangeError(`idProcess must be a positive whole number, not ${String(idProcess)}`);
  return idProcess;
}

/** Text pieces as a UTF-8 byte stream, read as the request is sent. */
function encodedStream(pieces: AsyncIterable<string> | Iterable<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return pulledStream(pieces, (piece) => encoder.encode(piece));
}

function byteStream(pieces: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  return pulledStream(pieces, (piece) => piece);
}

/** A request body pulled from `pieces` as fetch reads it (so a large input is never held whole). */
function pulledStream<T>(pieces: AsyncIterable<T> | Iterable<T>, bytes: (piece: T) => Uint8Array): ReadableStream<Uint8Array> {
  const iterator = (Symbol.asyncIterator in pieces ? pieces[Symbol.asyncIterator]() : (pieces as Iterable<T>)[Symbol.iterator]()) as AsyncIterator<T> | Iterator<T>;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(bytes(next.value));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
