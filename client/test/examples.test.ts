/**
 * The examples are programs people copy: each runs against the real service and says what it did.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestService, type TestAccount, type TestService } from '../../test/helpers/service.ts';

let svc: TestService;
let acc: TestAccount;
before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount({ listName: 'Newsletter' });
});
after(() => svc.close());

test('examples/quickstart.ts', async () => {
  const script = fileURLToPath(new URL('../examples/quickstart.ts', import.meta.url));
  const env = { ...process.env, MAILUP_ENDPOINT: svc.url, MAILUP_USER: acc.user, MAILUP_PASSWORD: acc.password };
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', script], { env }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)));
  });
  const lines = stdout.trim().split('\n');
  assert.equal(lines[0], `list ${acc.list.id} "Newsletter" ${acc.list.guid}, 2 groups`);
  assert.match(lines[1]!, /^group "Quickstart" is \d+$/);
  assert.equal(lines.filter((l) => /^process \d+ completed: (10|5) rows$/.test(l)).length, 3);
  assert.equal(lines.at(-2), 'import completed: 25 new, 0 existing');
  assert.equal(lines.at(-1), 'ReturnCode -501: idProcess not found');
});
