/**
 * A 100,000-recipient REST bulk import (≈20 MB) over real HTTP, on both stores: accepted with its
 * import id, and completed with exact counts. How long the acceptance took is reported as a
 * diagnostic (the issue asks for under 5 s; `npm run bench:import` measures it on a quiet
 * machine), not asserted: a timed unit test fails on a busy machine, not on slow code.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, TEST_STORE, type TestAccount, type TestService } from '../helpers/service.ts';
import { callRest, login, restClientOf } from '../helpers/rest.ts';
import { waitForImport } from './import-helpers.ts';

const ROWS = 100_000;

let svc: TestService;
let acc: TestAccount;
let token: string;

before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount();
  token = (await login(svc, acc, await restClientOf(svc, acc))).access_token;
});
after(() => svc.close());

/** The body as a real client sends it: every recipient with a name, a mobile and four fields; every 1000th with a bad address. */
function body(rows: number): string {
  const parts: string[] = [];
  for (let i = 0; i < rows; i++) {
    parts.push(JSON.stringify({
      Name: `User ${i}`,
      Email: i % 1000 === 999 ? `broken-${i}` : `user${i}@example${i % 97}.com`,
      MobileNumber: String(3_000_000_000 + i),
      MobilePrefix: '+39',
      Fields: [{ Id: 1, Value: `Name${i}`, Description: 'nome' }, { Id: 2, Value: `Surname ${i % 1000}` }, { Id: 3, Value: `Company & Co ${i % 50}` }, { Id: 4, Value: `Città ${i % 20}` }],
    }));
  }
  return `[${parts.join(',')}]`;
}

test(`a body of ${ROWS.toLocaleString('en-US')} recipients is accepted at once and imported exactly`, { timeout: 600_000 }, async (t) => {
  const text = body(ROWS);
  const started = performance.now();
  const answer = await callRest(svc, token, 'POST', `/List/${acc.list.id}/Recipients`, text);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(answer.status, 200, answer.text);
  assert.equal(typeof answer.body, 'number');
  t.diagnostic(`${TEST_STORE}: ${ROWS} recipients (${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB) accepted in ${seconds.toFixed(2)} s`);
  const status = await waitForImport(svc, token, answer.body as number, 540_000);
  const invalid = ROWS / 1000;
  assert.deepEqual(status, {
    idImport: answer.body, Completed: true, CreatedRecipients: ROWS - invalid, UpdatedRecipients: 0,
    ValidRecipients: ROWS - invalid, NotValidRecipients: invalid, ImportedRecipients: ROWS - invalid,
  });
});
