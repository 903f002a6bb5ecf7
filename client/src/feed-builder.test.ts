import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FeedReader } from '../../src/import/feed-reader.ts';
import type { FeedRow } from '../../src/model/records.ts';
import { FeedBuilder, buildFeed, streamFeed, type Subscriber } from './feed-builder.ts';

/** What the server's own feed reader makes of a feed. */
function serverRows(xml: string | readonly string[]): FeedRow[] {
  const reader = new FeedReader();
  for (const chunk of typeof xml === 'string' ? [xml] : xml) reader.write(chunk);
  reader.end();
  return reader.take();
}

test('the documented layout: attributes in order, campo elements in order with empty ones kept', () => {
  const xml = buildFeed([
    { email: 'mike@example.com', fields: ['Mike', null, 'Example & Co'] },
    { email: ' anna@example.com ', name: 'Anna', fields: { 2: 'Rossi' } },
  ]);
  assert.equal(xml,
    '<subscribers>' +
    '<subscriber email="mike@example.com" Prefix="" Number="" Name=""><campo1>Mike</campo1><campo2></campo2><campo3>Example &amp; Co</campo3></subscriber>' +
    '<subscriber email="anna@example.com" Prefix="" Number="" Name="Anna"><campo1></campo1><campo2>Rossi</campo2><campo3></campo3></subscriber>' +
    '</subscribers>');
});

test('mobileInputType 1 writes the whole number in Number, 2 splits Prefix and Number', () => {
  const s: Subscriber = { prefix: '+001', number: '8889624587' };
  assert.match(new FeedBuilder({ mobileInputType: 1 }).subscriber(s), /Prefix="" Number="\+0018889624587"/);
  assert.match(new FeedBuilder({ mobileInputType: 2 }).subscriber(s), /Prefix="\+001" Number="8889624587"/);
  assert.match(new FeedBuilder({ mobileInputType: 1 }).subscriber({ prefix: '+39' }), /Prefix="" Number=""/);
  const [one] = serverRows(buildFeed([s], { mobileInputType: 1 }));
  const [two] = serverRows(buildFeed([s], { mobileInputType: 2 }));
  assert.deepEqual([one!.prefix, one!.number], ['', '+0018889624587']);
  assert.deepEqual([two!.prefix, two!.number], ['+001', '8889624587']);
});

test('fieldCount pads every subscriber and refuses more fields', () => {
  const builder = new FeedBuilder({ fieldCount: 2 });
  assert.equal(builder.subscriber({ email: 'a@b.it' }), '<subscriber email="a@b.it" Prefix="" Number="" Name=""><campo1></campo1><campo2></campo2></subscriber>');
  assert.throws(() => builder.subscriber({ fields: ['1', '2', '3'] }), RangeError);
  assert.throws(() => new FeedBuilder({ mobileInputType: 3 as 1 }), RangeError);
  assert.throws(() => buildFeed([{ fields: { 0: 'x' } }]), /not a campo number/);
});

test('characters XML cannot carry are dropped; the rest reaches the server unchanged', () => {
  const [row] = serverRows(buildFeed([{ email: 'a@b.it', name: 'Tab\there', fields: ['bell\x07 <&> "q" \'s\' \ud83d\ude00 \ud800 end', 'line\r\nbreak'] }]));
  assert.equal(row!.name, 'Tab\there');
  assert.equal(row!.fields[1], 'bell <&> "q" \'s\' \ud83d\ude00  end');
  assert.equal(row!.fields[2], 'line\r\nbreak');
});

const text = fc.string({ unit: 'binary', maxLength: 40 })
  .map((s) => s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, ''));
const subscriber = fc.record({
  email: text, prefix: text, number: text, name: text, fields: fc.array(text, { maxLength: 6 }),
}) as fc.Arbitrary<{ email: string; prefix: string; number: string; name: string; fields: string[] }>;

test('whatever the values, the server reads back what was built, streamed or not', async () => {
  await fc.assert(fc.asyncProperty(fc.array(subscriber, { maxLength: 8 }), fc.constantFrom(1, 2) as fc.Arbitrary<1 | 2>, async (subs, mobileInputType) => {
    const fieldCount = Math.max(0, ...subs.map((s) => s.fields.length));
    const whole = buildFeed(subs, { mobileInputType });
    const chunks: string[] = [];
    for await (const chunk of streamFeed(subs, { mobileInputType, fieldCount })) chunks.push(chunk);
    assert.equal(chunks.join(''), whole);
    const rows = serverRows(chunks);
    assert.equal(rows.length, subs.length);
    rows.forEach((row, i) => {
      const s = subs[i]!;
      const prefix = s.prefix.trim();
      const number = s.number.trim();
      assert.equal(row.email, s.email.trim());
      assert.equal(row.name, s.name);
      assert.deepEqual([row.prefix, row.number], mobileInputType === 2 ? [prefix, number] : ['', number === '' ? '' : prefix + number]);
      const expected: Record<number, string> = {};
      for (let n = 1; n <= fieldCount; n++) expected[n] = s.fields[n - 1] ?? '';
      assert.deepEqual(row.fields, expected);
    });
  }), { numRuns: 150 });
});
