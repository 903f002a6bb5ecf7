/**
 * MailUpImportClient: one typed method per WSMailUpImport operation, for MailUp itself or any
 * compatible server. The methods are not written one by one: each is `call(operation, args)`
 * with argument types, defaults and encoding derived from the protocol table
 * (generated/operations.ts, generated from the server's table) and its result read by the
 * operation's parser (result-parser.ts).
 */
import { TransportError } from './errors.ts';
import {
  OPERATIONS, OPERATION_NAMES, SERVICE_PATH, type OperationName, type ParamSpec, type ParamsOf,
} from './generated/operations.ts';
import { InvalidResultError, parseResult, type OperationResults } from './result-parser.ts';
import { SoapTransport, type SoapVersion, type TextChunks, type WireValue } from './transport.ts';

/**
 * Defaults MailUp documents for parameters the WSDL marks as required: importType 3 (both
 * channels, empty fields keep stored values), mobileInputType 1 (prefix inside Number),
 * idConfirmNL 0 (the default confirmation message). Booleans default to false.
 */
export const DOCUMENTED_DEFAULTS = { importType: 3, mobileInputType: 1, idConfirmNL: 0 } as const;

/**
 * Operations that may be sent twice without changing anything, so a network failure or timeout
 * is retried. Creating or starting a process or a group is never retried: the first request may
 * have been carried out although its answer was lost.
 */
export const IDEMPOTENT_OPERATIONS = {
  GetIdWsUser: true,
  GetIdUser: true,
  GetNlLists: true,
  GetNlListsUser: true,
  NewImportProcess: false,
  StartImportProcesses: false,
  CreateGroup: false,
  GetProcessDetails: true,
  StartProcess: false,
} as const satisfies Record<OperationName, boolean>;

type ValueOf<P extends ParamSpec> = P extends { streamed: true }
  ? string | TextChunks | null
  : P['type'] extends 'int' ? number : P['type'] extends 'boolean' ? boolean : string | null;

/** Strings may be omitted (minOccurs 0), booleans default to false, some ints have documented defaults. */
type IsOptional<P extends ParamSpec> = P['type'] extends 'string' | 'boolean'
  ? true
  : P['name'] extends keyof typeof DOCUMENTED_DEFAULTS ? true : false;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The named parameters of an operation, exactly as the WSDL names them. Required: the ints
 * without a documented default (idList, idProcess, userId). A string left out (or null) is not
 * sent; for StartImportProcesses an omitted `xmlDoc` means "start the pending processes".
 */
export type OperationArgs<Op extends OperationName> = Simplify<
  { readonly [P in ParamsOf<Op> as IsOptional<P> extends true ? never : P['name']]: ValueOf<P> } &
  { readonly [P in ParamsOf<Op> as IsOptional<P> extends true ? P['name'] : never]?: ValueOf<P> | undefined }
>;

/** Per-call options. */
export interface CallOptions {
  /** Abort the call (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  readonly timeoutMs?: number;
}

/** The method of one operation: arguments first (optional when none is required), then options. */
export type OperationMethod<Op extends OperationName> = {} extends OperationArgs<Op>
  ? (args?: OperationArgs<Op>, options?: CallOptions) => Promise<OperationResults[Op]>
  : (args: OperationArgs<Op>, options?: CallOptions) => Promise<OperationResults[Op]>;

/** The method name of an operation: `GetNlLists` → `getNlLists`. */
export type MethodName<Op extends OperationName> = Uncapitalize<Op>;

/** The method name of an operation, e.g. `methodNameOf('GetNlLists')` is `'getNlLists'`. */
export const methodNameOf = <Op extends OperationName>(operation: Op): MethodName<Op> =>
  `${operation[0]!.toLowerCase()}${operation.slice(1)}` as MethodName<Op>;

/** The nine operation methods. Every one throws the errors described on {@link MailUpImportClient}. */
export interface OperationMethods {
  /**
   * The numeric id of the web-service user the client signs in as.
   * The wire result: `<mailupMessage><mailupBody><ReturnCode>0</ReturnCode><IdUser>1234</IdUser></mailupBody></mailupMessage>`
   * (a console that answers the id as the ReturnCode is read the same way).
   * @example
   * ```ts
   * const id = await client.getIdWsUser(); // 1234
   * ```
   */
  getIdWsUser: OperationMethod<'GetIdWsUser'>;
  /**
   * The numeric id of a console user, by user name (the input of {@link OperationMethods.getNlListsUser}).
   * @example
   * ```ts
   * const userId = await client.getIdUser({ userName: 'marketing' });
   * ```
   */
  getIdUser: OperationMethod<'GetIdUser'>;
  /**
   * Every list of the account with its groups: MailUp clients call this first to find a list's GUID.
   * The wire result: `<Lists><List idList="1" listGUID="…" listName="News"><Groups><Group idGroup="3" groupName="Customers" /></Groups></List></Lists>`.
   * @example
   * ```ts
   * const lists = await client.getNlLists();
   * const news = lists.find((l) => l.listName === 'News');
   * console.log(news?.listGUID, news?.groups.map((g) => g.groupName));
   * ```
   */
  getNlLists: OperationMethod<'GetNlLists'>;
  /**
   * The lists a console user may see, in the shape of {@link OperationMethods.getNlLists}.
   * @example
   * ```ts
   * const lists = await client.getNlListsUser({ userId: await client.getIdUser({ userName: 'marketing' }) });
   * ```
   */
  getNlListsUser: OperationMethod<'GetNlListsUser'>;
  /**
   * Prepares an import process for a feed without starting it; resolves to the new idProcess.
   * Start it with {@link OperationMethods.startProcess}, or start every prepared process with
   * {@link OperationMethods.startImportProcesses} and no `xmlDoc`. `xmlDoc` may be a string or
   * the chunks of {@link streamFeed} for feeds too large to hold in memory.
   * The wire result: `<ReturnCode>17</ReturnCode>` (the ReturnCode is the process id).
   * @example
   * ```ts
   * const idProcess = await client.newImportProcess({
   *   idList: 1, listGUID, idGroups: '3,4', xmlDoc: buildFeed([{ email: 'anna@example.com', fields: ['Anna'] }]),
   * });
   * ```
   */
  newImportProcess: OperationMethod<'NewImportProcess'>;
  /**
   * With `xmlDoc`: creates and starts an import of the feed into the lists (`listsIDs` and
   * `listsGUIDs` separated by `;`, `groupsIDs` per list separated by `;`, groups of one list by
   * `,`). Without `xmlDoc`: starts every process prepared with NewImportProcess, in order.
   * Resolves to the processes started; a negative per-process ReturnCode throws.
   * Fails with -601/-602 while another import of the account runs.
   * @example
   * ```ts
   * const started = await client.startImportProcesses({ listsIDs: '1', listsGUIDs: listGUID });
   * // [{ idProcess: 17, idList: 1 }, { idProcess: 18, idList: 1 }]
   * ```
   */
  startImportProcesses: OperationMethod<'StartImportProcesses'>;
  /**
   * Creates a group in a list and resolves to its id; an existing name resolves to the existing
   * group's id on current MailUp consoles (older ones answer -303).
   * @example
   * ```ts
   * const idGroup = await client.createGroup({ idList: 1, listGUID, newGroupName: 'Resellers' });
   * ```
   */
  createGroup: OperationMethod<'CreateGroup'>;
  /**
   * The state and counters of an import process. Dates are read in the client's `timeZone`.
   * @example
   * ```ts
   * const p = await client.getProcessDetails({ idList: 1, listGUID, idProcess: 17 });
   * if (p.status === 'completed') console.log(p.newEmail, p.existingEmail, p.endDate);
   * ```
   */
  getProcessDetails: OperationMethod<'GetProcessDetails'>;
  /**
   * Starts a process prepared with NewImportProcess. Fails with -601/-602 while another import
   * of the account runs.
   * @example
   * ```ts
   * await client.startProcess({ idList: 1, listGUID, idProcess: 17 });
   * ```
   */
  startProcess: OperationMethod<'StartProcess'>;
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<T extends true> = T;
/** Compile-time guard: the interface above names exactly the operations of the table. */
export type OperationMethodsMatchTable = Check<Same<OperationMethods, { [Op in OperationName as MethodName<Op>]: OperationMethod<Op> }>>;

/** Options of {@link MailUpImportClient}. */
export interface MailUpImportClientOptions {
  /**
   * The service URL, e.g. `http://abcd.emailsp.net/Services/WSMailUpImport.asmx`. A URL with
   * no path gets the standard one (`/Services/WSMailupImport.asmx`).
   */
  readonly endpoint: string | URL;
  /** The web-service user, `a` followed by the account number (e.g. `a1234`). */
  readonly user: string;
  readonly password: string;
  /** `'1.1'` (default) or `'1.2'`. */
  readonly soapVersion?: SoapVersion;
  /** Time allowed for one request, answer included, in milliseconds (default 60 000). */
  readonly timeoutMs?: number;
  /** Extra attempts after a network failure or timeout of an idempotent operation (default 2). */
  readonly retries?: number;
  /** Delay before the first retry, doubled for each further one (default 500 ms). */
  readonly retryDelayMs?: number;
  /** The IANA time zone the endpoint writes dates in (default `Europe/Rome`, as MailUp). */
  readonly timeZone?: string;
  /** The header's `encType` (default `UTF-8`, as MailUp's samples); null leaves it out. */
  readonly encType?: string | null;
  /** A fetch implementation (default: Node's global fetch). */
  readonly fetch?: typeof globalThis.fetch;
}

/** Adds the standard service path to a bare origin; refuses what is not an http(s) URL. */
export function resolveEndpoint(endpoint: string | URL): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`endpoint "${String(endpoint)}" is not a URL; use e.g. http://host${SERVICE_PATH}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`endpoint "${url.href}" is not an http(s) URL`);
  if (url.username !== '' || url.password !== '') throw new TypeError('put the credentials in user and password, not in the endpoint URL');
  if (url.pathname === '/' || url.pathname === '') url.pathname = SERVICE_PATH;
  return url;
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** The parameters of a call in WSDL order, as wire text; strings left out are not sent. */
export function encodeArgs<Op extends OperationName>(operation: Op, args: OperationArgs<Op> | undefined): Array<readonly [string, WireValue]> {
  const given = (args ?? {}) as Record<string, unknown>;
  const specs: readonly ParamSpec[] = OPERATIONS[operation].params;
  const unknown = Object.keys(given).filter((k) => given[k] !== undefined && !specs.some((p) => p.name === k));
  if (unknown.length > 0) {
    // The service would silently ignore them (as ASMX does), which hides typos like listGuid.
    throw new TypeError(`${operation} has no parameter ${unknown.join(', ')}; its parameters are ${specs.map((p) => p.name).join(', ') || 'none'}`);
  }
  const wire: Array<readonly [string, WireValue]> = [];
  for (const spec of specs) {
    const value = given[spec.name];
    if (spec.type === 'int') {
      const n = value ?? (DOCUMENTED_DEFAULTS as Record<string, number>)[spec.name];
      if (n === undefined) throw new TypeError(`${operation}: ${spec.name} is required`);
      if (typeof n !== 'number' || !Number.isInteger(n) || n < INT_MIN || n > INT_MAX) {
        throw new TypeError(`${operation}: ${spec.name} must be a 32-bit integer, not ${String(n)}`);
      }
      wire.push([spec.name, String(n)]);
    } else if (spec.type === 'boolean') {
      const b = value ?? false;
      if (typeof b !== 'boolean') throw new TypeError(`${operation}: ${spec.name} must be a boolean, not ${String(b)}`);
      wire.push([spec.name, b ? 'true' : 'false']);
    } else if (value !== undefined && value !== null) {
      const isChunks = spec.streamed === true && typeof value === 'object' && (Symbol.asyncIterator in value || Symbol.iterator in value);
      if (typeof value !== 'string' && !isChunks) throw new TypeError(`${operation}: ${spec.name} must be a string`);
      wire.push([spec.name, value as WireValue]);
    }
  }
  return wire;
}

/**
 * A typed client for WSMailUpImport: MailUp's own consoles or any compatible server.
 *
 * Every method throws:
 * - {@link MailUpReturnCodeError} for a negative ReturnCode (`returnCode`, `meaning`);
 * - {@link SoapFaultError} for a SOAP Fault (`faultcode`, `faultstring`, `httpStatus`);
 * - {@link TransportError} for a network failure, a timeout, an HTTP error status without a
 *   fault, or an answer that is not a result (`code` tells which);
 * - TypeError before sending when an argument does not fit the WSDL.
 * Network failures and timeouts of read-only operations are retried (`retries`).
 *
 * @example
 * ```ts
 * import { MailUpImportClient } from 'mailup-import-client';
 *
 * const client = new MailUpImportClient({
 *   endpoint: 'http://abcd.emailsp.net/Services/WSMailUpImport.asmx',
 *   user: 'a1234',
 *   password: process.env.MAILUP_PASSWORD!,
 * });
 * for (const list of await client.getNlLists()) console.log(list.idList, list.listName);
 * ```
 */
export interface MailUpImportClient extends OperationMethods {}

export class MailUpImportClient {
  readonly #transport: SoapTransport;
  /** The user the client signs in as (the password is never exposed). */
  readonly user: string;
  /** The IANA time zone result dates are read in. */
  readonly timeZone: string;

  constructor(options: MailUpImportClientOptions) {
    const timeZone = options.timeZone ?? 'Europe/Rome';
    try {
      new Intl.DateTimeFormat('en', { timeZone });
    } catch {
      throw new RangeError(`timeZone "${timeZone}" is not an IANA time zone`);
    }
    const soapVersion = options.soapVersion ?? '1.1';
    if (soapVersion !== '1.1' && soapVersion !== '1.2') throw new TypeError(`soapVersion must be '1.1' or '1.2', not ${String(soapVersion)}`);
    if (typeof options.user !== 'string' || typeof options.password !== 'string') throw new TypeError('user and password are required');
    const timeoutMs = options.timeoutMs ?? 60_000;
    const retries = options.retries ?? 2;
    const retryDelayMs = options.retryDelayMs ?? 500;
    if (!(timeoutMs > 0) || !(retries >= 0) || !(retryDelayMs >= 0)) throw new RangeError('timeoutMs must be positive, retries and retryDelayMs not negative');
    this.user = options.user;
    this.timeZone = timeZone;
    this.#transport = new SoapTransport({
      endpoint: resolveEndpoint(options.endpoint),
      user: options.user,
      password: options.password,
      encType: options.encType === undefined ? 'UTF-8' : options.encType,
      soapVersion,
      timeoutMs,
      retries: Math.floor(retries),
      retryDelayMs,
      fetch: options.fetch ?? globalThis.fetch,
    });
  }

  /** The service URL requests go to. */
  get endpoint(): string {
    return this.#transport.endpoint.href;
  }

  get soapVersion(): SoapVersion {
    return this.#transport.soapVersion;
  }

  /**
   * Calls any operation by name; the nine methods are this with the name filled in.
   * @example
   * ```ts
   * const lists = await client.call('GetNlLists', {});
   * ```
   */
  async call<Op extends OperationName>(operation: Op, args?: OperationArgs<Op>, options: CallOptions = {}): Promise<OperationResults[Op]> {
    const reply = await this.#send(operation, args, options);
    try {
      return parseResult(operation, reply.result, { timeZone: this.timeZone });
    } catch (err) {
      if (!(err instanceof InvalidResultError)) throw err;
      throw new TransportError(
        { operation, failure: 'invalid-response', reason: err.message, httpStatus: reply.httpStatus, attempts: reply.attempts },
        { cause: err },
      );
    }
  }

  /**
   * Calls an operation and returns its result string (the `<mailupMessage>` document) unread:
   * no ReturnCode check. For diagnosing what an endpoint answers.
   */
  async callRaw<Op extends OperationName>(operation: Op, args?: OperationArgs<Op>, options: CallOptions = {}): Promise<string> {
    return (await this.#send(operation, args, options)).result;
  }

  #send<Op extends OperationName>(operation: Op, args: OperationArgs<Op> | undefined, options: CallOptions) {
    return this.#transport.send(operation, encodeArgs(operation, args), {
      idempotent: IDEMPOTENT_OPERATIONS[operation], signal: options.signal, timeoutMs: options.timeoutMs,
    });
  }

  /** What `console.log(client)` shows: never the password. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `MailUpImportClient { endpoint: '${this.endpoint}', user: '${this.user}', soapVersion: '${this.soapVersion}' }`;
  }

  toJSON(): { endpoint: string; user: string; soapVersion: SoapVersion; timeZone: string } {
    return { endpoint: this.endpoint, user: this.user, soapVersion: this.soapVersion, timeZone: this.timeZone };
  }
}

// The nine methods, built from the table.
for (const operation of OPERATION_NAMES) {
  Object.defineProperty(MailUpImportClient.prototype, methodNameOf(operation), {
    value(this: MailUpImportClient, args?: OperationArgs<typeof operation>, options?: CallOptions) {
      return this.call(operation, args, options);
    },
    writable: true,
    configurable: true,
  });
}
