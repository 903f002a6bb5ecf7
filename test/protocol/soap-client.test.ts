/**
 * A real third-party client: the npm `soap` package loads the WSDL this service serves and calls
 * every operation through it, over the SOAP 1.1 port and the SOAP 1.2 port. Nothing here writes
 * an envelope by hand: if the served WSDL, the decoder or the response shapes were off, the
 * client would send or read something else.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import soap from 'soap';
import { hashPassword } from '../../src/core/passwords.ts';
import type { ConsoleUser } from '../../src/model/records.ts';
import { feedXml, startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { el, elements, parseXml, textOf, type XmlNode } from './xml-tree.ts';

type Version = '1.1' | '1.2';
const PORT: Record<Version, string> = { '1.1': 'WSMailUpImportSoap', '1.2': 'WSMailUpImportSoap12' };

let svc: TestService;
let acc: TestAccount;
let consoleUser: ConsoleUser;

before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount();
  consoleUser = await svc.service.store.accounts.createConsoleUser(acc.account.id, 'admin', await hashPassword('console'), [acc.list.id]);
  await svc.service.store.lists.createList(acc.account.id, 'Hidden from admin');
});
after(() => svc.close());

interface Called {
  /** The result string, as the client decoded it from `<OpResult>`. */
  readonly result: string;
  /** `<mailupBody>`'s children. */
  readonly body: XmlNode[];
  readonly returnCode: number;
}

/** The `soap` client's Client type, without importing its internals. */
type SoapClient = Awaited<ReturnType<typeof soap.createClientAsync>>;
type PortMethod = (args: object, callback: (err: unknown, result: Record<string, string>) => void) => void;

async function makeClient(version: Version): Promise<SoapClient> {
  const client = await soap.createClientAsync(`${svc.url}/Services/WSMailUpImport.asmx?WSDL`, version === '1.2' ? { forceSoap12Headers: true } : {});
  client.addSoapHeader({ Authentication: { User: acc.user, Password: acc.password } }, '', 'tns', 'http://ws.mailupnet.it/');
  return client;
}

/** Calls an operation through the chosen port of the client's service description. */
function invoke(client: SoapClient, version: Version, op: string, args: object): Promise<Called> {
  const port = (client as unknown as Record<string, Record<string, Record<string, PortMethod>>>).WSMailUpImport![PORT[version]]!;
  return new Promise((resolve, reject) => {
    port[op]!(args, (err, response) => {
      if (err) return reject(err);
      try {
        const result = response[`${op}Result`]!;
        const body = elements(elements(parseXml(result).root)[0]!);
        resolve({ result, body, returnCode: Number(textOf(body[0]!)) });
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function waitForStatus(client: SoapClient, version: Version, idProcess: number, status: string): Promise<XmlNode> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const details = await invoke(client, version, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess });
    assert.equal(details.returnCode, 0);
    const process = details.body[1]!;
    if (textOf(elements(process).find((e) => e.name === 'StatusCode')!) === status) return process;
    assert.ok(Date.now() < deadline, `process ${idProcess} never reached status ${status}: ${details.result}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const field = (process: XmlNode, name: string): string => textOf(elements(process).find((e) => e.name === name)!);

for (const version of ['1.1', '1.2'] as const) {
  describe(`npm soap over SOAP ${version}`, () => {
    let client: SoapClient;
    before(async () => {
      client = await makeClient(version);
    });

    test('the client loaded our served WSDL: both SOAP ports at this server\'s address', () => {
      const services = client.describe() as Record<string, Record<string, Record<string, unknown>>>;
      assert.deepEqual(Object.keys(services), ['WSMailUpImport']);
      assert.deepEqual(Object.keys(services.WSMailUpImport!), ['WSMailUpImportSoap', 'WSMailUpImportSoap12']);
      assert.deepEqual(Object.keys(services.WSMailUpImport![PORT[version]]!).sort(), [
        'CreateGroup', 'GetIdUser', 'GetIdWsUser', 'GetNlLists', 'GetNlListsUser', 'GetProcessDetails',
        'NewImportProcess', 'StartImportProcesses', 'StartProcess',
      ]);
      const ports = (client.wsdl as unknown as { services: Record<string, { ports: Record<string, { location: string }> }> }).services.WSMailUpImport!.ports;
      assert.equal(ports[PORT[version]]!.location, `${svc.url}/Services/WSMailupImport.asmx`);
    });

    test('GetIdWsUser and GetIdUser', async () => {
      const ws = await invoke(client, version, 'GetIdWsUser', {});
      assert.deepEqual(ws.body, [el('ReturnCode', {}, 0), el('IdUser', {}, acc.account.id)]);
      assert.ok(client.lastRequest!.includes(version === '1.1' ? 'http://schemas.xmlsoap.org/soap/envelope/' : 'http://www.w3.org/2003/05/soap-envelope'));
      const headers = client.lastRequestHeaders as Record<string, string>;
      if (version === '1.1') assert.equal(headers.SOAPAction, '"http://ws.mailupnet.it/GetIdWsUser"');
      else assert.match(headers['Content-Type']!, /^application\/soap\+xml; charset=utf-8; action="http:\/\/ws\.mailupnet\.it\/GetIdWsUser"$/);

      const user = await invoke(client, version, 'GetIdUser', { userName: 'admin' });
      assert.deepEqual(user.body, [el('ReturnCode', {}, 0), el('IdUser', {}, consoleUser.id)]);
      assert.equal((await invoke(client, version, 'GetIdUser', { userName: 'ghost' })).returnCode, -200);
    });

    test('GetNlLists and GetNlListsUser', async () => {
      const all = await invoke(client, version, 'GetNlLists', {});
      assert.equal(all.returnCode, 0);
      const lists = elements(all.body[1]!);
      assert.deepEqual(lists.map((l) => l.attrs.listName), [acc.list.name, 'Hidden from admin']);
      assert.equal(lists[0]!.attrs.listGUID, acc.list.guid);
      const mine = await invoke(client, version, 'GetNlListsUser', { userId: consoleUser.id });
      assert.deepEqual(mine.body, [el('ReturnCode', {}, 0), el('Lists', {}, lists[0]!)]);
    });

    test('CreateGroup: a new id, the same id again, and list-check codes', async () => {
      const name = `Clients & "Partners" ${version}`;
      const created = await invoke(client, version, 'CreateGroup', { idList: acc.list.id, listGUID: acc.list.guid, newGroupName: name });
      assert.ok(created.returnCode > 0);
      assert.equal(created.body.length, 1);
      assert.equal((await svc.service.store.lists.getGroups(acc.list.id)).find((g) => g.id === created.returnCode)?.name, name);
      const again = await invoke(client, version, 'CreateGroup', { idList: acc.list.id, listGUID: acc.list.guid.toUpperCase(), newGroupName: name.toUpperCase() });
      assert.equal(again.returnCode, created.returnCode);
      assert.equal((await invoke(client, version, 'CreateGroup', { idList: acc.list.id, listGUID: 'nope', newGroupName: 'x' })).returnCode, -102);
      assert.equal((await invoke(client, version, 'CreateGroup', { idList: acc.list.id, listGUID: acc.list.guid, newGroupName: ' ' })).returnCode, -302);
    });

    test('NewImportProcess, GetProcessDetails, StartProcess: a process runs to status 3', async () => {
      const xmlDoc = feedXml([
        { email: `anna.${version}@example.com`, fields: ['Anna', 'Rossi'] },
        { email: `zoe.${version}@example.com`, fields: ['Zoë', 'Città & Co <srl>'] },
      ]);
      const created = await invoke(client, version, 'NewImportProcess', {
        idList: acc.list.id, listGUID: acc.list.guid, xmlDoc, idGroups: String(acc.groups[0]!.id), importType: 3, mobileInputType: 1,
        asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
      });
      const id = created.returnCode;
      assert.ok(id > 0, created.result);
      assert.equal(created.body.length, 1);

      const pending = await invoke(client, version, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id });
      assert.equal(pending.returnCode, 0);
      const process = pending.body[1]!;
      assert.equal(process.name, 'ImportProcess');
      assert.deepEqual(process.attrs, { idProcess: String(id) });
      assert.deepEqual(elements(process).map((e) => e.name), [
        'StartDate', 'EndDate', 'TotalContacts', 'NewMobile', 'NewEmail', 'OptOutMobile', 'OptOutEmail',
        'ExistingMobile', 'ExistingEmail', 'StatusCode', 'IsRunning', 'ConfirmationEmail', 'ConfirmationSent',
      ]);
      assert.equal(field(process, 'StatusCode'), '1');
      assert.equal(field(process, 'TotalContacts'), '2');
      assert.equal(field(process, 'ConfirmationSent'), '');

      const started = await invoke(client, version, 'StartProcess', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id });
      assert.deepEqual(started.body, [el('ReturnCode', {}, 0)]);
      const done = await waitForStatus(client, version, id, '3');
      assert.equal(field(done, 'NewEmail'), '2');
      assert.equal(field(done, 'IsRunning'), 'False');
      assert.match(field(done, 'StartDate'), /^\d\d\/\d\d\/\d{4} \d\d\.\d\d\.\d\d$/);
      assert.match(field(done, 'EndDate'), /^\d\d\/\d\d\/\d{4} \d\d\.\d\d\.\d\d$/);
      assert.equal((await invoke(client, version, 'StartProcess', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id })).returnCode, -603,
        'a finished process cannot be started again');
    });

    test('StartImportProcesses: inline feed, then prepared processes with xmlDoc left out', async () => {
      const inline = await invoke(client, version, 'StartImportProcesses', {
        listsIDs: String(acc.list.id), listsGUIDs: acc.list.guid, xmlDoc: feedXml([{ email: `inline.${version}@example.com` }]),
        groupsIDs: String(acc.groups[1]!.id), importType: 3, mobileInputType: 1,
        asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
      });
      assert.equal(inline.returnCode, 0, inline.result);
      const [processes] = inline.body.slice(1);
      assert.equal(processes!.name, 'processes');
      const [one, ...more] = elements(processes!);
      assert.equal(more.length, 0);
      assert.deepEqual(elements(one!).map((e) => e.name), ['processID', 'listID', 'ReturnCode']);
      assert.equal(field(one!, 'listID'), String(acc.list.id));
      assert.equal(field(one!, 'ReturnCode'), '0');
      await waitForStatus(client, version, Number(field(one!, 'processID')), '3');

      const prepared: number[] = [];
      for (const email of ['p1', 'p2']) {
        const r = await invoke(client, version, 'NewImportProcess', {
          idList: acc.list.id, listGUID: acc.list.guid, xmlDoc: feedXml([{ email: `${email}.${version}@example.com` }]),
          importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
        });
        prepared.push(r.returnCode);
      }
      const pending = await invoke(client, version, 'StartImportProcesses', {
        listsIDs: String(acc.list.id), listsGUIDs: acc.list.guid, groupsIDs: '', importType: 3, mobileInputType: 1,
        asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
      });
      assert.ok(!client.lastRequest!.includes('xmlDoc'), 'the client left xmlDoc out');
      assert.equal(pending.returnCode, 0, pending.result);
      assert.deepEqual(elements(pending.body[1]!).map((p) => Number(field(p, 'processID'))), prepared);
      for (const id of prepared) await waitForStatus(client, version, id, '3');
    });

    test('a SOAP Fault reaches the client as an error with the fault text', async () => {
      await assert.rejects(invoke(client, version, 'CreateGroup', { idList: '', listGUID: acc.list.guid, newGroupName: 'x' }), (err: Error) => {
        assert.match(err.message, /idList/);
        return true;
      });
    });
  });
}
