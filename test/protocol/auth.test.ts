/**
 * Authentication (spec §3.3–3.4) and the list check (spec §3.4, DESIGN.md) over the wire, in
 * SOAP 1.1 and 1.2: every ReturnCode they can answer, and that one account can never read or
 * change another account's lists, groups or import processes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import {
  callSoap, feedXml, postSoap, SOAP11, SOAP12, startTestService, waitForProcess,
  type SoapAuth, type SoapParams, type SoapReply, type TestAccount, type TestService,
} from '../helpers/service.ts';

type Version = '1.1' | '1.2';
const VERSIONS: Version[] = ['1.1', '1.2'];

let svc: TestService;
let a: TestAccount;
let b: TestAccount;
let authA: SoapAuth;
let authB: SoapAuth;

before(async () => {
  svc = await startTestService();
  a = await svc.addAccount();
  b = await svc.addAccount();
  authA = { User: a.user, Password: a.password };
  authB = { User: b.user, Password: b.password };
});
after(() => svc.close());

const call = (op: string, params: SoapParams, auth: SoapAuth | null, version: Version): Promise<SoapReply> =>
  callSoap(svc.endpoint, op, params, auth, version);

async function code(op: string, params: SoapParams, auth: SoapAuth | null, version: Version): Promise<number> {
  const reply = await call(op, params, auth, version);
  assert.equal(reply.status, 200, reply.body);
  assert.notEqual(reply.returnCode, null, reply.body);
  return reply.returnCode!;
}

/** A raw envelope whose header is written by hand (namespaces `soapEnvelope` cannot produce). */
function rawEnvelope(version: Version, header: string, body = '<GetIdWsUser xmlns="http://ws.mailupnet.it/" />'): string {
  return `<s:Envelope xmlns:s="${version === '1.1' ? SOAP11 : SOAP12}"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

async function rawCode(version: Version, envelope: string): Promise<number> {
  const headers: Record<string, string> = version === '1.1'
    ? { 'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/GetIdWsUser' }
    : { 'content-type': 'application/soap+xml; charset=utf-8' };
  const reply = await postSoap(svc.endpoint, envelope, headers);
  assert.equal(reply.status, 200, reply.body);
  return Number(/ReturnCode&gt;(-?\d+)&lt;/.exec(reply.body)![1]);
}

const feed = feedXml([{ email: 'one@example.com', fields: ['One'] }, { email: 'two@example.com' }]);
/** NewImportProcess arguments; an undefined listGUID leaves the element out. */
const importParams = (idList: number, listGUID: string | undefined): SoapParams => ({
  idList, listGUID, xmlDoc: feed, idGroups: '', importType: 3, mobileInputType: 1,
  asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
});

describe('authentication ReturnCodes', () => {
  for (const version of VERSIONS) {
    test(`SOAP ${version}: missing or incomplete credentials answer -1013`, async () => {
      assert.equal(await code('GetNlLists', {}, null, version), -1013, 'no Authentication header');
      assert.equal(await code('GetNlLists', {}, { User: a.user }, version), -1013, 'no Password');
      assert.equal(await code('GetNlLists', {}, { Password: a.password }, version), -1013, 'no User');
      assert.equal(await code('GetNlLists', {}, { User: '', Password: a.password }, version), -1013, 'empty User');
      assert.equal(await code('GetNlLists', {}, {}, version), -1013, 'empty header');
      // A header in another namespace is not the Authentication header ASMX binds.
      assert.equal(await rawCode(version, rawEnvelope(version,
        `<Authentication xmlns="urn:other"><User>${a.user}</User><Password>${a.password}</Password></Authentication>`)), -1013);
      assert.equal(await rawCode(version, rawEnvelope(version,
        `<Authentication><User>${a.user}</User><Password>${a.password}</Password></Authentication>`)), -1013);
    });

    test(`SOAP ${version}: unknown user -1001, wrong password -1002`, async () => {
      assert.equal(await code('GetNlLists', {}, { User: 'a999999', Password: a.password }, version), -1001);
      assert.equal(await code('GetNlLists', {}, { User: 'nobody', Password: 'x' }, version), -1001);
      assert.equal(await code('GetNlLists', {}, { User: a.user, Password: `${a.password}x` }, version), -1002);
      assert.equal(await code('GetNlLists', {}, { User: a.user, Password: b.password }, version), -1002);
      assert.equal(await code('GetNlLists', {}, { User: a.user, Password: '' }, version), -1002);
      assert.equal(await code('GetNlLists', {}, { User: a.user, Password: a.password.toUpperCase() }, version), -1002, 'passwords are case-sensitive');
    });

    test(`SOAP ${version}: the user name is case-insensitive; encType is optional; the tempuri.org header is accepted`, async () => {
      assert.equal(await code('GetIdWsUser', {}, { User: a.user.toUpperCase(), Password: a.password }, version), 0);
      assert.equal(await code('GetIdWsUser', {}, { User: ` ${a.user} `, Password: a.password }, version), 0);
      assert.equal(await code('GetIdWsUser', {}, { User: a.user, Password: a.password, encType: 'UTF-8' }, version), 0);
      assert.equal(await rawCode(version, rawEnvelope(version,
        `<Authentication xmlns="http://tempuri.org/"><User>${a.user}</User><Password>${a.password}</Password></Authentication>`)), 0);
      assert.equal(await rawCode(version, rawEnvelope(version,
        `<t:Authentication xmlns:t="http://tempuri.org/"><t:User>${a.user}</t:User><t:Password>${a.password}</t:Password></t:Authentication>`)), 0);
    });

    test(`SOAP ${version}: a disabled web service answers -1006, after the password check`, async (t) => {
      const store = svc.service.store;
      await store.accounts.updateAccount(a.account.id, { wsEnabled: false });
      t.after(() => store.accounts.updateAccount(a.account.id, { wsEnabled: true }));
      assert.equal(await code('GetNlLists', {}, authA, version), -1006);
      assert.equal(await code('CreateGroup', { idList: a.list.id, listGUID: a.list.guid, newGroupName: 'Disabled' }, authA, version), -1006);
      assert.equal(await code('GetNlLists', {}, { User: a.user, Password: 'wrong' }, version), -1002, 'a disabled account does not reveal itself to a wrong password');
      assert.equal(await code('GetNlLists', {}, authB, version), 0, 'other accounts are unaffected');
      assert.ok(!(await store.lists.getGroups(a.list.id)).some((g) => g.name === 'Disabled'));
      await store.accounts.updateAccount(a.account.id, { wsEnabled: true });
      assert.equal(await code('GetNlLists', {}, authA, version), 0);
    });

    test(`SOAP ${version}: with the IP check on, only allowed addresses get in (-1011 otherwise)`, async (t) => {
      const store = svc.service.store;
      t.after(() => store.accounts.updateAccount(a.account.id, { ipCheck: false, allowedIps: [] }));
      await store.accounts.updateAccount(a.account.id, { ipCheck: true, allowedIps: ['10.1.2.3', '2001:db8::1'] });
      assert.equal(await code('GetNlLists', {}, authA, version), -1011);
      assert.equal(await code('GetNlLists', {}, { User: a.user, Password: 'wrong' }, version), -1002);
      await store.accounts.updateAccount(a.account.id, { ipCheck: true, allowedIps: [] });
      assert.equal(await code('GetNlLists', {}, authA, version), -1011, 'an empty allow-list admits nobody');
      for (const allowed of ['127.0.0.1', '::ffff:127.0.0.1', '::FFFF:127.0.0.1', ' 127.0.0.1 ']) {
        await store.accounts.updateAccount(a.account.id, { ipCheck: true, allowedIps: ['10.1.2.3', allowed] });
        assert.equal(await code('GetNlLists', {}, authA, version), 0, allowed);
      }
      await store.accounts.updateAccount(a.account.id, { ipCheck: false, allowedIps: ['10.1.2.3'] });
      assert.equal(await code('GetNlLists', {}, authA, version), 0, 'the allow-list is ignored while the check is off');
    });
  }

  test('a client reaching a dual-stack listener as ::ffff:127.0.0.1 matches either form of the address', async (t) => {
    let dual: TestService;
    try {
      dual = await startTestService({ HOST: '::' });
    } catch (err) {
      t.skip(`no IPv6 dual-stack listener on this host: ${(err as Error).message}`);
      return;
    }
    t.after(() => dual.close());
    const port = (dual.service.app.server.address() as AddressInfo).port;
    const endpoint = `http://127.0.0.1:${port}/Services/WSMailUpImport.asmx`;
    const acc = await dual.addAccount();
    const auth = { User: acc.user, Password: acc.password };
    const store = dual.service.store;
    for (const version of VERSIONS) {
      await store.accounts.updateAccount(acc.account.id, { ipCheck: true, allowedIps: ['10.0.0.1'] });
      assert.equal((await callSoap(endpoint, 'GetNlLists', {}, auth, version)).returnCode, -1011);
      for (const allowed of ['127.0.0.1', '::ffff:127.0.0.1']) {
        await store.accounts.updateAccount(acc.account.id, { ipCheck: true, allowedIps: [allowed] });
        assert.equal((await callSoap(endpoint, 'GetNlLists', {}, auth, version)).returnCode, 0, allowed);
      }
    }
  });
});

describe('the list check on every method taking idList + listGUID', () => {
  /** Creates a process in status 1 for account A's list. */
  async function newProcess(version: Version): Promise<number> {
    const id = await code('NewImportProcess', importParams(a.list.id, a.list.guid), authA, version);
    assert.ok(id > 0, `NewImportProcess answered ${id}`);
    return id;
  }

  const processCount = async (accountId: number): Promise<number> => (await svc.service.store.processes.listProcesses(accountId)).length;

  const methods = {
    CreateGroup: (listGUID: string | undefined, idList = a.list.id) => ({ idList, listGUID, newGroupName: 'Checked' }),
    GetProcessDetails: (listGUID: string | undefined, idList = a.list.id) => ({ idList, listGUID, idProcess: 1 }),
    StartProcess: (listGUID: string | undefined, idList = a.list.id) => ({ idList, listGUID, idProcess: 1 }),
    NewImportProcess: (listGUID: string | undefined, idList = a.list.id) => importParams(idList, listGUID),
  } as const;

  const malformed = [
    'not-a-guid',
    a0(35),
    `${a0(36)}0`,
    '{00000000-aaaa-bbbb-cccc-000123456789}',
    '00000000-aaaa-bbbb-cccc-00012345678g',
    '00000000aaaabbbbcccc000123456789xxxx',
    '',
    '123456',
  ];
  function a0(length: number): string {
    return '00000000-aaaa-bbbb-cccc-000123456789'.padEnd(length, '0').slice(0, length);
  }

  for (const version of VERSIONS) {
    for (const [op, params] of Object.entries(methods)) {
      test(`SOAP ${version} ${op}: malformed or missing GUID -102, mismatch -101, nothing changes`, async () => {
        const processes = await processCount(a.account.id);
        const groups = await svc.service.store.lists.getGroups(a.list.id);
        for (const guid of malformed) assert.equal(await code(op, params(guid), authA, version), -102, `GUID "${guid}"`);
        assert.equal(await code(op, params(undefined), authA, version), -102, 'listGUID omitted (null)');
        const other = await svc.service.store.lists.createList(a.account.id, `Other ${op} ${version}`);
        assert.equal(await code(op, params(other.guid), authA, version), -101, 'the GUID of another list of the account');
        assert.equal(await code(op, params(a.list.guid, other.id), authA, version), -101, 'the id of another list of the account');
        assert.equal(await code(op, params(a.list.guid, 999999), authA, version), -101, 'an unknown id');
        assert.equal(await code(op, params('00000000-aaaa-bbbb-cccc-000123456789'), authA, version), -101, 'an unknown GUID');
        assert.equal(await processCount(a.account.id), processes);
        assert.deepEqual(await svc.service.store.lists.getGroups(a.list.id), groups);
      });
    }

    test(`SOAP ${version}: the GUID is accepted in upper case by every method`, async () => {
      const upper = a.list.guid.toUpperCase();
      assert.notEqual(upper, a.list.guid);
      const group = await code('CreateGroup', { idList: a.list.id, listGUID: upper, newGroupName: `Upper ${version}` }, authA, version);
      assert.ok(group > 0);
      const id = await code('NewImportProcess', importParams(a.list.id, upper), authA, version);
      assert.ok(id > 0);
      assert.equal(await code('GetProcessDetails', { idList: a.list.id, listGUID: upper, idProcess: id }, authA, version), 0);
      assert.equal(await code('StartProcess', { idList: a.list.id, listGUID: ` ${upper} `, idProcess: id }, authA, version), 0);
      const done = await waitForProcess(svc.endpoint, authA, a.list.id, upper, id);
      assert.match(done.result!, /<StatusCode>3<\/StatusCode>/);
      const start = await call('StartImportProcesses', {
        listsIDs: a.list.id, listsGUIDs: upper, xmlDoc: feed, groupsIDs: '', importType: 3, mobileInputType: 1,
        asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
      }, authA, version);
      assert.equal(start.returnCode, 0, start.result ?? start.body);
      const started = Number(/<processID>(\d+)<\/processID>/.exec(start.result!)![1]);
      await waitForProcess(svc.endpoint, authA, a.list.id, a.list.guid, started);
    });
  }

  test('StartProcess and GetProcessDetails refuse a process of another list of the same account', async () => {
    const other = await svc.service.store.lists.createList(a.account.id, 'Second list');
    const id = await newProcess('1.1');
    assert.equal(await code('GetProcessDetails', { idList: other.id, listGUID: other.guid, idProcess: id }, authA, '1.1'), -501);
    assert.equal(await code('StartProcess', { idList: other.id, listGUID: other.guid, idProcess: id }, authA, '1.2'), -603);
    assert.equal((await svc.service.store.processes.getProcess(a.account.id, id))!.status, 1);
  });
});

describe('one account cannot reach another', () => {
  let processB: number;
  before(async () => {
    processB = await code('NewImportProcess', importParams(b.list.id, b.list.guid), authB, '1.1');
    assert.ok(processB > 0);
  });

  for (const version of VERSIONS) {
    test(`SOAP ${version}: B's list with A's credentials answers -101, even with B's correct GUID`, async () => {
      const bGroups = await svc.service.store.lists.getGroups(b.list.id);
      const aProcesses = (await svc.service.store.processes.listProcesses(a.account.id)).length;
      const bProcesses = (await svc.service.store.processes.listProcesses(b.account.id)).length;
      assert.equal(await code('CreateGroup', { idList: b.list.id, listGUID: b.list.guid, newGroupName: 'Intruder' }, authA, version), -101);
      assert.equal(await code('NewImportProcess', importParams(b.list.id, b.list.guid), authA, version), -101);
      assert.equal(await code('GetProcessDetails', { idList: b.list.id, listGUID: b.list.guid, idProcess: processB }, authA, version), -101);
      assert.equal(await code('StartProcess', { idList: b.list.id, listGUID: b.list.guid, idProcess: processB }, authA, version), -101);
      assert.deepEqual(await svc.service.store.lists.getGroups(b.list.id), bGroups);
      assert.equal((await svc.service.store.processes.listProcesses(a.account.id)).length, aProcesses);
      assert.equal((await svc.service.store.processes.listProcesses(b.account.id)).length, bProcesses);
    });

    test(`SOAP ${version}: B's process through A's own list is not found (-501) and cannot be started (-603)`, async () => {
      assert.equal(await code('GetProcessDetails', { idList: a.list.id, listGUID: a.list.guid, idProcess: processB }, authA, version), -501);
      assert.equal(await code('StartProcess', { idList: a.list.id, listGUID: a.list.guid, idProcess: processB }, authA, version), -603);
      const p = await svc.service.store.processes.getProcess(b.account.id, processB);
      assert.equal(p!.status, 1);
      assert.equal(p!.queued, false);
    });

    test(`SOAP ${version}: StartImportProcesses naming B's list answers -101 and starts nothing`, async () => {
      const base = { groupsIDs: '', importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false };
      const bProcesses = await svc.service.store.processes.listProcesses(b.account.id);
      for (const lists of [
        { listsIDs: b.list.id, listsGUIDs: b.list.guid },
        { listsIDs: String(b.list.id) },
        { listsGUIDs: b.list.guid },
        { listsIDs: `${a.list.id};${b.list.id}`, listsGUIDs: `${a.list.guid};${b.list.guid}` },
      ]) {
        assert.equal(await code('StartImportProcesses', { ...lists, ...base, xmlDoc: feed }, authA, version), -101, JSON.stringify(lists));
        assert.equal(await code('StartImportProcesses', { ...lists, ...base }, authA, version), -101, `${JSON.stringify(lists)} without xmlDoc`);
      }
      assert.deepEqual(await svc.service.store.processes.listProcesses(b.account.id), bProcesses);
    });

    test(`SOAP ${version}: A's GetNlLists shows none of B's lists`, async () => {
      const reply = await call('GetNlLists', {}, authA, version);
      assert.equal(reply.returnCode, 0);
      assert.ok(!reply.result!.includes(b.list.guid));
      const ids = [...reply.result!.matchAll(/idList="(\d+)"/g)].map((m) => Number(m[1]));
      const own = (await svc.service.store.lists.listLists(a.account.id)).map((l) => l.id);
      assert.deepEqual(ids, own);
      assert.ok(!ids.includes(b.list.id));
    });
  }

  test('A running StartImportProcesses without xmlDoc leaves B\'s pending process alone', async () => {
    const reply = await call('StartImportProcesses', {
      listsIDs: a.list.id, listsGUIDs: a.list.guid, groupsIDs: '', importType: 3, mobileInputType: 1,
      asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
    }, authA, '1.1');
    assert.equal(reply.returnCode, 0, reply.result ?? reply.body);
    assert.ok(!new RegExp(`<processID>${processB}</processID>`).test(reply.result!));
    const p = await svc.service.store.processes.getProcess(b.account.id, processB);
    assert.equal(p!.status, 1);
    assert.equal(p!.queued, false);
    for (const m of reply.result!.matchAll(/<processID>(\d+)<\/processID>/g)) {
      await waitForProcess(svc.endpoint, authA, a.list.id, a.list.guid, Number(m[1]));
    }
  });
});
