import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvCell, csvLine } from './csv.ts';

test('cells are quoted when they hold a comma, a quote, a line break or outer spaces', () => {
  assert.equal(csvLine(['plain', 'a,b', 'say "hi"', 'two\nlines', ' padded', null, 42]), 'plain,"a,b","say ""hi""","two\nlines"," padded",,42\r\n');
});

test('formulas are defused; numbers and mobile numbers are left alone', () => {
  assert.equal(csvCell('=SUM(A1:A2)'), "'=SUM(A1:A2)");
  assert.equal(csvCell('@cmd'), "'@cmd");
  assert.equal(csvCell('+cmd|calc'), "'+cmd|calc");
  assert.equal(csvCell('-2+3'), "'-2+3");
  assert.equal(csvCell('+393331234567'), '+393331234567');
  assert.equal(csvCell('-12.5'), '-12.5');
  assert.equal(csvCell('anna@example.com'), 'anna@example.com');
});
