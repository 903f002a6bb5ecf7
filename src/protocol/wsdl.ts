/**
 * The service description, generated from the OPERATIONS table so that the WSDL cannot drift
 * from what the decoders accept. The output mirrors what ASP.NET ASMX publishes for the real
 * service (test/fixtures/MailUpImport.wsdl) byte for byte apart from the address: same prefixes,
 * element order, 2-space indentation, ` />` empty tags and CRLF line ends, because some clients
 * were generated from, or cache, that exact document.
 */
import {
  AUTHENTICATION_FIELDS,
  OPERATION_NAMES,
  SERVICE_DOCUMENTATION,
  SERVICE_NAME,
  SERVICE_NAMESPACE,
  paramsOf,
  soapActionOf,
} from './operations.ts';
import type { OperationName } from './operations.ts';

/** A tiny element tree: enough to describe the WSDL declaratively and render it in one place. */
interface Element {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly Element[];
  readonly text?: string;
}

const el = (name: string, attrs: Record<string, string> = {}, ...children: Element[]): Element => ({ name, attrs, children });

/** Escapes text and attribute values; whitespace controls too, so attributes keep them through normalization. */
const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
const escapeXml = (value: string): string => value.replace(/[&<>"\t\n\r]/g, (c) => XML_ESCAPES[c] ?? c);

function render(node: Element, depth: number, out: string[]): void {
  const indent = '  '.repeat(depth);
  const attrs = Object.entries(node.attrs).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
  if (node.text !== undefined) {
    out.push(`${indent}<${node.name}${attrs}>${escapeXml(node.text)}</${node.name}>`);
  } else if (node.children.length === 0) {
    out.push(`${indent}<${node.name}${attrs} />`);
  } else {
    out.push(`${indent}<${node.name}${attrs}>`);
    for (const child of node.children) render(child, depth + 1, out);
    out.push(`${indent}</${node.name}>`);
  }
}

const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
const SOAP_HTTP_TRANSPORT = 'http://schemas.xmlsoap.org/soap/http';
const tns = (local: string): string => `tns:${local}`;

/** ASMX repeats the wsdl namespace declaration on every documentation element. */
const documentation = (): Element => ({ name: 'wsdl:documentation', attrs: { 'xmlns:wsdl': WSDL_NS }, children: [], text: SERVICE_DOCUMENTATION });

/** An optional or required `<s:element>` of a sequence, as XmlSerializer declares it. */
const field = (name: string, type: string, minOccurs: 0 | 1): Element =>
  el('s:element', { minOccurs: String(minOccurs), maxOccurs: '1', name, type: `s:${type}` });

const sequenceType = (fields: Element[]): Element =>
  fields.length === 0 ? el('s:complexType') : el('s:complexType', {}, el('s:sequence', {}, ...fields));

function schemaElements(op: OperationName): Element[] {
  return [
    el('s:element', { name: op }, sequenceType(paramsOf(op).map((p) => field(p.name, p.type, p.minOccurs)))),
    el('s:element', { name: `${op}Response` }, sequenceType([field(`${op}Result`, 'string', 0)])),
  ];
}

/** The SOAP header type; XmlSerializer exports a type where first used, i.e. after the first operation. */
const authenticationSchema = (): Element[] => [
  el('s:element', { name: 'Authentication', type: tns('Authentication') }),
  el('s:complexType', { name: 'Authentication' },
    el('s:sequence', {}, ...AUTHENTICATION_FIELDS.map((f) => field(f, 'string', 0))),
    el('s:anyAttribute')),
];

const part = (name: string, ref: Record<string, string>): Element => el('wsdl:part', { name, ...ref });
const message = (name: string, ...parts: Element[]): Element => el('wsdl:message', { name }, ...parts);

/** The four ports ASMX publishes; the SOAP 1.2 binding shares the SOAP portType. */
const PORTS = {
  soap: `${SERVICE_NAME}Soap`,
  soap12: `${SERVICE_NAME}Soap12`,
  httpGet: `${SERVICE_NAME}HttpGet`,
  httpPost: `${SERVICE_NAME}HttpPost`,
} as const;

/** HTTP GET/POST take every argument as text, and answer the result as the nillable `tns:string`. */
const httpMessages = (suffix: 'HttpGet' | 'HttpPost'): Element[] =>
  OPERATION_NAMES.flatMap((op) => [
    message(`${op}${suffix}In`, ...paramsOf(op).map((p) => part(p.name, { type: 's:string' }))),
    message(`${op}${suffix}Out`, part('Body', { element: tns('string') })),
  ]);

const portType = (name: string, suffix: string): Element =>
  el('wsdl:portType', { name }, ...OPERATION_NAMES.map((op) =>
    el('wsdl:operation', { name: op },
      el('wsdl:input', { message: tns(`${op}${suffix}In`) }),
      el('wsdl:output', { message: tns(`${op}${suffix}Out`) }))));

/** SOAP 1.1 and 1.2 bindings differ only in the extension prefix. */
const soapBinding = (name: string, p: 'soap' | 'soap12'): Element =>
  el('wsdl:binding', { name, type: tns(PORTS.soap) },
    el(`${p}:binding`, { transport: SOAP_HTTP_TRANSPORT }),
    ...OPERATION_NAMES.map((op) =>
      el('wsdl:operation', { name: op },
        el(`${p}:operation`, { soapAction: soapActionOf(op), style: 'document' }),
        el('wsdl:input',
          {},
          el(`${p}:body`, { use: 'literal' }),
          el(`${p}:header`, { message: tns(`${op}Authentication`), part: 'Authentication', use: 'literal' })),
        el('wsdl:output', {}, el(`${p}:body`, { use: 'literal' })))));

const httpBinding = (name: string, verb: 'GET' | 'POST', input: Element): Element =>
  el('wsdl:binding', { name, type: tns(name) },
    el('http:binding', { verb }),
    ...OPERATION_NAMES.map((op) =>
      el('wsdl:operation', { name: op },
        el('http:operation', { location: `/${op}` }),
        el('wsdl:input', {}, input),
        el('wsdl:output', {}, el('mime:mimeXml', { part: 'Body' })))));

const port = (name: string, addressElement: string, location: string): Element =>
  el('wsdl:port', { name, binding: tns(name) }, el(addressElement, { location }));

/** The WSDL document advertising `serviceUrl` (the full address of the .asmx endpoint). */
export function renderWsdl(serviceUrl: string): string {
  const definitions = el('wsdl:definitions',
    {
      // Same declarations, in the same order, as the published document.
      'xmlns:soap': 'http://schemas.xmlsoap.org/wsdl/soap/',
      'xmlns:tm': 'http://microsoft.com/wsdl/mime/textMatching/',
      'xmlns:soapenc': 'http://schemas.xmlsoap.org/soap/encoding/',
      'xmlns:mime': 'http://schemas.xmlsoap.org/wsdl/mime/',
      'xmlns:tns': SERVICE_NAMESPACE,
      'xmlns:s': 'http://www.w3.org/2001/XMLSchema',
      'xmlns:soap12': 'http://schemas.xmlsoap.org/wsdl/soap12/',
      'xmlns:http': 'http://schemas.xmlsoap.org/wsdl/http/',
      targetNamespace: SERVICE_NAMESPACE,
      'xmlns:wsdl': WSDL_NS,
    },
    documentation(),
    el('wsdl:types', {},
      el('s:schema', { elementFormDefault: 'qualified', targetNamespace: SERVICE_NAMESPACE },
        ...OPERATION_NAMES.flatMap((op, i) => [...schemaElements(op), ...(i === 0 ? authenticationSchema() : [])]),
        el('s:element', { name: 'string', nillable: 'true', type: 's:string' }))),
    ...OPERATION_NAMES.flatMap((op) => [
      message(`${op}SoapIn`, part('parameters', { element: tns(op) })),
      message(`${op}SoapOut`, part('parameters', { element: tns(`${op}Response`) })),
      message(`${op}Authentication`, part('Authentication', { element: tns('Authentication') })),
    ]),
    ...httpMessages('HttpGet'),
    ...httpMessages('HttpPost'),
    portType(PORTS.soap, 'Soap'),
    portType(PORTS.httpGet, 'HttpGet'),
    portType(PORTS.httpPost, 'HttpPost'),
    soapBinding(PORTS.soap, 'soap'),
    soapBinding(PORTS.soap12, 'soap12'),
    httpBinding(PORTS.httpGet, 'GET', el('http:urlEncoded')),
    httpBinding(PORTS.httpPost, 'POST', el('mime:content', { type: 'application/x-www-form-urlencoded' })),
    el('wsdl:service', { name: SERVICE_NAME },
      documentation(),
      port(PORTS.soap, 'soap:address', serviceUrl),
      port(PORTS.soap12, 'soap12:address', serviceUrl),
      port(PORTS.httpGet, 'http:address', serviceUrl),
      port(PORTS.httpPost, 'http:address', serviceUrl)));

  const lines = ['<?xml version="1.0" encoding="utf-8"?>'];
  render(definitions, 0, lines);
  // ASMX writes CRLF line ends and no final newline.
  return lines.join('\r\n');
}
