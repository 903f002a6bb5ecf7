/**
 * `POST /api/feeds/validate` over real HTTP: a feed checked with the reader and row rules of an
 * import (the rows it rejects are the rows the import rejects, with the same row numbers and
 * reasons), duplicates, channels, the list's default country, bad input, and nothing stored.
 * Runs on the store TEST_STORE names (npm test runs it on both).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { feedXml, startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { call } from '../helpers/json-api.ts';
import { runImport } from './api-helpers.ts';

interface Validation {
  rows: number; validRows: number; rejectedRows: number; duplicateRows: number;
  rejected: { row: number; reason: string; values: { email: string; number: string } }[];
  duplicates: { row: number; firstRow: number; email: string | null; mobile: string | null }[];
  channels: { email: number; sms: number }; importType: number; mobileInputType: number; listId: number | null; country: string | null;
}

let svc: TestService;
let acc: TestAccount;
let other: TestAccount;

const FEED = feedXml([
  { email: 'one@example.com', Name: 'One' },
  { email: 'broken@', Name: 'Bad' },
  { email: 'One@Example.com' },
  { Number: '3471234567' },
  { Number: '+39 347 123 4567' },
  { email: 'two@example.com', Number: '+393331112222' },
  { email: 'x'.repeat(60) + '@example.com' },
  { Name: 'nobody' },
]);

const xml = { contentType: 'application/xml' };

before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount();
  other = await svc.addAccount();
});
after(() => svc?.close());

async function counts(): Promise<number[]> {
  const out: number[] = [];
  for (const table of ['feed', 'feed_chunk', 'import_process', 'import_reject', 'recipient', 'subscription']) {
    const [r] = await svc.db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`);
    out.push(Number(r!.n));
  }
  return out;
}

test('tells rows, rejected rows with row number and reason, duplicates and channels; nothing is stored', async () => {
  const before = await counts();
  const res = await call<Validation>(svc, acc, 'POST', '/api/feeds/validate', { ...xml, body: FEED });
  assert.equal(res.status, 200, res.text);
  const v = res.body;
  assert.deepEqual([v.rows, v.validRows, v.rejectedRows, v.duplicateRows], [8, 4, 4, 1]);
  assert.deepEqual(v.rejected.map((r) => [r.row, r.reason]), [
    [2, 'invalid e-mail address'],
    [4, 'invalid mobile number: no country code (+ or 00) and the list has no default country'],
    [7, 'e-mail address longer than 50 characters'],
    [8, 'no e-mail address or mobile number'],
  ]);
  assert.equal(v.rejected[0]!.values.email, 'broken@');
  assert.deepEqual(v.duplicates, [{ row: 3, firstRow: 1, email: 'one@example.com', mobile: null }]);
  assert.deepEqual(v.channels, { email: 3, sms: 2 });
  assert.deepEqual([v.importType, v.mobileInputType, v.listId, v.country], [3, 1, null, null]);
  assert.deepEqual(await counts(), before, 'no feed, process, reject or recipient was stored');
});

test('the rows it rejects are exactly those an import of the same feed rejects', async () => {
  const validation = await call<Validation>(svc, acc, 'POST', `/api/feeds/validate?list=${acc.list.id}`, { ...xml, body: FEED });
  const id = await runImport(svc, acc, FEED);
  const report = await call<{ items: { row: number; reason: string }[] }>(svc, acc, 'GET', `/api/imports/${id}/rejects?limit=1000`);
  assert.deepEqual(validation.body.rejected.map((r) => [r.row, r.reason]), report.body.items.map((r) => [r.row, r.reason]));
});

test("the list's default country reads national mobile numbers, and importType picks the channels", async () => {
  await svc.service.store.lists.setListCountry(acc.account.id, acc.list.id, 'IT');
  try {
    const res = await call<Validation>(svc, acc, 'POST', `/api/feeds/validate?list=${acc.list.id}`, { ...xml, body: FEED });
    assert.equal(res.body.country, 'IT');
    assert.deepEqual(res.body.rejected.map((r) => r.row), [2, 7, 8]);
    // Row 5 is the same mobile as row 4, written in international form.
    assert.deepEqual(res.body.duplicates.map((d) => [d.row, d.firstRow]), [[3, 1], [5, 4]]);
    assert.deepEqual(res.body.channels, { email: 3, sms: 3 });
    const emailOnly = await call<Validation>(svc, acc, 'POST', `/api/feeds/validate?list=${acc.list.id}&importType=1`, { contentType: 'text/xml', body: FEED });
    assert.deepEqual(emailOnly.body.channels, { email: 3, sms: 0 });
    assert.deepEqual(emailOnly.body.rejected.map((r) => [r.row, r.reason]), [[2, 'invalid e-mail address'], [4, 'no e-mail address'], [5, 'no e-mail address'], [7, 'e-mail address longer than 50 characters'], [8, 'no e-mail address']]);
  } finally {
    await svc.service.store.lists.setListCountry(acc.account.id, acc.list.id, null);
  }
});

test('bad input gets a clear 4xx JSON answer', async () => {
  const cases: [string, { body?: string; contentType?: string }, number, RegExp][] = [
    ['/api/feeds/validate', { ...xml, body: '<subscribers><subscriber email="a@example.com">' }, 400, /cannot be read/],
    ['/api/feeds/validate', { ...xml, body: '<people/>' }, 400, /not <subscribers>/],
    ['/api/feeds/validate', { ...xml, body: '   ' }, 400, /empty/],
    ['/api/feeds/validate', { ...xml }, 400, /empty|body/],
    ['/api/feeds/validate', { contentType: 'application/json', body: '{}' }, 415, /./],
    ['/api/feeds/validate?importType=7', { ...xml, body: FEED }, 400, /importType/],
    ['/api/feeds/validate?mobileInputType=3', { ...xml, body: FEED }, 400, /mobileInputType/],
    ['/api/feeds/validate?list=abc', { ...xml, body: FEED }, 400, /list/],
    ['/api/feeds/validate?list=987654', { ...xml, body: FEED }, 404, /List 987654 does not exist/],
  ];
  for (const [path, options, status, message] of cases) {
    const res = await call(svc, acc, 'POST', path, options);
    assert.equal(res.status, status, `${path} ${options.body ?? ''}: ${res.text}`);
    assert.match(String(res.body.error), message, path);
  }
  // Another account's list is not found, as an unknown one.
  const foreign = await call(svc, other, 'POST', `/api/feeds/validate?list=${acc.list.id}`, { ...xml, body: FEED });
  assert.equal(foreign.status, 404);
  const anonymous = await call(svc, null, 'POST', '/api/feeds/validate', { ...xml, body: FEED });
  assert.equal(anonymous.status, 401);
});

/** The rows of FEED as a CSV, as mailup-import reads a CSV file (header names, `;` guessed). */
const CSV = [
  'Email;Number;Name;Company',
  'one@example.com;;One;ACME',
  'broken@;;Bad;',
  'One@Example.com;;;',
  ';3471234567;;',
  ';+39 347 123 4567;;',
  'two@example.com;+393331112222;;',
  `${'x'.repeat(60)}@example.com;;;`,
  ';;nobody;',
].join('\r\n');

test('a CSV is read as mailup-import reads one, and checked by the same rules: the same rows rejected as in the feed', async () => {
  const before = await counts();
  const fromFeed = await call<Validation>(svc, acc, 'POST', '/api/feeds/validate', { ...xml, body: FEED });
  const res = await call<Validation & { skippedRecords: unknown[] }>(svc, acc, 'POST', '/api/feeds/validate', { contentType: 'text/csv; charset=utf-8', body: CSV });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.rejected.map((r) => [r.row, r.reason]), fromFeed.body.rejected.map((r) => [r.row, r.reason]));
  assert.deepEqual([res.body.rows, res.body.validRows, res.body.duplicateRows], [8, 4, 1]);
  assert.deepEqual(res.body.channels, fromFeed.body.channels);
  assert.deepEqual(res.body.skippedRecords, []);
  assert.deepEqual(await counts(), before, 'nothing was stored');
});

test('a CSV record that cannot be read is left out and reported; a header without an address column, or an unknown charset, is refused', async () => {
  const broken = await call<Validation & { skippedRecords: { line: number | null; reason: string }[] }>(svc, acc, 'POST', '/api/feeds/validate', {
    contentType: 'text/csv', body: 'email,name\na@example.com,A\n"b@example.com,"B\nc@example.com,C\n',
  });
  assert.equal(broken.status, 200, broken.text);
  assert.ok(broken.body.skippedRecords.length >= 1, broken.text);
  assert.ok(broken.body.rows >= 1 && broken.body.rows < 3);
  const cases: [{ body: string; contentType: string }, RegExp][] = [
    [{ contentType: 'text/csv', body: 'first,last\nAnna,Rossi\n' }, /neither an email nor a mobile number column/],
    [{ contentType: 'text/csv; charset=utf-16', body: 'email\na@example.com\n' }, /UTF-8, windows-1252 or latin1, not utf-16/],
    [{ contentType: 'text/csv', body: '' }, /CSV cannot be read: .*empty/],
  ];
  for (const [options, message] of cases) {
    const res = await call(svc, acc, 'POST', '/api/feeds/validate', options);
    assert.equal(res.status, 400, `${options.body}: ${res.text}`);
    assert.match(String(res.body.error), message);
  }
  const semicolons = await call<Validation>(svc, acc, 'POST', '/api/feeds/validate?delimiter=%3B', { contentType: 'text/csv', body: 'email;name\na@example.com;A,B\n' });
  assert.deepEqual([semicolons.status, semicolons.body.validRows], [200, 1]);
});
