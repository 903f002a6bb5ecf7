// test-stores: sqlite (the minimum upload rate and the headers timeout are HTTP-layer behaviour; the suite reads the embedded server's SQLite file)
/**
 * Slow clients over real HTTP against the service as a child process, with the limits made
 * small so that each case takes seconds: a body must average MIN_UPLOAD_BYTES_PER_SECOND over
 * every UPLOAD_RATE_WINDOW_SECONDS while the server waits for it, and headers must arrive within
 * HEADERS_TIMEOUT_SECONDS (docs/security.md, "Slow and many clients"). A body that falls short is
 * answered 408 in the request's own form and the connection closed; a feed half received is
 * deleted; a client slow but above the minimum is served; other clients are served throughout.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoAccount, startChildServer, stopChildServer, type ChildServer } from '../helpers/child-server.ts';
import { feedXml, soapEnvelope, type SoapAuth } from '../helpers/service.ts';
import { faultText } from '../protocol/xml-tree.ts';
import { getNlLists, SERVICE_PATH, SOAP11_HEADERS, sendRaw, stored, watchRss, whileProbing, type RawReply, type RssWatch } from './hostile-client.ts';

const MIN_RATE = 2048;
const WINDOW_S = 2;
const HEADERS_TIMEOUT_S = 2;
/** Slack for a busy machine on top of the time the rules allow. */
const SLACK_MS = 4000;

let dataDir: string;
let server: ChildServer;
let auth: SoapAuth;
let list: { id: number; guid: string };
let lists: string;
let memory: RssWatch;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mailup-slow-uploads-'));
  server = await startChildServer(dataDir, {
    MIN_UPLOAD_BYTES_PER_SECOND: String(MIN_RATE), UPLOAD_RATE_WINDOW_SECONDS: String(WINDOW_S), HEADERS_TIMEOUT_SECONDS: String(HEADERS_TIMEOUT_S),
  });
  ({ auth, list } = demoAccount(server));
  lists = await getNlLists(server.endpoint, auth, 30_000);
  memory = watchRss(server.child.pid!);
});

after(async () => {
  if (server) await stopChildServer(server, 'SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => {
  assert.equal(server.child.exitCode, null, `the server exited:\n${server.output()}`);
  memory.assertWithinBound();
});

/** `data` at full speed up to its last `slowBytes`, then those `bytesPerTick` every `tickMs`. */
async function* trickle(data: Buffer, slowBytes: number, bytesPerTick: number, tickMs: number): AsyncGenerator<Buffer> {
  const cut = data.length - slowBytes;
  if (cut > 0) yield data.subarray(0, cut);
  for (let at = Math.max(cut, 0); at < data.length; at += bytesPerTick) {
    // Unref'd: a client that has had its answer stops at its next piece, or is left behind.
    await new Promise((r) => setTimeout(r, tickMs).unref());
    yield data.subarray(at, at + bytesPerTick);
  }
}

const importEnvelope = (rows: number, prefix: string, version: '1.1' | '1.2' = '1.1'): Buffer => Buffer.from(soapEnvelope('NewImportProcess', {
  idList: list.id, listGUID: list.guid, importType: 3, mobileInputType: 1,
  xmlDoc: feedXml(Array.from({ length: rows }, (_, i) => ({ email: `${prefix}${i}@example.com`, fields: [`Name ${i}`] }))),
}, auth, version));

function assertTooSlow(reply: RawReply): void {
  assert.equal(reply.status, 408, reply.body);
  assert.equal(reply.headers.connection, 'close');
  assert.match(faultText(reply.body) ?? '', new RegExp(`arrived too slowly: less than ${MIN_RATE} bytes per second over ${WINDOW_S} seconds`), reply.body);
}

test('a feed trickled below the minimum after a fast start: 408 within two windows, the stored part deleted, others served', async (t) => {
  const before = stored(dataDir);
  // 6,000 rows: the first 5,000 are stored as a chunk while the fast part is read.
  const data = importEnvelope(6000, 'trickled');
  const slowBytes = Math.floor(data.length / 10);
  let most = before.chunks;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      most = Math.max(most, stored(dataDir).chunks);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const { result: reply } = await whileProbing(server.endpoint, auth, lists, () => sendRaw(server.url, {
    path: SERVICE_PATH, headers: SOAP11_HEADERS('NewImportProcess'), length: data.length, body: trickle(data, slowBytes, 20, 500),
  }));
  watching = false;
  await watcher;
  t.diagnostic(`answered after ${reply.ms.toFixed(0)} ms`);
  assertTooSlow(reply);
  // The fast part fills the first window; the second brings 80 bytes and fails. (The server's own
  // time with the fast part, storing rows, comes on top: it is not the client's.)
  assert.ok(reply.ms < 2 * WINDOW_S * 1000 + SLACK_MS, `answered after ${reply.ms.toFixed(0)} ms`);
  assert.ok(most > before.chunks, 'part of the feed was stored while it arrived');
  assert.deepEqual(stored(dataDir), before, 'the half-received feed was deleted');
});

test('SOAP 1.2 and the HTTP POST binding: the same 408, each in its own form', async () => {
  const soap12 = importEnvelope(100, 'soap12', '1.2');
  const basic = Buffer.from(`${auth.User}:${auth.Password}`).toString('base64');
  const form = Buffer.from(`idList=${list.id}&listGUID=${list.guid}&importType=3&mobileInputType=1&xmlDoc=${encodeURIComponent(feedXml([{ email: 'form@example.com' }]))}`);
  const before = stored(dataDir);
  const started = performance.now();
  // Each sends 100 bytes, then nothing: the first window fails.
  const { result: [viaSoap12, viaForm] } = await whileProbing(server.endpoint, auth, lists, () => Promise.all([
    sendRaw(server.url, {
      path: SERVICE_PATH, headers: { 'Content-Type': 'application/soap+xml; charset=utf-8; action="http://ws.mailupnet.it/NewImportProcess"' },
      length: soap12.length, body: trickle(soap12, soap12.length - 100, 1, 60_000),
    }),
    sendRaw(server.url, {
      path: `${SERVICE_PATH}/NewImportProcess`, headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      length: form.length, body: trickle(form, form.length - 100, 1, 60_000),
    }),
  ]));
  const ms = performance.now() - started;
  assert.ok(ms < WINDOW_S * 1000 + SLACK_MS, `answered after ${ms.toFixed(0)} ms`);
  assert.equal(viaSoap12.status, 408, viaSoap12.body);
  assert.equal(viaSoap12.headers['content-type'], 'application/soap+xml; charset=utf-8');
  assert.match(faultText(viaSoap12.body) ?? '', /arrived too slowly/);
  assert.equal(viaForm.status, 408, viaForm.body);
  assert.equal(viaForm.headers['content-type'], 'text/plain; charset=utf-8');
  assert.match(viaForm.body, /arrived too slowly/);
  assert.deepEqual(stored(dataDir), before);
});

test('a feed sent slowly but above the minimum is imported', async () => {
  // About twice the minimum, for more than three windows.
  const data = importEnvelope(200, 'steady');
  const perTick = Math.ceil((2 * MIN_RATE) / 4);
  const started = performance.now();
  const reply = await sendRaw(server.url, {
    path: SERVICE_PATH, headers: SOAP11_HEADERS('NewImportProcess'), length: data.length, body: trickle(data, data.length, perTick, 250),
  });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(reply.status, 200, reply.body);
  assert.ok(Number(/ReturnCode&gt;(-?\d+)&lt;/.exec(reply.body)?.[1]) > 0, reply.body);
  assert.ok(seconds > 3 * WINDOW_S, `the body took only ${seconds.toFixed(1)} s`);
});

test('headers trickling past HEADERS_TIMEOUT_SECONDS: 408 and the connection closed', async () => {
  const url = new URL(server.url);
  const socket = connect(Number(url.port), url.hostname);
  let response = '';
  socket.setEncoding('latin1').on('data', (d: string) => (response += d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const started = performance.now();
  socket.write(`POST ${SERVICE_PATH} HTTP/1.1\r\nHost: ${url.host}\r\n`);
  let open = true;
  void closed.then(() => (open = false));
  const { result: seconds } = await whileProbing(server.endpoint, auth, lists, async () => {
    for (let i = 0; open && i < 60; i++) {
      socket.write(`X-Slow-${i}: abc\r\n`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await closed;
    return (performance.now() - started) / 1000;
  });
  assert.match(response, /^HTTP\/1\.1 408 /);
  // Node checks the timeout every HEADERS_TIMEOUT_SECONDS here (every 5 s at most).
  assert.ok(seconds >= HEADERS_TIMEOUT_S - 0.1 && seconds < 2 * HEADERS_TIMEOUT_S + SLACK_MS / 1000, `closed after ${seconds.toFixed(1)} s`);
});
