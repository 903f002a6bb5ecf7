/**
 * The one transport every operation goes through: writes the SOAP 1.1 or 1.2 request as ASMX
 * expects it (the `Authentication` header in the service namespace, parameters in WSDL order),
 * posts it with Node's global fetch, and returns the `<OpResult>` text, i.e. the result string.
 * Faults become SoapFaultError, everything else that is not a result becomes TransportError.
 * Only network failures and timeouts are retried, and only when the caller says the call is
 * idempotent and its body can be sent again.
 */
import { SoapFaultError, TransportError, type TransportFailure } from './errors.ts';
import { SERVICE_NAMESPACE, soapActionOf, type OperationName } from './generated/operations.ts';
import { retryWithBackoff } from './retry.ts';
import { XmlReadError, childElement, findElement, readXml, textOf, type XmlElement } from './xml-reader.ts';

/** The SOAP version of the requests: the service answers each in its own version. */
export type SoapVersion = '1.1' | '1.2';

/** A large text value sent in pieces, e.g. a feed from {@link streamFeed}. */
export type TextChunks = AsyncIterable<string> | Iterable<string>;

/** A parameter as it goes on the wire: text, or text chunks for the streamed `xmlDoc`. */
export type WireValue = string | TextChunks;

/** The envelope namespace of each SOAP version. */
export const SOAP_ENVELOPE_NS: Readonly<Record<SoapVersion, string>> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

export interface TransportOptions {
  readonly endpoint: URL;
  readonly user: string;
  readonly password: string;
  /** Sent as `encType` in the header when not null (MailUp's samples send `UTF-8`). */
  readonly encType: string | null;
  readonly soapVersion: SoapVersion;
  readonly timeoutMs: number;
  /** Extra attempts after a network failure or timeout of an idempotent call. */
  readonly retries: number;
  /** Delay before the first retry; doubled for each further one. */
  readonly retryDelayMs: number;
  readonly fetch: typeof globalThis.fetch;
}

export interface SendOptions {
  readonly idempotent: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
}

export interface SoapReply {
  /** The result string: the `<mailupMessage>` document, unescaped once. */
  readonly result: string;
  readonly httpStatus: number;
  readonly attempts: number;
}

/** Text escaped for an XML text node; CR kept as a reference so the parser does not fold it. */
export function escapeXmlText(text: string): string {
  return text.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** A failed attempt, before it is known whether it will be retried. */
class AttemptFailure {
  constructor(
    readonly failure: TransportFailure,
    readonly reason: string,
    readonly httpStatus: number | null,
    readonly cause?: unknown,
  ) {}
}

export class SoapTransport {
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
  }

  get endpoint(): URL {
    return this.#options.endpoint;
  }

  get soapVersion(): SoapVersion {
    return this.#options.soapVersion;
  }

  /** Sends one call and returns its result string. */
  async send(operation: OperationName, params: ReadonlyArray<readonly [string, WireValue]>, options: SendOptions): Promise<SoapReply> {
    const { retries, retryDelayMs } = this.#options;
    const replayable = params.every(([, value]) => typeof value === 'string');
    const maxAttempts = options.idempotent && replayable ? 1 + retries : 1;
    let attempts = 0;
    try {
      return await retryWithBackoff(async (attempt) => {
        attempts = attempt;
        return { ...(await this.#attempt(operation, params, options)), attempts: attempt };
      }, {
        initialDelayMs: retryDelayMs,
        signal: options.signal,
        retryIf: (err, attempt) => err instanceof AttemptFailure && attempt < maxAttempts
          && (err.failure === 'network' || err.failure === 'timeout') && !options.signal?.aborted,
      });
    } catch (err) {
      if (!(err instanceof AttemptFailure)) throw err;
      throw new TransportError(
        { operation, failure: err.failure, reason: err.reason, httpStatus: err.httpStatus, attempts },
        { cause: err.cause },
      );
    }
  }

  async #attempt(
    operation: OperationName, params: ReadonlyArray<readonly [string, WireValue]>, options: SendOptions,
  ): Promise<{ result: string; httpStatus: number }> {
    const { soapVersion, fetch } = this.#options;
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const streamed = params.some(([, value]) => typeof value !== 'string');
    const headers: Record<string, string> = soapVersion === '1.1'
      ? { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${soapActionOf(operation)}"` }
      : { 'content-type': `application/soap+xml; charset=utf-8; action="${soapActionOf(operation)}"` };
    const init: RequestInit = {
      method: 'POST',
      headers,
      signal,
      body: streamed ? this.#envelopeChunks(operation, params) : this.#envelope(operation, params),
      ...(streamed ? { duplex: 'half' as const } : {}),
    };
    let status = 0;
    let text: string;
    let contentType = '';
    try {
      const response = await fetch(this.#options.endpoint, init);
      status = response.status;
      contentType = response.headers.get('content-type') ?? '';
      // SOAP answers are UTF-8 (ASMX writes no other charset); the result string's own
      // windows-1252 declaration is only a label and is ignored when it is read.
      text = await response.text();
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) throw new AttemptFailure('timeout', `no answer within ${timeoutMs} ms`, status || null, err);
      throw new AttemptFailure('network', `cannot reach ${this.#options.endpoint.origin}: ${describeNetworkError(err)}`, status || null, err);
    }
    return { result: readReply(operation, status, contentType, text), httpStatus: status };
  }

  #prefix(operation: OperationName): string {
    const { soapVersion, user, password, encType } = this.#options;
    const auth = `<User>${escapeXmlText(user)}</User><Password>${escapeXmlText(password)}</Password>` +
      (encType === null ? '' : `<encType>${escapeXmlText(encType)}</encType>`);
    return '<?xml version="1.0" encoding="utf-8"?>' +
      `<soap:Envelope xmlns:soap="${SOAP_ENVELOPE_NS[soapVersion]}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
      `<soap:Header><Authentication xmlns="${SERVICE_NAMESPACE}">${auth}</Authentication></soap:Header>` +
      `<soap:Body><${operation} xmlns="${SERVICE_NAMESPACE}">`;
  }

  #envelope(operation: OperationName, params: ReadonlyArray<readonly [string, WireValue]>): string {
    const body = params.map(([name, value]) => `<${name}>${escapeXmlText(value as string)}</${name}>`).join('');
    return `${this.#prefix(operation)}${body}</${operation}></soap:Body></soap:Envelope>`;
  }

  /** The envelope as UTF-8 chunks, the streamed values escaped piece by piece. */
  async *#envelopeChunks(operation: OperationName, params: ReadonlyArray<readonly [string, WireValue]>): AsyncGenerator<Uint8Array> {
    const encoder = new TextEncoder();
    let pending = this.#prefix(operation);
    for (const [name, value] of params) {
      if (typeof value === 'string') {
        pending += `<${name}>${escapeXmlText(value)}</${name}>`;
        continue;
      }
      pending += `<${name}>`;
      yield encoder.encode(pending);
      pending = '';
      let carry = '';
      for await (const chunk of value) {
        let piece = carry + chunk;
        carry = '';
        // Keep a high surrogate for the next chunk so a pair split across chunks stays whole.
        const last = piece.charCodeAt(piece.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          carry = piece.slice(-1);
          piece = piece.slice(0, -1);
        }
        if (piece !== '') yield encoder.encode(escapeXmlText(piece));
      }
      pending = `${escapeXmlText(carry)}</${name}>`;
    }
    yield encoder.encode(`${pending}</${operation}></soap:Body></soap:Envelope>`);
  }
}

/** The result string of a reply, or the fault or failure it carries. */
function readReply(operation: OperationName, status: number, contentType: string, text: string): string {
  let root: XmlElement | null = null;
  try {
    root = readXml(text);
  } catch (err) {
    if (!(err instanceof XmlReadError)) throw err;
  }
  const body = root && root.localName === 'Envelope' ? childElement(root, 'Body') : undefined;
  const fault = body ? childElement(body, 'Fault') : undefined;
  if (fault) {
    // SOAP 1.1: faultcode/faultstring; SOAP 1.2: Code/Value and Reason/Text.
    const code = childElement(fault, 'faultcode') ?? findElement(childElement(fault, 'Code') ?? fault, 'Value');
    const reason = childElement(fault, 'faultstring') ?? findElement(childElement(fault, 'Reason') ?? fault, 'Text');
    throw new SoapFaultError({
      operation, faultcode: code ? textOf(code).trim() : '', faultstring: reason ? textOf(reason).trim() : '', httpStatus: status,
    });
  }
  if (status < 200 || status > 299) {
    throw new AttemptFailure('http-status', `HTTP ${status} without a SOAP Fault (${describeType(contentType)})`, status);
  }
  if (!body) {
    throw new AttemptFailure('invalid-response', `the answer is not a SOAP envelope (${describeType(contentType)})`, status);
  }
  const response = childElement(body, `${operation}Response`);
  const result = response ? childElement(response, `${operation}Result`) : undefined;
  if (!result) throw new AttemptFailure('invalid-response', `the answer has no ${operation}Response/${operation}Result`, status);
  return textOf(result);
}

const describeType = (contentType: string): string => (contentType === '' ? 'no content type' : contentType.split(';')[0]!.trim());

/** The useful part of fetch's "fetch failed": the system error code and message of its cause. */
export function describeNetworkError(err: unknown): string {
  let cause: unknown = err;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
  }
  return String(cause);
}
