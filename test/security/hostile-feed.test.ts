// test-stores: sqlite (hostile input is refused in the HTTP, protocol and XML layers, before any store is involved; these suites measure the embedded server's memory and read its SQLite file)
/**
 * Hostile subscriber feeds inside `xmlDoc`, sent over real HTTP to the service running as a child
 * process. Each case asserts the documented answer (ReturnCode -402 for a feed that is not a
 * well-formed feed, -401 for an empty one, HTTP 413 for a body over BODY_LIMIT, a process id for
 * a legal feed with huge values), that nothing is left stored by a refused call, that the child's
 * peak RSS stays within RSS_GROWTH_BOUND_MB of its idle peak, and that GetNlLists on other connections keeps answering
 * within PROBE_BOUND_MS while the feed is read.
 *
 * Feeds are produced by generators (escaped as a client escapes them) and never built in memory.
 * HOSTILE_FULL=1 (docs/security.md) runs the full sizes: 300 MB values, 20 parallel 20 MB uploads.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { demoAccount, startChildServer, stopChildServer, type ChildServer } from '../helpers/child-server.ts';
import { callSoap, resultFields, waitForProcess, type SoapAuth } from '../helpers/service.ts';
import { escapeText } from '../../src/xml/escape.ts';
import {
  byteLength, envelopeAround, FULL, getNlLists, MB, SERVICE_PATH, watchRss, type RssWatch, SOAP11_HEADERS,
  sendRaw, stored, streamBody, takeSlowestProbe, times, whileProbing, type RawReply, type Repeat,
  startBait, type Bait,
} from './hostile-client.ts';

/** Size of the huge attribute value and text nodes inside the feed (HOSTILE_FULL: 300 MB). */
const HUGE = (FULL ? 300 : 64) * MB;
/**
 * Parallel uploads and the size of each. Every upload is parsed on the server's one event loop,
 * so the wait of other clients grows with the number of uploads in flight (docs/security.md).
 */
const UPLOADS = FULL ? 20 : 10;
const UPLOAD_SIZE = (FULL ? 20 : 4) * MB;
/**
 * Memory allowed per upload in flight, on top of RSS_GROWTH_BOUND_MB: its pending chunk of 5,000 parsed
 * rows, their JSON and the garbage they leave until the next collection (measured: about 16 MB).
 * It must not depend on the upload's size: HOSTILE_FULL sends five times larger feeds.
 */
const PER_UPLOAD_MB = 20;

let dataDir: string;
let server: ChildServer;
let auth: SoapAuth;
let list: { id: number; guid: string };
let lists: string;
let limited: ChildServer;
let limitedDir: string;
let bait: Bait;
let memory: Map<ChildServer, RssWatch>;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mailup-hostile-feed-'));
  limitedDir = mkdtempSync(join(tmpdir(), 'mailup-hostile-feed-limit-'));
  bait = await startBait('<!ENTITY leak "leaked">');
  [server, limited] = await Promise.all([startChildServer(dataDir), startChildServer(limitedDir, { BODY_LIMIT: '16mb' })]);
  ({ auth, list } = demoAccount(server));
  lists = await getNlLists(server.endpoint, auth, 30_000);
  await getNlLists(limited.endpoint, demoAccount(limited).auth, 30_000);
  memory = new Map([[server, watchRss(server.child.pid!)], [limited, watchRss(limited.child.pid!)]]);
});

after(async () => {
  await Promise.all([server && stopChildServer(server, 'SIGTERM'), limited && stopChildServer(limited, 'SIGTERM')]);
  await bait?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(limitedDir, { recursive: true, force: true });
});

afterEach((t) => {
  for (const child of [server, limited]) {
    assert.equal(child.child.exitCode, null, `a server exited:\n${child.output()}`);
    memory.get(child)!.assertWithinBound();
  }
  if ('diagnostic' in t) t.diagnostic(`peak RSS ${memory.get(server)!.assertWithinBound().toFixed(0)} MB; slowest GetNlLists meanwhile ${takeSlowestProbe().toFixed(0)} ms`);
});

type ImportOperation = 'NewImportProcess' | 'StartImportProcesses';

/** The envelope of an import call cut where the (escaped) feed goes. */
function importEnvelope(operation: ImportOperation, account: SoapAuth = auth, target = list): [string, string] {
  const params: Record<string, string | number> = operation === 'NewImportProcess'
    ? { idList: target.id, listGUID: target.guid, xmlDoc: '@@FEED@@', importType: 3, mobileInputType: 1 }
    : { listsIDs: target.id, listsGUIDs: target.guid, xmlDoc: '@@FEED@@', groupsIDs: '', importType: 3, mobileInputType: 1 };
  return envelopeAround(operation, params, account, '@@FEED@@');
}

/** The feed's parts as the feed's own text, escaped here as a client escapes `xmlDoc`. */
type FeedPart = string | Repeat;

/** Sends an import call whose `xmlDoc` is `parts`, while other clients probe; returns the answer. */
async function sendFeed(parts: readonly FeedPart[], operation: ImportOperation = 'NewImportProcess', target: ChildServer = server): Promise<RawReply> {
  const account = target === server ? auth : demoAccount(target).auth;
  const into = target === server ? list : demoAccount(target).list;
  const [head, tail] = importEnvelope(operation, account, into);
  const body = streamBody(head, ...parts.map((p) => (typeof p === 'string' ? escapeText(p) : { unit: escapeText(p.unit), copies: p.copies })), tail);
  const expected = target === server ? lists : await getNlLists(target.endpoint, account, 30_000);
  const { result, latencies } = await whileProbing(target.endpoint, account, expected,
    () => sendRaw(target.url, { ...body, path: SERVICE_PATH, headers: SOAP11_HEADERS(operation) }));
  assert.ok(latencies.length >= 1);
  return result;
}

/** The first ReturnCode of an answer (the process id for a successful NewImportProcess). */
function returnCode(reply: RawReply): number {
  assert.equal(reply.status, 200, reply.body);
  const code = /ReturnCode&gt;(-?\d+)&lt;\/ReturnCode/.exec(reply.body)?.[1];
  assert.ok(code !== undefined, reply.body);
  return Number(code);
}

/** Runs a prepared process to its end and returns GetProcessDetails' fields. */
async function runProcess(id: number): Promise<Record<string, string>> {
  const started = await callSoap(server.endpoint, 'StartProcess', { idList: list.id, listGUID: list.guid, idProcess: id }, auth);
  assert.equal(started.returnCode, 0, started.body);
  const done = await waitForProcess(server.endpoint, auth, list.id, list.guid, id, 120_000);
  return resultFields(done.result!);
}

const row = (email: string, inner = '', attrs = ''): string =>
  `<subscriber email="${email}" Prefix="" Number="" Name=""${attrs}>${inner}</subscriber>`;

describe('DTDs and entities inside the feed: -402, nothing fetched, nothing stored', () => {
  const laughs = (): string =>
    ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`)].join('');
  const cases: [string, () => FeedPart[]][] = [
    ['an XXE SYSTEM entity', () => [`<!DOCTYPE subscribers [<!ENTITY xxe SYSTEM "${bait.url}/xxe">]><subscribers>${row('a@example.com', '<campo1>&xxe;</campo1>')}</subscribers>`]],
    ['an XXE PUBLIC entity', () => [`<!DOCTYPE subscribers [<!ENTITY xxe PUBLIC "-//Hostile//X" "${bait.url}/public">]><subscribers>${row('a@example.com', '<campo1>&xxe;</campo1>')}</subscribers>`]],
    ['an external DTD', () => [`<!DOCTYPE subscribers SYSTEM "${bait.url}/evil.dtd"><subscribers>${row('a@example.com', '<campo1>&leak;</campo1>')}</subscribers>`]],
    ['an external parameter entity', () => [`<!DOCTYPE subscribers [<!ENTITY % p SYSTEM "${bait.url}/p.dtd"> %p;]><subscribers>${row('a@example.com')}</subscribers>`]],
    ['billion laughs', () => [`<!DOCTYPE subscribers [${laughs()}]><subscribers>${row('a@example.com', '<campo1>&lol9;</campo1>')}</subscribers>`]],
    ['quadratic blow-up (a 1 MB entity referenced 100,000 times)', () => [
      '<!DOCTYPE subscribers [<!ENTITY big "', times('x', MB), `">]><subscribers><subscriber email="a@example.com"><campo1>`,
      { unit: '&big;', copies: 100_000 }, '</campo1></subscriber></subscribers>',
    ]],
  ];
  for (const [label, feed] of cases) {
    for (const operation of ['NewImportProcess', 'StartImportProcesses'] as const) {
      test(`${label} (${operation})`, async () => {
        const before = stored(dataDir);
        const reply = await sendFeed(feed(), operation);
        assert.equal(returnCode(reply), -402);
        assert.ok(!reply.body.includes('leaked') && !reply.body.includes('lollol'));
        assert.equal(bait.hits(), 0, 'the entity or DTD was fetched');
        assert.deepEqual(stored(dataDir), before);
      });
    }
  }
});

describe('structure and size', () => {
  test('100,000-deep nesting: -402', async () => {
    const before = stored(dataDir);
    const reply = await sendFeed(['<subscribers>', { unit: '<subscriber>', copies: 100_000 }, { unit: '</subscriber>', copies: 100_000 }, '</subscribers>']);
    assert.equal(returnCode(reply), -402);
    assert.deepEqual(stored(dataDir), before);
  });

  test(`a ${HUGE / MB} MB attribute value: -402, the rest of the feed read and dropped in bounded memory`, async () => {
    const before = stored(dataDir);
    const reply = await sendFeed([`<subscribers>${row('first@example.com')}<subscriber email="`, times('a', HUGE), '@example.com"/></subscribers>']);
    assert.equal(returnCode(reply), -402);
    assert.deepEqual(stored(dataDir), before);
  });

  test(`a ${HUGE / MB} MB field value: accepted, kept cut at 4,096 characters, and the row rejected by the length rule`, async () => {
    const reply = await sendFeed([
      `<subscribers>${row('ok@example.com', '<campo1>Ada</campo1>')}<subscriber email="huge@example.com" Prefix="" Number="" Name=""><campo1>`,
      times('Città &amp; Co ', HUGE), '</campo1></subscriber></subscribers>',
    ]);
    const id = returnCode(reply);
    assert.ok(id > 0, reply.body);
    const details = await runProcess(id);
    assert.equal(details.StatusCode, '3');
    assert.equal(details.TotalContacts, '2');
    assert.equal(details.NewEmail, '1');
    const db = new Database(join(dataDir, 'mailup.db'), { readonly: true, fileMustExist: true });
    try {
      const rejects = db.prepare('SELECT row_no, raw, reason FROM import_reject WHERE process_id = ?').all(id) as { row_no: number; raw: string; reason: string }[];
      assert.equal(rejects.length, 1);
      assert.equal(rejects[0]!.row_no, 2);
      assert.match(rejects[0]!.reason, /campo1 longer than the allowed length/);
      assert.ok(rejects[0]!.raw.length < 10_000, `the reject report keeps ${rejects[0]!.raw.length} characters`);
    } finally {
      db.close();
    }
  });

  test(`a ${HUGE / MB} MB text node in an unknown element of a row: ignored, the row imported`, async () => {
    const reply = await sendFeed([`<subscribers><subscriber email="unknown@example.com" Prefix="" Number="" Name=""><notes>`, times('lorem ipsum ', HUGE), '</notes><campo1>Bob</campo1></subscriber></subscribers>']);
    const id = returnCode(reply);
    assert.ok(id > 0, reply.body);
    const details = await runProcess(id);
    assert.equal(details.StatusCode, '3');
    assert.equal(details.TotalContacts, '1');
    assert.equal(details.NewEmail, '1');
  });

  test(`a feed of ${HUGE / MB} MB of white space: -401 (empty)`, async () => {
    const before = stored(dataDir);
    const reply = await sendFeed([times(' \n\t', HUGE)]);
    assert.equal(returnCode(reply), -401);
    assert.deepEqual(stored(dataDir), before);
  });

  test('a feed that breaks after 16 MB of valid rows: -402, and the chunks already stored are deleted', async () => {
    const before = stored(dataDir);
    const unit = row('same@example.com', '<campo1>x</campo1>');
    const reply = await sendFeed(['<subscribers>', times(unit, 16 * MB), '<subscriber email="broken"></subscribers>']);
    assert.equal(returnCode(reply), -402);
    assert.deepEqual(stored(dataDir), before);
  });

  test('a feed over BODY_LIMIT (16mb): HTTP 413 and nothing stored', async () => {
    const before = stored(limitedDir);
    const unit = row('row@example.com', '<campo1>Name</campo1>');
    const reply = await sendFeed(['<subscribers>', times(unit, 64 * MB), '</subscribers>'], 'NewImportProcess', limited);
    assert.equal(reply.status, 413, reply.body);
    assert.match(reply.body, /larger than the limit of 16777216 bytes/);
    // The partial feed is deleted before the answer goes out.
    assert.deepEqual(stored(limitedDir), before);
  });
});

describe('bytes, characters and declarations', () => {
  test('invalid UTF-8 inside xmlDoc: HTTP 400 for the whole request, nothing stored', async () => {
    const before = stored(dataDir);
    const [head, tail] = importEnvelope('NewImportProcess');
    const body = Buffer.concat([Buffer.from(head), Buffer.from(escapeText(`<subscribers>${row('a@example.com', '<campo1>')}`)), Buffer.from([0xc3, 0x28]),
      Buffer.from(escapeText('</campo1></subscriber></subscribers>')), Buffer.from(tail)]);
    const { result: reply } = await whileProbing(server.endpoint, auth, lists,
      () => sendRaw(server.url, { ...streamBody(body), path: SERVICE_PATH, headers: SOAP11_HEADERS('NewImportProcess') }));
    assert.equal(reply.status, 400, reply.body);
    assert.match(reply.body, /not valid UTF-8/);
    assert.deepEqual(stored(dataDir), before);
  });

  test('characters XML forbids, as references or raw: -402', async () => {
    for (const bad of ['&#0;', '&#x1;', '&#xFFFE;', '&#xD800;']) {
      const reply = await sendFeed([`<subscribers>${row('a@example.com', `<campo1>x${bad}</campo1>`)}</subscribers>`]);
      assert.equal(returnCode(reply), -402, bad);
    }
  });

  test('a feed whose own XML declaration says UTF-16: the declaration is ignored, the text is what the envelope carried', async () => {
    const reply = await sendFeed([`<?xml version="1.0" encoding="UTF-16"?><subscribers>${row('decl@example.com', '<campo1>Città €</campo1>')}</subscribers>`]);
    const id = returnCode(reply);
    assert.ok(id > 0, reply.body);
    const details = await runProcess(id);
    assert.equal(details.NewEmail, '1');
    const db = new Database(join(dataDir, 'mailup.db'), { readonly: true, fileMustExist: true });
    try {
      const { fields } = db.prepare("SELECT fields FROM recipient WHERE email = 'decl@example.com'").get() as { fields: string };
      assert.equal(JSON.parse(fields)['1'], 'Città €');
    } finally {
      db.close();
    }
  });
});

describe('the form binding', () => {
  test('a DTD or 100,000-deep nesting in xmlDoc over HTTP POST: -402', async () => {
    const basic = Buffer.from(`${auth.User}:${auth.Password}`).toString('base64');
    const before = stored(dataDir);
    const laughs = '<!DOCTYPE subscribers [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><subscribers><subscriber email="&b;"/></subscribers>';
    for (const parts of [[laughs], ['<subscribers>', '<x>'.repeat(100_000), '</x>'.repeat(100_000), '</subscribers>']]) {
      const head = `idList=${list.id}&listGUID=${list.guid}&importType=3&mobileInputType=1&xmlDoc=`;
      const { result: reply } = await whileProbing(server.endpoint, auth, lists, () => sendRaw(server.url, {
        ...streamBody(head, ...parts.map(encodeURIComponent)), path: `${SERVICE_PATH}/NewImportProcess`,
        headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      }));
      assert.equal(reply.status, 200, reply.body);
      assert.match(reply.body, /ReturnCode&gt;-402&lt;/);
    }
    assert.deepEqual(stored(dataDir), before);
  });
});

test(`${UPLOADS} parallel uploads of ${UPLOAD_SIZE / MB} MB feeds: each answered with its own process and every row counted`, { timeout: 600_000 }, async (t) => {
  // A server of its own, so that its peak RSS is this test's alone.
  const busyDir = mkdtempSync(join(tmpdir(), 'mailup-hostile-uploads-'));
  const busy = await startChildServer(busyDir);
  t.after(async () => {
    await stopChildServer(busy, 'SIGTERM');
    rmSync(busyDir, { recursive: true, force: true });
  });
  const demo = demoAccount(busy);
  const busyList = demo.list;
  const busyLists = await getNlLists(busy.endpoint, demo.auth, 30_000);
  const busyMemory = watchRss(busy.child.pid!);
  const unit = (n: number, i: number): string =>
    `<subscriber email="u${n}-${i}@example.com" Prefix="" Number="+39333${String(i).padStart(7, '0')}" Name="User ${i}"><campo1>Città ${i}</campo1><campo2>Row &amp; more</campo2></subscriber>`;
  function* feed(n: number): Generator<string> {
    yield '<subscribers>';
    let bytes = 0;
    for (let i = 0; bytes < UPLOAD_SIZE; i++) {
      const r = unit(n, i);
      bytes += r.length;
      yield r;
    }
    yield '</subscribers>';
  }
  // Rows per feed, counted without building the feed.
  const rowsOf = (n: number): number => {
    let rows = 0;
    for (const piece of feed(n)) if (piece.startsWith('<subscriber ')) rows++;
    return rows;
  };
  /** Batches the escaped feed into ~64 KiB buffers. */
  function* escapedFeed(n: number): Generator<Buffer> {
    let pending = '';
    for (const piece of feed(n)) {
      pending += escapeText(piece);
      if (pending.length >= 65_536) {
        yield Buffer.from(pending);
        pending = '';
      }
    }
    if (pending) yield Buffer.from(pending);
  }
  const lengthOf = (n: number): number => {
    let bytes = 0;
    for (const b of escapedFeed(n)) bytes += b.length;
    return bytes;
  };
  const [head, tail] = importEnvelope('NewImportProcess', demo.auth, busyList);
  const { result: replies } = await whileProbing(busy.endpoint, demo.auth, busyLists, () => Promise.all(Array.from({ length: UPLOADS }, (_, n) =>
    sendRaw(busy.url, {
      path: SERVICE_PATH, headers: SOAP11_HEADERS('NewImportProcess'),
      length: byteLength(head) + lengthOf(n) + byteLength(tail), body: (function* () {
        yield Buffer.from(head);
        yield* escapedFeed(n);
        yield Buffer.from(tail);
      })(),
    }))), 500);
  const ids = replies.map(returnCode);
  assert.equal(new Set(ids).size, UPLOADS, `distinct process ids: ${ids.join(', ')}`);
  for (const [n, id] of ids.entries()) {
    assert.ok(id > 0);
    const details = await callSoap(busy.endpoint, 'GetProcessDetails', { idList: busyList.id, listGUID: busyList.guid, idProcess: id }, demo.auth);
    assert.equal(resultFields(details.result!).TotalContacts, String(rowsOf(n)), `process ${id}`);
  }
  // Each upload in flight holds at most a chunk of parsed rows and its JSON, whatever its size.
  const rss = busyMemory.assertWithinBound(UPLOADS * PER_UPLOAD_MB);
  t.diagnostic(`peak RSS ${rss.toFixed(0)} MB; slowest GetNlLists meanwhile ${takeSlowestProbe().toFixed(0)} ms`);
});
