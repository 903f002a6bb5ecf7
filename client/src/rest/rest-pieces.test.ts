/**
 * The REST client's pure pieces: MailUp's dates, the paging parameters and filter quoting, the
 * page walk's stopping rules, the streamed JSON body and when it can be sent again, and the
 * conversion of importer items into REST recipients.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonArrayBody } from './json-array-body.ts';
import { filterAll, filterContains, filterEquals, pageParams, walkPages } from './paging.ts';
import { AnswerShapeError, parseRestDate, readImportStatus, readPage } from './read-answer.ts';
import { restRecipientOf } from './recipient-of.ts';
import { formatRestDate, resolveRestBase } from './rest-client.ts';
import { queryString } from './rest-transport.ts';
import type { RestPage } from './types.ts';

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('dates', () => {
  test('yyyy-MM-dd HH:mm:ss.fff in the API time zone, empty and null as null', () => {
    assert.equal(parseRestDate('2025-03-01 10:00:01.250', 'Europe/Rome')?.toISOString(), '2025-03-01T09:00:01.250Z');
    assert.equal(parseRestDate('2025-07-01 10:00:01.000', 'Europe/Rome')?.toISOString(), '2025-07-01T08:00:01.000Z');
    assert.equal(parseRestDate('2025-07-01T10:00', 'UTC')?.toISOString(), '2025-07-01T10:00:00.000Z');
    assert.equal(parseRestDate('2025-07-01', 'UTC')?.toISOString(), '2025-07-01T00:00:00.000Z');
    assert.equal(parseRestDate('', 'UTC'), null);
    assert.equal(parseRestDate(null, 'UTC'), null);
    assert.throws(() => parseRestDate('01/07/2025', 'UTC'), AnswerShapeError);
    assert.throws(() => parseRestDate('2025-13-01 00:00:00', 'UTC'), AnswerShapeError);
    assert.equal(formatRestDate(new Date('2025-03-01T09:00:01.250Z'), 'Europe/Rome'), '2025-03-01 10:00:01.250');
  });
});

describe('addresses and queries', () => {
  test('a bare origin gets the REST base; a /Console URL is read as its base', () => {
    assert.equal(resolveRestBase('http://h:8080').href, 'http://h:8080/API/v1.1/Rest/ConsoleService.svc');
    assert.equal(resolveRestBase('https://services.mailup.com/API/v1.1/Rest/ConsoleService.svc/Console/').href,
      'https://services.mailup.com/API/v1.1/Rest/ConsoleService.svc');
    assert.throws(() => resolveRestBase('ftp://h'), TypeError);
    assert.throws(() => resolveRestBase('http://u:p@h'), TypeError);
  });

  test('paging and filter parameters, spelt as the SDKs send them, values percent-encoded', () => {
    assert.deepEqual(pageParams({ pageNumber: 2, pageSize: 50, filterBy: filterEquals('Email', "o'brien@x.it"), orderBy: ['Name asc', 'idGroup desc'] }), {
      pageNumber: 2, pageSize: 50, filterby: "Email=='o''brien@x.it'", orderby: 'Name asc;idGroup desc',
    });
    assert.equal(filterAll(filterContains('Name', 'News'), filterEquals('idList', 3)), "Name.Contains('News') and idList==3");
    assert.equal(queryString({ filterby: "Email=='a b'", pageSize: 5, skip: undefined }), '?filterby=Email%3D%3D\'a%20b\'&pageSize=5');
    assert.throws(() => pageParams({ pageSize: 0 }), RangeError);
  });
});

describe('reading answers', () => {
  test('the envelope, and an import status with its counts', () => {
    const page = readPage({ IsPaginated: true, Items: [{ a: 1 }], PageNumber: 1, PageSize: 1, Skipped: 1, TotalElementsCount: 3 }, 'x', (v) => v);
    assert.deepEqual(page, { IsPaginated: true, Items: [{ a: 1 }], PageNumber: 1, PageSize: 1, Skipped: 1, TotalElementsCount: 3 });
    assert.throws(() => readPage({ Items: 3 }, 'x', (v) => v), AnswerShapeError);
    assert.deepEqual(readImportStatus({ idImport: 7, Completed: true, CreatedRecipients: 2, UpdatedRecipients: 1, ValidRecipients: 3, NotValidRecipients: 1, ImportedRecipients: 3 }), {
      idImport: 7, Completed: true, CreatedRecipients: 2, UpdatedRecipients: 1, ValidRecipients: 3, NotValidRecipients: 1, ImportedRecipients: 3,
    });
    assert.throws(() => readImportStatus({ idImport: 7 }), AnswerShapeError);
  });

  test('the walk reads ceil(total / size) pages, and stops early on IsPaginated false or an empty page', async () => {
    const pages = (total: number, size: number, paginated = total > size) => async (n: number): Promise<RestPage<number>> => {
      asked.push(n);
      const items = Array.from({ length: Math.max(0, Math.min(size, total - n * size)) }, (_, i) => n * size + i);
      return { IsPaginated: paginated, Items: items, PageNumber: n, PageSize: size, Skipped: n * size, TotalElementsCount: total };
    };
    let asked: number[] = [];
    const all = async (fetch: (n: number) => Promise<RestPage<number>>): Promise<number[]> => {
      const out: number[] = [];
      for await (const x of walkPages(fetch)) out.push(x);
      return out;
    };
    assert.deepEqual(await all(pages(7, 3)), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(asked, [0, 1, 2]);
    asked = [];
    assert.deepEqual(await all(pages(7, 3, false)), [0, 1, 2]);
    assert.deepEqual(asked, [0]);
    asked = [];
    assert.deepEqual(await all(pages(6, 3)), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(asked, [0, 1]);
    asked = [];
    // A total larger than what is there (the collection shrank): the empty page ends the walk.
    assert.deepEqual(await all(async (n) => ({ ...(await pages(4, 2)(n)), TotalElementsCount: 100 })), [0, 1, 2, 3]);
    assert.deepEqual(asked, [0, 1, 2]);
  });
});

describe('the streamed JSON body', () => {
  const toJson = (n: number): string => JSON.stringify({ Email: `r${n}@x.it` });

  test('an array is written again from its start for every stream', async () => {
    const body = new JsonArrayBody([1, 2, 3], toJson, 0);
    const first = await text(body.stream());
    assert.equal(first, '[{"Email":"r1@x.it"},{"Email":"r2@x.it"},{"Email":"r3@x.it"}]');
    assert.equal(body.replayable, true);
    assert.equal(await text(body.stream()), first);
  });

  test('an iterable is read once; a stream cancelled early is sent again from what was kept, then the rest', async () => {
    async function* many(): AsyncGenerator<number> {
      for (let i = 0; i < 20_000; i++) yield i;
    }
    const body = new JsonArrayBody(many(), toJson, 1024 * 1024);
    const reader = body.stream().getReader();
    const head = await reader.read();
    assert.ok(head.value && head.value.length > 0);
    await reader.cancel();
    assert.equal(body.replayable, true);
    const whole = JSON.parse(await text(body.stream())) as Array<{ Email: string }>;
    assert.equal(whole.length, 20_000);
    assert.deepEqual([whole[0]!.Email, whole.at(-1)!.Email], ['r0@x.it', 'r19999@x.it']);
    assert.equal(new Set(whole.map((r) => r.Email)).size, 20_000);
  });

  test('past the replay limit it cannot be sent again; an empty source is an empty array', async () => {
    async function* few(): AsyncGenerator<number> {
      yield* [1, 2, 3];
    }
    const body = new JsonArrayBody(few(), toJson, 1);
    assert.equal((JSON.parse(await text(body.stream())) as unknown[]).length, 3);
    assert.equal(body.replayable, false);
    assert.throws(() => body.stream());
    assert.equal(await text(new JsonArrayBody([], toJson, 10).stream()), '[]');
  });

  test('an error of the source ends the stream and is kept', async () => {
    async function* broken(): AsyncGenerator<number> {
      yield 1;
      throw new Error('the file went away');
    }
    const body = new JsonArrayBody(broken(), toJson, 1024);
    await assert.rejects(text(body.stream()), /the file went away/);
    assert.match(String(body.sourceError), /the file went away/);
  });
});

describe('importer items as REST recipients', () => {
  test('a CSV row: e-mail, name, mobile in its own members, fields by campo number, empty ones left out', () => {
    assert.deepEqual(restRecipientOf({ email: ' ann@x.it ', name: 'Ann', prefix: '+39', number: '3331234567', fields: ['Ann', '', 'ACME'] }), {
      ok: true,
      recipient: { Email: 'ann@x.it', Name: 'Ann', MobilePrefix: '+39', MobileNumber: '3331234567', Fields: [{ Id: 1, Value: 'Ann' }, { Id: 3, Value: 'ACME' }] },
    });
    assert.deepEqual(restRecipientOf({ email: 'b@x.it' }), { ok: true, recipient: { Email: 'b@x.it', Name: '' } });
  });

  test('an XML feed element, entities decoded', () => {
    const xml = '<subscriber email="c@x.it" Prefix="" Number="+393331112222" Name="C &amp; D"><campo1>Caff&#232;</campo1><campo2></campo2></subscriber>';
    assert.deepEqual(restRecipientOf({ xml, row: 4 }), {
      ok: true, recipient: { Email: 'c@x.it', Name: 'C & D', MobileNumber: '+393331112222', Fields: [{ Id: 1, Value: 'Caffè' }] },
    });
    assert.equal(restRecipientOf({ xml: '<subscriber email="x"><campo1>', row: 1 }).ok, false);
  });

  test('what the REST API would refuse the whole request for is refused row by row', () => {
    const long = restRecipientOf({ email: 'd@x.it', fields: { 2: 'x'.repeat(201) } });
    assert.deepEqual(long, { ok: false, reason: 'campo2 is 201 characters long; the REST API takes at most 200' });
    assert.equal(restRecipientOf({ email: 'd@x.it', fields: { 2: 'x'.repeat(200) } }).ok, true);
    assert.match((restRecipientOf({ email: 'e@x.it', fields: { 40: 'v' } }) as { reason: string }).reason, /campo40 cannot be sent over REST/);
  });
});
