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
} as const;

/** One of the {@link ERROR_CODES}. */
export type MailUpErrorCode = keyof typeof ERROR_CODES;

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
  /** The operation whose call failed. */
  readonly operation: OperationName;

  constructor(code: MailUpErrorCode, operation: OperationName, message: string, options?: ErrorOptions) {
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
function defineError<const N extends string, D extends { readonly operation: OperationName }>(
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
  readonly operation: OperationName;
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
 * error status without a SOAP Fault, or a body that is not a result. `code` tells which.
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
