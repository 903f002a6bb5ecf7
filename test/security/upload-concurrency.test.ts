// test-stores: sqlite (the upload gate is HTTP-layer behaviour; the suite reads the embedded server's SQLite file)
/**
 * The cap on feed uploads decoded at once (MAX_CONCURRENT_UPLOADS), over real HTTP against the
 * service as a child process: uploads beyond the cap wait their turn without their bodies being
 * read, at most the cap are decoded at once (seen through the `mailup_uploads_in_progress` gauge
 * on /metrics), one that waits too long gets 503 with Retry-After, and calls without a feed never
 * wait (docs/security.md, "Slow and many clients").
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoAccount, startChildServer, stopChildServer, type ChildServer } from '../helpers/child-server.ts';
import { callSoap, feedXml, resultFields, soapEnvelope, type SoapAuth } from '../helpers/service.ts';
import { escapeText } from '../../src/xml/escape.ts';
import { faultText } from '../protocol/xml-tree.ts';
import { MB, PROBE_BOUND_MS, SERVICE_PATH, SOAP11_HEADERS, sendRaw, stored, streamBody, times, type RawReply } from './hostile-client.ts';

const dirs: string[] = [];
const servers: ChildServer[] = [];

async function start(env: Record<string, string>): Promise<{ server: ChildServer; dir: string; auth: SoapAuth; list: { id: number; guid: string } }> {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-upload-gate-'));
  dirs.push(dir);
  const server = await startChildServer(dir, env);
  servers.push(server);
  return { server, dir, ...demoAccount(server) };
}

after(async () => {
  await Promise.all(servers.map((s) => stopChildServer(s, 'SIGTERM')));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The two upload gauges, as Prometheus would scrape them. */
async function uploadGauges(server: ChildServer): Promise<{ inProgress: number; waiting: number }> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const value = (name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { inProgress: value('mailup_uploads_in_progress'), waiting: value('mailup_uploads_waiting') };
}

/** Polls until the gauges satisfy `done`, or fails after `timeoutMs`. */
async function gaugesReach(server: ChildServer, done: (g: { inProgress: number; waiting: number }) => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let g = await uploadGauges(server); !done(g); g = await uploadGauges(server)) {
    assert.ok(Date.now() < deadline, `the upload gauges stayed at ${JSON.stringify(g)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const processId = (reply: RawReply): number => {
  assert.equal(reply.status, 200, reply.body);
  return Number(/ReturnCode&gt;(-?\d+)&lt;/.exec(reply.body)?.[1]);
};

test('six uploads with MAX_CONCURRENT_UPLOADS=2: at most two decoded at once, all imported, GetProcessDetails answered throughout', { timeout: 300_000 }, async (t) => {
  const { server, auth, list } = await start({ MAX_CONCURRENT_UPLOADS: '2' });
  const rows = 25_000;
  const envelope = (n: number): Buffer => Buffer.from(soapEnvelope('NewImportProcess', {
    idList: list.id, listGUID: list.guid, importType: 3, mobileInputType: 1,
    xmlDoc: feedXml(Array.from({ length: rows }, (_, i) => ({ email: `u${n}-${i}@example.com`, Number: `+39333${String(i).padStart(7, '0')}`, fields: [`Name ${i}`, `Città ${n}`] }))),
  }, auth));
  const bodies = Array.from({ length: 6 }, (_, n) => envelope(n));
  assert.ok(bodies[0]!.length > 3 * MB, `${bodies[0]!.length} bytes`);

  const first = await callSoap(server.endpoint, 'NewImportProcess', {
    idList: list.id, listGUID: list.guid, importType: 3, mobileInputType: 1, xmlDoc: feedXml([{ email: 'poll@example.com' }]),
  }, auth);
  const polled = Number(first.returnCode);
  assert.ok(polled > 0, first.body);

  let running = true;
  const seen = { inProgress: 0, waiting: 0 };
  const sampler = (async () => {
    while (running) {
      const g = await uploadGauges(server);
      seen.inProgress = Math.max(seen.inProgress, g.inProgress);
      seen.waiting = Math.max(seen.waiting, g.waiting);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const latencies: number[] = [];
  const poller = (async () => {
    while (running) {
      const t = performance.now();
      const reply = await callSoap(server.endpoint, 'GetProcessDetails', { idList: list.id, listGUID: list.guid, idProcess: polled }, auth);
      latencies.push(performance.now() - t);
      assert.equal(reply.returnCode, 0, reply.body);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const replies = await Promise.all(bodies.map((body) => sendRaw(server.url, {
    ...streamBody(body), path: SERVICE_PATH, headers: SOAP11_HEADERS('NewImportProcess'),
  })));
  running = false;
  await Promise.all([sampler, poller]);

  const slowest = Math.max(...latencies);
  t.diagnostic(`${latencies.length} GetProcessDetails, slowest ${slowest.toFixed(0)} ms; at most ${seen.inProgress} uploads decoded and ${seen.waiting} waiting at once`);
  const ids = replies.map(processId);
  assert.equal(new Set(ids).size, 6, `distinct process ids: ${ids.join(', ')}`);
  for (const id of ids) {
    assert.ok(id > 0);
    const details = await callSoap(server.endpoint, 'GetProcessDetails', { idList: list.id, listGUID: list.guid, idProcess: id }, auth);
    assert.equal(resultFields(details.result!).TotalContacts, String(rows), `process ${id}`);
  }
  assert.equal(seen.inProgress, 2, 'uploads decoded at once');
  assert.ok(seen.waiting >= 1, 'no upload ever waited for a slot');
  assert.deepEqual(await uploadGauges(server), { inProgress: 0, waiting: 0 }, 'every slot was given back');
  assert.ok(latencies.length >= 3, `only ${latencies.length} GetProcessDetails answered`);
  // Milliseconds on a quiet machine; the bound is the hostile suites', for a shared, busy one.
  assert.ok(slowest < PROBE_BOUND_MS, `GetProcessDetails took up to ${slowest.toFixed(0)} ms while the uploads ran`);
});

test('an upload that waits longer than UPLOAD_QUEUE_SECONDS: 503 with Retry-After, its body unread; calls without a feed never wait', { timeout: 120_000 }, async () => {
  const { server, dir, auth, list } = await start({ MAX_CONCURRENT_UPLOADS: '1', UPLOAD_QUEUE_SECONDS: '3' });
  const before = stored(dir);

  // The slot holder: a feed longer than the bodies read whole before decoding (64 KiB), its last
  // 24 KB sent at about 4 KB a second (above the minimum rate), so it holds the slot for 6 s.
  const holderBody = Buffer.from(soapEnvelope('NewImportProcess', {
    idList: list.id, listGUID: list.guid, importType: 3, mobileInputType: 1,
    xmlDoc: feedXml(Array.from({ length: 1500 }, (_, i) => ({ email: `holder${i}@example.com` }))),
  }, auth));
  assert.ok(holderBody.length > 64 * 1024 + 24 * 1024);
  async function* steady(data: Buffer): AsyncGenerator<Buffer> {
    const trickleFrom = data.length - 24 * 1024;
    yield data.subarray(0, trickleFrom);
    for (let at = trickleFrom; at < data.length; at += 1024) {
      yield data.subarray(at, at + 1024);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const holder = sendRaw(server.url, { path: SERVICE_PATH, headers: SOAP11_HEADERS('NewImportProcess'), length: holderBody.length, body: steady(holderBody) });
  await gaugesReach(server, (g) => g.inProgress === 1);

  // Waiting: a 48 MB feed over SOAP 1.1 without a SOAPAction header (the gate stands at xmlDoc,
  // not on the header), and one over the HTTP POST binding.
  const feedHead = soapEnvelope('NewImportProcess', { idList: list.id, listGUID: list.guid, importType: 3, mobileInputType: 1, xmlDoc: '@@' }, auth);
  const [head, tail] = feedHead.split('@@') as [string, string];
  const big = streamBody(head, escapeText('<subscribers>'), times(escapeText('<subscriber email="w@example.com" Prefix="" Number="" Name=""/>'), 48 * MB), escapeText('</subscribers>'), tail);
  const basic = Buffer.from(`${auth.User}:${auth.Password}`).toString('base64');
  const form = streamBody(`idList=${list.id}&listGUID=${list.guid}&importType=3&mobileInputType=1&xmlDoc=`,
    times(encodeURIComponent('<subscriber email="f@example.com"/>'), 4 * MB));
  const waiting = Promise.all([
    sendRaw(server.url, { ...big, path: SERVICE_PATH, headers: { 'Content-Type': 'text/xml; charset=utf-8' } }),
    sendRaw(server.url, {
      ...form, path: `${SERVICE_PATH}/NewImportProcess`, headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    }),
  ]);
  await gaugesReach(server, (g) => g.waiting === 2);


  // A call without a feed is answered while both uploads are still queued behind the full gate.
  const details = await callSoap(server.endpoint, 'GetNlLists', {}, auth);
  assert.equal(details.returnCode, 0, details.body);
  assert.deepEqual(await uploadGauges(server), { inProgress: 1, waiting: 2 }, 'GetNlLists was answered without waiting for the gate');

  const [viaSoap, viaForm] = await waiting;
  assert.equal(viaSoap.status, 503, viaSoap.body);
  assert.equal(viaSoap.headers['retry-after'], '10');
  assert.equal(viaSoap.headers.connection, 'close');
  assert.match(faultText(viaSoap.body) ?? '', /busy with other uploads; send the request again in 10 seconds/);
  assert.ok(viaSoap.sent < 24 * MB, `the waiting body was read: ${viaSoap.sent} bytes sent before the answer`);
  assert.equal(viaForm.status, 503, viaForm.body);
  assert.equal(viaForm.headers['retry-after'], '10');
  assert.match(viaForm.body, /busy with other uploads/);

  const held = await holder;
  assert.ok(processId(held) > 0, held.body);
  const afterwards = stored(dir);
  assert.deepEqual({ processes: afterwards.processes, feeds: afterwards.feeds }, { processes: before.processes + 1, feeds: before.feeds + 1 },
    'only the holder\'s feed was kept');
  assert.deepEqual(await uploadGauges(server), { inProgress: 0, waiting: 0 });
});
