/**
 * StartImportProcesses without xmlDoc starts the account's pending processes (spec §7.1). When
 * several such calls race, one starts them and the others are told the account is busy (-601 for
 * a list the call named, -602 otherwise), as every other start path answers: never ReturnCode 0
 * with no processes, which a client reads as "started". The service runs no worker, so a started
 * import stays running for the length of the test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { callSoap, feedXml, startTestService, type SoapParams, type TestAccount, type TestService } from '../helpers/service.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService({}, { runWorker: false });
});
after(() => svc.close());

const auth = (a: TestAccount) => ({ User: a.user, Password: a.password });
const flags = { importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false };

async function prepared(a: TestAccount, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const reply = await callSoap(svc.endpoint, 'NewImportProcess', {
      idList: a.list.id, listGUID: a.list.guid, xmlDoc: feedXml([{ email: `p${i}@example.com` }]), idGroups: '', ...flags, idConfirmNL: 0,
    }, auth(a));
    assert.ok(reply.returnCode! > 0, reply.body);
    ids.push(reply.returnCode!);
  }
  return ids;
}

/** StartImportProcesses without xmlDoc: its ReturnCode and the process ids it names. */
async function startPending(a: TestAccount, lists: SoapParams): Promise<{ code: number | null; processes: number[] }> {
  const reply = await callSoap(svc.endpoint, 'StartImportProcesses', { ...lists, groupsIDs: '', ...flags }, auth(a));
  return { code: reply.returnCode, processes: [...(reply.result ?? '').matchAll(/<processID>(\d+)<\/processID>/g)].map((m) => Number(m[1])) };
}

test('racing calls: one starts the pending processes, every other one is told the account is busy', async () => {
  const a = await svc.addAccount();
  const ids = await prepared(a, 3);
  const answers = await Promise.all(Array.from({ length: 6 }, () => startPending(a, { listsIDs: String(a.list.id), listsGUIDs: a.list.guid })));
  const winners = answers.filter((r) => r.code === 0);
  assert.equal(winners.length, 1, JSON.stringify(answers));
  assert.deepEqual(winners[0]!.processes, ids);
  assert.deepEqual(answers.filter((r) => r.code !== 0).map((r) => r.code), [-601, -601, -601, -601, -601]);
});

test('with an import running and nothing pending: -601 for a call naming its list, -602 otherwise', async () => {
  const a = await svc.addAccount();
  await prepared(a, 1);
  assert.equal((await startPending(a, { listsIDs: String(a.list.id), listsGUIDs: a.list.guid })).code, 0);
  assert.equal((await startPending(a, { listsIDs: String(a.list.id), listsGUIDs: a.list.guid })).code, -601);
  const other = await svc.service.store.lists.createList(a.account.id, 'Other');
  assert.equal((await startPending(a, { listsIDs: String(other.id), listsGUIDs: other.guid })).code, -602);
  assert.equal((await startPending(a, {})).code, -602, 'a call that names no list');
});

test('nothing pending and nothing running: ReturnCode 0 with no processes', async () => {
  const a = await svc.addAccount();
  const reply = await startPending(a, { listsIDs: String(a.list.id), listsGUIDs: a.list.guid });
  assert.deepEqual(reply, { code: 0, processes: [] });
});
