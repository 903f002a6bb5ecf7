/**
 * Writing responses in ASMX's shapes: the SOAP 1.1 and 1.2 envelopes around a result string,
 * the `<string>` document of the HTTP GET/POST bindings, and faults in each.
 */
import { escapeText } from '../xml/escape.ts';
import type { FaultCode, ProtocolError } from './faults.ts';
import { SERVICE_NAMESPACE, type OperationName } from './operations.ts';
import { SOAP_ENVELOPE_NS, type SoapVersion } from './soap-request.ts';

export const CONTENT_TYPE: Record<SoapVersion, string> = {
  '1.1': 'text/xml; charset=utf-8',
  '1.2': 'application/soap+xml; charset=utf-8',
};

const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

function envelope(version: SoapVersion, body: string): string {
  return `${XML_DECLARATION}<soap:Envelope xmlns:soap="${SOAP_ENVELOPE_NS[version]}" ` +
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
    `<soap:Body>${body}</soap:Body></soap:Envelope>`;
}

/** `<OpResponse><OpResult>escaped result string</OpResult></OpResponse>` in a SOAP envelope. */
export function soapResult(version: SoapVersion, operation: OperationName, result: string): string {
  return envelope(
    version,
    `<${operation}Response xmlns="${SERVICE_NAMESPACE}"><${operation}Result>${escapeText(result)}</${operation}Result></${operation}Response>`,
  );
}

const FAULT_CODE_12: Record<FaultCode, string> = { Client: 'Sender', Server: 'Receiver', VersionMismatch: 'VersionMismatch' };

export function soapFault(version: SoapVersion, error: Pick<ProtocolError, 'faultCode' | 'message'>): string {
  const message = escapeText(error.message);
  if (version === '1.1') {
    return envelope('1.1', `<soap:Fault><faultcode>soap:${error.faultCode}</faultcode><faultstring>${message}</faultstring><detail /></soap:Fault>`);
  }
  return envelope(
    '1.2',
    `<soap:Fault><soap:Code><soap:Value>soap:${FAULT_CODE_12[error.faultCode]}</soap:Value></soap:Code>` +
      `<soap:Reason><soap:Text xml:lang="en">${message}</soap:Text></soap:Reason><soap:Detail /></soap:Fault>`,
  );
}

/** The HTTP GET/POST bindings answer `<string xmlns="…">escaped result</string>`. */
export function stringDocument(result: string): string {
  return `${XML_DECLARATION}\r\n<string xmlns="${SERVICE_NAMESPACE}">${escapeText(result)}</string>`;
}
