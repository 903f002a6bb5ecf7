/**
 * MailUpRestClient: MailUp's REST API v1.1 (`…/API/v1.1/Rest/ConsoleService.svc/Console/…`) with
 * OAuth2, for MailUp itself or any compatible server: the lists, groups, personal-data fields,
 * recipients by state, single recipients, and the asynchronous bulk import with its status.
 * Tokens are handled by ./tokens.ts, retries and refusals by ./rest-transport.ts.
 */
import { DEFAULT_IMPORT_TIMEOUT_MS } from '../import-report.ts';
import { sleep } from '../retry.ts';
import { TransportError, type RestOperation } from '../errors.ts';
import { DEFAULT_RATE_LIMIT, type RateLimitPolicy } from './http-support.ts';
import { JsonArrayBody, type ItemSource } from './json-array-body.ts';
import { pageParams, walkPages, WALK_PAGE_SIZE, type PageQuery, type WalkQuery } from './paging.ts';
import {
  AnswerShapeError, asItem, parseJson, readId, readImportDetail, readImportStatus, readObject, readPage, readRecipientItem,
} from './read-answer.ts';
import { RestTransport, type HttpMethod, type QueryValue } from './rest-transport.ts';
import { TokenKeeper, type RestTokens } from './tokens.ts';
import {
  RECIPIENT_STATES, type BulkImportOptions, type ImportTarget, type NewGroup, type RecipientState, type RestDynamicField, type RestGroup,
  type RestImportDetail, type RestImportStatus, type RestList, type RestPage, type RestRecipient, type RestRecipientDetail, type RestRecipientItem,
} from './types.ts';

/** The REST base path MailUp serves the console resources under. */
export const REST_BASE_PATH = '/API/v1.1/Rest/ConsoleService.svc';
/** The OAuth2 token endpoint's path. */
export const TOKEN_PATH = '/Authorization/OAuth/Token';

/** Options of {@link MailUpRestClient}. */
export interface MailUpRestClientOptions {
  /**
   * The REST base, e.g. `https://services.mailup.com/API/v1.1/Rest/ConsoleService.svc`. A bare
   * origin gets that path; a URL ending in `/Console` (how some SDKs keep it) is read as its base.
   */
  readonly baseUrl: string | URL;
  /** The token endpoint (default: the base's origin + `/Authorization/OAuth/Token`). */
  readonly tokenUrl?: string | URL;
  /** The OAuth2 client (MailUp: from the console's developer settings). */
  readonly clientId: string;
  readonly clientSecret: string;
  /** The user the client logs in as (MailUp: the console user, `m12345`; here the account's WS user). */
  readonly username: string;
  readonly password: string;
  /** How the client names itself to the token endpoint: in the form (default) or by HTTP Basic. */
  readonly clientAuth?: 'form' | 'basic';
  /** Time allowed for one request, answer included, in milliseconds (default 60 000). */
  readonly timeoutMs?: number;
  /** Time allowed for one bulk import request, its whole body sent (default 30 minutes). */
  readonly uploadTimeoutMs?: number;
  /** Extra attempts after a network failure or timeout of an idempotent call (GET, PUT, DELETE; default 2). */
  readonly retries?: number;
  /** Delay before the first of those retries, doubled for each further one (default 500 ms). */
  readonly retryDelayMs?: number;
  /** How 429 Too Many Requests is waited out (default: 5 times, Retry-After up to 30 s). */
  readonly rateLimit?: Partial<RateLimitPolicy>;
  /** The IANA time zone the API writes dates in (default `Europe/Rome`, as MailUp). */
  readonly timeZone?: string;
  /**
   * Bytes of a streamed bulk import kept so the request can be sent again after a 401 or 429
   * (default 4 MiB). An array of recipients can always be sent again.
   */
  readonly replayLimitBytes?: number;
  /** Tokens kept from an earlier run (e.g. from `onTokens`): used until they expire, then refreshed. */
  readonly tokens?: RestTokens;
  /** Told every new token pair (after a log-in or a refresh), e.g. to store the refresh token. */
  readonly onTokens?: (tokens: RestTokens) => void;
  /** A fetch implementation (default: Node's global fetch). */
  readonly fetch?: typeof globalThis.fetch;
}

/** Per-call options. */
export interface RestCallOptions {
  readonly signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` (`uploadTimeoutMs` for bulk imports) for this call. */
  readonly timeoutMs?: number;
}

/** Options of {@link MailUpRestClient.waitForImport}. */
export interface WaitForImportOptions {
  /** Delay between two `GET Import/{id}` (default 1 s). */
  readonly intervalMs?: number;
  /** How long to wait from the call, in milliseconds (default 6 hours; `Infinity` for no limit). */
  readonly deadlineMs?: number;
  /** Told every status read, the last (completed) one included. */
  readonly onProgress?: (status: RestImportStatus) => void;
  readonly signal?: AbortSignal;
}

/** {@link MailUpRestClient.waitForImport} gave up at its deadline; the import goes on on the server. */
export class ImportWaitTimeoutError extends Error {
  readonly code = 'MAILUP_IMPORT_TIMEOUT';
  constructor(readonly idImport: number, readonly deadlineMs: number, readonly lastStatus: RestImportStatus | null) {
    super(`import ${idImport} did not complete within ${deadlineMs} ms` +
      (lastStatus ? ` (${lastStatus.ValidRecipients + lastStatus.NotValidRecipients} rows done so far)` : '') + '; it goes on on the server');
    this.name = 'ImportWaitTimeoutError';
  }
}

/** Adds the REST base path to a bare origin; refuses what is not an http(s) URL. */
export function resolveRestBase(baseUrl: string | URL): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`baseUrl "${String(baseUrl)}" is not a URL; use e.g. https://services.mailup.com${REST_BASE_PATH}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`baseUrl "${url.href}" is not an http(s) URL`);
  if (url.username !== '' || url.password !== '') throw new TypeError('put the credentials in the options, not in the URL');
  url.search = '';
  url.hash = '';
  let path = url.pathname.replace(/\/+$/, '');
  if (/\/Console$/i.test(path)) path = path.slice(0, -'/Console'.length);
  url.pathname = path === '' ? REST_BASE_PATH : path;
  return url;
}

/** A positive whole id for a path, or a TypeError before anything is sent. */
function id(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} must be a positive whole number, not ${String(value)}`);
  return value;
}

const truthy = (b: boolean | undefined): 'true' | undefined => (b ? 'true' : undefined);

/**
 * A typed client for MailUp's REST API v1.1.
 *
 * Every call throws:
 * - {@link RestApiError} for an HTTP error status, with MailUp's `errorCode`, `errorDescription`, `errorName`;
 * - {@link RestAuthError} when the token endpoint refuses to log in;
 * - {@link TransportError} for a network failure, a timeout or an answer that is not the expected JSON;
 * - TypeError/RangeError before sending when an argument cannot be right.
 *
 * @example
 * ```ts
 * import { MailUpRestClient } from 'mailup-import-client';
 *
 * const rest = new MailUpRestClient({
 *   baseUrl: 'https://services.mailup.com', clientId, clientSecret, username: 'm12345', password,
 * });
 * for (const list of await rest.getAllLists()) console.log(list.idList, list.Name);
 * ```
 */
export class MailUpRestClient {
  readonly #transport: RestTransport;
  readonly #tokens: TokenKeeper;
  readonly #uploadTimeoutMs: number;
  readonly #replayLimitBytes: number;
  /** The REST base requests go to (without `/Console`). */
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly username: string;
  readonly clientId: string;
  /** The IANA time zone answer dates are read in. */
  readonly timeZone: string;

  constructor(options: MailUpRestClientOptions) {
    for (const name of ['clientId', 'clientSecret', 'username', 'password'] as const) {
      if (typeof options[name] !== 'string' || options[name] === '') throw new TypeError(`${name} is required`);
    }
    const timeZone = options.timeZone ?? 'Europe/Rome';
    try {
      new Intl.DateTimeFormat('en', { timeZone });
    } catch {
      throw new RangeError(`timeZone "${timeZone}" is not an IANA time zone`);
    }
    const timeoutMs = options.timeoutMs ?? 60_000;
    const retries = Math.floor(options.retries ?? 2);
    const retryDelayMs = options.retryDelayMs ?? 500;
    const rateLimit = { ...DEFAULT_RATE_LIMIT, ...options.rateLimit };
    if (!(timeoutMs > 0) || !(retries >= 0) || !(retryDelayMs >= 0) || !(rateLimit.retries >= 0) || !(rateLimit.maxWaitMs >= 0)) {
      throw new RangeError('timeoutMs must be positive; retries, retryDelayMs and the rate-limit settings not negative');
    }
    const base = resolveRestBase(options.baseUrl);
    const tokenUrl = new URL(options.tokenUrl ?? `${base.origin}${TOKEN_PATH}`);
    const fetch = options.fetch ?? globalThis.fetch;
    this.baseUrl = base.href;
    this.tokenUrl = tokenUrl.href;
    this.username = options.username;
    this.clientId = options.clientId;
    this.timeZone = timeZone;
    this.#uploadTimeoutMs = options.uploadTimeoutMs ?? 30 * 60_000;
    this.#replayLimitBytes = options.replayLimitBytes ?? 4 * 1024 * 1024;
    this.#tokens = new TokenKeeper({
      tokenUrl, clientId: options.clientId, clientSecret: options.clientSecret, username: options.username, password: options.password,
      clientAuth: options.clientAuth ?? 'form', timeoutMs, retries, retryDelayMs, rateLimit, fetch,
      initialTokens: options.tokens, onTokens: options.onTokens,
    });
    this.#transport = new RestTransport({ baseUrl: base, tokens: this.#tokens, timeoutMs, retries, retryDelayMs, rateLimit, fetch });
  }

  /** The tokens held now (null before the first call). */
  get tokens(): RestTokens | null {
    return this.#tokens.tokens;
  }

  /** Logs in with the password grant now (the first call does it by itself). */
  logIn(options: RestCallOptions = {}): Promise<RestTokens> {
    return this.#tokens.logIn(options.signal);
  }

  /**
   * Any call under `{base}/Console`: the answer's JSON (undefined for an empty body). For
   * resources the typed methods do not cover.
   * @example
   * ```ts
   * const group = await rest.request('PUT', 'List/1/Group/6', { json: { Name: 'Renamed' } });
   * ```
   */
  async request(method: HttpMethod, path: string, options: RestCallOptions & { query?: Readonly<Record<string, QueryValue>>; json?: unknown } = {}): Promise<unknown> {
    return this.#call(method, path.replace(/^\/+/, ''), options, (v) => v);
  }

  // Lists, groups, fields

  /** One page of the account's lists (`GET User/Lists`). */
  getLists(query: PageQuery = {}, options: RestCallOptions = {}): Promise<RestPage<RestList>> {
    return this.#page('User/Lists', query, options, asItem<RestList>('a list'));
  }

  /** Every list of the account. */
  getAllLists(query: WalkQuery = {}, options: RestCallOptions = {}): Promise<RestList[]> {
    return collect(this.#walk((q) => this.getLists(q, options), query));
  }

  /** One page of a list's groups (`GET List/{idList}/Groups`). */
  getGroups(idList: number, query: PageQuery = {}, options: RestCallOptions = {}): Promise<RestPage<RestGroup>> {
    return this.#page(`List/${id('idList', idList)}/Groups`, query, options, asItem<RestGroup>('a group'));
  }

  /** Every group of a list. */
  getAllGroups(idList: number, query: WalkQuery = {}, options: RestCallOptions = {}): Promise<RestGroup[]> {
    return collect(this.#walk((q) => this.getGroups(idList, q, options), query));
  }

  /**
   * Creates a group (`POST List/{idList}/Group`) and answers it. (This server answers the
   * existing group for a name the list already has.)
   */
  createGroup(idList: number, group: NewGroup, options: RestCallOptions = {}): Promise<RestGroup> {
    return this.#call('POST', `List/${id('idList', idList)}/Group`, { ...options, json: { Notes: '', Deletable: true, ...group } },
      (v) => readObject(v, 'the group') as unknown as RestGroup);
  }

  /** Renames a group or changes its notes (`PUT List/{idList}/Group/{idGroup}`). */
  updateGroup(idList: number, idGroup: number, change: { readonly Name?: string; readonly Notes?: string }, options: RestCallOptions = {}): Promise<RestGroup> {
    return this.#call('PUT', `List/${id('idList', idList)}/Group/${id('idGroup', idGroup)}`, { ...options, json: change },
      (v) => readObject(v, 'the group') as unknown as RestGroup);
  }

  /** Deletes a group; its recipients stay on the list (`DELETE List/{idList}/Group/{idGroup}`). */
  async deleteGroup(idList: number, idGroup: number, options: RestCallOptions = {}): Promise<void> {
    await this.#call('DELETE', `List/${id('idList', idList)}/Group/${id('idGroup', idGroup)}`, options, () => undefined);
  }

  /** One page of the personal-data fields (`GET Recipient/DynamicFields`, 20 per page by default). */
  getDynamicFields(query: PageQuery = {}, options: RestCallOptions = {}): Promise<RestPage<RestDynamicField>> {
    return this.#page('Recipient/DynamicFields', query, options, asItem<RestDynamicField>('a field'));
  }

  /** Every personal-data field, by id. */
  getAllDynamicFields(query: WalkQuery = {}, options: RestCallOptions = {}): Promise<RestDynamicField[]> {
    return collect(this.#walk((q) => this.getDynamicFields(q, options), { orderBy: 'Id asc', ...query }));
  }

  // Recipients

  /**
   * One page of a list's recipients in a state (`GET List/{idList}/Recipients/{state}`).
   * @example
   * ```ts
   * const page = await rest.getRecipients(1, 'Subscribed', { filterBy: filterEquals('Email', 'ann@example.com') });
   * ```
   */
  getRecipients(idList: number, state: RecipientState, query: PageQuery = {}, options: RestCallOptions = {}): Promise<RestPage<RestRecipientItem>> {
    if (!RECIPIENT_STATES.includes(state)) throw new TypeError(`state must be one of ${RECIPIENT_STATES.join(', ')}, not ${String(state)}`);
    return this.#page(`List/${id('idList', idList)}/Recipients/${state}`, query, options, (raw) => readRecipientItem(raw, this.timeZone));
  }

  /**
   * Every recipient of a list in a state, page after page as they are read.
   * @example
   * ```ts
   * for await (const r of rest.iterateRecipients(1, 'Subscribed', { orderBy: 'Email asc' })) console.log(r.Email);
   * ```
   */
  iterateRecipients(idList: number, state: RecipientState, query: WalkQuery = {}, options: RestCallOptions = {}): AsyncGenerator<RestRecipientItem> {
    return this.#walk((q) => this.getRecipients(idList, state, q, options), query);
  }

  /** One page of a group's recipients (`GET Group/{idGroup}/Recipients`). */
  getGroupRecipients(idGroup: number, query: PageQuery = {}, options: RestCallOptions = {}): Promise<RestPage<RestRecipientItem>> {
    return this.#page(`Group/${id('idGroup', idGroup)}/Recipients`, query, options, (raw) => readRecipientItem(raw, this.timeZone));
  }

  /** Every recipient of a group. */
  iterateGroupRecipients(idGroup: number, query: WalkQuery = {}, options: RestCallOptions = {}): AsyncGenerator<RestRecipientItem> {
    return this.#walk((q) => this.getGroupRecipients(idGroup, q, options), query);
  }

  /**
   * Adds (or updates, found by e-mail) one recipient, synchronously, and answers its id
   * (`POST List/{idList}/Recipient`). With `ConfirmEmail` it is pending and gets the list's
   * confirmation request; without, it is subscribed at once.
   */
  addRecipient(idList: number, recipient: RestRecipient, flags: { readonly ConfirmEmail?: boolean } = {}, options: RestCallOptions = {}): Promise<number> {
    return this.#call('POST', `List/${id('idList', idList)}/Recipient`, { ...options, query: { ConfirmEmail: truthy(flags.ConfirmEmail) }, json: sendable(withName(recipient), this.timeZone) },
      (v) => readId(v, 'the recipient id'));
  }

  /** The same into a group, which also subscribes to the group's list (`POST Group/{idGroup}/Recipient`). */
  addRecipientToGroup(idGroup: number, recipient: RestRecipient, flags: { readonly ConfirmEmail?: boolean } = {}, options: RestCallOptions = {}): Promise<number> {
    return this.#call('POST', `Group/${id('idGroup', idGroup)}/Recipient`, { ...options, query: { ConfirmEmail: truthy(flags.ConfirmEmail) }, json: sendable(withName(recipient), this.timeZone) },
      (v) => readId(v, 'the recipient id'));
  }

  /** Subscribes an existing recipient to the list again (`POST List/{idList}/Subscribe/{idRecipient}`). */
  async subscribe(idList: number, idRecipient: number, options: RestCallOptions = {}): Promise<void> {
    await this.#call('POST', `List/${id('idList', idList)}/Subscribe/${id('idRecipient', idRecipient)}`, options, () => undefined);
  }

  /** Unsubscribes a recipient from the list (`DELETE List/{idList}/Unsubscribe/{idRecipient}`). */
  async unsubscribe(idList: number, idRecipient: number, options: RestCallOptions = {}): Promise<void> {
    await this.#call('DELETE', `List/${id('idList', idList)}/Unsubscribe/${id('idRecipient', idRecipient)}`, options, () => undefined);
  }

  /**
   * Updates a recipient's data (`PUT Recipient/Detail`), found by `idRecipient`, else by `Email`,
   * and answers it with all its fields. An item read with {@link getRecipients} may be sent back
   * as it is with a member changed: its dates go back in MailUp's format.
   */
  updateRecipient(recipient: RestRecipient | RestRecipientItem, options: RestCallOptions = {}): Promise<RestRecipientDetail> {
    return this.#call('PUT', 'Recipient/Detail', { ...options, json: sendable(recipient, this.timeZone) },
      (v) => readObject(v, 'the recipient') as unknown as RestRecipientDetail);
  }

  // Bulk import

  /**
   * Starts an asynchronous import of recipients into a list or a group and answers its id
   * (`POST List/{idList}/Recipients`, `POST Group/{idGroup}/Recipients`). The body is written
   * recipient by recipient as it is sent, from an array or any (async) iterable, so a million
   * recipients are never one string. Follow the import with {@link waitForImport}.
   * @example
   * ```ts
   * const idImport = await rest.importRecipients({ idList: 1 }, readRowsSomehow(), { ConfirmEmail: true });
   * const status = await rest.waitForImport(idImport, { onProgress: (s) => console.log(s.ValidRecipients) });
   * ```
   */
  async importRecipients(target: ImportTarget, recipients: ItemSource<RestRecipient>, flags: BulkImportOptions = {}, options: RestCallOptions = {}): Promise<number> {
    const path = 'idGroup' in target ? `Group/${id('idGroup', target.idGroup)}/Recipients` : `List/${id('idList', target.idList)}/Recipients`;
    if (flags.removeFromPrevGroups && !('idGroup' in target)) throw new TypeError('removeFromPrevGroups applies to imports into a group only');
    if (flags.importType !== undefined && flags.importType !== 'asOptin' && flags.importType !== 'asOptout') {
      throw new TypeError(`importType must be asOptin or asOptout, not ${String(flags.importType)}`);
    }
    const body = new JsonArrayBody<RestRecipient>(recipients, (r) => JSON.stringify(withName(r)), this.#replayLimitBytes);
    try {
      return await this.#call('POST', path, {
        signal: options.signal, timeoutMs: options.timeoutMs ?? this.#uploadTimeoutMs, stream: body as JsonArrayBody<unknown>,
        query: {
          ConfirmEmail: truthy(flags.ConfirmEmail), importType: flags.importType,
          clearMissingOrEmptyFields: truthy(flags.clearMissingOrEmptyFields), removeFromPrevGroups: truthy(flags.removeFromPrevGroups),
        },
      }, (v) => readId(v, 'the import id'));
    } finally {
      await body.close();
    }
  }

  /** Where an import stands (`GET Import/{idImport}`). */
  getImport(idImport: number, options: RestCallOptions = {}): Promise<RestImportStatus> {
    return this.#call('GET', `Import/${id('idImport', idImport)}`, options, readImportStatus);
  }

  /** An import's options, dates, status code and row counts (`GET Imports/{idImport}`). */
  getImportDetail(idImport: number, options: RestCallOptions = {}): Promise<RestImportDetail> {
    return this.#call('GET', `Imports/${id('idImport', idImport)}`, options, (v) => readImportDetail(v, this.timeZone));
  }

  /**
   * Polls `GET Import/{idImport}` until the import has completed and answers its last status.
   * At the deadline it rejects with {@link ImportWaitTimeoutError} (the import goes on).
   */
  async waitForImport(idImport: number, options: WaitForImportOptions = {}): Promise<RestImportStatus> {
    const intervalMs = options.intervalMs ?? 1000;
    const deadlineMs = options.deadlineMs ?? DEFAULT_IMPORT_TIMEOUT_MS;
    if (!(intervalMs > 0) || !(deadlineMs > 0)) throw new RangeError('intervalMs and deadlineMs must be positive');
    const deadline = Date.now() + deadlineMs;
    const call = options.signal ? { signal: options.signal } : {};
    let last: RestImportStatus | null = null;
    for (;;) {
      last = await this.getImport(idImport, call);
      try {
        options.onProgress?.(last);
      } catch {
        // A failing progress display must not stop the wait.
      }
      if (last.Completed) return last;
      const left = deadline - Date.now();
      if (left <= 0) throw new ImportWaitTimeoutError(idImport, deadlineMs, last);
      await sleep(Math.min(intervalMs, left), options.signal);
    }
  }

  // The plumbing

  async #call<T>(
    method: HttpMethod, path: string,
    options: RestCallOptions & { query?: Readonly<Record<string, QueryValue>>; json?: unknown; stream?: JsonArrayBody<unknown> },
    read: (value: unknown) => T,
  ): Promise<T> {
    const reply = await this.#transport.send({
      method, path, query: options.query, json: options.json, stream: options.stream, signal: options.signal, timeoutMs: options.timeoutMs,
    });
    try {
      return read(parseJson(reply.text));
    } catch (err) {
      if (!(err instanceof AnswerShapeError)) throw err;
      throw new TransportError({
        operation: `${method} ${path}` as RestOperation, failure: 'invalid-response', reason: err.message, httpStatus: reply.status, attempts: reply.attempts,
      }, { cause: err });
    }
  }

  #page<T>(path: string, query: PageQuery, options: RestCallOptions, item: (raw: unknown) => T): Promise<RestPage<T>> {
    return this.#call('GET', path, { ...options, query: pageParams(query) }, (v) => readPage(v, `GET ${path}`, item));
  }

  #walk<T>(page: (query: PageQuery) => Promise<RestPage<T>>, query: WalkQuery): AsyncGenerator<T> {
    const pageSize = query.pageSize ?? WALK_PAGE_SIZE;
    return walkPages((pageNumber) => page({ ...query, pageSize, pageNumber }));
  }

  /** What `console.log(rest)` shows: never the secrets. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `MailUpRestClient { baseUrl: '${this.baseUrl}', tokenUrl: '${this.tokenUrl}', username: '${this.username}', clientId: '${this.clientId}' }`;
  }

  toJSON(): { baseUrl: string; tokenUrl: string; username: string; clientId: string; timeZone: string } {
    return { baseUrl: this.baseUrl, tokenUrl: this.tokenUrl, username: this.username, clientId: this.clientId, timeZone: this.timeZone };
  }
}

/** MailUp requires `Name` on a new recipient; it may be empty. */
function withName(recipient: RestRecipient): RestRecipient {
  return recipient.Name === undefined || recipient.Name === null ? { ...recipient, Name: '' } : recipient;
}

/** A recipient to send: the dates of an item read back go out in MailUp's format, in the API's time zone. */
function sendable(recipient: object, timeZone: string): object {
  const out: Record<string, unknown> = { ...recipient };
  for (const [k, v] of Object.entries(out)) if (v instanceof Date) out[k] = formatRestDate(v, timeZone);
  return out;
}

/** `yyyy-MM-dd HH:mm:ss.fff` in `timeZone`, as the API writes dates. */
export function formatRestDate(date: Date, timeZone: string): string {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(date).map((part) => [part.type, part.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}.${String(date.getUTCMilliseconds()).padStart(3, '0')}`;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
