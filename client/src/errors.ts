/**
 * The errors the client throws, built from one table: each kind has a stable `code` string and
 * its own typed details. `instanceof` is decided by a brand (`Symbol.for`), not by identity, so
 * it keeps working when two copies of the package are installed side by side.
 */
import { RETURN_CODES, type OperationName } from './generated/operations.ts';

/**
 * Every `code` an error of this package can carry, with what it means. Scripts can rely on
 * these strings; they never change meaning.
 */
export const ERROR_CODES = {
  MAILUP_RETURN_CODE: 'the service answered a negative ReturnCode',
  MAILUP_SOAP_FAULT: 'the service answered a SOAP Fault',
  MAILUP_NETWORK_ERROR: 'the request did not reach the service, or the connection broke before the answer',
  MAILUP_TIMEOUT: 'no complete answer arrived within the timeout',
  MAILUP_HTTP_STATUS: 'the service answered an HTTP error status without a SOAP Fault',
  MAILUP_INVALID_RESPONSE: 'the answer is not a WSMailUpImport result',
  MAILUP_REST_ERROR: 'the REST API answered an HTTP error status (MailUp\'s error body, when it sent one, is in the details)',
  MAILUP_AUTH_ERROR: 'the OAuth2 token endpoint refused the credentials, the client or the refresh token',
  MAILUP_API_ERROR: 'the JSON API (/api/… of a compatible server) answered an HTTP error status; its `{ "error" }` message is in the details',
} as const;

/** One of the {@link ERROR_CODES}. */
export type MailUpErrorCode = keyof typeof ERROR_CODES;

/**
 * A REST API call as errors name it: the method and the path under the console base, e.g.
 * `GET List/7/Groups`, or `POST /Authorization/OAuth/Token` for the token endpoint.
 */
export type RestOperation = `${'GET' | 'POST' | 'PUT' | 'DELETE'} ${string}`;

/** What failed: a SOAP operation by its WSDL name, or a REST call. */
export type FailedOperation = OperationName | RestOperation;

const BRAND = Symbol.for('mailup-import-client.error-kinds');

/**
 * The base of every error this package throws. Catch it to handle any failure of a call.
 *
 * @example
 * ```ts
 * try {
 *   await client.getNlLists();
 * } catch (err) {
 *   if (err instanceof MailUpError) console.error(err.code, err.message);
 * }
 * ```
 */
export class MailUpError extends Error {
  /** A stable string from {@link ERROR_CODES}. */
  readonly code: MailUpErrorCode;
  /** The operation whose call failed: a SOAP operation, or a REST call (`GET List/7/Groups`). */
  readonly operation: FailedOperation;

  constructor(code: MailUpErrorCode, operation: FailedOperation, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.operation = operation;
    Object.defineProperty(this, BRAND, { value: ['MailUpError'], enumerable: false });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    const kinds = typeof value === 'object' && value !== null ? (value as { [BRAND]?: unknown })[BRAND] : undefined;
    return Array.isArray(kinds) && kinds.includes(this.name);
  }
}

/** A class made by {@link defineError}; `prototype` lets `instanceof` narrow to `E`. */
export interface MailUpErrorClass<D, E> {
  new (details: D, options?: ErrorOptions): E;
  readonly prototype: E;
}

/**
 * One kind of error: its name, how its code and message follow from its details. The details
 * become read-only properties of the error.
 */
function defineError<const N extends string, D extends { readonly operation: FailedOperation }>(
  name: N, codeOf: (details: D) => MailUpErrorCode, messageOf: (details: D) => string,
): MailUpErrorClass<D, MailUpError & Readonly<D> & { readonly name: N }> {
  const kind = {
    [name]: class extends MailUpError {
      constructor(details: D, options?: ErrorOptions) {
        super(codeOf(details), details.operation, messageOf(details), options);
        Object.assign(this, details);
        this.name = name;
        (this as unknown as Record<symbol, string[]>)[BRAND]!.push(name);
      }
    },
  }[name]!;
  return kind as unknown as MailUpErrorClass<D, MailUpError & Readonly<D> & { readonly name: N }>;
}

/** The details of {@link MailUpReturnCodeError}. */
export interface ReturnCodeDetails {
  readonly operation: OperationName;
  /** The negative ReturnCode, e.g. -1002 or -601. */
  readonly returnCode: number;
  /** Its documented meaning, e.g. "password not valid"; "undocumented ReturnCode" for others. */
  readonly meaning: string;
  /** For a per-process ReturnCode of StartImportProcesses: the process it belongs to. */
  readonly idProcess: number | null;
}

/**
 * The service answered a negative ReturnCode. `returnCode` is the code and `meaning` its
 * documented meaning (see {@link RETURN_CODES}).
 *
 * @example
 * ```ts
 * try {
 *   await client.startProcess({ idList: 1, listGUID, idProcess: 42 });
 * } catch (err) {
 *   if (err instanceof MailUpReturnCodeError && (err.returnCode === -601 || err.returnCode === -602)) {
 *     // another import is running: try again later
 *   } else throw err;
 * }
 * ```
 */
export const MailUpReturnCodeError = defineError(
  'MailUpReturnCodeError',
  (_d: ReturnCodeDetails) => 'MAILUP_RETURN_CODE',
  (d) => `${d.operation} answered ReturnCode ${d.returnCode}${d.idProcess === null ? '' : ` for process ${d.idProcess}`}: ${d.meaning}`,
);
export type MailUpReturnCodeError = InstanceType<typeof MailUpReturnCodeError>;

/** The details of {@link SoapFaultError}. */
export interface SoapFaultDetails {
  readonly operation: OperationName;
  /** `soap:Client` / `soap:Server` (1.1) or `soap:Sender` / `soap:Receiver` (1.2), as sent. */
  readonly faultcode: string;
  readonly faultstring: string;
  /** The HTTP status of the answer: 500 for ordinary faults, 413 and others for refused requests. */
  readonly httpStatus: number;
}

/**
 * The service answered a SOAP Fault instead of a result: the request could not be read (an
 * empty element for a number, a body over the size limit, a missing operation…).
 */
export const SoapFaultError = defineError(
  'SoapFaultError',
  (_d: SoapFaultDetails) => 'MAILUP_SOAP_FAULT',
  (d) => `${d.operation} failed with SOAP Fault ${d.faultcode} (HTTP ${d.httpStatus}): ${d.faultstring}`,
);
export type SoapFaultError = InstanceType<typeof SoapFaultError>;

/** Why a {@link TransportError} happened, each with its own `code`. */
export const TRANSPORT_FAILURES = {
  network: 'MAILUP_NETWORK_ERROR',
  timeout: 'MAILUP_TIMEOUT',
  'http-status': 'MAILUP_HTTP_STATUS',
  'invalid-response': 'MAILUP_INVALID_RESPONSE',
} as const satisfies Record<string, MailUpErrorCode>;

/** network, timeout, http-status or invalid-response. */
export type TransportFailure = keyof typeof TRANSPORT_FAILURES;

/** The details of {@link TransportError}. */
export interface TransportDetails {
  /** The SOAP operation, or the REST call. */
  readonly operation: FailedOperation;
  readonly failure: TransportFailure;
  /** What went wrong, in words (never containing the credentials). */
  readonly reason: string;
  /** The HTTP status when an answer arrived, else null. */
  readonly httpStatus: number | null;
  /** How many times the request was sent (more than 1 when an idempotent call was retried). */
  readonly attempts: number;
}

/**
 * The call did not produce a WSMailUpImport answer: a network failure, a timeout, an HTTP
 * error status without a SOAP Fault, or a body that is not a result. `code` tells which. The
 * REST client throws it too, for a network failure, a timeout or an answer that is not the
 * JSON the call expects (HTTP error statuses of the REST API are {@link RestApiError}).
 */
export const TransportError = defineError(
  'TransportError',
  (d: TransportDetails) => TRANSPORT_FAILURES[d.failure],
  (d) => `${d.operation}: ${d.reason}${d.attempts > 1 ? ` (after ${d.attempts} attempts)` : ''}`,
);
export type TransportError = InstanceType<typeof TransportError>;

/** The documented meaning of a ReturnCode, or "undocumented ReturnCode". */
export function describeReturnCode(code: number): string {
  return (RETURN_CODES as Record<string, string>)[String(code)] ?? 'undocumented ReturnCode';
}

/** The details of {@link RestApiError}. */
export interface RestApiErrorDetails {
  /** The call, e.g. `POST List/7/Recipients`. */
  readonly operation: RestOperation;
  /** The HTTP status: 400 malformed or refused, 401 token, 403 not allowed, 404 unknown resource, 429 too many calls… */
  readonly httpStatus: number;
  /** MailUp's `ErrorCode` (the status as a string), or null when the answer had no MailUp error body. */
  readonly errorCode: string | null;
  /** MailUp's `ErrorDescription`, what is wrong in words; the start of the body when it was not MailUp's error body. */
  readonly errorDescription: string;
  /** MailUp's `ErrorName` (`BadRequest`, `Unauthorized`…), or null. */
  readonly errorName: string | null;
  /** The answer's `Retry-After`, in milliseconds, when it sent one (429, 503); else null. */
  readonly retryAfterMs: number | null;
  /** How many times the request was sent (a 401 is sent again once with a new token, a 429 after its Retry-After). */
  readonly attempts: number;
}

/**
 * The REST API answered an HTTP error status. `httpStatus` and MailUp's error body
 * (`errorCode`, `errorDescription`, `errorName`) say why.
 *
 * @example
 * ```ts
 * try {
 *   await rest.createGroup(7, { Name: 'Resellers' });
 * } catch (err) {
 *   if (err instanceof RestApiError && err.httpStatus === 404) console.log('no list 7:', err.errorDescription);
 *   else throw err;
 * }
 * ```
 */
export const RestApiError = defineError(
  'RestApiError',
  (_d: RestApiErrorDetails) => 'MAILUP_REST_ERROR',
  (d) => `${d.operation} answered HTTP ${d.httpStatus}${d.errorName ? ` ${d.errorName}` : ''}: ${d.errorDescription}${d.attempts > 1 ? ` (after ${d.attempts} attempts)` : ''}`,
);
export type RestApiError = InstanceType<typeof RestApiError>;

/** The details of {@link RestAuthError}. */
export interface RestAuthErrorDetails {
  readonly operation: RestOperation;
  /** The grant that was refused. */
  readonly grantType: 'password' | 'refresh_token';
  readonly httpStatus: number;
  /** OAuth's `error` (`invalid_grant`, `invalid_client`…), or null. */
  readonly error: string | null;
  /** `error_description`, else MailUp's `ErrorDescription`, else the start of the body. */
  readonly errorDescription: string;
}

/**
 * The OAuth2 token endpoint refused to log in: a wrong username or password, an unknown client
 * or wrong secret, a disabled account. (A refused refresh token is not thrown: the client logs
 * in again with the password.)
 */
export const RestAuthError = defineError(
  'RestAuthError',
  (_d: RestAuthErrorDetails) => 'MAILUP_AUTH_ERROR',
  (d) => `the token endpoint refused the ${d.grantType} grant (HTTP ${d.httpStatus}${d.error ? ` ${d.error}` : ''}): ${d.errorDescription}`,
);
export type RestAuthError = InstanceType<typeof RestAuthError>;

/** The details of {@link JsonApiError}. */
export interface JsonApiErrorDetails {
  /** The call, e.g. `POST /api/imports/17/cancel`. */
  readonly operation: RestOperation;
  /** 400 bad parameters, 401/403 credentials, 404 no such thing in the account, 409 refused change, 415 wrong body type… */
  readonly httpStatus: number;
  /** The server's `error` message, or the start of the body when it sent none. */
  readonly error: string;
}

/**
 * The JSON API of a compatible server answered an HTTP error status.
 *
 * @example
 * ```ts
 * try {
 *   await api.cancelImport(17);
 * } catch (err) {
 *   if (err instanceof JsonApiError && err.httpStatus === 409) console.log('too late:', err.error);
 *   else throw err;
 * }
 * ```
 */
export const JsonApiError = defineError(
  'JsonApiError',
  (_d: JsonApiErrorDetails) => 'MAILUP_API_ERROR',
  (d) => `${d.operation} answered HTTP ${d.httpStatus}: ${d.error}`,
);
export type JsonApiError = InstanceType<typeof JsonApiError>;
