/**
 * The HTTP GET and POST bindings of the WSDL (spec §2.3): `…/asmx/<Operation>` with parameters in
 * the query string or an urlencoded form, answered as ASMX does with
 * `<?xml version="1.0" encoding="utf-8"?>` and `<string xmlns="http://ws.mailupnet.it/">…</string>`.
 * They have no SOAP header, so they authenticate with HTTP Basic (DESIGN.md).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { callSoap, feedXml, startTestService, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';
import { el, elements, parseXml, textOf } from './xml-tree.ts';

const NS = 'http://ws.mailupnet.it/';
let svc: TestService;
let acc: TestAccount;
let base: string;
let basic: string;

before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount({ listName: 'Soci & "Amici"' });
  base = `${svc.url}/Services/WSMailUpImport.asmx`;
  basic = `Basic ${Buffer.from(`${acc.user}:${acc.password}`).toString('base64')}`;
});
after(() => svc.close());

interface BindingAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** The mailupMessage carried in `<string>`, decoded by a conforming parser. */
  readonly result: string;
  readonly returnCode: number;
}

/** Checks the `<string>` document ASMX writes and returns the result string inside it. */
async function readString(res: Response): Promise<BindingAnswer> {
  const body = await res.text();
  assert.equal(res.headers.get('content-type'), 'text/xml; charset=utf-8');
  assert.ok(body.startsWith('<?xml version="1.0" encoding="utf-8"?>'), body);
  const doc = parseXml(body);
  assert.deepEqual(doc.declaration, { version: '1.0', encoding: 'utf-8', standalone: undefined });
  assert.equal(doc.root.name, 'string');
  assert.deepEqual(doc.root.attrs, { xmlns: NS });
  assert.equal(elements(doc.root).length, 0, 'the result is text, not nested elements');
  const result = textOf(doc.root);
  assert.ok(result.startsWith('<?xml version="1.0" encoding="windows-1252" ?><mailupMessage><mailupBody><ReturnCode>'), result);
  // Escaped as .NET escapes text: the ASP include's split on ReturnCode&gt; works here too.
  assert.ok(body.includes('&lt;mailupMessage&gt;&lt;mailupBody&gt;&lt;ReturnCode&gt;'));
  const returnCode = Number(body.split('ReturnCode&gt;')[1]!.split('&lt;')[0]);
  return { status: res.status, headers: res.headers, body, result, returnCode };
}

const form = (fields: Record<string, string | number | boolean>): string => new URLSearchParams(
  Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)]),
).toString();

const post = (op: string, body: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${base}/${op}`, {
  method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic, ...headers },
});

describe('HTTP GET', () => {
  test('GetNlLists answers the same result string as SOAP, in <string>', async () => {
    const answer = await readString(await fetch(`${base}/GetNlLists`, { headers: { authorization: basic } }));
    assert.equal(answer.status, 200);
    assert.equal(answer.returnCode, 0);
    const soap = await callSoap(svc.endpoint, 'GetNlLists', {}, { User: acc.user, Password: acc.password });
    assert.equal(answer.result, soap.result);
    const lists = elements(elements(elements(parseXml(answer.result).root)[0]!)[1]!);
    assert.equal(lists[0]!.attrs.listName, 'Soci & "Amici"');
  });

  test('the path and the method name are matched without regard to case', async () => {
    for (const path of ['/services/wsmailupimport.asmx/getnllists', '/Services/WSMailupImport.asmx/GetNlLists', '/SERVICES/WSMAILUPIMPORT.ASMX/GETNLLISTS']) {
      const answer = await readString(await fetch(`${svc.url}${path}`, { headers: { authorization: basic } }));
      assert.equal(answer.returnCode, 0, path);
    }
  });

  test('parameters come from the query string', async () => {
    const user = await svc.service.store.accounts.createConsoleUser(acc.account.id, 'mario', 'x', null);
    const answer = await readString(await fetch(`${base}/GetIdUser?userName=mario`, { headers: { authorization: basic } }));
    assert.deepEqual(elements(elements(parseXml(answer.result).root)[0]!), [el('ReturnCode', {}, 0), el('IdUser', {}, user.id)]);
    const details = await readString(await fetch(`${base}/GetProcessDetails?idList=${acc.list.id}&listGUID=${acc.list.guid}&idProcess=999`, { headers: { authorization: basic } }));
    assert.equal(details.returnCode, -501);
  });

  test('without credentials: 401 with WWW-Authenticate, and ReturnCode -1013 in the body', async () => {
    for (const op of ['GetNlLists', 'GetIdWsUser']) {
      const answer = await readString(await fetch(`${base}/${op}`));
      assert.equal(answer.status, 401);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Basic realm="[^"]+"/);
      assert.equal(answer.returnCode, -1013);
    }
    const unreadable = await readString(await fetch(`${base}/GetNlLists`, { headers: { authorization: 'Basic !!!' } }));
    assert.equal(unreadable.status, 401);
    assert.equal(unreadable.returnCode, -1013);
  });

  test('wrong credentials answer the authentication ReturnCodes', async () => {
    const auth = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    assert.equal((await readString(await fetch(`${base}/GetNlLists`, { headers: auth(acc.user, 'wrong') }))).returnCode, -1002);
    assert.equal((await readString(await fetch(`${base}/GetNlLists`, { headers: auth('a424242', 'wrong') }))).returnCode, -1001);
    assert.equal((await readString(await fetch(`${base}/GetNlLists`, { headers: auth(acc.user.toUpperCase(), acc.password) }))).returnCode, 0);
    const colon = await svc.addAccount({ password: 'with:colon' });
    assert.equal((await readString(await fetch(`${base}/GetIdWsUser`, { headers: auth(colon.user, 'with:colon') }))).returnCode, 0,
      'only the first colon separates user and password');
  });
});

describe('HTTP POST', () => {
  test('CreateGroup with a form answers the new id in <string>', async () => {
    const answer = await readString(await post('CreateGroup', form({ idList: acc.list.id, listGUID: acc.list.guid, newGroupName: 'Città € & <Co>' })));
    assert.equal(answer.status, 200);
    assert.ok(answer.returnCode > 0);
    assert.equal(answer.result, `<?xml version="1.0" encoding="windows-1252" ?><mailupMessage><mailupBody><ReturnCode>${answer.returnCode}</ReturnCode></mailupBody></mailupMessage>`);
    const group = (await svc.service.store.lists.getGroups(acc.list.id)).find((g) => g.id === answer.returnCode);
    assert.equal(group?.name, 'Città € & <Co>');
    const again = await readString(await post('CreateGroup', form({ idList: acc.list.id, listGUID: acc.list.guid, newGroupName: 'CITTÀ € & <CO>' })));
    assert.equal(again.returnCode, answer.returnCode, 'a duplicate name in another case is the same group');
  });

  test('a missing field defaults and a malformed int is an error, as over SOAP', async () => {
    assert.equal((await readString(await post('CreateGroup', form({ listGUID: acc.list.guid, newGroupName: 'x' })))).returnCode, -301);
    const bad = await post('CreateGroup', form({ idList: 'twelve', listGUID: acc.list.guid, newGroupName: 'x' }));
    assert.equal(bad.status, 500);
    assert.match(await bad.text(), /idList/);
  });

  test('without credentials: 401 with WWW-Authenticate and -1013, nothing created', async () => {
    const before = await svc.service.store.lists.getGroups(acc.list.id);
    const res = await fetch(`${base}/CreateGroup`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ idList: acc.list.id, listGUID: acc.list.guid, newGroupName: 'Anonymous' }),
    });
    const answer = await readString(res);
    assert.equal(answer.status, 401);
    assert.ok(answer.headers.get('www-authenticate'));
    assert.equal(answer.returnCode, -1013);
    assert.deepEqual(await svc.service.store.lists.getGroups(acc.list.id), before);
  });

  test('NewImportProcess with a percent-encoded xmlDoc (multi-byte characters) creates a process that runs', async () => {
    const xmlDoc = feedXml([
      { email: 'zoë@example.com', Name: 'Zoë', fields: ['Zoë', 'Müller', 'Città € 😀'] },
      { email: 'li@example.com', fields: ['李', '小龙'] },
      { email: 'plain@example.com', fields: ['a+b=c&d', '100%'] },
    ]);
    const body = form({
      idList: acc.list.id, listGUID: acc.list.guid, xmlDoc, idGroups: String(acc.groups[0]!.id), importType: 3, mobileInputType: 1,
      asPending: false, ConfirmEmail: 'false', asOptOut: 0, forceOptIn: 0, replaceGroups: 'false', idConfirmNL: 0,
    });
    assert.ok(/%E2%82%AC/.test(body) && /%F0%9F%98%80/.test(body), 'multi-byte characters travel percent-encoded');
    const answer = await readString(await post('NewImportProcess', body));
    assert.equal(answer.status, 200);
    const id = answer.returnCode;
    assert.ok(id > 0, answer.result);
    const process = await svc.service.store.processes.getProcess(acc.account.id, id);
    assert.equal(process?.totalContacts, 3);
    assert.deepEqual(process?.options.groupIds, [acc.groups[0]!.id]);

    const started = await readString(await post('StartProcess', form({ idList: acc.list.id, listGUID: acc.list.guid, idProcess: id })));
    assert.equal(started.returnCode, 0);
    const done = await waitForProcess(svc.endpoint, { User: acc.user, Password: acc.password }, acc.list.id, acc.list.guid, id);
    assert.match(done.result!, /<TotalContacts>3<\/TotalContacts><NewMobile>0<\/NewMobile><NewEmail>3<\/NewEmail>/);
    assert.equal((await svc.service.store.processes.rejectReport(acc.account.id, id)).length, 0);
  });

  test('a form sent in small pieces, splitting escapes and characters, decodes the same', async () => {
    const xmlDoc = feedXml([{ email: 'pieces@example.com', fields: ['Ünïcödé € 😀'] }]);
    const body = form({ idList: acc.list.id, listGUID: acc.list.guid, xmlDoc, importType: 3, mobileInputType: 1 });
    const url = new URL(svc.url);
    const socket = connect(Number(url.port), url.hostname);
    let response = '';
    socket.setEncoding('utf8').on('data', (d: string) => (response += d));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(`POST /Services/WSMailUpImport.asmx/NewImportProcess HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`);
    // One byte at a time through the first escapes, then the rest.
    const bytes = Buffer.from(body);
    for (let i = 0; i < bytes.length; i += i < 400 ? 1 : 64) {
      socket.write(bytes.subarray(i, i < 400 ? i + 1 : i + 64));
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await closed;
    assert.match(response, /^HTTP\/1\.1 200 /);
    const id = Number(response.split('ReturnCode&gt;')[1]!.split('&lt;')[0]);
    assert.ok(id > 0, response);
    assert.equal((await svc.service.store.processes.getProcess(acc.account.id, id))?.totalContacts, 1);
  });

  test('a form with invalid UTF-8 or a broken escape is refused with 400', async () => {
    for (const body of [`idList=${acc.list.id}&newGroupName=%C3%28`, 'newGroupName=%zz', 'newGroupName=abc%4']) {
      const res = await post('CreateGroup', body);
      assert.equal(res.status, 400, body);
      assert.ok((await res.text()).length > 10);
    }
  });

  test('a non-form content type is refused with 415 and a message', async () => {
    for (const type of ['application/json', 'text/xml; charset=utf-8', 'multipart/form-data; boundary=x']) {
      const res = await post('CreateGroup', '{}', { 'content-type': type });
      assert.equal(res.status, 415, type);
      assert.match(await res.text(), /application\/x-www-form-urlencoded/);
    }
  });
});

test('an unknown method is 404 with a message, for GET and POST', async () => {
  for (const method of ['GET', 'POST']) {
    const res = await fetch(`${base}/DeleteEverything`, {
      method, headers: { authorization: basic, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(method === 'POST' ? { body: 'a=1' } : {}),
    });
    assert.equal(res.status, 404, method);
    assert.match(await res.text(), /DeleteEverything/);
  }
});

test('other HTTP methods are refused with 405 and Allow; HEAD reads the WSDL but never calls an operation', async () => {
  for (const [method, path, allow] of [['PUT', '', 'GET, HEAD, POST'], ['DELETE', '', 'GET, HEAD, POST'], ['PUT', '/CreateGroup', 'GET, POST'],
    ['HEAD', '/CreateGroup', 'GET, POST']] as const) {
    const res = await fetch(`${base}${path}?idList=${acc.list.id}&listGUID=${acc.list.guid}&newGroupName=Head`, { method, headers: { authorization: basic } });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get('allow'), allow);
  }
  assert.ok(!(await svc.service.store.lists.getGroups(acc.list.id)).some((g) => g.name === 'Head'), 'HEAD created a group');
  const head = await fetch(`${base}?WSDL`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), 'text/xml; charset=utf-8');
  assert.ok(Number(head.headers.get('content-length')) > 1000);
  assert.equal(await head.text(), '');
});
