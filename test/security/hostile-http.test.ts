// test-stores: sqlite (hostile input is refused in the HTTP, protocol and XML layers, before any store is involved; these suites measure the embedded server's memory and read its SQLite file)
/**
 * Hostile SOAP requests sent over real HTTP to the service running as a child process. Every case
 * asserts three things: the documented answer (HTTP status and SOAP Fault, or the normal result
 * where the input is legal but huge), bounded memory (the child's peak RSS stays within
 * RSS_GROWTH_BOUND_MB of its idle peak through the whole suite, 1 GB body included), and that other clients keep
 * being served (GetNlLists on other connections answers the same lists within PROBE_BOUND_MS
 * all the while the hostile request is read).
 *
 * Large bodies are produced by generators and written with backpressure, never built in memory.
 * HOSTILE_FULL=1 (docs/security.md) runs the slow variants: 300 MB values instead of 64 MB and a
 * header trickle that must hit the default 60 s headers timeout.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { demoAccount, startChildServer, stopChildServer, type ChildServer } from '../helpers/child-server.ts';
import { soapEnvelope, type SoapAuth } from '../helpers/service.ts';
import { faultText } from '../protocol/xml-tree.ts';
import {
  envelopeAround, FULL, getNlLists, MB, PROBE_BOUND_MS, SERVICE_PATH, SOAP11_HEADERS,
  sendRaw, streamBody, takeSlowestProbe, times, whileProbing, type ProbeExpectation, type RawReply, type StreamedBody,
  startBait, type Bait, watchRss, type RssWatch,
} from './hostile-client.ts';

/** Size of the huge attribute value and text nodes (HOSTILE_FULL: 300 MB). */
const HUGE = (FULL ? 300 : 64) * MB;
/** Slack for what the client's and the kernel's socket buffers took before the server answered. */
const BUFFERED = 64 * MB;

let dataDir: string;
let server: ChildServer;
let auth: SoapAuth;
let list: { id: number; guid: string };
/** GetNlLists as the probes must keep seeing it. */
let lists: string;
let secretDir: string;
let secretPath: string;
const SECRET = `hostile-secret-${process.pid}`;
let bait: Bait;
let memory: RssWatch;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mailup-hostile-http-'));
  secretDir = mkdtempSync(join(tmpdir(), 'mailup-hostile-secret-'));
  secretPath = join(secretDir, 'secret.txt');
  writeFileSync(secretPath, SECRET);
  bait = await startBait(`<!ENTITY leak "${SECRET}">`);
  server = await startChildServer(dataDir);
  ({ auth, list } = demoAccount(server));
  lists = await getNlLists(server.endpoint, auth, 30_000);
  memory = watchRss(server.child.pid!);
});

after(async () => {
  if (server) await stopChildServer(server, 'SIGTERM');
  await bait?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(secretDir, { recursive: true, force: true });
});

afterEach((t) => {
  assert.equal(server.child.exitCode, null, `the server exited:\n${server.output()}`);
  const rss = memory.assertWithinBound();
  if ('diagnostic' in t) t.diagnostic(`peak RSS ${rss.toFixed(0)} MB; slowest GetNlLists meanwhile ${takeSlowestProbe().toFixed(0)} ms`);
});

/** Sends a hostile request while other clients are probing; returns its answer. */
async function hostile(
  body: StreamedBody, operation = 'GetNlLists', headers = SOAP11_HEADERS(operation), expected: ProbeExpectation = lists,
): Promise<RawReply> {
  const { result, latencies } = await whileProbing(server.endpoint, auth, expected,
    () => sendRaw(server.url, { ...body, path: SERVICE_PATH, headers }));
  assert.ok(latencies.length >= 1);
  return result;
}

/** A SOAP 1.1 fault with this HTTP status whose message matches, and no secret in it. */
function assertFault(reply: RawReply, status: number, message: RegExp): void {
  assert.equal(reply.status, status, reply.body);
  assert.equal(reply.headers['content-type'], 'text/xml; charset=utf-8');
  assert.match(faultText(reply.body) ?? '', message, reply.body);
  assert.ok(!reply.body.includes(SECRET));
}

/** A GetNlLists envelope cut inside its operation element, where unknown content is ignored (as ASMX ignores it): [head, tail]. */
function aroundOperation(): [string, string] {
  const text = soapEnvelope('GetNlLists', {}, auth);
  const at = text.indexOf('</ws:GetNlLists>');
  return [text.slice(0, at), text.slice(at)];
}

describe('DTDs and entities: refused before anything is resolved or expanded', () => {
  const withDtd = (dtd: string, content: string): string => {
    const [head, tail] = envelopeAround('CreateGroup', { idList: list.id, listGUID: list.guid, newGroupName: '@@HOSTILE@@' }, auth);
    return `<?xml version="1.0"?>${dtd}${head}${content}${tail}`;
  };
  const laughs = (): string =>
    ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`)].join('');

  const cases: [string, () => string][] = [
    ['an XXE SYSTEM entity (file)', () => withDtd(`<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "file://${secretPath}">]>`, '&xxe;')],
    ['an XXE SYSTEM entity (http)', () => withDtd(`<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "${bait.url}/xxe">]>`, '&xxe;')],
    ['an XXE PUBLIC entity', () => withDtd(`<!DOCTYPE soapenv:Envelope [<!ENTITY xxe PUBLIC "-//Hostile//X" "${bait.url}/public">]>`, '&xxe;')],
    ['an external DTD', () => withDtd(`<!DOCTYPE soapenv:Envelope SYSTEM "${bait.url}/evil.dtd">`, '&leak;')],
    ['an external parameter entity', () => withDtd(`<!DOCTYPE soapenv:Envelope [<!ENTITY % p SYSTEM "${bait.url}/p.dtd"> %p;]>`, '&leak;')],
    ['billion laughs', () => withDtd(`<!DOCTYPE soapenv:Envelope [${laughs()}]>`, '&lol9;')],
  ];
  for (const [label, body] of cases) {
    test(`${label}: HTTP 400 fault, nothing fetched or expanded`, async () => {
      const reply = await hostile(streamBody(body()), 'CreateGroup');
      assertFault(reply, 400, /DTDs are not allowed/);
      assert.ok(!reply.body.includes('lollol'));
      assert.equal(bait.hits(), 0, 'the entity or DTD was fetched');
    });
  }

  test('quadratic blow-up (a 1 MB entity referenced 100,000 times): refused at the DOCTYPE', async () => {
    const [head, tail] = envelopeAround('CreateGroup', { idList: list.id, listGUID: list.guid, newGroupName: '@@HOSTILE@@' }, auth);
    const reply = await hostile(streamBody(
      '<?xml version="1.0"?><!DOCTYPE soapenv:Envelope [<!ENTITY big "', times('x', MB), `">]>${head}`, { unit: '&big;', copies: 100_000 }, tail,
    ), 'CreateGroup');
    assertFault(reply, 400, /DTDs are not allowed/);
    assert.ok(reply.ms < 30_000, `answered after ${reply.ms} ms`);
  });
});

describe('structure', () => {
  test('100,000-deep nesting: a fault as soon as the depth limit is passed', async () => {
    const [head, tail] = aroundOperation();
    const reply = await hostile(streamBody(head, { unit: '<a>', copies: 100_000 }, { unit: '</a>', copies: 100_000 }, tail));
    assertFault(reply, 500, /not well-formed/);
  });

  test('100,000-deep nesting in the SOAP header: the same fault', async () => {
    const text = soapEnvelope('GetNlLists', {}, auth);
    const at = text.indexOf('</soapenv:Header>');
    const reply = await hostile(streamBody(text.slice(0, at), { unit: '<head>', copies: 100_000 }, { unit: '</head>', copies: 100_000 }, text.slice(at)));
    assertFault(reply, 500, /not well-formed/);
  });

  test(`a ${HUGE / MB} MB attribute value: a fault once the tag passes 1 MB, long before the body ends`, async () => {
    const [head, tail] = aroundOperation();
    const reply = await hostile(streamBody(head, '<ws:junk value="', times('abcdefghij', HUGE), '"/>', tail));
    assertFault(reply, 500, /not well-formed/);
    assert.equal(reply.headers.connection, 'close', 'the rest of the body is not read');
    assert.ok(reply.sent < MB + BUFFERED, `answered only after ${reply.sent} bytes`);
  });

  test(`a ${HUGE / MB} MB text node in an unknown element is read through and ignored, as ASMX ignores it`, async () => {
    const [head, tail] = aroundOperation();
    const reply = await hostile(streamBody(head, '<ws:junk>', times('Lorem ipsum &amp; dolor sit amet, città ', HUGE), '</ws:junk>', tail));
    assert.equal(reply.status, 200);
    assert.equal(reply.body, lists, 'the normal GetNlLists result');
  });

  test(`a ${HUGE / MB} MB value of a string parameter: 413 once it passes 1 MB of characters`, async () => {
    const [head, tail] = envelopeAround('CreateGroup', { idList: list.id, listGUID: list.guid, newGroupName: '@@HOSTILE@@' }, auth);
    const reply = await hostile(streamBody(head, times('Group name ', HUGE), tail), 'CreateGroup');
    assertFault(reply, 413, /A parameter value is too long/);
    assert.ok(reply.sent < MB + BUFFERED, `answered only after ${reply.sent} bytes`);
  });

  test('a 1 MB query string on the HTTP GET binding: 431 from the header limit', async () => {
    const basic = Buffer.from(`${auth.User}:${auth.Password}`).toString('base64');
    const { result: reply } = await whileProbing(server.endpoint, auth, lists, () => sendRaw(server.url, {
      method: 'GET', path: `${SERVICE_PATH}/GetIdUser?userName=${'a'.repeat(MB)}`, headers: { Authorization: `Basic ${basic}` }, ...streamBody(),
    }));
    assert.equal(reply.status, 431);
  });

  test(`a ${HUGE / MB} MB password in the Authentication header: 413 the same way`, async () => {
    const text = soapEnvelope('GetNlLists', {}, { User: auth.User, Password: '@@HOSTILE@@' });
    const [head, tail] = text.split('@@HOSTILE@@') as [string, string];
    const reply = await hostile(streamBody(head, times('password', HUGE), tail));
    assertFault(reply, 413, /too long/);
  });
});

describe('bytes and charsets', () => {
  test('invalid UTF-8 sequences: HTTP 400, including one after 32 MB of valid text', async () => {
    const [head, tail] = aroundOperation();
    for (const bad of [[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
      const body = Buffer.concat([Buffer.from(`${head}<ws:junk>`), Buffer.from(bad), Buffer.from(`</ws:junk>${tail}`)]);
      assertFault(await hostile(streamBody(body)), 400, /not valid UTF-8/);
    }
    const late = await hostile(streamBody(head, '<ws:junk>', times('città ', 32 * MB), Buffer.from([0xfe]), '</ws:junk>', tail));
    assertFault(late, 400, /not valid UTF-8/);
  });

  test('a Content-Type that says UTF-16 over UTF-8 bytes: a fault, however long the body', async () => {
    const headers = { ...SOAP11_HEADERS('GetNlLists'), 'Content-Type': 'text/xml; charset=utf-16' };
    const [head, tail] = aroundOperation();
    const reply = await hostile(streamBody(head, times('<ws:junk/>', 32 * MB), tail), 'GetNlLists', headers);
    assertFault(reply, 500, /not well-formed/);
    assert.ok(reply.sent < MB + BUFFERED, `answered only after ${reply.sent} bytes`);
  });

  test('an XML declaration that says UTF-16 over UTF-8 bytes: a fault', async () => {
    const headers = { ...SOAP11_HEADERS('GetNlLists'), 'Content-Type': 'text/xml' };
    const body = `<?xml version="1.0" encoding="UTF-16"?>${soapEnvelope('GetNlLists', {}, auth)}`;
    assertFault(await hostile(streamBody(body), 'GetNlLists', headers), 500, /not well-formed/);
  });

  test('a Content-Type that says UTF-8 over windows-1252 bytes: HTTP 400', async () => {
    const body = iconv.encode(soapEnvelope('CreateGroup', { idList: list.id, listGUID: list.guid, newGroupName: 'Città' }, auth), 'win1252');
    assertFault(await hostile(streamBody(body), 'CreateGroup'), 400, /not valid UTF-8/);
  });

  test('windows-1252 declared, with the five bytes windows-1252 leaves undefined: decoded as U+FFFD, never as markup', async () => {
    const headers = { ...SOAP11_HEADERS('CreateGroup'), 'Content-Type': 'text/xml; charset=windows-1252' };
    const [head, tail] = envelopeAround('CreateGroup', { idList: list.id, listGUID: list.guid, newGroupName: '@@HOSTILE@@' }, auth);
    const body = Buffer.concat([Buffer.from(head), Buffer.from('Undefined '), Buffer.from([0x81, 0x8d, 0x8f, 0x90, 0x9d]), Buffer.from(tail)]);
    // The group appears while the probes run: they accept the lists with or without it.
    const before = lists;
    const reply = await hostile(streamBody(body), 'CreateGroup', headers, (answer) => answer === before || answer.includes('Undefined '));
    assert.equal(reply.status, 200, reply.body);
    const id = Number(/ReturnCode&gt;(\d+)&lt;/.exec(reply.body)?.[1]);
    assert.ok(id > 0, reply.body);
    lists = await getNlLists(server.endpoint, auth, 30_000);
    assert.ok(lists.includes('Undefined &amp;#65533;&amp;#65533;&amp;#65533;&amp;#65533;&amp;#65533;'), lists);
  });
});

describe('body size', () => {
  let small: ChildServer;
  let smallDir: string;
  let smallMemory: RssWatch;
  const SMALL_LIMIT = 16 * MB;
  before(async () => {
    smallDir = mkdtempSync(join(tmpdir(), 'mailup-hostile-limit-'));
    small = await startChildServer(smallDir, { BODY_LIMIT: '16mb' });
    await getNlLists(small.endpoint, demoAccount(small).auth, 30_000);
    smallMemory = watchRss(small.child.pid!);
  });
  after(async () => {
    await stopChildServer(small, 'SIGTERM');
    rmSync(smallDir, { recursive: true, force: true });
  });

  /** A GetNlLists envelope whose ignored element goes on for `declared` bytes in total. */
  function oversized(bytes: number): StreamedBody {
    const [head] = aroundOperation();
    return streamBody(head, '<ws:junk>', times('0123456789abcdef', bytes));
  }

  for (const framing of ['content-length', 'chunked'] as const) {
    test(`a 1 GB body (${framing}) against BODY_LIMIT=16mb: 413 once 16 MB have arrived`, async () => {
      const body = oversized(1024 * MB);
      const smallAuth = demoAccount(small).auth;
      const { result: reply, latencies } = await whileProbing(small.endpoint, smallAuth, await getNlLists(small.endpoint, smallAuth, 30_000), () => sendRaw(small.url, {
        ...body, length: framing === 'chunked' ? 'chunked' : body.length, path: SERVICE_PATH, headers: SOAP11_HEADERS('GetNlLists'),
      }));
      assert.ok(latencies.length >= 1);
      assertFault(reply, 413, /larger than the limit of 16777216 bytes/);
      assert.equal(reply.headers.connection, 'close');
      assert.ok(reply.sent < SMALL_LIMIT + BUFFERED, `answered only after ${reply.sent} bytes`);
      smallMemory.assertWithinBound();
    });
  }

  test('a 1 GB body against the default 512 MB limit: 413, memory bounded, others served', { timeout: 300_000 }, async () => {
    const reply = await hostile(oversized(1024 * MB));
    assertFault(reply, 413, /larger than the limit of 536870912 bytes/);
    assert.ok(reply.sent < 512 * MB + BUFFERED, `answered only after ${reply.sent} bytes`);
  });
});

describe('slow clients', () => {
  /** Writes `data` fast up to its last `slowBytes`, then those at `bytesPerSecond`. */
  async function* trickle(data: Buffer, slowBytes: number, bytesPerSecond: number): AsyncGenerator<Buffer> {
    const cut = data.length - slowBytes;
    yield data.subarray(0, cut);
    for (let at = cut; at < data.length; at += bytesPerSecond) {
      // Unref'd: a client that has had its answer stops at its next piece, or is left behind.
      await new Promise((r) => setTimeout(r, 1000).unref());
      yield data.subarray(at, at + bytesPerSecond);
    }
  }
  /** The defaults: MIN_UPLOAD_BYTES_PER_SECOND=1024 averaged over UPLOAD_RATE_WINDOW_SECONDS=10. */
  const WINDOW_SECONDS = 10;
  const RATE = 5;
  /** A GetNlLists envelope padded with white space, so its tail could trickle for a minute. */
  const slowEnvelope = (): Buffer => {
    const text = soapEnvelope('GetNlLists', {}, auth);
    const at = text.indexOf('</soapenv:Envelope>');
    return Buffer.from(text.slice(0, at) + ' '.repeat(60 * RATE) + text.slice(at));
  };

  test(`a body trickling ${RATE} bytes a second, on 50 connections at once: others are served throughout, and each is answered 408 once its first window falls short`, { timeout: 180_000 }, async () => {
    const data = slowEnvelope();
    const started = performance.now();
    const { result: replies, answeredDuring } = await whileProbing(server.endpoint, auth, lists, () => Promise.all(Array.from({ length: 50 }, () =>
      sendRaw(server.url, { path: SERVICE_PATH, headers: SOAP11_HEADERS('GetNlLists'), length: data.length, body: trickle(data, 60 * RATE, RATE) }))), 500);
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds >= WINDOW_SECONDS - 0.5, `answered after ${seconds.toFixed(1)} s, before the window ended`);
    assert.ok(seconds < WINDOW_SECONDS + 10, `answered only after ${seconds.toFixed(1)} s`);
    assert.ok(answeredDuring >= 3, `only ${answeredDuring} GetNlLists were answered while the bodies trickled`);
    for (const reply of replies) {
      assertFault(reply, 408, /arrived too slowly: less than 1024 bytes per second over 10 seconds/);
      assert.equal(reply.headers.connection, 'close');
    }
  });

  test('headers trickling past the headers timeout: Node closes the connection with 408', { skip: !FULL && 'HOSTILE_FULL=1', timeout: 300_000 }, async () => {
    const url = new URL(server.url);
    const socket = connect(Number(url.port), url.hostname);
    let response = '';
    socket.setEncoding('latin1').on('data', (d: string) => (response += d));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    const started = performance.now();
    const probing = whileProbing(server.endpoint, auth, lists, async () => {
      socket.write(`POST ${SERVICE_PATH} HTTP/1.1\r\nHost: ${url.host}\r\n`);
      let open = true;
      void closed.then(() => (open = false));
      for (let i = 0; open && i < 200; i++) {
        socket.write(`X-Slow-${i}: ${'a'.repeat(3)}\r\n`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }, 1000);
    await closed;
    const seconds = (performance.now() - started) / 1000;
    await probing;
    assert.match(response, /^HTTP\/1\.1 408 /);
    assert.ok(seconds < 150, `closed after ${seconds.toFixed(0)} s`);
  });
});

test('the server still answers normally after the whole suite', async () => {
  assert.equal(await getNlLists(server.endpoint, auth, PROBE_BOUND_MS), lists);
});
