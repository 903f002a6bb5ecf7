/**
 * Hostile and broken requests: malformed XML, DTDs and external entities, oversized bodies,
 * wrong charsets, invalid bytes, slow clients. Each gets a clear, documented answer (a SOAP
 * Fault or an HTTP error with a message), reveals nothing about the server's internals, and
 * leaves the stored data exactly as it was: after every test the store's database (SQLite or
 * PostgreSQL) is compared, table by table, with a snapshot taken before it.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import {
  callSoap, feedXml, postSoap, soapEnvelope, startTestService,
  type SoapAuth, type TestAccount, type TestService,
} from '../helpers/service.ts';
import { faultText, parseXml, soapResultText } from './xml-tree.ts';

const SECRET = `top-secret-${process.pid}-${Date.now()}`;
let secretDir: string;
let secretPath: string;
let svc: TestService;
let acc: TestAccount;
let auth: SoapAuth;

before(async () => {
  secretDir = mkdtempSync(join(tmpdir(), 'mailup-secret-'));
  secretPath = join(secretDir, 'secret.txt');
  writeFileSync(secretPath, SECRET);
  svc = await startTestService({ BODY_LIMIT: '64kb' });
  acc = await svc.addAccount();
  auth = { User: acc.user, Password: acc.password };
});
after(async () => {
  await svc.close();
  rmSync(secretDir, { recursive: true, force: true });
});

/** Every row of every table of the service's database (sorted), read through a separate connection. */
async function snapshot(service: TestService = svc): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const name of await service.db.tables()) out[name] = (await service.db.query(`SELECT * FROM "${name}"`)).map((r) => JSON.stringify(r)).sort();
  return out;
}

let stored: Record<string, string[]>;
let lists: string;

async function listsNow(): Promise<string> {
  const reply = await callSoap(svc.endpoint, 'GetNlLists', {}, auth);
  assert.equal(reply.returnCode, 0);
  return reply.result!;
}

describe('bad input', () => {
  before(async () => {
    stored = await snapshot();
    lists = await listsNow();
  });
  afterEach(async () => {
    assert.equal(await listsNow(), lists, 'GetNlLists is unchanged');
    assert.deepEqual(await snapshot(), stored, 'the stored data is unchanged');
  });

  const soap11 = { 'content-type': 'text/xml; charset=utf-8', soapaction: '"http://ws.mailupnet.it/GetNlLists"' };
  const createGroup = (name: string): string =>
    soapEnvelope('CreateGroup', { idList: acc.list.id, listGUID: acc.list.guid, newGroupName: name }, auth);

  /** What a fault message must never contain: stack frames, paths, parser or runtime internals. */
  function assertNoInternals(text: string): void {
    assert.doesNotMatch(text, /\bat [\w.<>]+ \(|\bat (?:async )?\/|node:internal|node_modules/, `stack trace in: ${text}`);
    assert.doesNotMatch(text, /\/(?:work|tmp|home|usr|src)\/|[A-Z]:\\|\.ts\b|\.js\b/, `file path in: ${text}`);
    assert.doesNotMatch(text, /XmlSyntaxError|Tokenizer|TypeError|RangeError|ReferenceError|undefined|\bnull\b|at character|offset/i, `internals in: ${text}`);
    assert.ok(!text.includes(SECRET));
  }

  test('malformed XML is a SOAP Fault with HTTP 500 and a plain message', async () => {
    const bodies = [
      'garbage<',
      '',
      '   ',
      '<?xml version="1.0"?>',
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetNlLists xmlns="http://ws.mailupnet.it/"/></soap:Body>',
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body></soap:Envelope>',
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&bogus;</soap:Body></soap:Envelope>',
      '<soap:Envelope xmlns:soap=http://schemas.xmlsoap.org/soap/envelope/><soap:Body/></soap:Envelope>',
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" a="1" a="2"><soap:Body/></soap:Envelope>',
      '<x:Envelope><x:Body/></x:Envelope>',
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetNlLists xmlns="http://ws.mailupnet.it/"/></soap:Body></soap:Envelope><more/>',
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">\u0000<soap:Body/></soap:Envelope>',
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&#0;</soap:Body></soap:Envelope>',
      `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetNlLists xmlns="http://ws.mailupnet.it/">${'<a>'.repeat(200)}${'</a>'.repeat(200)}</GetNlLists></soap:Body></soap:Envelope>`,
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><![CDATA[x]]></soap:Body></soap:Envelope>',
      '<?xml version="1.0"?><?xml version="1.0"?><a/>',
      '<a><!-- -- --></a>',
      createGroup('x').replace('</soapenv:Envelope>', ''),
      createGroup('x').replace('<ws:newGroupName>', '<ws:newGroupName><b>'),
    ];
    for (const body of bodies) {
      const reply = await postSoap(svc.endpoint, body, soap11);
      assert.ok(reply.status === 500 || reply.status === 400, `${reply.status} for ${JSON.stringify(body.slice(0, 80))}`);
      assert.equal(reply.contentType, 'text/xml; charset=utf-8');
      const text = faultText(reply.body);
      assert.ok(text && text.length > 10, reply.body);
      assertNoInternals(text);
    }
  });

  test('random damage to a request never crashes the service or leaks internals', async () => {
    const valid = soapEnvelope('GetNlLists', {}, auth);
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ at: fc.nat(), cut: fc.nat({ max: 8 }), insert: fc.constantFrom('', '<', '>', '&', '"', '</', '<!', ']]>', '\u0001', 'é', '&#x0;', 'xmlns:') }), { minLength: 1, maxLength: 4 }),
      async (edits) => {
        let body = valid;
        for (const e of edits) {
          const at = e.at % (body.length + 1);
          body = body.slice(0, at) + e.insert + body.slice(at + e.cut);
        }
        const reply = await postSoap(svc.endpoint, body, soap11);
        if (reply.status === 200) {
          assert.notEqual(soapResultText(reply.body, 'GetNlLists'), null, reply.body);
          return;
        }
        assert.ok([400, 500].includes(reply.status), `${reply.status}: ${reply.body}`);
        assertNoInternals(faultText(reply.body)!);
      },
    ), { numRuns: 60, seed: 20121030 });
  });

  describe('DTDs and entities are refused before anything is resolved', () => {
    const wrap = (dtd: string, content: string): string =>
      `<?xml version="1.0"?>${dtd}<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ws="http://ws.mailupnet.it/">` +
      `<soapenv:Header><ws:Authentication><ws:User>${auth.User}</ws:User><ws:Password>${auth.Password}</ws:Password></ws:Authentication></soapenv:Header>` +
      `<soapenv:Body><ws:CreateGroup><ws:idList>${acc.list.id}</ws:idList><ws:listGUID>${acc.list.guid}</ws:listGUID><ws:newGroupName>${content}</ws:newGroupName></ws:CreateGroup></soapenv:Body></soapenv:Envelope>`;
    const cases: [string, string][] = [];
    before(() => {
      const laughs = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`)];
      cases.push(
        ['a plain DOCTYPE', wrap('<!DOCTYPE soapenv:Envelope>', 'x')],
        ['an external SYSTEM entity (XXE)', wrap(`<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "file://${secretPath}">]>`, '&xxe;')],
        ['a PUBLIC entity', wrap(`<!DOCTYPE soapenv:Envelope [<!ENTITY pub PUBLIC "-//X//Y" "file://${secretPath}">]>`, '&pub;')],
        ['an external DTD', wrap(`<!DOCTYPE soapenv:Envelope SYSTEM "file://${secretPath}">`, 'x')],
        ['a parameter entity', wrap(`<!DOCTYPE soapenv:Envelope [<!ENTITY % p SYSTEM "file://${secretPath}"> %p;]>`, 'x')],
        ['billion laughs', wrap(`<!DOCTYPE soapenv:Envelope [${laughs.join('')}]>`, '&lol9;')],
      );
    });

    for (const version of ['1.1', '1.2'] as const) {
      test(`SOAP ${version}: every DTD form is an HTTP 400 fault and the entity is never read`, async () => {
        const headers = version === '1.1' ? soap11 : { 'content-type': 'application/soap+xml; charset=utf-8' };
        for (const [label, body] of cases) {
          const sent = version === '1.1' ? body : body.replace('http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope');
          const reply = await postSoap(svc.endpoint, sent, headers);
          assert.equal(reply.status, 400, `${label}: ${reply.body}`);
          const text = faultText(reply.body)!;
          assert.match(text, /DTD/, label);
          assertNoInternals(text);
          assert.ok(!reply.body.includes(SECRET) && !reply.body.includes('lollol'), label);
        }
      });
    }

    test('a DTD inside the xmlDoc feed answers -402 and stores nothing', async () => {
      const feeds = [
        `<!DOCTYPE subscribers [<!ENTITY xxe SYSTEM "file://${secretPath}">]><subscribers><subscriber email="a@example.com" Prefix="" Number="" Name="&xxe;"><campo1>&xxe;</campo1></subscriber></subscribers>`,
        `<!DOCTYPE subscribers [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><subscribers><subscriber email="b@example.com" Name="&b;"/></subscribers>`,
      ];
      for (const xmlDoc of feeds) {
        for (const op of ['NewImportProcess', 'StartImportProcesses'] as const) {
          const params = op === 'NewImportProcess'
            ? { idList: acc.list.id, listGUID: acc.list.guid, xmlDoc, importType: 3, mobileInputType: 1 }
            : { listsIDs: acc.list.id, listsGUIDs: acc.list.guid, xmlDoc, importType: 3, mobileInputType: 1 };
          const reply = await callSoap(svc.endpoint, op, params, auth);
          assert.equal(reply.returnCode, -402, reply.body);
          assert.ok(!reply.body.includes(SECRET));
        }
      }
    });
  });

  describe('body size', () => {
    /**
     * Declares a huge body and keeps writing it (with backpressure) until the server answers.
     * Returns the answer and how many body bytes had been handed to the socket by then.
     */
    function floodUntilAnswered(head: string, chunk: Buffer, declared: number): Promise<{ response: string; sent: number }> {
      return new Promise((resolve, reject) => {
        const url = new URL(svc.url);
        const socket = connect(Number(url.port), url.hostname);
        let response = '';
        let sent = 0;
        let answered = false;
        const finish = (): void => {
          if (answered) return;
          answered = true;
          socket.destroy();
          resolve({ response, sent });
        };
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => {
          response += d;
          if (response.includes('\r\n\r\n') && /content-length: (\d+)/i.test(response)) {
            const length = Number(/content-length: (\d+)/i.exec(response)![1]);
            if (Buffer.byteLength(response.slice(response.indexOf('\r\n\r\n') + 4), 'latin1') >= length) finish();
          }
        });
        socket.on('close', finish);
        socket.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'EPIPE' || err.code === 'ECONNRESET') finish();
          else reject(err);
        });
        socket.write(head.replace('{LENGTH}', String(declared)));
        const pump = (): void => {
          while (!answered && sent < declared) {
            sent += chunk.length;
            if (!socket.write(chunk)) {
              socket.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
    }

    const DECLARED = 1024 * 1024 * 1024;

    test('a SOAP body over BODY_LIMIT (64kb) is refused with 413 long before it has been sent', async () => {
      const head = 'POST /Services/WSMailUpImport.asmx HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\n' +
        'SOAPAction: "http://ws.mailupnet.it/NewImportProcess"\r\nContent-Length: {LENGTH}\r\n\r\n' +
        // The envelope up to the start of an xmlDoc that then goes on and on.
        soapEnvelope('NewImportProcess', { idList: acc.list.id, listGUID: acc.list.guid }, auth).split('</ws:NewImportProcess>')[0]! + '<ws:xmlDoc>';
      const row = Buffer.from('&lt;subscriber email="a@example.com" /&gt;'.repeat(1600));
      const { response, sent } = await floodUntilAnswered(head, row, DECLARED);
      assert.match(response, /^HTTP\/1\.1 413 /);
      assert.match(response, /connection: close/i);
      assert.match(response, /larger than the limit of 65536 bytes/);
      assert.ok(sent < 64 * 1024 * 1024, `the server answered only after ${sent} bytes`);
    });

    test('a form body over BODY_LIMIT is refused with 413 too', async () => {
      const basic = Buffer.from(`${auth.User}:${auth.Password}`).toString('base64');
      const head = 'POST /Services/WSMailUpImport.asmx/NewImportProcess HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        `Authorization: Basic ${basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {LENGTH}\r\n\r\n` +
        `idList=${acc.list.id}&listGUID=${acc.list.guid}&xmlDoc=`;
      const { response, sent } = await floodUntilAnswered(head, Buffer.from('%3Csubscriber%20email%3D%22a%40example.com%22%2F%3E'.repeat(1000)), DECLARED);
      assert.match(response, /^HTTP\/1\.1 413 /);
      assert.ok(sent < 64 * 1024 * 1024, `the server answered only after ${sent} bytes`);
    });

    test('a chunked body over the limit is refused with a 413 SOAP Fault', async () => {
      const big = soapEnvelope('CreateGroup', { idList: acc.list.id, listGUID: acc.list.guid, newGroupName: 'x'.repeat(70 * 1024) }, auth);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < big.length; i += 8192) controller.enqueue(Buffer.from(big.slice(i, i + 8192)));
          controller.close();
        },
      });
      const res = await fetch(svc.endpoint, {
        method: 'POST', body, duplex: 'half',
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/CreateGroup' },
      } as RequestInit);
      assert.equal(res.status, 413);
      const text = faultText(await res.text())!;
      assert.match(text, /larger than the limit of 65536 bytes/);
    });
  });

  describe('charsets and bytes', () => {
    test('an unknown charset is refused with 415, in the header or in the XML declaration', async () => {
      const body = soapEnvelope('GetNlLists', {}, auth);
      const inHeader = await postSoap(svc.endpoint, body, { ...soap11, 'content-type': 'text/xml; charset=x-bogus' });
      assert.equal(inHeader.status, 415);
      assert.match(faultText(inHeader.body)!, /x-bogus/);
      const inDeclaration = await postSoap(svc.endpoint, `<?xml version="1.0" encoding="x-bogus"?>${body}`, { ...soap11, 'content-type': 'text/xml' });
      assert.equal(inDeclaration.status, 415);
      assert.match(faultText(inDeclaration.body)!, /x-bogus/);
    });

    test('invalid UTF-8 is refused with 400', async () => {
      const [head, tail] = createGroup('@@').split('@@') as [string, string];
      for (const bad of [[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82]]) {
        const body = Buffer.concat([Buffer.from(head), Buffer.from(bad), Buffer.from(tail)]);
        const reply = await postSoap(svc.endpoint, body, soap11);
        assert.equal(reply.status, 400, JSON.stringify(bad));
        assert.match(faultText(reply.body)!, /UTF-8/);
      }
      const truncated = Buffer.concat([Buffer.from(soapEnvelope('GetNlLists', {}, auth)), Buffer.from([0xe2, 0x82])]);
      assert.equal((await postSoap(svc.endpoint, truncated, soap11)).status, 400, 'a sequence cut off at the end');
    });

    test('a string parameter with a character XML cannot carry is refused on the form binding', async () => {
      const basic = `Basic ${Buffer.from(`${auth.User}:${auth.Password}`).toString('base64')}`;
      for (const name of ['a%01b', 'a%EF%BF%BEb', 'a%00']) {
        const res = await fetch(`${svc.url}/Services/WSMailUpImport.asmx/CreateGroup`, {
          method: 'POST',
          headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
          body: `idList=${acc.list.id}&listGUID=${acc.list.guid}&newGroupName=${name}`,
        });
        assert.equal(res.status, 400, name);
        assert.match(await res.text(), /newGroupName contains a character that XML does not allow/);
      }
      const viaGet = await fetch(`${svc.url}/Services/WSMailUpImport.asmx/GetIdUser?userName=a%07b`, { headers: { authorization: basic } });
      assert.equal(viaGet.status, 400);
    });
  });

  test('a slow client trickling its body does not hold up anyone else', async () => {
    const url = new URL(svc.url);
    const envelope = soapEnvelope('NewImportProcess', {
      idList: acc.list.id, listGUID: acc.list.guid,
      xmlDoc: feedXml(Array.from({ length: 200 }, (_, i) => ({ email: `slow${i}@example.com` }))), importType: 3, mobileInputType: 1,
    }, auth);
    const bytes = Buffer.from(envelope);
    const slow: Socket = connect(Number(url.port), url.hostname);
    await new Promise((resolve) => slow.once('connect', resolve));
    let slowResponse = '';
    slow.setEncoding('utf8').on('data', (d: string) => (slowResponse += d));
    slow.write('POST /Services/WSMailUpImport.asmx HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\n' +
      `SOAPAction: "http://ws.mailupnet.it/NewImportProcess"\r\nContent-Length: ${bytes.length}\r\n\r\n`);
    // Half of the body, cut in the middle of the feed; the rest never comes.
    slow.write(bytes.subarray(0, bytes.length >> 1));
    try {
      for (let i = 0; i < 5; i++) {
        const reply = await callSoap(svc.endpoint, 'GetNlLists', {}, auth, i % 2 === 0 ? '1.1' : '1.2');
        assert.equal(reply.returnCode, 0);
        const refused = await callSoap(svc.endpoint, 'CreateGroup', { idList: acc.list.id, listGUID: acc.list.guid, newGroupName: '' }, auth);
        assert.equal(refused.returnCode, -302);
      }
      const wsdl = await fetch(`${svc.url}/Services/WSMailUpImport.asmx?WSDL`);
      assert.equal(wsdl.status, 200);
      assert.equal(slowResponse, '', 'the slow request is still waiting for its body');
    } finally {
      // The client gives up: nothing of its half-sent feed may remain.
      const closed = new Promise((resolve) => slow.once('close', resolve));
      slow.destroy();
      await closed;
    }
    // The server notices the abort asynchronously; wait until the partial feed is gone.
    const deadline = Date.now() + 10_000;
    while (JSON.stringify(await snapshot()) !== JSON.stringify(stored) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  });
});

test('a client that disconnects in the middle of a large feed leaves nothing stored', async (t) => {
  const big = await startTestService();
  t.after(() => big.close());
  const owner = await big.addAccount();
  const before = await snapshot(big);
  const rows = Array.from({ length: 12_000 }, (_, i) => ({ email: `row${i}@example.com`, fields: [`Name ${i}`] }));
  const bytes = Buffer.from(soapEnvelope('NewImportProcess', {
    idList: owner.list.id, listGUID: owner.list.guid, xmlDoc: feedXml(rows), importType: 3, mobileInputType: 1,
  }, { User: owner.user, Password: owner.password }));
  const url = new URL(big.url);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('POST /Services/WSMailUpImport.asmx HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\n' +
    `SOAPAction: "http://ws.mailupnet.it/NewImportProcess"\r\nContent-Length: ${bytes.length}\r\n\r\n`);
  socket.write(bytes.subarray(0, Math.floor(bytes.length * 0.75)));
  // Wait until the server has stored part of the feed (the first chunk of 5000 rows), then vanish.
  const deadline = Date.now() + 20_000;
  while (((await snapshot(big)).feed_chunk ?? []).length === 0) {
    assert.ok(Date.now() < deadline, 'the server never stored the first chunk');
    await new Promise((r) => setTimeout(r, 25));
  }
  socket.destroy();
  while (JSON.stringify(await snapshot(big)) !== JSON.stringify(before)) {
    assert.ok(Date.now() < deadline + 10_000, 'the partial feed was not removed');
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.deepEqual(await snapshot(big), before);
  assert.equal((await callSoap(big.endpoint, 'GetNlLists', {}, { User: owner.user, Password: owner.password })).returnCode, 0);
});

describe('charsets other than UTF-8', () => {
  for (const [label, headers, prefix] of [
    ['declared in Content-Type', { 'content-type': 'text/xml; charset=windows-1252', soapaction: '"http://ws.mailupnet.it/CreateGroup"' }, ''],
    ['declared only in the XML declaration', { 'content-type': 'text/xml', soapaction: '"http://ws.mailupnet.it/CreateGroup"' }, '<?xml version="1.0" encoding="windows-1252"?>'],
    ['SOAP 1.2, declared in Content-Type', { 'content-type': 'application/soap+xml; charset=Windows-1252' }, ''],
  ] as const) {
    test(`a windows-1252 body ${label} is decoded (Città €)`, async () => {
      const name = `Città € ${label}`;
      const text = prefix + soapEnvelope('CreateGroup', { idList: acc.list.id, listGUID: acc.list.guid, newGroupName: name }, auth, label.startsWith('SOAP 1.2') ? '1.2' : '1.1');
      const bytes = iconv.encode(text, 'win1252');
      assert.ok(bytes.includes(0x80), 'the euro sign is the byte 0x80 that a latin-1 decoder gets wrong');
      assert.ok(bytes.includes(0xe0));
      const reply = await postSoap(svc.endpoint, bytes, headers);
      assert.equal(reply.status, 200, reply.body);
      const id = Number(/ReturnCode&gt;(-?\d+)&lt;/.exec(reply.body)![1]);
      assert.ok(id > 0);
      assert.equal((await svc.service.store.lists.getGroups(acc.list.id)).find((g) => g.id === id)?.name, name);
      const result = await listsNow();
      assert.ok(result.includes(`<Group idGroup="${id}" groupName="Citt&#224; &#8364; ${label}" />`), result);
      assert.equal(parseXml(result).root.name, 'mailupMessage');
    });
  }
});
