/**
 * The subscribers feed reader (spec §8): rows as real clients send them, tolerance where the spec
 * asks for it (§8.3), FeedError for everything else, bounded memory, and a generated round trip.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FeedError, FeedReader, MAX_FIELD_NUMBER, MAX_VALUE_LENGTH } from './feed-reader.ts';
import { escapeAttribute, escapeText } from '../xml/escape.ts';
import type { FeedRow } from '../model/records.ts';

/** Reads a whole feed from the given chunks, taking rows after every chunk as the upload does. */
function read(chunks: string | readonly string[]): FeedRow[] {
  const reader = new FeedReader();
  const rows: FeedRow[] = [];
  for (const c of typeof chunks === 'string' ? [chunks] : chunks) {
    reader.write(c);
    rows.push(...reader.take());
  }
  reader.end();
  rows.push(...reader.take());
  return rows;
}

function feedError(chunks: string | readonly string[], message?: RegExp): void {
  assert.throws(() => read(chunks), (err: unknown) => {
    assert.ok(err instanceof FeedError, `expected a FeedError, got ${String(err)}`);
    if (message) assert.match(err.message, message);
    return true;
  });
}

const row = (n: number, values: Partial<Omit<FeedRow, 'row'>>): FeedRow => ({
  row: n, email: '', prefix: '', number: '', name: '', fields: {}, ...values,
});

describe('rows', () => {
  test('all four attributes and the campo fields', () => {
    const feed = `<?xml version="1.0" encoding="utf-8"?>
<subscribers>
  <subscriber email="mike@example.com" Prefix="+001" Number="8889624587" Name="Mike Brown">
    <campo1>Mike</campo1>
    <campo2>Brown</campo2>
    <campo3>Example Consultancy</campo3>
    <campo4>Los Angeles</campo4>
  </subscriber>
  <subscriber email="anna@example.it" Prefix="" Number="+393331234567" Name="">
    <campo1>Anna</campo1>
  </subscriber>
</subscribers>`;
    assert.deepEqual(read(feed), [
      row(1, { email: 'mike@example.com', prefix: '+001', number: '8889624587', name: 'Mike Brown', fields: { 1: 'Mike', 2: 'Brown', 3: 'Example Consultancy', 4: 'Los Angeles' } }),
      row(2, { email: 'anna@example.it', number: '+393331234567', fields: { 1: 'Anna' } }),
    ]);
  });

  test('missing attributes are empty (MAG7 sends no Prefix); attribute names are case-sensitive', () => {
    assert.deepEqual(read('<subscribers><subscriber email="a@b.it" Number="" Name=""/><subscriber EMAIL="x@y.it" prefix="39"/></subscribers>'), [
      row(1, { email: 'a@b.it' }),
      row(2, {}),
    ]);
  });

  test('CDATA fields are kept as written, also next to text', () => {
    assert.deepEqual(read('<subscribers><subscriber email="a@b.it"><campo1><![CDATA[Rossi & <Figli>]]></campo1><campo2> <![CDATA[x]]>y </campo2></subscriber></subscribers>')[0]!.fields,
      { 1: 'Rossi & <Figli>', 2: ' xy ' });
  });

  test('empty and blank fields are kept as they are (they mean different things, spec §8.3)', () => {
    assert.deepEqual(read('<subscribers><subscriber email="a@b.it"><campo1></campo1><campo2/><campo3> </campo3></subscriber></subscribers>')[0]!.fields,
      { 1: '', 2: '', 3: ' ' });
  });

  test('campo0 and unknown elements are ignored, wherever they are', () => {
    const feed = '<subscribers><meta version="2"><campo1>no</campo1></meta>' +
      '<subscriber email="a@b.it"><campo0>zero</campo0><note>n</note><campo1>one</campo1><campoX>x</campoX><Campo2>c</Campo2>' +
      `<campo${MAX_FIELD_NUMBER + 1}>far</campo${MAX_FIELD_NUMBER + 1}><campo12345>long</campo12345></subscriber>` +
      'text<other email="b@c.it"/></subscribers>';
    assert.deepEqual(read(feed), [row(1, { email: 'a@b.it', fields: { 1: 'one' } })]);
  });

  test('campo numbering may have gaps and any order', () => {
    assert.deepEqual(read(`<subscribers><subscriber><campo20>t</campo20><campo3>c</campo3><campo${MAX_FIELD_NUMBER}>m</campo${MAX_FIELD_NUMBER}></subscriber></subscribers>`)[0]!.fields,
      { 3: 'c', 20: 't', [MAX_FIELD_NUMBER]: 'm' });
  });

  test('entities and character references are decoded in attributes and fields', () => {
    const [r] = read('<subscribers><subscriber email="a&amp;b@x.it" Name="&quot;Citt&#224;&quot; &lt;&#x1F600;&gt;"><campo1>Rossi &amp; Figli &#8364;</campo1></subscriber></subscribers>');
    assert.equal(r!.email, 'a&b@x.it');
    assert.equal(r!.name, '"Città" <😀>');
    assert.deepEqual(r!.fields, { 1: 'Rossi & Figli €' });
  });

  test('rows are numbered 1..N in document order, also when taken in several batches', () => {
    const n = 1234;
    const feed = `<subscribers>${Array.from({ length: n }, (_, i) => `<subscriber email="u${i + 1}@x.it"><campo1>${i + 1}</campo1></subscriber>`).join('\n')}</subscribers>`;
    const chunks = feed.match(/[\s\S]{1,997}/g)!;
    const rows = read(chunks);
    assert.equal(rows.length, n);
    rows.forEach((r, i) => {
      assert.equal(r.row, i + 1);
      assert.equal(r.email, `u${i + 1}@x.it`);
      assert.equal(r.fields[1], String(i + 1));
    });
  });

  test('values split across chunks at any position give the same rows', () => {
    const feed = '<subscribers><subscriber email="a&amp;b@x.it" Prefix="39"><campo1>Città &amp; <![CDATA[ok]]>😀</campo1></subscriber></subscribers>';
    const whole = read(feed);
    for (let i = 1; i < feed.length; i++) assert.deepEqual(read([feed.slice(0, i), feed.slice(i)]), whole, `cut at ${i}`);
    assert.deepEqual(read([...feed]), whole);
  });
});

describe('limits', () => {
  test('long attribute values are cut at MAX_VALUE_LENGTH, never inside a surrogate pair', () => {
    const [r] = read(`<subscribers><subscriber email="${'e'.repeat(MAX_VALUE_LENGTH + 10)}" Name="${'n'.repeat(MAX_VALUE_LENGTH - 1)}😀"/></subscribers>`);
    assert.equal(r!.email, 'e'.repeat(MAX_VALUE_LENGTH));
    assert.equal(r!.name, 'n'.repeat(MAX_VALUE_LENGTH - 1));
  });

  test('a field value is cut at MAX_VALUE_LENGTH as it streams, whatever the chunking', () => {
    const value = 'é'.repeat(MAX_VALUE_LENGTH - 1) + '😀' + 'tail';
    const feed = `<subscribers><subscriber><campo1>${value}</campo1><campo2>short</campo2></subscriber></subscribers>`;
    for (const size of [1, 7, 100, 5000, feed.length]) {
      const [r] = read(feed.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!);
      assert.deepEqual(r!.fields, { 1: 'é'.repeat(MAX_VALUE_LENGTH - 1), 2: 'short' }, `chunks of ${size}`);
    }
  });

  test('a 50 M-character field streams in bounded memory and keeps MAX_VALUE_LENGTH characters', () => {
    const reader = new FeedReader();
    reader.write('<subscribers><subscriber email="a@b.it"><campo1>');
    const piece = '€ '.repeat(32 * 1024);
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    for (let i = 0, written = 0; written < 50 * 1024 * 1024; i++) {
      const chunk = `${piece}&amp;${i}`;
      reader.write(chunk);
      written += chunk.length;
      if (i % 64 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
    reader.write('</campo1></subscriber></subscribers>');
    reader.end();
    const [r] = reader.take();
    assert.equal(r!.fields[1], piece.slice(0, MAX_VALUE_LENGTH));
    assert.ok(peak < 64 * 1024 * 1024, `heap grew by ${Math.round(peak / 1024 / 1024)} MB`);
  });

  test('a 100,000-deep nesting attempt is refused at the first write, as a FeedError', () => {
    const reader = new FeedReader();
    assert.throws(() => reader.write(`<subscribers>${'<subscriber>'.repeat(100_000)}`), (err: unknown) =>
      err instanceof FeedError && /nested too deeply/.test(err.message));
  });

  test('a tag longer than the markup limit is a FeedError', () => {
    feedError(`<subscribers><subscriber email="${'x'.repeat(2 << 20)}"/></subscribers>`, /tag too long/);
  });
});

describe('errors', () => {
  test('the root must be <subscribers>', () => {
    feedError('<subscriber email="a@b.it"/>', /root element is <subscriber>, not <subscribers>/);
    feedError('<Subscribers/>', /root element/);
    feedError('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"/>', /root element/);
  });

  test('a feed that is not well-formed is a FeedError', () => {
    for (const bad of [
      '<subscribers><subscriber email="a@b.it"></subscribers>',
      '<subscribers><subscriber email="a@b.it">',
      '<subscribers><subscriber email="Rossi & Figli"/></subscribers>',
      '<subscribers><subscriber><campo1>Rossi & Figli</campo1></subscriber></subscribers>',
      '<subscribers><subscriber email=a@b.it/></subscribers>',
      '<subscribers><subscriber email="a" email="b"/></subscribers>',
      '<subscribers></subscribers><subscribers></subscribers>',
      '<subscribers><campo1>&nbsp;</campo1></subscribers>',
      '<!DOCTYPE subscribers [<!ENTITY x "y">]><subscribers/>',
      'subscribers',
    ]) {
      feedError(bad, /not well-formed XML/);
    }
  });

  test('rows completed before the error are still handed over (the caller discards the feed)', () => {
    const reader = new FeedReader();
    reader.write('<subscribers><subscriber email="a@b.it"/>');
    assert.throws(() => reader.write('<subscriber email="x&y"/>'), FeedError);
    assert.equal(reader.take().length, 1);
  });
});

describe('empty', () => {
  test('true while only XML white space was written', () => {
    const reader = new FeedReader();
    assert.equal(reader.empty, true);
    reader.write('');
    reader.write(' \r\n\t');
    assert.equal(reader.empty, true);
    reader.write('<subscribers/>');
    assert.equal(reader.empty, false);
  });

  test('false for anything else, even when it is not XML', () => {
    for (const text of ['x', '\u00A0', '&', '<subscribers/>']) {
      const reader = new FeedReader();
      try {
        reader.write(text);
      } catch (err) {
        assert.ok(err instanceof FeedError);
      }
      assert.equal(reader.empty, false, JSON.stringify(text));
    }
  });
});

describe('round trip', () => {
  // Any text XML can carry: markup characters, quotes, white space, CR, non-ASCII, supplementary.
  const unit = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...'abcXYZ019 @.-_+') },
    { weight: 2, arbitrary: fc.constantFrom('&', '<', '>', '"', "'", '\t', '\n', '\r', '\r\n', ']]>', ']]', 'é', '€', '😀', '\u00A0', ';', '&amp;') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 2 }) },
  );
  const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
  const value = fc.string({ unit, maxLength: 20 }).map((s) => s.replace(FORBIDDEN, ''));
  const subscriber = fc.record({
    email: value,
    prefix: value,
    number: value,
    name: value,
    // Some attributes are left out: they must read as empty.
    omit: fc.subarray(['email', 'Prefix', 'Number', 'Name']),
    fields: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: MAX_FIELD_NUMBER + 5 }), value, fc.boolean()), { maxLength: 6, selector: ([n]) => n }),
    extra: fc.boolean(),
  });

  /** Text content, escaped, or as CDATA sections (a `]]>` split across two, CR as a reference between them). */
  const content = (v: string, cdata: boolean): string =>
    cdata ? `<![CDATA[${v.split(']]>').join(']]]]><![CDATA[>').replace(/\r/g, ']]>&#13;<![CDATA[')}]]>` : escapeText(v).replace(/\r/g, '&#13;');

  test('generated subscribers → escaped XML → FeedReader, in random chunks, gives them back', () => {
    fc.assert(
      fc.property(fc.array(subscriber, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (subs, cuts) => {
        const xml = '<subscribers>\n' + subs.map((s) => {
          const attrs = ([['email', s.email], ['Prefix', s.prefix], ['Number', s.number], ['Name', s.name]] as const)
            .filter(([n]) => !s.omit.includes(n)).map(([n, v]) => ` ${n}="${escapeAttribute(v)}"`).join('');
          const fields = s.fields.map(([n, v, cdata]) => `<campo${n}>${content(v, cdata)}</campo${n}>`).join('\n  ');
          return `<subscriber${attrs}>${s.extra ? '<unknown a="1">x</unknown>' : ''}\n  ${fields}\n</subscriber>`;
        }).join('\n') + '\n</subscribers>';
        const at = [...new Set(cuts.map((c) => c % (xml.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((from, i) => xml.slice(from, [...at, xml.length][i]));

        const expected = subs.map((s, i) => row(i + 1, {
          email: s.omit.includes('email') ? '' : s.email,
          prefix: s.omit.includes('Prefix') ? '' : s.prefix,
          number: s.omit.includes('Number') ? '' : s.number,
          name: s.omit.includes('Name') ? '' : s.name,
          fields: Object.fromEntries(s.fields.filter(([n]) => n >= 1 && n <= MAX_FIELD_NUMBER).map(([n, v]) => [n, v])),
        }));
        assert.deepEqual(read(chunks), expected);
      }),
      { numRuns: 500 },
    );
  });
});
