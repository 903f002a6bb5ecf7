/**
 * Reading what the service writes with an independent, conforming parser (saxes), so the
 * protocol tests check documents element by element instead of trusting our own tokenizer or a
 * regular expression. A document becomes a small tree that `assert.deepEqual` can compare with
 * one written by `el()`.
 */
import { SaxesParser } from 'saxes';

/** An element: its qualified name, attributes in document order, and children (text as strings). */
export interface XmlNode {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly children: (XmlNode | string)[];
}

export interface XmlDocument {
  /** The XML declaration's fields, or null without one. */
  readonly declaration: { version?: string; encoding?: string; standalone?: string } | null;
  readonly root: XmlNode;
}

/** Parses a whole document; throws on anything that is not well-formed XML 1.0. */
export function parseXml(xml: string): XmlDocument {
  const parser = new SaxesParser({ position: true });
  const stack: XmlNode[] = [];
  let root: XmlNode | null = null;
  let declaration: XmlDocument['declaration'] = null;
  let error: Error | null = null;
  const addText = (text: string): void => {
    const top = stack[stack.length - 1];
    if (!top || text === '') return;
    const last = top.children[top.children.length - 1];
    if (typeof last === 'string') top.children[top.children.length - 1] = last + text;
    else top.children.push(text);
  };
  parser.on('xmldecl', (d) => {
    declaration = { version: d.version, encoding: d.encoding, standalone: d.standalone };
  });
  parser.on('opentag', (tag) => {
    const attrs = Object.fromEntries(Object.entries(tag.attributes).map(([k, v]) => [k, typeof v === 'string' ? v : v.value]));
    const node: XmlNode = { name: tag.name, attrs, children: [] };
    if (stack.length === 0) root = node;
    else stack[stack.length - 1]!.children.push(node);
    stack.push(node);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('error', (err) => {
    error ??= err;
  });
  parser.write(xml).close();
  if (error) throw error;
  if (!root) throw new Error('no root element');
  return { declaration, root };
}

/** An expected element for `assert.deepEqual`. */
export function el(name: string, attrs: Record<string, string | number> = {}, ...children: (XmlNode | string | number)[]): XmlNode {
  return {
    name,
    attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, String(v)])),
    children: children.map((c) => (typeof c === 'number' ? String(c) : c)),
  };
}

/** The element children of a node (white space between elements dropped). */
export const elements = (node: XmlNode): XmlNode[] => node.children.filter((c): c is XmlNode => typeof c !== 'string');

/** The concatenated text content of a node. */
export function textOf(node: XmlNode): string {
  return node.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

/** The local part of a qualified name. */
export const localName = (name: string): string => name.slice(name.indexOf(':') + 1);

/** The first descendant (depth first) whose local name is `local`, or undefined. */
export function find(node: XmlNode, local: string): XmlNode | undefined {
  for (const child of elements(node)) {
    if (localName(child.name) === local) return child;
    const deeper = find(child, local);
    if (deeper) return deeper;
  }
  return undefined;
}

/**
 * The `<OpResult>` text of a SOAP response, decoded by the parser exactly as a SOAP client would
 * decode it; null when the response has no such element (a fault).
 */
export function soapResultText(soapBody: string, operation: string): string | null {
  const result = find(parseXml(soapBody).root, `${operation}Result`);
  return result ? textOf(result) : null;
}

/** The fault string (SOAP 1.1 faultstring or 1.2 Reason/Text) of a SOAP response, or null. */
export function faultText(soapBody: string): string | null {
  const root = parseXml(soapBody).root;
  const fault = find(root, 'Fault');
  if (!fault) return null;
  const text = find(fault, 'faultstring') ?? find(fault, 'Text');
  return text ? textOf(text) : null;
}

/** The fault code (1.1 `soap:Client`, 1.2 `soap:Sender` …), or null. */
export function faultCode(soapBody: string): string | null {
  const fault = find(parseXml(soapBody).root, 'Fault');
  if (!fault) return null;
  const code = find(fault, 'faultcode') ?? find(fault, 'Value');
  return code ? textOf(code) : null;
}
