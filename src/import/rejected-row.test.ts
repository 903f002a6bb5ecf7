import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldNumbersOf, MAX_KEPT, readRejectedRow, storeRejectedRow } from './rejected-row.ts';

test('a rejected row is kept field by field and read back as sent', () => {
  const row = { row: 7, email: 'not an "address", really', prefix: '0039', number: '333 123', name: 'Zoë = "Z"', fields: { 1: 'a,b', 3: '' } };
  assert.deepEqual(readRejectedRow(storeRejectedRow(row)), { email: row.email, prefix: '0039', number: '333 123', name: 'Zoë = "Z"', fields: { 1: 'a,b', 3: '' } });
});

test('a huge value is kept up to the cap, marked as cut', () => {
  const stored = storeRejectedRow({ row: 1, email: 'x@example.com', prefix: '', number: '', name: '', fields: { 1: 'y'.repeat(1_000_000) } });
  assert.ok(stored.length < MAX_KEPT + 200, String(stored.length));
  assert.equal(readRejectedRow(stored).fields[1], `${'y'.repeat(MAX_KEPT)}…`);
});

test('reports written in the older attribute form are read too', () => {
  assert.deepEqual(readRejectedRow('email="bad address" Prefix="" Number="+39 333" Name="Ann "Nan" Lee" campo1="x" campo12="a b"'), {
    email: 'bad address', prefix: '', number: '+39 333', name: 'Ann "Nan" Lee', fields: { 1: 'x', 12: 'a b' },
  });
  assert.deepEqual(readRejectedRow('email="bad"'), { email: 'bad', prefix: '', number: '', name: '', fields: {} });
  assert.deepEqual(readRejectedRow('something else'), { email: 'something else', prefix: '', number: '', name: '', fields: {} });
});

test('the field columns are the campoN numbers any row has, in order', () => {
  const fields: Record<number, string>[] = [{ 3: 'c', 1: 'a' }, {}, { 12: 'l' }];
  const rows = fields.map((f) => ({ email: '', prefix: '', number: '', name: '', fields: f }));
  assert.deepEqual(fieldNumbersOf(rows), [1, 3, 12]);
});
