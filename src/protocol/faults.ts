/**
 * Protocol-level failures: what ASMX answers with a SOAP Fault or an HTTP error instead of a
 * result string. Messages are fixed, readable sentences; parser internals never reach a client.
 */

export type FaultCode = 'Client' | 'Server' | 'VersionMismatch';

export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly faultCode: FaultCode,
    /** HTTP status: 500 for faults as ASMX sends them; 400/413/415 for requests it refuses outright. */
    readonly httpStatus: number,
    /** HTTP headers the answer carries besides the fault (e.g. Retry-After with a 503). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export const clientFault = (message: string, httpStatus = 500): ProtocolError =>
  new ProtocolError(message, 'Client', httpStatus);

export const serverFault = (message: string): ProtocolError => new ProtocolError(message, 'Server', 500);

/** The request body exceeded the configured limit. */
export const tooLarge = (limit: number): ProtocolError =>
  new ProtocolError(`Request body is larger than the limit of ${limit} bytes.`, 'Client', 413);
