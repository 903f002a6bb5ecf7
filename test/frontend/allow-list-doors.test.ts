/**
 * The HTTP-API allow-list through every door that sets it (on the store TEST_STORE names; npm test
 * runs it on both): the admin CLI as a real process (`account http-api-ips`), the console's Web
 * services page, and the demo account a first start creates, whose banner line says who may call.
 * Each door stores the same canonical entries, refuses what is not an address or range with
 * nothing changed, and the very next HTTP call obeys the result.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConsoleUser } from '../../src/core/accounts.ts';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { startChildServer, stopChildServer } from '../helpers/child-server.ts';
import { ConsoleBrowser } from '../helpers/console-browser.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { code, form } from './frontend-client.ts';

let svc: TestService;
before(async () => {
  // The CLI is another process: what it writes must show in the very next call.
  svc = await startTestService({ LOOKUP_CACHE_MS: '0' });
});
after(() => svc.close());

const stored = async (a: TestAccount) => (await svc.service.store.accounts.getAccount(a.account.id))!.httpApiIps;
const check = (a: TestAccount, from = '127.0.0.1') => code(svc, `Xmlchksubscriber.aspx?${form({ List: a.list.id, Email: 'nobody@example.com' })}`, { from });
const cli = (...args: string[]) => runAdminProcess(['account', 'http-api-ips', ...args], svc.storeEnv);

test('admin CLI: set (canonical, each once), show, refuse with nothing changed, clear with none or an empty argument', async () => {
  const a = await svc.addAccount();
  assert.equal(await check(a), '-1011', 'a new account allows nobody');
  const set = await cli(a.user.toUpperCase(), ' 127.0.0.1, ::FFFF:10.1.2.3,2001:DB8:0::/32 127.0.0.1');
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(await stored(a), ['127.0.0.1', '10.1.2.3', '2001:db8::/32']);
  assert.match(set.stdout, /HTTP subscribe API allowed from:\n {2}127\.0\.0\.1\n {2}10\.1\.2\.3\n {2}2001:db8::\/32/);
  assert.equal(await check(a), '1', 'allowed at once: not subscribed');
  const shown = await runAdminProcess(['--json', 'account', 'http-api-ips', a.user], svc.storeEnv);
  assert.deepEqual(JSON.parse(shown.stdout), { wsUser: a.user, httpApiIps: ['127.0.0.1', '10.1.2.3', '2001:db8::/32'] });
  for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.1/x', '::1/129']) {
    const refused = await cli(a.user, `127.0.0.9,${bad}`);
    assert.equal(refused.code, 2, bad);
    assert.match(refused.stderr, new RegExp(`not an IPv4 or IPv6 address or CIDR range: ${bad.replace(/[./]/g, '\\$&')}`));
  }
  assert.deepEqual(await stored(a), ['127.0.0.1', '10.1.2.3', '2001:db8::/32'], 'nothing changed');
  assert.equal((await cli(a.user, 'none')).code, 0);
  assert.deepEqual(await stored(a), []);
  assert.equal(await check(a), '-1011');
  assert.equal((await cli(a.user, '127.0.0.0/8')).code, 0);
  assert.equal(await check(a, '127.0.0.77'), '1');
  const cleared = await cli(a.user, '');
  assert.equal(cleared.code, 0);
  assert.match(cleared.stdout, /nobody: every call gets -1011/);
  assert.deepEqual(await stored(a), []);
  assert.equal((await cli('a999999', '127.0.0.1')).code, 1, 'an unknown account');
});

test("console: the Web services page shows the list and its form replaces it; what is not an address is refused", async () => {
  const a = await svc.addAccount();
  assert.equal((await createConsoleUser(svc.service.store, a.account.id, { username: 'owner', password: 'http-api-console-1' })).ok, true);
  const browser = new ConsoleBrowser(svc.url);
  await browser.signIn(a.user, 'owner', 'http-api-console-1');
  const page = await browser.get('/console/settings');
  assert.equal(page.status, 200);
  assert.match(page.body, /HTTP subscribe API/);
  assert.match(page.body, /Currently: nobody\./);
  const saved = await browser.post('/console/settings/http-api', { httpApiIps: '127.0.0.1\n198.51.100.0/24, 2001:DB8::1' });
  assert.equal(saved.status, 303);
  assert.deepEqual(await stored(a), ['127.0.0.1', '198.51.100.0/24', '2001:db8::1']);
  const after = await browser.get(saved.location!);
  assert.match(after.body, /Currently: 127\.0\.0\.1, 198\.51\.100\.0\/24, 2001:db8::1\./);
  assert.match(after.body, /The HTTP subscribe API allow-list was saved\./);
  assert.equal(await check(a), '1');
  const refused = await browser.post('/console/settings/http-api', { httpApiIps: '10.0.0.1\nnot-an-address' });
  assert.equal(refused.status, 400);
  assert.match(refused.body, /Not an IPv4 or IPv6 address or CIDR range: not-an-address/);
  assert.deepEqual(await stored(a), ['127.0.0.1', '198.51.100.0/24', '2001:db8::1'], 'nothing changed');
  assert.equal((await browser.post('/console/settings/http-api', { httpApiIps: '' })).status, 303);
  assert.deepEqual(await stored(a), []);
  assert.equal(await check(a), '-1011');
});

test('the demo account allows loopback only, as the start banner says, and its list answers from there', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailup-http-api-banner-'));
  try {
    const server = await startChildServer(dataDir);
    try {
      const out = server.output();
      const line = out.split('\n').find((l) => l.startsWith('  HTTP API:'));
      assert.equal(line, `  HTTP API:      ${server.url}/frontend/xmlSubscribe.aspx (allowed from 127.0.0.1, ::1)`);
      const idList = /idList (\d+)/.exec(out)![1]!;
      const reply = await fetch(`${server.url}/frontend/xmlSubscribe.aspx?${form({ List: idList, Email: 'demo@example.com', Confirm: 0, retCode: 1 })}`);
      assert.equal(await reply.text(), '0');
    } finally {
      await stopChildServer(server, 'SIGTERM');
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
