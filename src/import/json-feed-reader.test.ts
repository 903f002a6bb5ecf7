/**
 * The REST bulk-import body reader: rows as MailUp's clients send them, a JsonFeedError naming the
 * element and the fault for every body the import cannot take, and rows that do not depend on how
 * the body is cut into chunks.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonFeedError, JsonFeedReader, MAX_ELEMENT_BYTES, recipientValues } from './json-feed-reader.ts';
import { FeedError } from './feed-reader.ts';
import type { FeedRow } from '../model/records.ts';

function read(chunks: string | Buffer | readonly (string | Buffer)[], maxRows?: number): FeedRow[] {
  const reader = new JsonFeedReader(maxRows === undefined ? { maxFieldId: 39 } : { maxFieldId: 39, maxRows });
  const rows: FeedRow[] = [];
  const pieces = typeof chunks === 'string' || Buffer.isBuffer(chunks) ? [chunks] : chunks;
  for (const c of pieces) {
    reader.write(typeof c === 'string' ? Buffer.from(c) : c);
    rows.push(...reader.take());
  }
  reader.end();
  rows.push(...reader.take());
  return rows;
}

function refused(body: string | Buffer | readonly (string | Buffer)[], message: RegExp, maxRows?: number): void {
  assert.throws(() => read(body, maxRows), (err: unknown) => {
    assert.ok(err instanceof JsonFeedError, `expected a JsonFeedError, got ${String(err)}`);
    assert.ok(err instanceof FeedError, 'a JsonFeedError is a FeedError: the feed upload treats both alike');
    assert.match(err.message, message);
    return true;
  });
}

const row = (n: number, values: Partial<Omit<FeedRow, 'row'>>): FeedRow => ({
  row: n, email: '', prefix: '', number: '', name: '', fields: {}, ...values,
});

describe('recipients', () => {
  test('the members of a recipient become a feed row; Description and idRecipient are ignored', () => {
    const body = JSON.stringify([
      { idRecipient: 18, Name: 'Ann', Email: 'ann@example.com', MobileNumber: '3331234567', MobilePrefix: '+39',
        Fields: [{ Description: 'nome', Id: 1, Value: 'Ann' }, { Id: 39, Value: 'last' }] },
      { Name: '', Email: 'bob@example.com', MobileNumber: null, MobilePrefix: null, Fields: [] },
    ]);
    assert.deepEqual(read(body), [
      row(1, { email: 'ann@example.com', prefix: '+39', number: '3331234567', name: 'Ann', fields: { 1: 'Ann', 39: 'last' } }),
      row(2, { email: 'bob@example.com' }),
    ]);
  });

  test('missing members and null are empty; an empty or null Value is kept as empty (the engine decides)', () => {
    assert.deepEqual(read('[{"Email":"a@b.it"},{"MobileNumber":"+393331234567","Fields":null},{"Fields":[{"Id":2,"Value":""},{"Id":3,"Value":null},{"Id":4}]}]'), [
      row(1, { email: 'a@b.it' }),
      row(2, { number: '+393331234567' }),
      row(3, { fields: { 2: '', 3: '', 4: '' } }),
    ]);
  });

  test('a numeric Value is taken as written', () => {
    assert.deepEqual(read('[{"Email":"a@b.it","Fields":[{"Id":5,"Value":20121},{"Id":6,"Value":1.5}]}]'), [
      row(1, { email: 'a@b.it', fields: { 5: '20121', 6: '1.5' } }),
    ]);
  });

  test('invalid e-mail addresses and mobile numbers are rows for the engine to reject, not errors', () => {
    assert.deepEqual(read('[{"Email":"not an address"},{"MobileNumber":"12","MobilePrefix":"x"},{}]'), [
      row(1, { email: 'not an address' }), row(2, { number: '12', prefix: 'x' }), row(3, {}),
    ]);
  });

  test('white space anywhere between tokens, a byte-order mark, escapes and non-ASCII text', () => {
    const body = '\ufeff \n[ \t{ "Email" : "a\\u0040b.it" , "Name":"Citt\\u00e0 \\"Vecchia\\" \\\\ ok", "Fields" : [ { "Id" : 1 , "Value" : "Zoë 😀" } ] } \r\n ] \n';
    assert.deepEqual(read(body), [row(1, { email: 'a@b.it', name: 'Città "Vecchia" \\ ok', fields: { 1: 'Zoë 😀' } })]);
  });

  test('member names are matched without regard to case; read-only members of a recipient read back are ignored', () => {
    assert.deepEqual(read('[{"email":"a@b.it","NAME":"A","fields":[{"id":1,"value":"x","description":"nome"}]}]'), [row(1, { email: 'a@b.it', name: 'A', fields: { 1: 'x' } })]);
    assert.deepEqual(read('[{"idRecipient":3,"Email":"a@b.it","Status":"OPTIN","Optin_Date":"2020-01-27 10:38:00.000","Optout_Type":null}]'), [row(1, { email: 'a@b.it' })]);
  });

  test('very long strings are cut as the XML feed cuts them, and rejected by the row rules', () => {
    const rows = read(JSON.stringify([{ Email: `${'x'.repeat(10_000)}@b.it` }]));
    assert.equal(rows[0]!.email.length, 4096);
  });
});

describe('bodies the import cannot take', () => {
  test('empty, white space, an empty array', () => {
    refused('', /empty: it must be a JSON array/);
    refused('  \n ', /empty: it must be a JSON array/);
    refused('[]', /empty array: there is no recipient/);
    refused(' [ ] ', /empty array/);
  });

  test('a top level that is not an array', () => {
    refused('{"Email":"a@b.it"}', /must be a JSON array of recipients.*starts with an object/);
    refused('"x"', /starts with a string/);
    refused('42', /starts with a number/);
    refused('null', /starts with null/);
    refused('<subscribers/>', /starts with the character '<'/);
  });

  test('elements that are not objects name their index', () => {
    refused('[{"Email":"a@b.it"}, "b@c.it"]', /Element 1 of the array is a string, not a recipient object/);
    refused('[[{"Email":"a@b.it"}]]', /Element 0 of the array is an array/);
    refused('[{"Email":"a@b.it"},null]', /Element 1 of the array is null/);
    refused('[{},{},7]', /Element 2 of the array is a number/);
  });

  test('JSON syntax: inside an element, between elements, after the array', () => {
    refused('[{"Email":"a@b.it",}]', /Element 0 of the array is not valid JSON/);
    refused('[{"Email":"a@b.it"},{"Email":\'c@d.it\'}]', /Element 1 of the array is not valid JSON/);
    refused('[{"Email":"a@b.it"} {"Email":"c@d.it"}]', /after element 0 comes an object \(at byte 20\), not ',' or '\]'/);
    refused('[{"Email":"a@b.it"},]', /a comma after element 0 is followed by '\]'/);
    refused('[{"Email":"a@b.it"}] x', /the character 'x' follows the end of the array/);
    refused('[{"Email":"a@b.it"}][]', /an array follows the end of the array/);
    refused('[{"a":[1}]', /Element 0 of the array is not valid JSON/);
    refused('[{"a":"tab\there"}]', /Element 0 of the array is not valid JSON/);
  });

  test('a body cut short', () => {
    refused('[{"Email":"a@b.it"}', /ended before the array was closed/);
    refused('[{"Email":"a@b.it"},', /ended before the array was closed/);
    refused('[{"Email":"a@b', /ended inside element 0/);
    refused('[{"Email":"a@b.it"},{"Name":"x\\', /ended inside element 1/);
  });

  test('invalid UTF-8 is refused, not replaced', () => {
    refused(Buffer.concat([Buffer.from('[{"Email":"a@b.it","Name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]')]), /Element 0 of the array is not valid UTF-8/);
  });

  test('members of the wrong type', () => {
    refused('[{"Email":"a@b.it"},{"Email":5}]', /Element 1: Email must be a string or null, not the number 5/);
    refused('[{"Name":true}]', /Element 0: Name must be a string or null, not the boolean true/);
    refused('[{"MobileNumber":{"n":1}}]', /Element 0: MobileNumber must be a string or null, not an object/);
    refused('[{"MobilePrefix":[39]}]', /Element 0: MobilePrefix must be a string or null, not an array/);
    refused('[{"Fields":{"Id":1}}]', /Element 0: Fields must be an array/);
    refused('[{"Fields":["x"]}]', /Element 0: Fields\[0\] must be an object/);
    refused('[{"Fields":[{"Id":1,"Value":true}]}]', /Element 0: Fields\[0\]\.Value must be a string, not the boolean true/);
    refused('[{"Fields":[{"Id":1,"Value":"x","Description":3}]}]', /Fields\[0\]\.Description must be a string/);
  });

  test('unknown members and members given twice are refused by name', () => {
    refused('[{"Email":"a@b.it"},{"Emial":"c@d.it"}]', /Element 1: unknown member "Emial"; expected Name, Email, MobileNumber, MobilePrefix, Fields/);
    refused('[{"Email":"a@b.it","email":"c@d.it"}]', /Element 0: the member Email is given twice/);
    refused('[{"Fields":[{"Id":1,"Value":"a","Notes":"x"}]}]', /Element 0: Fields\[0\]: unknown member "Notes"; expected Id, Value, Description/);
  });

  test('field ids outside 1..39, missing, not whole, or given twice', () => {
    refused('[{},{"Fields":[{"Id":1,"Value":"a"},{"Id":40,"Value":"b"}]}]', /Element 1: Fields\[1\]\.Id must be a whole number from 1 to 39, not the number 40/);
    refused('[{"Fields":[{"Id":0,"Value":"a"}]}]', /Fields\[0\]\.Id must be a whole number from 1 to 39, not the number 0/);
    refused('[{"Fields":[{"Value":"a"}]}]', /Fields\[0\]\.Id must be a whole number from 1 to 39, not missing/);
    refused('[{"Fields":[{"Id":"1","Value":"a"}]}]', /not a string/);
    refused('[{"Fields":[{"Id":1.5,"Value":"a"}]}]', /not the number 1.5/);
    refused('[{"Fields":[{"Id":3,"Value":"a"},{"Id":3,"Value":"b"}]}]', /Fields\[1\]\.Id 3 is given twice/);
  });

  test('a Value longer than 200 characters', () => {
    assert.equal(read(JSON.stringify([{ Fields: [{ Id: 1, Value: 'é'.repeat(200) }] }]))[0]!.fields[1], 'é'.repeat(200));
    refused(JSON.stringify([{}, {}, { Fields: [{ Id: 7, Value: 'x'.repeat(201) }] }]), /Element 2: Fields\[0\]\.Value is 201 characters long; a field holds at most 200/);
  });

  test('an element larger than the bound is refused as it grows, not once it is read', () => {
    const reader = new JsonFeedReader({ maxFieldId: 39 });
    reader.write(Buffer.from('[{"Name":"'));
    const piece = Buffer.alloc(64 * 1024, 0x61);
    assert.throws(() => {
      for (let i = 0; i <= MAX_ELEMENT_BYTES / piece.length; i++) reader.write(piece);
    }, /Element 0 of the array is larger than 1 MiB/);
  });

  test('more rows than the cap', () => {
    assert.equal(read('[{},{},{}]', 3).length, 3);
    refused('[{},{},{},{}]', /more than 3 recipients, the most one import takes/, 3);
  });
});

describe('one recipient object', () => {
  test('recipientValues reads a recipient for any call that takes one; messages start with the caller\'s words', () => {
    assert.deepEqual(recipientValues({ Email: 'a@b.it', name: 'A', Fields: [{ Id: 2, Value: 'x' }], idRecipient: 4 }, 'The recipient', 39),
      { email: 'a@b.it', prefix: '', number: '', name: 'A', fields: { 2: 'x' } });
    assert.throws(() => recipientValues([], 'The recipient', 39), /^JsonFeedError: The recipient is an array, not a recipient object\.$/);
    assert.throws(() => recipientValues({ Fields: [{ Id: 12, Value: 'x' }] }, 'The recipient', 11), /The recipient: Fields\[0\]\.Id must be a whole number from 1 to 11, not the number 12/);
  });
});

describe('chunking', () => {
  test('a body cut at every position gives the same rows', () => {
    const body = Buffer.from(JSON.stringify([
      { Name: 'Zoë "Z" \\', Email: 'zoe@example.com', Fields: [{ Id: 1, Value: '😀 \u00e0 \\" ]}' }] },
      { Email: 'b@c.it', MobileNumber: '333', MobilePrefix: '0039', Fields: [{ Id: 2, Value: '[{,}]' }] },
    ]).replace(/,/g, ' , '));
    const whole = read(body);
    for (let cut = 0; cut <= body.length; cut++) {
      assert.deepEqual(read([body.subarray(0, cut), body.subarray(cut)]), whole, `cut at ${cut}`);
    }
    assert.deepEqual(read([...body].map((b) => Buffer.from([b]))), whole, 'one byte at a time');
  });

  test('generated recipients survive any chunking', () => {
    const text = fc.string({ unit: 'binary', maxLength: 30 });
    const recipient = fc.record({
      Name: fc.oneof(text, fc.constant(null)),
      Email: text,
      MobileNumber: fc.oneof(text, fc.constant(null)),
      Fields: fc.uniqueArray(fc.record({ Id: fc.integer({ min: 1, max: 39 }), Value: text }), { selector: (f) => f.Id, maxLength: 5 }),
    }, { requiredKeys: ['Email'] });
    fc.assert(fc.property(fc.array(recipient, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (recipients, cuts) => {
      const body = Buffer.from(JSON.stringify(recipients, null, cuts.length % 2 ? 1 : 0));
      const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let from = 0;
      for (const p of points) {
        chunks.push(body.subarray(from, p));
        from = p;
      }
      chunks.push(body.subarray(from));
      const expected = recipients.map((r, i) => row(i + 1, {
        email: r.Email, name: r.Name ?? '', number: r.MobileNumber ?? '',
        fields: Object.fromEntries((r.Fields ?? []).map((f) => [f.Id, f.Value])),
      }));
      assert.deepEqual(read(chunks), expected);
    }), { numRuns: 300 });
  });
});
