/**
 * Decodes a SOAP 1.1 or 1.2 request into a typed call, the way ASMX's XmlSerializer reads it:
 * elements matched by exact name in the service namespace, unknown elements ignored, missing
 * ones defaulted, an empty element of a non-string type is a fault. The one large parameter
 * (`xmlDoc`) never becomes a string: its text is handed to a sink chunk by chunk as it arrives.
 */
import { XmlSyntaxError, XmlTokenizer, type XmlHandler } from '../xml/tokenizer.ts';
import { bodyText, wholeBodyText } from './body-text.ts';
import { clientFault, ProtocolError, tooLarge } from './faults.ts';
import {
  AUTHENTICATION_FIELDS, isOperationName, paramsOf, SERVICE_NAMESPACE,
  type OperationName, type ParamSpec,
} from './operations.ts';
import { convertValue, type RawArgs } from './arguments.ts';

export type SoapVersion = '1.1' | '1.2';

export const SOAP_ENVELOPE_NS: Record<SoapVersion, string> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};
const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
/** The namespace of the overview page's sample header; accepted for leniency (spec §3.1). */
const TEMPURI_NS = 'http://tempuri.org/';

export interface Credentials {
  readonly User: string | null;
  readonly Password: string | null;
  readonly encType: string | null;
}

/** Receives the streamed parameter's text; `flush` is awaited between input chunks (backpressure). */
export interface TextSink {
  write(text: string): void;
  flush(): Promise<void>;
}

export interface DecodedRequest {
  readonly operation: OperationName;
  /** Arguments converted to their XSD types; streamed parameters are absent. */
  readonly args: RawArgs;
  /** The Authentication header, or null when the request had none. */
  readonly credentials: Credentials | null;
  /** Whether the streamed parameter was present (`xmlDoc` omitted means "run pending processes"). */
  readonly streamedPresent: boolean;
}

export interface DecodeOptions {
  readonly version: SoapVersion;
  /** The operation named by SOAPAction (1.1) or the `action` parameter (1.2), if any. */
  readonly action: OperationName | null;
  readonly contentType: string | undefined;
  readonly bodyLimit: number;
  /**
   * Called once, when the streamed parameter starts, with what was decoded so far (the SOAP
   * header always precedes the body). Returns where its text goes.
   */
  readonly openStream: (operation: OperationName, credentials: Credentials | null) => TextSink;
}

/** Longest accepted value of an ordinary (non-streamed) parameter or header field. */
const MAX_VALUE_LENGTH = 1 << 20;
const MAX_DEPTH = 32;

type Place =
  | { kind: 'outside' }
  | { kind: 'envelope' }
  | { kind: 'header' }
  | { kind: 'auth' }
  | { kind: 'authField'; field: (typeof AUTHENTICATION_FIELDS)[number] }
  | { kind: 'body' }
  | { kind: 'operation' }
  | { kind: 'param'; spec: ParamSpec; nil: boolean }
  | { kind: 'streamed' }
  | { kind: 'ignored' }
  | { kind: 'done' };

class EnvelopeReader implements XmlHandler {
  private readonly namespaces: Map<string, string>[] = [new Map([['xml', 'http://www.w3.org/XML/1998/namespace']])];
  private readonly places: Place[] = [{ kind: 'outside' }];
  private readonly envelopeNs: string;
  operation: OperationName | null = null;
  readonly args: RawArgs = {};
  credentials: Record<string, string | null> | null = null;
  streamedPresent = false;
  sink: TextSink | null = null;
  private text = '';
  private sawBody = false;

  constructor(private readonly options: DecodeOptions) {
    this.envelopeNs = SOAP_ENVELOPE_NS[options.version];
  }

  private get place(): Place {
    return this.places[this.places.length - 1]!;
  }

  onOpen(qname: string, attrs: string[]): void {
    const scope = new Map<string, string>();
    for (let i = 0; i < attrs.length; i += 2) {
      const n = attrs[i]!;
      if (n === 'xmlns') scope.set('', attrs[i + 1]!);
      else if (n.startsWith('xmlns:')) scope.set(n.slice(6), attrs[i + 1]!);
    }
    this.namespaces.push(scope);
    const [ns, local] = this.resolve(qname);
    this.places.push(this.enter(ns, local, attrs));
    this.text = '';
  }

  private enter(ns: string, local: string, attrs: string[]): Place {
    const place = this.place;
    switch (place.kind) {
      case 'outside':
        if (local === 'Envelope' && ns !== this.envelopeNs && Object.values(SOAP_ENVELOPE_NS).includes(ns)) {
          throw new ProtocolError('The SOAP envelope version does not match the request content type.', 'VersionMismatch', 500);
        }
        if (local !== 'Envelope' || ns !== this.envelopeNs) throw clientFault('The request is not a SOAP envelope.');
        return { kind: 'envelope' };
      case 'envelope':
        if (ns === this.envelopeNs && local === 'Header' && !this.sawBody) return { kind: 'header' };
        if (ns === this.envelopeNs && local === 'Body') {
          this.sawBody = true;
          return { kind: 'body' };
        }
        throw clientFault(`Unexpected element ${local} in the SOAP envelope.`);
      case 'header':
        if (local === 'Authentication' && (ns === SERVICE_NAMESPACE || ns === TEMPURI_NS)) {
          this.credentials = { User: null, Password: null, encType: null };
          return { kind: 'auth' };
        }
        // xs:boolean in SOAP 1.2; "1" in SOAP 1.1 (where "true" is accepted as a courtesy).
        if (['1', 'true'].includes(this.attr(attrs, this.envelopeNs, 'mustUnderstand') ?? '')) {
          throw new ProtocolError(`SOAP header ${local} was not understood.`, 'Client', 500);
        }
        return { kind: 'ignored' };
      case 'auth': {
        const field = AUTHENTICATION_FIELDS.find((f) => f === local);
        return field && ns === this.resolveDefault(ns) ? { kind: 'authField', field } : { kind: 'ignored' };
      }
      case 'body': {
        if (this.operation !== null) throw clientFault('The SOAP body must contain exactly one operation element.');
        if (ns !== SERVICE_NAMESPACE || !isOperationName(local)) {
          throw clientFault(`Server did not recognize the request element ${local}.`);
        }
        if (this.options.action !== null && this.options.action !== local) {
          throw clientFault(`The request element ${local} does not match the SOAP action ${this.options.action}.`);
        }
        this.operation = local;
        return { kind: 'operation' };
      }
      case 'operation': {
        const spec = ns === SERVICE_NAMESPACE ? paramsOf(this.operation!).find((p) => p.name === local) : undefined;
        if (!spec) return { kind: 'ignored' };
        if (spec.streamed) {
          if (this.streamedPresent) throw clientFault(`Element ${local} appears more than once.`);
          this.streamedPresent = true;
          this.sink = this.options.openStream(this.operation!, this.credentials as Credentials | null);
          return { kind: 'streamed' };
        }
        const nil = this.attr(attrs, XSI_NS, 'nil') === 'true';
        return { kind: 'param', spec, nil };
      }
      case 'param':
      case 'streamed':
      case 'authField':
        throw clientFault('A parameter of type string must not contain elements.');
      case 'ignored':
        return { kind: 'ignored' };
      case 'done':
        throw clientFault('Content after the SOAP envelope.');
    }
  }

  onText(text: string): void {
    const place = this.place;
    if (place.kind === 'streamed') {
      this.sink!.write(text);
    } else if (place.kind === 'param' || place.kind === 'authField') {
      if (this.text.length + text.length > MAX_VALUE_LENGTH) throw clientFault('A parameter value is too long.', 413);
      this.text += text;
    } else if (place.kind !== 'ignored' && !/^\s*$/.test(text)) {
      throw clientFault('Unexpected text in the SOAP envelope.');
    }
  }

  onClose(): void {
    const place = this.places.pop()!;
    this.namespaces.pop();
    if (place.kind === 'param') {
      this.args[place.spec.name] = place.nil && place.spec.type === 'string' ? null : convertValue(place.spec, this.text);
    } else if (place.kind === 'authField') {
      this.credentials![place.field] = this.text;
    } else if (place.kind === 'body' && this.operation === null) {
      throw clientFault('The SOAP body does not contain an operation.');
    } else if (place.kind === 'envelope') {
      if (!this.sawBody) throw clientFault('The SOAP envelope has no Body.');
      this.places[0] = { kind: 'done' };
    }
    this.text = '';
  }

  private resolve(qname: string): [string, string] {
    const colon = qname.indexOf(':');
    const prefix = colon < 0 ? '' : qname.slice(0, colon);
    const local = colon < 0 ? qname : qname.slice(colon + 1);
    for (let i = this.namespaces.length - 1; i >= 0; i--) {
      const uri = this.namespaces[i]!.get(prefix);
      if (uri !== undefined) return [uri, local];
    }
    if (prefix !== '') throw clientFault(`Undeclared namespace prefix ${prefix}.`);
    return ['', local];
  }

  /** Authentication fields count in the header's own namespace (qualified, as the WSDL says). */
  private resolveDefault(ns: string): string {
    return ns === SERVICE_NAMESPACE || ns === TEMPURI_NS ? ns : '\0';
  }

  private attr(attrs: string[], ns: string, local: string): string | undefined {
    for (let i = 0; i < attrs.length; i += 2) {
      const name = attrs[i]!;
      const colon = name.indexOf(':');
      if (colon < 0 || name.slice(colon + 1) !== local) continue;
      const prefix = name.slice(0, colon);
      if (prefix === 'xmlns') continue;
      for (let j = this.namespaces.length - 1; j >= 0; j--) {
        const uri = this.namespaces[j]!.get(prefix);
        if (uri !== undefined) {
          if (uri === ns) return attrs[i + 1]!.trim();
          break;
        }
      }
    }
    return undefined;
  }
}

/**
 * Reads a whole SOAP request from `body`, streaming the feed parameter to `options.openStream`.
 * `body` is the request's bytes as they arrive, or all of them already read (a short request).
 */
export async function decodeSoapRequest(
  body: AsyncIterable<Buffer | string> | Buffer,
  options: DecodeOptions,
): Promise<DecodedRequest> {
  const reader = new EnvelopeReader(options);
  const tokenizer = new XmlTokenizer(reader, { maxDepth: MAX_DEPTH, maxMarkupLength: 1 << 20 });
  try {
    if (Buffer.isBuffer(body)) {
      if (body.length > options.bodyLimit) throw tooLarge(options.bodyLimit);
      tokenizer.write(wholeBodyText(body, options.contentType));
      if (reader.sink) await reader.sink.flush();
    } else {
      for await (const text of bodyText(body, options.contentType, options.bodyLimit)) {
        tokenizer.write(text);
        if (reader.sink) await reader.sink.flush();
      }
    }
    tokenizer.end();
  } catch (err) {
    if (err instanceof XmlSyntaxError) {
      const doctype = err.message.startsWith('DOCTYPE');
      throw clientFault(
        doctype ? 'DTDs are not allowed in SOAP requests.' : 'Server was unable to read the request: the XML is not well-formed.',
        doctype ? 400 : 500,
      );
    }
    throw err;
  }
  if (reader.operation === null) throw clientFault('The SOAP body does not contain an operation.');
  const credentials = reader.credentials as Credentials | null;
  return { operation: reader.operation, args: reader.args, credentials, streamedPresent: reader.streamedPresent };
}
