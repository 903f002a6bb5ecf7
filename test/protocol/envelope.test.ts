/**
 * How requests are decoded, as ASMX's XmlSerializer does it (spec §2.5, DESIGN.md "request
 * element names"): exact names in the service namespace, unknown elements ignored, missing ones
 * defaulted, an empty non-string element is a SOAP Fault with HTTP 500; and how the endpoint
 * answers SOAP 1.1 vs 1.2, SOAPAction, content types and the WSDL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import {
  callSoap, feedXml, postSoap, SOAP11, SOAP12, startTestService, waitForProcess,
  type SoapAuth, type TestAccount, type TestService,
} from '../helpers/service.ts';
import { faultCode, faultText, find, parseXml, soapResultText, textOf } from './xml-tree.ts';

type Version = '1.1' | '1.2';
const VERSIONS: Version[] = ['1.1', '1.2'];
const NS = 'http://ws.mailupnet.it/';

let svc: TestService;
let acc: TestAccount;
let auth: SoapAuth;

before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount();
  auth = { User: acc.user, Password: acc.password };
});
after(() => svc.close());

/** An envelope around a hand-written body (`ws` is bound to the service namespace). */
function envelope(version: Version, body: string, extraNs = ''): string {
  return `<soap:Envelope xmlns:soap="${version === '1.1' ? SOAP11 : SOAP12}" xmlns:ws="${NS}"${extraNs}>` +
    `<soap:Header><ws:Authentication><ws:User>${auth.User}</ws:User><ws:Password>${auth.Password}</ws:Password></ws:Authentication></soap:Header>` +
    `<soap:Body>${body}</soap:Body></soap:Envelope>`;
}

function headersFor(version: Version, op: string | null): Record<string, string> {
  if (version === '1.1') return { 'content-type': 'text/xml; charset=utf-8', ...(op ? { soapaction: `"${NS}${op}"` } : {}) };
  return { 'content-type': `application/soap+xml; charset=utf-8${op ? `; action="${NS}${op}"` : ''}` };
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly result: string | null;
  readonly returnCode: number | null;
}

async function send(version: Version, op: string, body: string, headers = headersFor(version, op)): Promise<Answer> {
  const reply = await postSoap(svc.endpoint, envelope(version, body), headers);
  const result = reply.status === 200 ? soapResultText(reply.body, op) : null;
  const code = result === null ? null : Number(/<ReturnCode>(-?\d+)<\/ReturnCode>/.exec(result)![1]);
  return { ...reply, result, returnCode: code };
}

/** Asserts a SOAP Fault in the request's version, with HTTP 500 unless told, and returns its text. */
function assertFault(answer: Answer, version: Version, status = 500): string {
  assert.equal(answer.status, status, answer.body);
  assert.equal(answer.contentType, version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8');
  const root = parseXml(answer.body).root;
  assert.equal(root.name, 'soap:Envelope');
  assert.equal(root.attrs['xmlns:soap'], version === '1.1' ? SOAP11 : SOAP12);
  const text = faultText(answer.body);
  assert.ok(text, answer.body);
  return text;
}

const importBody = (children: string, op = 'NewImportProcess'): string => `<ws:${op}>${children}</ws:${op}>`;
const xmlDocElement = (xml: string): string => `<ws:xmlDoc>${xml.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</ws:xmlDoc>`;
const FEED = feedXml([{ email: 'x@example.com', fields: ['X'] }]);
const listChildren = (): string => `<ws:idList>${acc.list.id}</ws:idList><ws:listGUID>${acc.list.guid}</ws:listGUID>`;

async function processOptions(id: number): Promise<{ ConfirmationEmail: string; options: Record<string, unknown> }> {
  const details = await callSoap(svc.endpoint, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id }, auth);
  const p = await svc.service.store.processes.getProcess(acc.account.id, id);
  return { ConfirmationEmail: /<ConfirmationEmail>(\w*)<\/ConfirmationEmail>/.exec(details.result!)![1]!, options: { ...p!.options } };
}

describe('element decoding', () => {
  for (const version of VERSIONS) {
    test(`SOAP ${version}: unknown elements are ignored (idGroup in NewImportProcess, idConfirmNL in StartImportProcesses)`, async () => {
      const created = await send(version, 'NewImportProcess', importBody(
        `${listChildren()}<ws:idGroup>${acc.groups[0]!.id}</ws:idGroup>${xmlDocElement(FEED)}<ws:idGroups>${acc.groups[0]!.id}</ws:idGroups>` +
        '<ws:importType>4</ws:importType><ws:mobileInputType>2</ws:mobileInputType><ws:asPending>0</ws:asPending>' +
        '<ws:ConfirmEmail>0</ws:ConfirmEmail><ws:asOptOut>0</ws:asOptOut><ws:forceOptIn>0</ws:forceOptIn>' +
        '<ws:replaceGroups>0</ws:replaceGroups><ws:idConfirmNL>0</ws:idConfirmNL><ws:somethingNew><ws:deep>1</ws:deep></ws:somethingNew>'));
      assert.ok(created.returnCode! > 0, created.body);
      const { options } = await processOptions(created.returnCode!);
      assert.equal(options.importType, 4);
      assert.equal(options.mobileInputType, 2);
      assert.deepEqual(options.groupIds, [acc.groups[0]!.id]);

      const started = await send(version, 'StartImportProcesses', importBody(
        `<ws:listsIDs>${acc.list.id}</ws:listsIDs><ws:listsGUIDs>${acc.list.guid}</ws:listsGUIDs>${xmlDocElement(FEED)}` +
        '<ws:groupsIDs></ws:groupsIDs><ws:importType>3</ws:importType><ws:mobileInputType>1</ws:mobileInputType>' +
        '<ws:asPending>false</ws:asPending><ws:ConfirmEmail>false</ws:ConfirmEmail><ws:asOptOut>false</ws:asOptOut>' +
        '<ws:forceOptIn>false</ws:forceOptIn><ws:replaceGroups>false</ws:replaceGroups><ws:idConfirmNL>0</ws:idConfirmNL>' +
        `<ws:idList>${acc.list.id}</ws:idList>`, 'StartImportProcesses'));
      assert.equal(started.returnCode, 0, started.body);
      const id = Number(/<processID>(\d+)<\/processID>/.exec(started.result!)![1]);
      await waitForProcess(svc.endpoint, auth, acc.list.id, acc.list.guid, id);
    });

    test(`SOAP ${version}: elements in another namespace, or without one, are ignored`, async () => {
      const answer = await send(version, 'CreateGroup',
        `<ws:CreateGroup xmlns:o="urn:other">${listChildren()}<o:idList>not a number</o:idList>` +
        '<newGroupName xmlns="">Unqualified</newGroupName><o:newGroupName>Other namespace</o:newGroupName>' +
        '<ws:newGroupName>Qualified</ws:newGroupName></ws:CreateGroup>');
      assert.ok(answer.returnCode! > 0, answer.body);
      const group = (await svc.service.store.lists.getGroups(acc.list.id)).find((g) => g.id === answer.returnCode);
      assert.equal(group?.name, 'Qualified');
    });

    test(`SOAP ${version}: missing elements take their defaults (int 0, bool false, string null)`, async () => {
      const noList = await send(version, 'CreateGroup', `<ws:CreateGroup><ws:listGUID>${acc.list.guid}</ws:listGUID><ws:newGroupName>G</ws:newGroupName></ws:CreateGroup>`);
      assert.equal(noList.returnCode, -301, 'idList missing is 0: list not specified');
      const noGuid = await send(version, 'CreateGroup', `<ws:CreateGroup><ws:idList>${acc.list.id}</ws:idList><ws:newGroupName>G</ws:newGroupName></ws:CreateGroup>`);
      assert.equal(noGuid.returnCode, -102, 'listGUID missing is null: not a GUID');
      const noName = await send(version, 'CreateGroup', `<ws:CreateGroup>${listChildren()}</ws:CreateGroup>`);
      assert.equal(noName.returnCode, -302, 'newGroupName missing is null: no name');
      const nilName = await send(version, 'CreateGroup', `<ws:CreateGroup xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${listChildren()}<ws:newGroupName xsi:nil="true" /></ws:CreateGroup>`);
      assert.equal(nilName.returnCode, -302, 'xsi:nil is null');
      const noUser = await send(version, 'GetNlListsUser', '<ws:GetNlListsUser />');
      assert.equal(noUser.returnCode, -200, 'userId missing is 0: no such user');

      // Only the list and the feed: every flag false, importType and mobileInputType their defaults.
      const minimal = await send(version, 'NewImportProcess', importBody(`${listChildren()}${xmlDocElement(FEED)}`));
      assert.ok(minimal.returnCode! > 0, minimal.body);
      const { ConfirmationEmail, options } = await processOptions(minimal.returnCode!);
      assert.equal(ConfirmationEmail, 'False');
      assert.deepEqual(options, {
        groupIds: [], importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false,
        asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
      });
    });

    test(`SOAP ${version}: xmlDoc omitted runs the pending processes; xmlDoc empty answers -401`, async () => {
      const flags = '<ws:importType>3</ws:importType><ws:mobileInputType>1</ws:mobileInputType>';
      const lists = `<ws:listsIDs>${acc.list.id}</ws:listsIDs><ws:listsGUIDs>${acc.list.guid}</ws:listsGUIDs>`;
      const empty = await send(version, 'StartImportProcesses', importBody(`${lists}<ws:xmlDoc></ws:xmlDoc>${flags}`, 'StartImportProcesses'));
      assert.equal(empty.returnCode, -401);
      const selfClosed = await send(version, 'StartImportProcesses', importBody(`${lists}<ws:xmlDoc/>${flags}`, 'StartImportProcesses'));
      assert.equal(selfClosed.returnCode, -401);
      const pending = await send(version, 'NewImportProcess', importBody(`${listChildren()}${xmlDocElement(FEED)}`));
      const omitted = await send(version, 'StartImportProcesses', importBody(`${lists}${flags}`, 'StartImportProcesses'));
      assert.equal(omitted.returnCode, 0, omitted.body);
      const ids = [...omitted.result!.matchAll(/<processID>(\d+)<\/processID>/g)].map((m) => Number(m[1]));
      assert.ok(ids.includes(pending.returnCode!), omitted.result!);
      for (const id of ids) await waitForProcess(svc.endpoint, auth, acc.list.id, acc.list.guid, id);
    });

    test(`SOAP ${version}: an empty element of a non-string type is a SOAP Fault with HTTP 500`, async () => {
      const groups = await svc.service.store.lists.getGroups(acc.list.id);
      const processes = (await svc.service.store.processes.listProcesses(acc.account.id)).length;
      for (const [op, body, name] of [
        ['NewImportProcess', importBody(`${listChildren()}${xmlDocElement(FEED)}<ws:asOptOut/>`), 'asOptOut'],
        ['NewImportProcess', importBody(`${listChildren()}${xmlDocElement(FEED)}<ws:asPending></ws:asPending>`), 'asPending'],
        ['NewImportProcess', importBody(`${listChildren()}${xmlDocElement(FEED)}<ws:importType> </ws:importType>`), 'importType'],
        ['CreateGroup', `<ws:CreateGroup><ws:idList></ws:idList><ws:listGUID>${acc.list.guid}</ws:listGUID><ws:newGroupName>G</ws:newGroupName></ws:CreateGroup>`, 'idList'],
        ['GetNlListsUser', '<ws:GetNlListsUser><ws:userId/></ws:GetNlListsUser>', 'userId'],
        ['CreateGroup', `<ws:CreateGroup><ws:idList>12abc</ws:idList><ws:listGUID>${acc.list.guid}</ws:listGUID></ws:CreateGroup>`, 'idList'],
        ['CreateGroup', `<ws:CreateGroup><ws:idList>2147483648</ws:idList><ws:listGUID>${acc.list.guid}</ws:listGUID></ws:CreateGroup>`, 'idList'],
        ['NewImportProcess', importBody(`${listChildren()}<ws:ConfirmEmail>yes</ws:ConfirmEmail>`), 'ConfirmEmail'],
        ['NewImportProcess', importBody(`${listChildren()}<ws:ConfirmEmail>True</ws:ConfirmEmail>`), 'ConfirmEmail'],
      ] as const) {
        const answer = await send(version, op, body);
        const text = assertFault(answer, version);
        assert.match(text, new RegExp(`\\b${name}\\b`), text);
        assert.equal(faultCode(answer.body), version === '1.1' ? 'soap:Client' : 'soap:Sender');
      }
      assert.deepEqual(await svc.service.store.lists.getGroups(acc.list.id), groups);
      assert.equal((await svc.service.store.processes.listProcesses(acc.account.id)).length, processes, 'a fault stores no feed and no process');
    });

    test(`SOAP ${version}: booleans are true/false/1/0 (white space around them allowed)`, async () => {
      for (const [text, expected] of [['true', 'True'], ['1', 'True'], [' true ', 'True'], ['false', 'False'], ['0', 'False'], ['\n0\n', 'False']] as const) {
        const answer = await send(version, 'NewImportProcess', importBody(`${listChildren()}${xmlDocElement(FEED)}<ws:ConfirmEmail>${text}</ws:ConfirmEmail><ws:asOptOut>${text}</ws:asOptOut>`));
        assert.ok(answer.returnCode! > 0, answer.body);
        const { ConfirmationEmail, options } = await processOptions(answer.returnCode!);
        assert.equal(ConfirmationEmail, expected, JSON.stringify(text));
        assert.equal(options.asOptOut, expected === 'True');
      }
    });

    test(`SOAP ${version}: element order does not matter`, async () => {
      const answer = await send(version, 'CreateGroup',
        `<ws:CreateGroup><ws:newGroupName>Reordered ${version}</ws:newGroupName><ws:listGUID>${acc.list.guid}</ws:listGUID><ws:idList>${acc.list.id}</ws:idList></ws:CreateGroup>`);
      assert.ok(answer.returnCode! > 0, answer.body);
      assert.equal((await svc.service.store.lists.getGroups(acc.list.id)).find((g) => g.id === answer.returnCode)?.name, `Reordered ${version}`);
      const process = await send(version, 'NewImportProcess', importBody(
        `<ws:ConfirmEmail>true</ws:ConfirmEmail>${xmlDocElement(FEED)}<ws:listGUID>${acc.list.guid}</ws:listGUID><ws:importType>2</ws:importType><ws:idList>${acc.list.id}</ws:idList>`));
      assert.ok(process.returnCode! > 0, process.body);
      const { options } = await processOptions(process.returnCode!);
      assert.equal(options.ConfirmEmail, true);
      assert.equal(options.importType, 2);
    });
  }
});

describe('SOAP versions, SOAPAction and content types', () => {
  const listsBody = '<ws:GetNlLists/>';

  for (const version of VERSIONS) {
    test(`SOAP ${version} is answered in SOAP ${version}`, async () => {
      const answer = await send(version, 'GetNlLists', listsBody);
      assert.equal(answer.status, 200);
      assert.equal(answer.contentType, version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8');
      const root = parseXml(answer.body).root;
      assert.equal(root.attrs['xmlns:soap'], version === '1.1' ? SOAP11 : SOAP12);
      const response = find(root, 'GetNlListsResponse')!;
      assert.equal(response.attrs.xmlns, NS);
      assert.equal(answer.returnCode, 0);
    });

    test(`SOAP ${version}: the action may be left out; the body names the operation`, async () => {
      const answer = await send(version, 'GetNlLists', listsBody, headersFor(version, null));
      assert.equal(answer.returnCode, 0, answer.body);
    });

    test(`SOAP ${version}: an action naming another operation than the body is a fault`, async () => {
      const answer = await send(version, 'GetNlLists', listsBody, headersFor(version, 'CreateGroup'));
      assert.match(assertFault(answer, version), /GetNlLists.*CreateGroup|CreateGroup.*GetNlLists/);
    });

    test(`SOAP ${version}: an unknown action is a fault naming it`, async () => {
      const headers: Record<string, string> = version === '1.1'
        ? { 'content-type': 'text/xml; charset=utf-8', soapaction: '"http://ws.mailupnet.it/DeleteEverything"' }
        : { 'content-type': 'application/soap+xml; charset=utf-8; action="urn:whatever"' };
      const answer = await send(version, 'GetNlLists', listsBody, headers);
      const text = assertFault(answer, version);
      assert.ok(text.startsWith('Server did not recognize the value of HTTP Header SOAPAction'), text);
    });

    test(`SOAP ${version}: an unknown operation element is a fault`, async () => {
      const answer = await send(version, 'DeleteEverything', '<ws:DeleteEverything/>', headersFor(version, null));
      assert.match(assertFault(answer, version), /DeleteEverything/);
      const other = await send(version, 'GetNlLists', '<GetNlLists xmlns="urn:not-the-service"/>', headersFor(version, null));
      assertFault(other, version);
      const lowerCase = await send(version, 'getnllists', '<ws:getnllists/>', headersFor(version, null));
      assertFault(lowerCase, version);
    });
  }

  test('SOAPAction is accepted with and without quotes', async () => {
    for (const soapaction of ['"http://ws.mailupnet.it/GetNlLists"', 'http://ws.mailupnet.it/GetNlLists', ' "http://ws.mailupnet.it/GetNlLists" ']) {
      const answer = await send('1.1', 'GetNlLists', listsBody, { 'content-type': 'text/xml; charset=utf-8', soapaction });
      assert.equal(answer.returnCode, 0, soapaction);
    }
    for (const contentType of [
      'application/soap+xml; charset=utf-8; action="http://ws.mailupnet.it/GetNlLists"',
      'application/soap+xml;charset=utf-8;action=http://ws.mailupnet.it/GetNlLists',
      'application/soap+xml; action="http://ws.mailupnet.it/GetNlLists"; charset=utf-8',
    ]) {
      const answer = await send('1.2', 'GetNlLists', listsBody, { 'content-type': contentType });
      assert.equal(answer.returnCode, 0, contentType);
    }
  });

  test('a SOAP 1.2 envelope sent as text/xml, or 1.1 as application/soap+xml, is a VersionMismatch fault', async () => {
    const as11 = await postSoap(svc.endpoint, envelope('1.2', listsBody), { 'content-type': 'text/xml; charset=utf-8', soapaction: `${NS}GetNlLists` });
    assert.equal(as11.status, 500);
    assert.equal(faultCode(as11.body), 'soap:VersionMismatch');
    const as12 = await postSoap(svc.endpoint, envelope('1.1', listsBody), { 'content-type': 'application/soap+xml; charset=utf-8' });
    assert.equal(as12.status, 500);
    assert.equal(faultCode(as12.body), 'soap:VersionMismatch');
  });

  test('another content type is refused with 415 and a message', async () => {
    for (const type of ['application/json', 'text/plain', 'application/xml', '']) {
      const headers: Record<string, string> = type === '' ? {} : { 'content-type': type };
      const reply = await postSoap(svc.endpoint, type === 'application/json' ? '{"op":"GetNlLists"}' : envelope('1.1', listsBody), headers);
      assert.equal(reply.status, 415, type);
      assert.match(reply.body, /text\/xml.*application\/soap\+xml/);
    }
  });

  test('a second operation element, or text in the body, is a fault', async () => {
    assertFault(await send('1.1', 'GetNlLists', `${listsBody}${listsBody}`, headersFor('1.1', null)), '1.1');
    assertFault(await send('1.1', 'GetNlLists', `oops${listsBody}`, headersFor('1.1', null)), '1.1');
    assertFault(await send('1.2', 'GetNlLists', '', headersFor('1.2', null)), '1.2');
  });
});

describe('the WSDL', () => {
  /** A GET with a chosen Host header, as a client behind another name sends it. */
  function get(path: string, host?: string): Promise<{ status: number; contentType: string; body: string }> {
    const url = new URL(svc.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path, headers: host ? { host } : {} }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () =>
          resolve({ status: res.statusCode!, contentType: String(res.headers['content-type']), body }));
      });
      req.on('error', reject).end();
    });
  }

  const addresses = (wsdl: string): string[] => [...wsdl.matchAll(/<(?:soap|soap12|http):address location="([^"]*)" \/>/g)].map((m) => m[1]!);

  for (const path of ['/Services/WSMailUpImport.asmx?WSDL', '/Services/WSMailUpImport.asmx?wsdl', '/services/wsmailupimport.asmx?wsdl', '/Services/WSMailupImport.asmx?WSDL']) {
    test(`GET ${path} serves the WSDL with the request's host in every address`, async () => {
      const local = await get(path);
      assert.equal(local.status, 200);
      assert.match(local.contentType, /^text\/xml/);
      const root = parseXml(local.body).root;
      assert.equal(root.name, 'wsdl:definitions');
      assert.equal(root.attrs.targetNamespace, NS);
      const port = new URL(svc.url).port;
      assert.deepEqual(addresses(local.body), Array(4).fill(`http://127.0.0.1:${port}/Services/WSMailupImport.asmx`));

      const named = await get(path, 'mailing.example.com:8080');
      assert.deepEqual(addresses(named.body), Array(4).fill('http://mailing.example.com:8080/Services/WSMailupImport.asmx'));
      const documentation = find(parseXml(named.body).root, 'documentation');
      assert.equal(textOf(documentation!), 'MailUp WebService for subscribers import.');
    });
  }

  test('the WSDL names exactly the operations the endpoint answers', async () => {
    const wsdl = (await get('/Services/WSMailUpImport.asmx?WSDL')).body;
    const ops = [...new Set([...wsdl.matchAll(/<wsdl:operation name="(\w+)">/g)].map((m) => m[1]!))];
    assert.equal(ops.length, 9);
    for (const op of ops) {
      const answer = await callSoap(svc.endpoint, op, {}, null);
      assert.equal(answer.status, 200, `${op}: ${answer.body}`);
      assert.equal(answer.returnCode, -1013, op);
    }
  });
});
