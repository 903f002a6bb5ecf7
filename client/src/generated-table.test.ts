/**
 * The client's copy of the protocol table must be what the generator makes of the server's
 * table today: when src/protocol/operations.ts or return-codes.ts change, this fails until
 * `npm run generate:client` is run and the result committed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as server from '../../src/protocol/operations.ts';
import { RETURN_CODES as SERVER_RETURN_CODES } from '../../src/protocol/return-codes.ts';
import * as client from './generated/operations.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GENERATED = fileURLToPath(new URL('./generated/operations.ts', import.meta.url));

test('client/src/generated/operations.ts is what the generator writes now', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-generated-'));
  try {
    const fresh = join(dir, 'operations.ts');
    await promisify(execFile)(process.execPath, ['scripts/generate-client-table.mjs', '--out', fresh], { cwd: ROOT });
    assert.equal(readFileSync(GENERATED, 'utf8'), readFileSync(fresh, 'utf8'), 'out of date: run npm run generate:client');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('client/src/generated/time-format.ts is a copy of the server\'s src/core/time-format.ts', async () => {
  const copy = readFileSync(fileURLToPath(new URL('./generated/time-format.ts', import.meta.url)), 'utf8');
  assert.ok(copy.endsWith(readFileSync(join(ROOT, 'src/core/time-format.ts'), 'utf8')), 'out of date: run npm run generate:client');
  // --check without --out checks both generated files.
  await promisify(execFile)(process.execPath, ['scripts/generate-client-table.mjs', '--check'], { cwd: ROOT });
});

test('the copied data equals the server\'s tables', () => {
  assert.deepEqual(client.OPERATIONS, server.OPERATIONS);
  assert.deepEqual(client.OPERATION_NAMES, server.OPERATION_NAMES);
  assert.deepEqual(client.AUTHENTICATION_FIELDS, server.AUTHENTICATION_FIELDS);
  assert.equal(client.SERVICE_NAMESPACE, server.SERVICE_NAMESPACE);
  assert.equal(client.SERVICE_PATH, server.SERVICE_PATH);
  assert.equal(client.SERVICE_NAME, server.SERVICE_NAME);
  assert.deepEqual({ ...client.RETURN_CODES }, Object.fromEntries(Object.entries(SERVER_RETURN_CODES)));
  for (const op of server.OPERATION_NAMES) assert.equal(client.soapActionOf(op), server.soapActionOf(op));
});

test('--check fails on a stale copy and passes on a fresh one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-generated-'));
  try {
    const copy = join(dir, 'operations.ts');
    const current = readFileSync(GENERATED, 'utf8');
    writeFileSync(copy, current);
    await promisify(execFile)(process.execPath, ['scripts/generate-client-table.mjs', '--check', '--out', copy], { cwd: ROOT });
    // What the file would hold had the server renamed a parameter since it was generated.
    writeFileSync(copy, current.replace("name: 'idConfirmNL'", "name: 'idConfirmMessage'"));
    await assert.rejects(
      promisify(execFile)(process.execPath, ['scripts/generate-client-table.mjs', '--check', '--out', copy], { cwd: ROOT }),
      (err: { code?: number; stderr?: string }) => err.code === 1 && /is out of date: run npm run generate:client/.test(err.stderr ?? ''),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
