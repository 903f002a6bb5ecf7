/**
 * Every way a call can fail, and the error it becomes: ReturnCodes from the real service (and,
 * for the codes this service never answers, from an endpoint that writes them with the
 * service's own result and envelope writers), SOAP Faults in both versions, and transport
 * failures: refused connections, timeouts, HTTP errors, answers that are not results.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mailupMessage } from '../../src/protocol/mailup-message.ts';
import { soapResult } from '../../src/protocol/soap-response.ts';
import { feedXml, startTestService, type TestAccount, type TestService } from '../../test/helpers/service.ts';
import {
  MailUpError, MailUpImportClient, MailUpReturnCodeError, RETURN_CODES, SoapFaultError, TransportError,
  buildFeed, type MailUpImportClientOptions, type OperationName,
} from '../src/index.ts';

let svc: TestService;
let acc: TestAccount;
before(async () => {
  svc = await startTestService();
  acc = await svc.addAccount();
});
after(() => svc.close());

const client = (options: Partial<MailUpImportClientOptions> = {}): MailUpImportClient =>
  new MailUpImportClient({ endpoint: svc.endpoint, user: acc.user, password: acc.password, retryDelayMs: 20, ...options });

/** Asserts the call fails with this ReturnCode and its documented meaning. */
async function rejectsWith(call: Promise<unknown>, returnCode: number, operation: OperationName): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof MailUpReturnCodeError, String(err));
    assert.ok(err instanceof MailUpError);
    assert.equal(err.code, 'MAILUP_RETURN_CODE');
    assert.equal(err.returnCode, returnCode);
    assert.equal(err.meaning, (RETURN_CODES as Record<string, string>)[String(returnCode)]);
    assert.equal(err.operation, operation);
    assert.ok(!err.message.includes(acc.password));
    return true;
  });
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string; requests: () => number }> {
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    handler(req, res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/Services/WSMailupImport.asmx`, requests: () => count });
  }));
}

const close = (server: Server | TcpServer): Promise<void> => new Promise((resolve) => {
  (server as Server).closeAllConnections?.();
  server.close(() => resolve());
});

const bodyOf = (req: IncomingMessage): Promise<string> => new Promise((resolve) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => resolve(body));
});

describe('ReturnCodes from the real service', () => {
  test('authentication: -1013 missing, -1001 unknown user, -1002 wrong password, -1006 disabled, -1011 IP not allowed', async () => {
    await rejectsWith(client({ user: '', password: '' }).getNlLists(), -1013, 'GetNlLists');
    await rejectsWith(client({ user: 'a999999' }).getIdWsUser(), -1001, 'GetIdWsUser');
    await rejectsWith(client({ password: 'wrong' }).getNlLists(), -1002, 'GetNlLists');
    const other = await svc.addAccount();
    const otherClient = new MailUpImportClient({ endpoint: svc.endpoint, user: other.user, password: other.password });
    await svc.service.store.accounts.updateAccount(other.account.id, { wsEnabled: false });
    await rejectsWith(otherClient.getNlLists(), -1006, 'GetNlLists');
    await svc.service.store.accounts.updateAccount(other.account.id, { wsEnabled: true, ipCheck: true, allowedIps: ['10.1.2.3'] });
    await rejectsWith(otherClient.getNlLists(), -1011, 'GetNlLists');
    await svc.service.store.accounts.updateAccount(other.account.id, { allowedIps: ['127.0.0.1'] });
    assert.equal(await otherClient.getIdWsUser(), other.account.id);
  });

  test('list check: -101 a list of someone else or a wrong GUID, -102 a malformed GUID', async () => {
    const other = await svc.addAccount();
    await rejectsWith(client().getProcessDetails({ idList: other.list.id, listGUID: other.list.guid, idProcess: 1 }), -101, 'GetProcessDetails');
    await rejectsWith(client().startProcess({ idList: acc.list.id, listGUID: other.list.guid, idProcess: 1 }), -101, 'StartProcess');
    await rejectsWith(client().createGroup({ idList: acc.list.id, listGUID: 'not-a-guid', newGroupName: 'x' }), -102, 'CreateGroup');
    await rejectsWith(client().newImportProcess({ idList: acc.list.id, xmlDoc: feedXml([{ email: 'a@b.it' }]) }), -102, 'NewImportProcess');
  });

  test('operation codes: -200, -301, -302, -400, -401, -402, -410, -450, -501, -603', async () => {
    const list = { idList: acc.list.id, listGUID: acc.list.guid };
    await rejectsWith(client().getIdUser({ userName: 'nobody' }), -200, 'GetIdUser');
    await rejectsWith(client().getNlListsUser({ userId: 987654 }), -200, 'GetNlListsUser');
    await rejectsWith(client().createGroup({ idList: 0, listGUID: acc.list.guid, newGroupName: 'x' }), -301, 'CreateGroup');
    await rejectsWith(client().createGroup({ ...list, newGroupName: '  ' }), -302, 'CreateGroup');
    await rejectsWith(client().newImportProcess({ ...list, xmlDoc: buildFeed([{ email: 'a@b.it' }]), importType: 9 }), -400, 'NewImportProcess');
    await rejectsWith(client().newImportProcess({ ...list, xmlDoc: '' }), -401, 'NewImportProcess');
    await rejectsWith(client().newImportProcess({ ...list, xmlDoc: '<subscribers><subscriber email="a@b.it">' }), -402, 'NewImportProcess');
    await rejectsWith(client().newImportProcess({ ...list, xmlDoc: buildFeed([{ email: 'a@b.it' }]), ConfirmEmail: true, idConfirmNL: 424242 }), -410, 'NewImportProcess');
    await rejectsWith(client().startImportProcesses({ listsIDs: `${acc.list.id};${acc.list.id}`, listsGUIDs: acc.list.guid, xmlDoc: buildFeed([{ email: 'a@b.it' }]) }), -450, 'StartImportProcesses');
    await rejectsWith(client().getProcessDetails({ ...list, idProcess: 999_999 }), -501, 'GetProcessDetails');
    await rejectsWith(client().startProcess({ ...list, idProcess: 999_999 }), -603, 'StartProcess');
  });

  test('-601 and -602 while the account runs another import', async () => {
    const busy = await startTestService({}, { runWorker: false });
    try {
      const a = await busy.addAccount();
      const second = await busy.service.store.lists.createList(a.account.id, 'Second');
      const c = new MailUpImportClient({ endpoint: busy.endpoint, user: a.user, password: a.password });
      // Nothing runs imports on this service, so the first one stays running.
      const [running] = await c.startImportProcesses({ listsIDs: String(a.list.id), listsGUIDs: a.list.guid, xmlDoc: buildFeed([{ email: 'r@b.it' }]) });
      assert.equal((await c.getProcessDetails({ idList: a.list.id, listGUID: a.list.guid, idProcess: running!.idProcess })).status, 'running');
      const same = await c.newImportProcess({ idList: a.list.id, listGUID: a.list.guid, xmlDoc: buildFeed([{ email: 's@b.it' }]) });
      const other = await c.newImportProcess({ idList: second.id, listGUID: second.guid, xmlDoc: buildFeed([{ email: 'o@b.it' }]) });
      await rejectsWithOn(c.startProcess({ idList: a.list.id, listGUID: a.list.guid, idProcess: same }), -601);
      await rejectsWithOn(c.startProcess({ idList: second.id, listGUID: second.guid, idProcess: other }), -602);
      await rejectsWithOn(c.startImportProcesses({ listsIDs: String(a.list.id), listsGUIDs: a.list.guid, xmlDoc: buildFeed([{ email: 'x@b.it' }]) }), -601);
    } finally {
      await busy.close();
    }
    async function rejectsWithOn(call: Promise<unknown>, code: number): Promise<void> {
      await assert.rejects(call, (err: unknown) => err instanceof MailUpReturnCodeError && err.returnCode === code && err.meaning === (RETURN_CODES as Record<string, string>)[String(code)]);
    }
  });
});

describe('ReturnCodes this service never answers (written by its own result and envelope writers)', () => {
  let endpoint: { server: Server; url: string };
  let nextCode = 0;
  before(async () => {
    endpoint = await listen(async (req, res) => {
      const body = await bodyOf(req);
      const version = (req.headers['content-type'] ?? '').startsWith('application/soap+xml') ? '1.2' : '1.1';
      const op = /<soap:Body><(\w+) /.exec(body)![1] as OperationName;
      res.writeHead(200, { 'content-type': version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8' });
      res.end(soapResult(version, op, mailupMessage(nextCode)));
    });
  });
  after(() => close(endpoint.server));

  for (const soapVersion of ['1.1', '1.2'] as const) {
    test(`every documented code maps to MailUpReturnCodeError with its meaning (SOAP ${soapVersion})`, async () => {
      const c = new MailUpImportClient({ endpoint: endpoint.url, user: 'a1', password: 'p', soapVersion });
      for (const code of Object.keys(RETURN_CODES).map(Number)) {
        nextCode = code;
        await assert.rejects(c.getNlLists(), (err: unknown) =>
          err instanceof MailUpReturnCodeError && err.returnCode === code && err.meaning === (RETURN_CODES as Record<string, string>)[String(code)], String(code));
      }
      nextCode = -4242;
      await assert.rejects(c.getIdWsUser(), { code: 'MAILUP_RETURN_CODE', returnCode: -4242, meaning: 'undocumented ReturnCode' });
    });
  }
});

describe('SOAP Faults', () => {
  let small: TestService;
  before(async () => {
    small = await startTestService({ BODY_LIMIT: '4kb' });
  });
  after(() => small.close());

  for (const soapVersion of ['1.1', '1.2'] as const) {
    test(`a body over the limit: SoapFaultError with HTTP 413 (SOAP ${soapVersion})`, async () => {
      const a = await small.addAccount();
      const c = new MailUpImportClient({ endpoint: small.endpoint, user: a.user, password: a.password, soapVersion });
      await assert.rejects(c.newImportProcess({ idList: a.list.id, listGUID: a.list.guid, xmlDoc: 'x'.repeat(10_000) }), (err: unknown) => {
        assert.ok(err instanceof SoapFaultError, String(err));
        assert.equal(err.code, 'MAILUP_SOAP_FAULT');
        assert.equal(err.httpStatus, 413);
        assert.equal(err.faultcode, soapVersion === '1.1' ? 'soap:Client' : 'soap:Sender');
        assert.match(err.faultstring, /larger than the limit/);
        return true;
      });
    });

    test(`an empty element for a number, as ASMX refuses it: SoapFaultError with HTTP 500 (SOAP ${soapVersion})`, async () => {
      // The client never writes an empty number; a fetch that edits the request makes one.
      const emptying: typeof fetch = (url, init) => globalThis.fetch(url, { ...init, body: String(init!.body).replace('<idProcess>5</idProcess>', '<idProcess></idProcess>') });
      const c = client({ soapVersion, fetch: emptying });
      await assert.rejects(c.getProcessDetails({ idList: acc.list.id, listGUID: acc.list.guid, idProcess: 5 }), (err: unknown) =>
        err instanceof SoapFaultError && err.httpStatus === 500 && err.faultstring !== '' && /^soap:(Client|Sender)$/.test(err.faultcode));
    });
  }
});

describe('transport failures', () => {
  test('connection refused: TransportError MAILUP_NETWORK_ERROR, retried for a read-only call only', async () => {
    const { server, url } = await listen(() => {});
    await close(server);
    const c = new MailUpImportClient({ endpoint: url, user: 'a1', password: 'secret-pw', retries: 2, retryDelayMs: 10 });
    await assert.rejects(c.getNlLists(), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'MAILUP_NETWORK_ERROR');
      assert.equal(err.failure, 'network');
      assert.equal(err.attempts, 3);
      assert.equal(err.httpStatus, null);
      assert.match(err.message, /ECONNREFUSED/);
      assert.ok(!err.message.includes('secret-pw'));
      return true;
    });
    await assert.rejects(c.createGroup({ idList: 1, listGUID: acc.list.guid, newGroupName: 'x' }), { code: 'MAILUP_NETWORK_ERROR', attempts: 1 });
  });

  test('no answer in time: MAILUP_TIMEOUT, each attempt of a read-only call timed, a creating call sent once', async () => {
    const hanging = await listen(() => {});
    try {
      const c = new MailUpImportClient({ endpoint: hanging.url, user: 'a1', password: 'p', timeoutMs: 200, retries: 1, retryDelayMs: 10 });
      await assert.rejects(c.getProcessDetails({ idList: 1, idProcess: 1 }), { name: 'TransportError', code: 'MAILUP_TIMEOUT', attempts: 2 });
      assert.equal(hanging.requests(), 2);
      await assert.rejects(c.newImportProcess({ idList: 1, xmlDoc: '<subscribers/>' }), { code: 'MAILUP_TIMEOUT', attempts: 1 });
      assert.equal(hanging.requests(), 3);
      const controller = new AbortController();
      const aborted = c.getNlLists({}, { signal: controller.signal, timeoutMs: 10_000 });
      controller.abort(new Error('stopped by the caller'));
      await assert.rejects(aborted, /stopped by the caller/);
    } finally {
      await close(hanging.server);
    }
  });

  test('an HTTP error without a fault: MAILUP_HTTP_STATUS with the status', async () => {
    const c = new MailUpImportClient({ endpoint: `${svc.url}/Services/NoSuchService.asmx`, user: acc.user, password: acc.password });
    await assert.rejects(c.getNlLists(), { name: 'TransportError', code: 'MAILUP_HTTP_STATUS', failure: 'http-status', httpStatus: 404, attempts: 1 });
  });

  test('answers that are not results: MAILUP_INVALID_RESPONSE', async () => {
    const answers: Array<[string, string]> = [
      ['text/html', '<html><body>Sign in</body></html>'],
      ['text/plain', 'not xml at all <'],
      ['text/xml', '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Other/></soap:Body></soap:Envelope>'],
      ['text/xml', soapResult('1.1', 'GetProcessDetails', mailupMessage(0))],
      ['text/xml', soapResult('1.1', 'GetProcessDetails', '<mailupMessage><mailupBody><ReturnCode>0</ReturnCode><ImportProcess idProcess="1"><StartDate>tomorrow</StartDate></ImportProcess></mailupBody></mailupMessage>')],
    ];
    let next = 0;
    const odd = await listen((_req, res) => {
      const [type, body] = answers[next++]!;
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    });
    try {
      const c = new MailUpImportClient({ endpoint: odd.url, user: 'a1', password: 'p' });
      for (const [type] of answers) {
        await assert.rejects(c.getProcessDetails({ idList: 1, idProcess: 1 }), (err: unknown) =>
          err instanceof TransportError && err.code === 'MAILUP_INVALID_RESPONSE' && err.httpStatus === 200 && err.attempts === 1, type);
      }
    } finally {
      await close(odd.server);
    }
  });

  test('a connection that breaks is retried for a read-only call and not for a creating one', async () => {
    // A TCP relay to the service that cuts the next connections it is told to.
    const target = new URL(svc.url);
    let cut = 0;
    const sockets = new Set<Socket>();
    const relay = createTcpServer((incoming) => {
      sockets.add(incoming);
      incoming.on('close', () => sockets.delete(incoming));
      if (cut > 0) {
        cut--;
        incoming.destroy();
        return;
      }
      const outgoing = connect(Number(target.port), target.hostname);
      incoming.pipe(outgoing).pipe(incoming);
      incoming.on('error', () => outgoing.destroy());
      outgoing.on('error', () => incoming.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const breakNext = (n: number): void => {
      cut = n;
      for (const s of sockets) s.destroy();
    };
    try {
      const c = new MailUpImportClient({
        endpoint: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`, user: acc.user, password: acc.password, retries: 2, retryDelayMs: 20,
      });
      breakNext(1);
      assert.ok((await c.getNlLists()).some((l) => l.idList === acc.list.id));
      const before = await svc.db.query('SELECT id FROM import_process WHERE account_id = ?', [acc.account.id]);
      breakNext(1);
      await assert.rejects(c.newImportProcess({ idList: acc.list.id, listGUID: acc.list.guid, xmlDoc: buildFeed([{ email: 'cut@b.it' }]) }), { code: 'MAILUP_NETWORK_ERROR', attempts: 1 });
      const afterCut = await svc.db.query('SELECT id FROM import_process WHERE account_id = ?', [acc.account.id]);
      assert.equal(afterCut.length, before.length, 'the refused request created nothing, and it was not sent again');
    } finally {
      for (const s of sockets) s.destroy();
      await close(relay);
    }
  });
});

test('instanceof works by brand, so two copies of the package recognise each other\'s errors', () => {
  const err = new TransportError({ operation: 'GetNlLists', failure: 'timeout', reason: 'r', httpStatus: null, attempts: 1 });
  const lookalike = Object.assign(Object.create(null), { [Symbol.for('mailup-import-client.error-kinds')]: ['MailUpError', 'TransportError'] });
  assert.ok(err instanceof TransportError && err instanceof MailUpError && err instanceof Error);
  assert.ok(!(err instanceof SoapFaultError) && !(err instanceof MailUpReturnCodeError));
  assert.ok(lookalike instanceof TransportError);
  assert.equal(err.name, 'TransportError');
  assert.equal(err.code, 'MAILUP_TIMEOUT');
});
