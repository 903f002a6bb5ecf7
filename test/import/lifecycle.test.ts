/**
 * The import operations over HTTP: ReturnCodes of NewImportProcess, StartProcess,
 * StartImportProcesses and GetProcessDetails, the status lifecycle and the one-import-per-account
 * rule under real concurrent starts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  callSoap, feedXml, resultFields, startTestService, waitForProcess, type SoapParams, type TestAccount, type TestService,
} from '../helpers/service.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService();
});
after(() => svc.close());

const auth = (a: TestAccount) => ({ User: a.user, Password: a.password });
const flags = { asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false };

function newImport(a: TestAccount, xmlDoc: string | null | undefined, over: SoapParams = {}): SoapParams {
  return { idList: a.list.id, listGUID: a.list.guid, xmlDoc, idGroups: '', importType: 3, mobileInputType: 1, ...flags, idConfirmNL: 0, ...over };
}

function subscribers(n: number, prefix = 'user'): string {
  return feedXml(Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com` })));
}

describe('NewImportProcess', () => {
  test('returns the new idProcess as ReturnCode; the process waits in status 1 with empty dates', async () => {
    const a = await svc.addAccount();
    const reply = await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(3)), auth(a));
    assert.ok(reply.returnCode! > 0, reply.body);
    const details = await callSoap(svc.endpoint, 'GetProcessDetails', { idList: a.list.id, listGUID: a.list.guid, idProcess: reply.returnCode }, auth(a));
    const f = resultFields(details.result!);
    assert.equal(f.StatusCode, '1');
    assert.equal(f.StartDate, '');
    assert.equal(f.EndDate, '');
    assert.equal(f.TotalContacts, '3', 'TotalContacts is known as soon as the process exists');
    assert.equal(f.IsRunning, 'False');
  });

  test('-401 for an omitted or empty feed, -402 for one that is not a well-formed subscribers feed', async () => {
    const a = await svc.addAccount();
    const code = async (xmlDoc: string | null | undefined) =>
      (await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, xmlDoc), auth(a))).returnCode;
    assert.equal(await code(undefined), -401);
    assert.equal(await code(''), -401);
    assert.equal(await code('   '), -401);
    assert.equal(await code('<subscribers><subscriber email="a@b.it"></subscribers>'), -402);
    assert.equal(await code('<subscribers><subscriber email="a@b.it"/>'), -402);
    assert.equal(await code('<list><subscriber email="a@b.it"/></list>'), -402);
    assert.equal(await code('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><subscribers>&e;</subscribers>'), -402);
    assert.equal(await code('not xml at all'), -402);
    // Nothing was stored for the refused feeds.
    const lists = await svc.service.store.processes.listProcesses(a.account.id);
    assert.equal(lists.length, 0);
  });

  test('-410 for an unknown idConfirmNL, -400 for groups of another list or bad options', async () => {
    const a = await svc.addAccount();
    const b = await svc.addAccount();
    assert.equal((await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(1), { ConfirmEmail: true, idConfirmNL: 999999 }), auth(a))).returnCode, -410);
    assert.equal((await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(1), { idGroups: String(b.groups[0]!.id) }), auth(a))).returnCode, -400);
    assert.equal((await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(1), { idGroups: 'x' }), auth(a))).returnCode, -400);
    assert.equal((await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(1), { importType: 7 }), auth(a))).returnCode, -400);
    assert.equal((await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(1), { mobileInputType: 3 }), auth(a))).returnCode, -400);
    const ok = await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(1), { idGroups: `${a.groups[0]!.id},${a.groups[1]!.id}`, importType: 0 }), auth(a));
    assert.ok(ok.returnCode! > 0, 'importType 0 (omitted) means the documented default 3');
  });
});

describe('StartProcess and GetProcessDetails', () => {
  test('a prepared process runs to status 3 once started, and cannot be started twice', async () => {
    const a = await svc.addAccount();
    const id = (await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(5)), auth(a))).returnCode!;
    const start = await callSoap(svc.endpoint, 'StartProcess', { idList: a.list.id, listGUID: a.list.guid, idProcess: id }, auth(a));
    assert.equal(start.returnCode, 0);
    const done = resultFields((await waitForProcess(svc.endpoint, auth(a), a.list.id, a.list.guid, id)).result!);
    assert.equal(done.StatusCode, '3');
    assert.equal(done.NewEmail, '5');
    assert.match(done.StartDate!, /^\d{2}\/\d{2}\/\d{4} \d{2}\.\d{2}\.\d{2}$/);
    assert.match(done.EndDate!, /^\d{2}\/\d{2}\/\d{4} \d{2}\.\d{2}\.\d{2}$/);
    const again = await callSoap(svc.endpoint, 'StartProcess', { idList: a.list.id, listGUID: a.list.guid, idProcess: id }, auth(a));
    assert.equal(again.returnCode, -603);
  });

  test('-501 for an unknown process or one of another list; -603 when starting it', async () => {
    const a = await svc.addAccount();
    const other = await svc.service.store.lists.createList(a.account.id, 'Other');
    const id = (await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(1)), auth(a))).returnCode!;
    assert.equal((await callSoap(svc.endpoint, 'GetProcessDetails', { idList: a.list.id, listGUID: a.list.guid, idProcess: 987654 }, auth(a))).returnCode, -501);
    assert.equal((await callSoap(svc.endpoint, 'GetProcessDetails', { idList: other.id, listGUID: other.guid, idProcess: id }, auth(a))).returnCode, -501);
    assert.equal((await callSoap(svc.endpoint, 'StartProcess', { idList: other.id, listGUID: other.guid, idProcess: id }, auth(a))).returnCode, -603);
  });
});

describe('StartImportProcesses', () => {
  test('without xmlDoc it starts every pending process of the account, oldest first, one at a time', async () => {
    const a = await svc.addAccount();
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(50, `p${i}-`)), auth(a))).returnCode!);
    const reply = await callSoap(svc.endpoint, 'StartImportProcesses', {
      listsIDs: String(a.list.id), listsGUIDs: a.list.guid, groupsIDs: '', importType: 3, mobileInputType: 1, ...flags,
    }, auth(a));
    assert.equal(reply.returnCode, 0);
    assert.deepEqual([...reply.result!.matchAll(/<processID>(\d+)<\/processID><listID>(\d+)<\/listID><ReturnCode>0<\/ReturnCode>/g)].map((m) => Number(m[1])), ids);
    const ends: string[] = [];
    for (const id of ids) {
      const f = resultFields((await waitForProcess(svc.endpoint, auth(a), a.list.id, a.list.guid, id)).result!);
      assert.equal(f.StatusCode, '3');
      assert.equal(f.NewEmail, '50');
      ends.push(f.EndDate!);
    }
    const processes = (await svc.service.store.processes.listProcesses(a.account.id)).sort((x, y) => x.id - y.id);
    for (let i = 1; i < processes.length; i++) {
      assert.ok(processes[i]!.startDate! >= processes[i - 1]!.endDate!, 'each process starts after the previous one ended');
    }
  });

  test('an inline feed into two lists with groups per list, and the -450 count rule', async () => {
    const a = await svc.addAccount();
    const second = await svc.service.store.lists.createList(a.account.id, 'Second');
    const g2 = (await svc.service.store.lists.createGroup(second.id, 'G2')).group;
    const mismatch = await callSoap(svc.endpoint, 'StartImportProcesses', {
      listsIDs: `${a.list.id};${second.id}`, listsGUIDs: a.list.guid, xmlDoc: subscribers(2), groupsIDs: '', importType: 3, mobileInputType: 1, ...flags,
    }, auth(a));
    assert.equal(mismatch.returnCode, -450);
    const none = await callSoap(svc.endpoint, 'StartImportProcesses', { xmlDoc: subscribers(2), importType: 3, mobileInputType: 1, ...flags }, auth(a));
    assert.equal(none.returnCode, -450);
    const reply = await callSoap(svc.endpoint, 'StartImportProcesses', {
      listsIDs: `${a.list.id};${second.id}`, listsGUIDs: `${a.list.guid};${second.guid.toUpperCase()}`, xmlDoc: subscribers(4),
      groupsIDs: `${a.groups[0]!.id},${a.groups[1]!.id};${g2.id}`, importType: 3, mobileInputType: 1, ...flags,
    }, auth(a));
    assert.equal(reply.returnCode, 0, reply.result ?? reply.body);
    const started = [...reply.result!.matchAll(/<processID>(\d+)<\/processID><listID>(\d+)<\/listID>/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.deepEqual(started.map(([, list]) => list), [a.list.id, second.id]);
    await waitForProcess(svc.endpoint, auth(a), a.list.id, a.list.guid, started[0]![0]!);
    await waitForProcess(svc.endpoint, auth(a), second.id, second.guid, started[1]![0]!);
    const p2 = await svc.service.store.processes.getProcess(a.account.id, started[1]![0]!);
    assert.deepEqual(p2!.options.groupIds, [g2.id]);
    assert.equal(p2!.counters.newEmail, 4);
  });

  test('-601 for the same list and -602 for another list while an import runs, under a real concurrent start', async () => {
    const a = await svc.addAccount();
    const other = await svc.service.store.lists.createList(a.account.id, 'Other');
    const big = (await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(20_000, 'big')), auth(a))).returnCode!;
    const small = (await callSoap(svc.endpoint, 'NewImportProcess', newImport(a, subscribers(1, 'small')), auth(a))).returnCode!;
    const onOther = (await callSoap(svc.endpoint, 'NewImportProcess', { ...newImport(a, subscribers(1, 'other')), idList: other.id, listGUID: other.guid }, auth(a))).returnCode!;
    // Three starts at once: exactly one wins; the database refuses the others.
    const replies = await Promise.all([big, small].map((id) =>
      callSoap(svc.endpoint, 'StartProcess', { idList: a.list.id, listGUID: a.list.guid, idProcess: id }, auth(a))));
    const codes = replies.map((r) => r.returnCode).sort();
    assert.deepEqual(codes, [-601, 0], `one start wins, the other gets -601: ${codes}`);
    const runningId = replies[0]!.returnCode === 0 ? big : small;
    const otherList = await callSoap(svc.endpoint, 'StartProcess', { idList: other.id, listGUID: other.guid, idProcess: onOther }, auth(a));
    const running = await svc.service.store.processes.getProcess(a.account.id, runningId);
    if (running!.status === 2) assert.equal(otherList.returnCode, -602);
    await waitForProcess(svc.endpoint, auth(a), a.list.id, a.list.guid, runningId, 120_000);
  });
});

test('counters grow batch by batch while the process runs', async () => {
  const seen: number[] = [];
  const local = await startTestService({}, { workerEvents: { batch: (p) => seen.push(p.counters.newEmail) } });
  try {
    const a = await local.addAccount();
    const start = await callSoap(local.endpoint, 'StartImportProcesses', {
      listsIDs: String(a.list.id), listsGUIDs: a.list.guid, xmlDoc: subscribers(12_000), groupsIDs: '', importType: 3, mobileInputType: 1, ...flags,
    }, auth(a));
    const id = Number(/<processID>(\d+)/.exec(start.result!)![1]);
    await waitForProcess(local.endpoint, auth(a), a.list.id, a.list.guid, id);
    assert.deepEqual(seen, [5000, 10000, 12000], 'each batch commits its counters');
  } finally {
    await local.close();
  }
});
