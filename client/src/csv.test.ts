import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputEncodingError } from './charset.ts';
import { CsvInputError, guessDelimiter, readCsvSubscribers, type CsvOptions, type CsvSubscriber } from './csv.ts';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The input in pieces of `size` bytes, so multi-byte characters and quotes get split. */
function* pieces(bytes: Buffer, size: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(input: Iterable<Uint8Array | string>, options?: CsvOptions): Promise<{ rows: CsvSubscriber[]; fieldCount: number; ignored: readonly string[]; delimiter: string; skipped: number }> {
  const csv = await readCsvSubscribers(input, options);
  const rows: CsvSubscriber[] = [];
  for await (const row of csv) rows.push(row);
  return { rows, fieldCount: csv.fieldCount, ignored: csv.ignoredColumns, delimiter: csv.delimiter, skipped: csv.skipped.length };
}

test('quotes, commas, line breaks in values, multi-byte characters and a byte-order mark, in any chunking', async () => {
  const text = 'Email,Campo1,campo3,Mobile,Notes\r\n' +
    '"anna@example.com","Anna ""Nan"" Rossi","Via Roma, 1",+393331234567,x\r\n' +
    'luca@example.com,"Città\nnuova",😀 €,,y\r\n' +
    '\r\n' +
    'zoë@example.com,Zoë,,,\r\n';
  const bytes = Buffer.concat([BOM, Buffer.from(text, 'utf8')]);
  for (const size of [1, 2, 3, 7, bytes.length]) {
    const { rows, fieldCount, ignored } = await readAll(pieces(bytes, size));
    assert.equal(fieldCount, 3);
    assert.deepEqual(ignored, ['Notes']);
    assert.deepEqual(rows.map((r) => [r.row, r.email, r.number, r.fields]), [
      [1, 'anna@example.com', '+393331234567', ['Anna "Nan" Rossi', '', 'Via Roma, 1']],
      [2, 'luca@example.com', '', ['Città\nnuova', '', '😀 €']],
      [3, 'zoë@example.com', '', ['Zoë', '', '']],
    ], `chunks of ${size}`);
    assert.deepEqual(rows.map((r) => r.line), [2, 4, 6]);
  }
});

test('the delimiter is guessed from the header, quotes respected', async () => {
  assert.equal(guessDelimiter('email;campo1;"a,b,c"\n'), ';');
  assert.equal(guessDelimiter('email\tcampo1\n'), '\t');
  assert.equal(guessDelimiter('email\n'), ',');
  const { rows, delimiter } = await readAll(['email;campo1\n', 'a@b.it;"x;y,z"\n']);
  assert.equal(delimiter, ';');
  assert.deepEqual(rows[0]!.fields, ['x;y,z']);
});

test('columns mapped by name; header problems are reported with the line', async () => {
  const { rows, fieldCount } = await readAll(['Mail,First name,Last name,Prefix,Cell\nm@x.it,Mario,Bianchi,+39,333\n'], {
    columns: { mail: 'email', 'first name': 1, 'LAST NAME': 2, cell: 'number' },
  });
  assert.equal(fieldCount, 2);
  assert.deepEqual(rows.map((r) => [r.email, r.prefix, r.number, r.fields]), [['m@x.it', '+39', '333', ['Mario', 'Bianchi']]]);
  await assert.rejects(readAll(['name,campo1\nx,y\n']), (err: unknown) => err instanceof CsvInputError && /neither an email nor a mobile/.test(err.message) && err.line === 1);
  await assert.rejects(readAll(['email,e-mail\n']), /both give email/);
  await assert.rejects(readAll(['email\n'], { columns: { missing: 1 } }), /no column "missing"/);
  await assert.rejects(readAll(['']), /empty/);
});

test('a record that cannot be read is left out and reported with its line, not thrown', async () => {
  const csv = await readCsvSubscribers(['email,campo1\na@b.it,x\nb@b.it,"w"x\n']);
  const rows: string[] = [];
  for await (const row of csv) rows.push(row.email);
  assert.deepEqual(rows, ['a@b.it']);
  assert.equal(csv.skipped[0]!.line, 3);
  assert.match(csv.skipped[0]!.reason, /got "x" instead of delimiter/);
  await assert.rejects(readAll(['"email,campo1\n']), (err: unknown) => err instanceof CsvInputError && /header cannot be read/.test(err.message));
});

test('rows shorter than the header get empty values; UTF-8 errors name the encoding option', async () => {
  const { rows } = await readAll(['email,campo1,campo2\na@b.it\n']);
  assert.deepEqual(rows[0]!.fields, ['', '']);
  const latin1 = Buffer.from('email,campo1\na@b.it,Citt\xe0\n', 'latin1');
  await assert.rejects(readAll([latin1]), InputEncodingError);
  assert.deepEqual((await readAll([latin1], { encoding: 'latin1' })).rows[0]!.fields, ['Città']);
  const cp1252 = Buffer.from([...Buffer.from('email,campo1\na@b.it,'), 0x80, 0x93, 0x94, 0x0a]);
  assert.deepEqual((await readAll([cp1252], { encoding: 'windows-1252' })).rows[0]!.fields, ['€“”']);
});

test('any values survive writing as CSV and reading back in random chunks', async () => {
  const value = fc.string({ unit: 'grapheme', maxLength: 12 });
  await fc.assert(fc.asyncProperty(
    fc.array(fc.tuple(value, value, value), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 16 }),
    async (records, size) => {
      const quote = (v: string): string => `"${v.replace(/"/g, '""')}"`;
      const text = `email,campo1,campo2\n${records.map((r) => r.map(quote).join(',')).join('\n')}\n`;
      const { rows, skipped } = await readAll(pieces(Buffer.concat([BOM, Buffer.from(text)]), size));
      assert.equal(skipped, 0);
      assert.deepEqual(rows.map((r) => [r.email, ...r.fields]), records);
    },
  ), { numRuns: 100 });
});
