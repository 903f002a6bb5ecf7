import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { asciiOnly, escapeAttribute, escapeText } from '../../src/xml/escape.ts';
import { XmlReadError, attributeOf, childElement, childElements, readXml, textOf } from './xml-reader.ts';

test('reads elements, attributes, text, CDATA and every kind of reference', () => {
  const root = readXml(`<?xml version="1.0" encoding="utf-8"?><!-- c --><a x="1 &amp; 2" y='&#233;&#x20AC;'>t&lt;e&gt;x&quot;t<b/><![CDATA[<raw>&amp;]]><c>d</c></a>`);
  assert.equal(root.name, 'a');
  assert.deepEqual(root.attributes, { x: '1 & 2', y: 'é€' });
  assert.equal(textOf(root), 't<e>x"t<raw>&amp;d');
  assert.deepEqual(childElements(root).map((e) => e.name), ['b', 'c']);
});

test('namespace prefixes are kept in the name and dropped from the local name', () => {
  const root = readXml('<soap:Envelope xmlns:soap="urn:x"><soap:Body><R xmlns="urn:y">1</R></soap:Body></soap:Envelope>');
  assert.equal(root.localName, 'Envelope');
  assert.equal(childElement(root, 'Body')?.name, 'soap:Body');
  assert.equal(textOf(childElement(childElement(root, 'Body')!, 'r')!), '1', 'child lookup ignores case');
});

test('strict mode refuses what is not well-formed; lenient mode reads MailUp quirks', () => {
  for (const bad of ['<a>&</a>', '<a><b></a>', '<a>', '<a/><b/>', 'text<a/>', '<a x=1/>', '<a>&#0;</a>']) {
    assert.throws(() => readXml(bad), XmlReadError, bad);
  }
  // The documented GetNlLists bug: unescaped & and " in names.
  const lists = readXml('<Lists><List idList="1" listGUID="g" listName="Tom & Jerry "Cartoons" Ltd"><Groups><Group idGroup="3" groupName="Say "hi"" /></Groups></List></Lists>', { lenient: true });
  const list = childElement(lists, 'List')!;
  assert.equal(attributeOf(list, 'listName'), 'Tom & Jerry "Cartoons" Ltd');
  assert.equal(attributeOf(list, 'LISTGUID'), 'g', 'attribute lookup ignores case, as the ASP client');
  assert.equal(attributeOf(childElement(childElement(list, 'Groups')!, 'Group')!, 'groupName'), 'Say "hi"');
  // The old GetProcessDetails sample's mismatched tags.
  const old = readXml('<ImportProcess><NewMobile>0</ NewMobile ><OptOut>1</OptOutEmail></OptOut><x>2</x></importprocess>', { lenient: true });
  assert.equal(textOf(childElement(old, 'NewMobile')!), '0');
  assert.equal(textOf(childElement(old, 'x')!), '2');
});

test('DTDs are refused in both modes', () => {
  const xxe = '<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>';
  assert.throws(() => readXml(xxe), /document type/);
  assert.throws(() => readXml(xxe, { lenient: true }), /document type/);
});

test('reads back any text and attribute the server escapes, ASCII-only form included', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (text, attr) => {
    const legal = (s: string): string =>
      s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\r/g, '');
    const t = legal(text);
    const a = legal(attr);
    const xml = asciiOnly(`<r a="${escapeAttribute(a)}">${escapeText(t)}</r>`);
    for (const lenient of [false, true]) {
      const root = readXml(xml, { lenient });
      assert.equal(textOf(root), t);
      assert.equal(root.attributes.a, a);
    }
  }), { numRuns: 300 });
});
