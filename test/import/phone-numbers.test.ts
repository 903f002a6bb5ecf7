/**
 * Mobile numbers through the doors users use, on the store TEST_STORE names (npm test runs it on
 * both): a SOAP import on an Italian list reads numbers without a country code as Italian ones and
 * rejects those that are not, with the reason; on a list without a country it rejects them; the
 * HTTP subscribe API's `Sms` is read the same way; the admin CLI's `list set-country`, run as a
 * real process, sets what the import then reads by.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setHttpApiIps } from '../../src/core/http-api-access.ts';
import { callSoap, feedXml, startTestService, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { createDemoIfEmpty } from '../../src/demo.ts';
import { code, form } from '../frontend/frontend-client.ts';

let svc: TestService;

before(async () => {
  svc = await startTestService({ HTTP_API_BURST: '1000' });
});
after(() => svc.close());

const auth = (a: TestAccount) => ({ User: a.user, Password: a.password });

/** An SMS-only import (importType 2) of `rows`, run to its end; its id. */
async function importMobiles(a: TestAccount, rows: readonly { Prefix?: string; Number: string }[], mobileInputType: 1 | 2): Promise<number> {
  const created = await callSoap(svc.endpoint, 'NewImportProcess', {
    idList: a.list.id, listGUID: a.list.guid, xmlDoc: feedXml(rows.map((r) => ({ Prefix: r.Prefix ?? '', Number: r.Number }))), idGroups: '',
    importType: 2, mobileInputType, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
  }, auth(a));
  assert.ok(created.returnCode !== null && created.returnCode > 0, created.body);
  const started = await callSoap(svc.endpoint, 'StartProcess', { idList: a.list.id, listGUID: a.list.guid, idProcess: created.returnCode }, auth(a));
  assert.equal(started.returnCode, 0, started.body);
  const done = await waitForProcess(svc.endpoint, auth(a), a.list.id, a.list.guid, created.returnCode);
  assert.match(done.result ?? '', /<StatusCode>3<\/StatusCode>/);
  return created.returnCode;
}

async function storedMobiles(a: TestAccount): Promise<string[]> {
  const rows = await svc.db.query<{ mobile: string }>('SELECT mobile FROM recipient WHERE account_id = ? AND mobile IS NOT NULL ORDER BY mobile', [a.account.id]);
  return rows.map((r) => r.mobile);
}

const rejects = async (a: TestAccount, id: number) =>
  (await svc.service.store.processes.rejectReport(a.account.id, id)).map((r) => [r.row, r.reason]);

test('SOAP import on an Italian list: national numbers read as Italian, explicit prefixes as before, invalid ones rejected', async () => {
  const a = await svc.addAccount();
  assert.equal((await runAdminProcess(['list', 'set-country', a.user, String(a.list.id), 'it'], { ...svc.storeEnv })).code, 0);
  const id = await importMobiles(a, [
    { Number: '333 1234567' },
    { Number: '+49 171 7654321' },
    { Number: '0044 7911 123456' },
    { Number: '12345' },
  ], 1);
  const prefixed = await importMobiles(a, [{ Prefix: '+001', Number: '8889624587' }, { Prefix: '', Number: '3471112223' }], 2);
  assert.deepEqual(await storedMobiles(a), ['+18889624587', '+393331234567', '+393471112223', '+447911123456', '+491717654321']);
  assert.deepEqual(await rejects(a, id), [[4, 'invalid mobile number: not a valid number in IT']]);
  assert.deepEqual(await rejects(a, prefixed), []);
});

test('SOAP import on a list without a country: a number without + or 00 is rejected with the reason, never guessed', async () => {
  const a = await svc.addAccount();
  assert.equal(await svc.service.store.lists.getListCountry(a.account.id, a.list.id), null);
  const id = await importMobiles(a, [{ Number: '333-0000003' }, { Number: '0171 7654321' }, { Number: '+39 333 0000003' }], 1);
  assert.deepEqual(await storedMobiles(a), ['+393330000003']);
  const reason = 'invalid mobile number: no country code (+ or 00) and the list has no default country';
  assert.deepEqual(await rejects(a, id), [[1, reason], [2, reason]]);
});

test('HTTP subscribe: Sms is read in the list\'s country; without one, a national number is refused', async () => {
  const a = await svc.addAccount();
  assert.ok((await setHttpApiIps(svc.service.store, a.account.id, ['127.0.0.1'])).ok);
  // No country yet: refused (2), nothing stored.
  assert.equal(await code(svc, `xmlSubscribe.aspx?${form({ List: a.list.id, Sms: '0171 7654321', retCode: 1 })}`), '2');
  assert.deepEqual(await storedMobiles(a), []);
  const set = await runAdminProcess(['list', 'set-country', a.user, String(a.list.id), 'DE', '--json'], { ...svc.storeEnv });
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(JSON.parse(set.stdout), { wsUser: a.user, id: a.list.id, country: 'DE' });
  assert.equal(await code(svc, `xmlSubscribe.aspx?${form({ List: a.list.id, Sms: '0171 7654321', retCode: 1 })}`), '0');
  assert.deepEqual(await storedMobiles(a), ['+491717654321']);
  assert.equal(await code(svc, `Xmlchksubscriber.aspx?${form({ List: a.list.id, Sms: '01717654321' })}`), '2', 'the same number, read the same way');
  assert.equal(await code(svc, `xmlSubscribe.aspx?${form({ List: a.list.id, Sms: '0171 765', retCode: 1 })}`), '2', 'not valid in DE');
});

test('admin CLI list set-country: bad codes and unknown lists are refused, nothing changed; "none" clears', async () => {
  const a = await svc.addAccount();
  const run = (...args: string[]) => runAdminProcess(['list', 'set-country', a.user, ...args], { ...svc.storeEnv });
  const ok = await run(String(a.list.id), ' Fr ');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /as numbers of FR/);
  for (const bad of ['FRA', 'XX', '39', 'UK']) {
    const refused = await run(String(a.list.id), bad);
    assert.equal(refused.code, 2, `${bad}: ${refused.stdout}${refused.stderr}`);
    assert.match(refused.stderr, /is not an ISO 3166 alpha-2 country code/);
  }
  assert.equal(await svc.service.store.lists.getListCountry(a.account.id, a.list.id), 'FR', 'unchanged by the refusals');
  // list ls shows each list's country, in its table and its JSON.
  const second = await svc.service.store.lists.createList(a.account.id, 'No country');
  const shown = await runAdminProcess(['list', 'ls', a.user], { ...svc.storeEnv });
  assert.equal(shown.code, 0, shown.stderr);
  const rows = shown.stdout.split('\n');
  assert.match(rows[0]!, /^idList\s+listGUID\s+name\s+country\s+groups/);
  assert.match(rows.find((r) => r.startsWith(`${a.list.id} `))!, new RegExp(`${a.list.guid}\\s+${a.list.name}\\s+FR\\s`));
  assert.match(rows.find((r) => r.startsWith(`${second.id} `))!, /No country\s+-(\s|$)/);
  const shownJson = await runAdminProcess(['list', 'ls', a.user, '--json'], { ...svc.storeEnv });
  assert.deepEqual(JSON.parse(shownJson.stdout).map((l: { id: number; country: string | null }) => [l.id, l.country]), [[a.list.id, 'FR'], [second.id, null]]);
  const unknown = await run('999999', 'IT');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /list 999999 does not exist/);
  const cleared = await run(String(a.list.id), 'none');
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.match(cleared.stdout, /no default country/);
  assert.equal(await svc.service.store.lists.getListCountry(a.account.id, a.list.id), null);
});

test('the demo list is Italian (+39)', async () => {
  const fresh = await startTestService();
  try {
    const demo = await createDemoIfEmpty(fresh.service.store);
    assert.ok(demo);
    const [account] = await fresh.service.store.accounts.listAccounts();
    assert.equal(await fresh.service.store.lists.getListCountry(account!.id, demo.listId), 'IT');
  } finally {
    await fresh.close();
  }
});
