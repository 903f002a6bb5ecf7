import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SaxesParser } from 'saxes';
import { OPERATION_NAMES, SERVICE_PATH } from './operations.ts';
import { renderWsdl } from './wsdl.ts';

const FIXTURE = readFileSync(new URL('../../test/fixtures/MailUpImport.wsdl', import.meta.url), 'utf8');
const FIXTURE_URL = `http://[[MAILUP_CONSOLE_URL]]${SERVICE_PATH}`;

/** An element with its names resolved: `{uri}local` for the element and for QName-valued attributes. */
interface Node {
  readonly name: string;
  /** The name as written, only to make failure paths readable. */
  readonly qname: string;
  readonly attrs: Map<string, string>;
  readonly children: Node[];
  text: string;
}

/** Attributes whose value is a QName in WSDL/XSD; `type` on mime:content is a media type without a colon. */
const QNAME_ATTRIBUTES = new Set(['type', 'element', 'message', 'binding', 'base', 'ref']);

function parse(xml: string): Node {
  const parser = new SaxesParser({ xmlns: true });
  const stack: Node[] = [];
  let root: Node | undefined;
  parser.on('opentag', (tag) => {
    const attrs = new Map<string, string>();
    for (const a of Object.values(tag.attributes)) {
      // Namespace declarations are compared through the names they resolve, not as attributes.
      if (a.name === 'xmlns' || a.prefix === 'xmlns') continue;
      let value = a.value;
      const qname = /^([\w.-]+):([\w.-]+)$/.exec(value);
      if (a.uri === '' && QNAME_ATTRIBUTES.has(a.local) && qname) {
        const uri = parser.resolve(qname[1] ?? '');
        assert.ok(uri !== undefined, `unbound prefix in ${a.name}="${value}" on <${tag.name}>`);
        value = `{${uri}}${qname[2]}`;
      }
      attrs.set(a.uri === '' ? a.local : `{${a.uri}}${a.local}`, value);
    }
    const node: Node = { name: `{${tag.uri}}${tag.local}`, qname: tag.name, attrs, children: [], text: '' };
    const parent = stack.at(-1);
    if (parent) parent.children.push(node);
    else root = node;
    stack.push(node);
  });
  parser.on('closetag', () => void stack.pop());
  parser.on('text', (text) => {
    const current = stack.at(-1);
    if (current && text.trim() !== '') current.text += text;
  });
  parser.on('cdata', (text) => {
    const current = stack.at(-1);
    if (current) current.text += text;
  });
  parser.write(xml).close(); // throws on the first well-formedness error
  assert.ok(root, 'no root element');
  return root;
}

/** A path step: the name as written, its position among all siblings (from 1), and its name attribute. */
const label = (n: Node, index: number): string => {
  const name = n.attrs.get('name');
  return `${n.qname}[${index + 1}]${name === undefined ? '' : `(name="${name}")`}`;
};

/** The first difference between two trees, with the path to the element where it is, or undefined. */
function firstDifference(actual: Node, expected: Node, path = label(expected, 0)): string | undefined {
  if (actual.name !== expected.name) return `${path}: element ${actual.name} instead of ${expected.name}`;
  const keys = new Set([...actual.attrs.keys(), ...expected.attrs.keys()]);
  for (const key of keys) {
    const a = actual.attrs.get(key);
    const e = expected.attrs.get(key);
    if (a !== e) return `${path}: attribute ${key} is ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`;
  }
  if (actual.text !== expected.text) return `${path}: text ${JSON.stringify(actual.text)}, expected ${JSON.stringify(expected.text)}`;
  const count = Math.max(actual.children.length, expected.children.length);
  for (let i = 0; i < count; i++) {
    const a = actual.children[i];
    const e = expected.children[i];
    if (!a || !e) {
      const which = a ? `extra ${label(a, i)}` : `missing ${label(e as Node, i)}`;
      return `${path}: ${which} (${actual.children.length} children, expected ${expected.children.length})`;
    }
    const diff = firstDifference(a, e, `${path}/${label(e, i)}`);
    if (diff !== undefined) return diff;
  }
  return undefined;
}

const find = (root: Node, predicate: (n: Node) => boolean): Node[] => [
  ...(predicate(root) ? [root] : []),
  ...root.children.flatMap((c) => find(c, predicate)),
];

const WSDL = 'http://schemas.xmlsoap.org/wsdl/';
const SOAP = 'http://schemas.xmlsoap.org/wsdl/soap/';
const SOAP12 = 'http://schemas.xmlsoap.org/wsdl/soap12/';
const HTTP = 'http://schemas.xmlsoap.org/wsdl/http/';

test('the generated WSDL matches the published one element by element', () => {
  const diff = firstDifference(parse(renderWsdl(FIXTURE_URL)), parse(FIXTURE));
  assert.equal(diff, undefined, diff);
});

test('the comparison ignores the choice of prefixes but not the names', () => {
  const generated = renderWsdl(FIXTURE_URL);
  const reprefixed = generated.replaceAll('xmlns:tns=', 'xmlns:t=').replaceAll('"tns:', '"t:');
  assert.equal(firstDifference(parse(reprefixed), parse(FIXTURE)), undefined);

  const renamed = generated.replace('message="tns:GetIdUserAuthentication"', 'message="tns:GetIdUserAuth"');
  assert.match(
    firstDifference(parse(renamed), parse(FIXTURE)) ?? '',
    /^wsdl:definitions\[1\]\/wsdl:binding\[\d+\]\(name="WSMailUpImportSoap"\)\/wsdl:operation\[3\]\(name="GetIdUser"\)\/wsdl:input\[2\]\/soap:header\[2\]: attribute message/,
  );
});

test('the address is carried exactly and escaped, and the output is well-formed', () => {
  const url = 'http://example.com:8080/Services/WSMailupImport.asmx?a=1&b=2';
  const xml = renderWsdl(url);
  assert.ok(xml.includes('location="http://example.com:8080/Services/WSMailupImport.asmx?a=1&amp;b=2"'));
  const addresses = find(parse(xml), (n) => n.name.endsWith('}address'));
  assert.deepEqual(addresses.map((n) => n.name), [`{${SOAP}}address`, `{${SOAP12}}address`, `{${HTTP}}address`, `{${HTTP}}address`]);
  for (const address of addresses) assert.equal(address.attrs.get('location'), url);
});

test('every operation is in every binding, with its soapAction in both SOAP bindings', () => {
  const root = parse(renderWsdl(FIXTURE_URL));
  const bindings = root.children.filter((n) => n.name === `{${WSDL}}binding`);
  assert.deepEqual(bindings.map((b) => b.attrs.get('name')), ['WSMailUpImportSoap', 'WSMailUpImportSoap12', 'WSMailUpImportHttpGet', 'WSMailUpImportHttpPost']);
  assert.equal(OPERATION_NAMES.length, 9);
  for (const binding of bindings) {
    const operations = binding.children.filter((n) => n.name === `{${WSDL}}operation`);
    assert.deepEqual(operations.map((o) => o.attrs.get('name')), OPERATION_NAMES, `operations of ${binding.attrs.get('name')}`);
    const soapNs = { WSMailUpImportSoap: SOAP, WSMailUpImportSoap12: SOAP12 }[binding.attrs.get('name') ?? ''];
    if (soapNs === undefined) continue;
    for (const operation of operations) {
      const op = operation.attrs.get('name');
      const soapOperation: Node | undefined = operation.children.find((n) => n.name === `{${soapNs}}operation`);
      assert.equal(soapOperation?.attrs.get('soapAction'), `http://ws.mailupnet.it/${op}`, `soapAction of ${op} in ${binding.attrs.get('name')}`);
    }
  }
});

test('the generated WSDL is byte for byte the published one, apart from the address', () => {
  const generated = renderWsdl(FIXTURE_URL);
  if (generated !== FIXTURE) {
    // Point at the first differing line rather than dumping two 38 kB strings.
    const a = generated.split('\r\n');
    const e = FIXTURE.split('\r\n');
    const line = a.findIndex((l, i) => l !== e[i]);
    const at = line === -1 ? a.length : line;
    assert.fail(`first difference at line ${at + 1}:\n  generated: ${JSON.stringify(a[at])}\n  published: ${JSON.stringify(e[at])}`);
  }
});
