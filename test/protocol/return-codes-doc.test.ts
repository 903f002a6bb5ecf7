/**
 * Keeps docs/return-codes.md honest: every ReturnCode of src/protocol/return-codes.ts is in the
 * page with the table's exact meaning, the page names no code that does not exist, and a code
 * the operations return is not documented as "never".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RETURN_CODES } from '../../src/protocol/return-codes.ts';

const root = join(import.meta.dirname, '..', '..');
const page = readFileSync(join(root, 'docs', 'return-codes.md'), 'utf8');

interface Row {
  readonly code: number;
  readonly meaning: string;
  readonly returnedBy: string;
}

/** The rows of every table on the page whose first cell is a ReturnCode. */
const rows: Row[] = page.split('\n')
  .filter((line) => /^\|\s*-?\d+\s*\|/.test(line))
  .map((line) => {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    assert.equal(cells.length, 3, `a row has Code, Meaning and Returned by: ${line}`);
    return { code: Number(cells[0]), meaning: cells[1]!, returnedBy: cells[2]! };
  });

const table = new Map(Object.entries(RETURN_CODES).map(([code, meaning]) => [Number(code), meaning as string]));

test('every ReturnCode of the table is documented once, with its exact meaning', () => {
  for (const [code, meaning] of table) {
    const documented = rows.filter((r) => r.code === code);
    assert.equal(documented.length, 1, `ReturnCode ${code} is documented ${documented.length} times`);
    assert.equal(documented[0]!.meaning, meaning, `the meaning of ${code}`);
    assert.notEqual(documented[0]!.returnedBy, '', `ReturnCode ${code} says which operations return it`);
  }
});

test('the page names no ReturnCode that does not exist', () => {
  for (const row of rows) assert.ok(table.has(row.code), `docs/return-codes.md names ${row.code}, which return-codes.ts does not define`);
  // Codes mentioned in the prose must exist too.
  for (const m of page.matchAll(/(?<![\w.-])-(\d{3,4})\b/g)) {
    assert.ok(table.has(-Number(m[1])), `docs/return-codes.md mentions -${m[1]}, which return-codes.ts does not define`);
  }
});

test('a code the operations return is not documented as "never"', () => {
  const dir = join(root, 'src', 'operations');
  const returned = new Set<number>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/\bfail\((-\d+)\)/g)) returned.add(Number(m[1]));
  }
  assert.ok(returned.size > 10, 'the operations were found');
  for (const code of returned) {
    const row = rows.find((r) => r.code === code);
    assert.ok(row, `${code} is returned but not documented`);
    assert.ok(!row.returnedBy.startsWith('never'), `${code} is returned by the operations but documented as never returned`);
  }
});
