import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FeedReader } from '../../src/import/feed-reader.ts';
import type { FeedRow } from '../../src/model/records.ts';
import { buildFeed } from './feed-builder.ts';
import { FeedInputError, readXmlFeed, type RawSubscriber } from './xml-feed.ts';

function serverRows(xml: string): FeedRow[] {
  const reader = new FeedReader();
  reader.write(xml);
  reader.end();
  return reader.take();
}

async function split(input: Iterable<Uint8Array | string>): Promise<RawSubscriber[]> {
  async function* source(): AsyncGenerator<Uint8Array | string> {
    yield* input;
  }
  const out: RawSubscriber[] = [];
  for await (const s of readXmlFeed(source())) out.push(s);
  return out;
}

function* pieces(text: string | Buffer, size: number): Generator<string | Buffer> {
  for (let i = 0; i < text.length; i += size) yield typeof text === 'string' ? text.slice(i, i + size) : text.subarray(i, i + size);
}

const FEED = `<?xml version="1.0" encoding="utf-8"?>
<!-- exported </subscriber> -->
<subscribers>
  <subscriber email="a@b.it" Prefix="" Number="" Name="a > b"><campo1><![CDATA[</subscriber> & <x>]]></campo1><campo2>Città</campo2></subscriber>
  <other/>
  <subscriber email='c@d.it' Prefix="+39" Number="333" Name=""/>
  <?pi </subscriber> ?>
  <subscriber email="e@f.it" Prefix="" Number="" Name=""><campo1>x</campo1></subscriber>
</subscribers>
`;

test('cuts out each <subscriber> as written, whatever is inside quotes, comments, CDATA or PIs, in any chunking', async () => {
  const expected = serverRows(FEED);
  for (const size of [1, 3, 17, FEED.length]) {
    const raw = await split(pieces(Buffer.from(FEED), size));
    assert.deepEqual(raw.map((r) => r.row), [1, 2, 3]);
    assert.match(raw[0]!.xml, /^<subscriber email="a@b.it".*<\/subscriber>$/);
    assert.equal(raw[1]!.xml, `<subscriber email='c@d.it' Prefix="+39" Number="333" Name=""/>`);
    assert.deepEqual(serverRows(`<subscribers>${raw.map((r) => r.xml).join('')}</subscribers>`), expected, `chunks of ${size}`);
  }
});

test('honours a windows-1252 declaration', async () => {
  const bytes = Buffer.concat([
    Buffer.from('<?xml version="1.0" encoding="windows-1252"?><subscribers><subscriber email="a@b.it"><campo1>'),
    Buffer.from([0x80, 0x20, 0xe0]),
    Buffer.from('</campo1></subscriber></subscribers>'),
  ]);
  const [raw] = await split([bytes]);
  assert.equal(serverRows(`<subscribers>${raw!.xml}</subscribers>`)[0]!.fields[1], '€ à');
});

test('refuses what is not a subscribers feed', async () => {
  const bad: Array<[string, RegExp]> = [
    ['<people><subscriber/></people>', /root element is <people>/],
    ['<subscribers><subscriber email="a"></subscribers>', /closes <subscribers>|ends/],
    ['<subscribers><subscriber email="a"/>', /ends before/],
    ['<subscribers/><subscribers/>', /second root/],
    ['<subscribers>text<subscriber/></subscribers>', /text between/],
    ['<!DOCTYPE x [<!ENTITY e "e">]><subscribers/>', /document type/],
    ['', /no <subscribers>/],
    ['<?xml version="1.0" encoding="koi8-r"?><subscribers/>', /not supported/],
  ];
  for (const [xml, message] of bad) await assert.rejects(split([Buffer.from(xml)]), (err: unknown) => err instanceof FeedInputError && message.test(err.message), xml);
});

test('any built feed splits back into its subscribers', async () => {
  const text = fc.string({ unit: 'grapheme', maxLength: 10 });
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ email: text, name: text, fields: fc.array(text, { maxLength: 3 }) }), { maxLength: 6 }), fc.integer({ min: 1, max: 40 }),
    async (subs, size) => {
      const feed = buildFeed(subs);
      const raw = await split(pieces(feed, size));
      assert.equal(raw.length, subs.length);
      assert.equal(`<subscribers>${raw.map((r) => r.xml).join('')}</subscribers>`, feed);
    },
  ), { numRuns: 150 });
});
