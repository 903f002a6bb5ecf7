/**
 * A REST bulk import's body is read under the SOAP feeds' limits (the same upload gate, minimum
 * upload rate and byte cap; src/http/rest-uploads.ts), over real HTTP on both stores: a body that
 * trickles below the minimum rate gets 408, an upload that waits for a slot longer than
 * UPLOAD_QUEUE_SECONDS gets 503 with Retry-After, each with MailUp's error body, and neither leaves
 * a feed or a process behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { login, restClientOf, REST_BASE } from '../helpers/rest.ts';
import { trickle } from '../helpers/uploads.ts';
import { sendRaw } from '../security/hostile-client.ts';
import { waitForImport } from './import-helpers.ts';

let svc: TestService;
let acc: TestAccount;
let token: string;

before(async () => {
  svc = await startTestService({
    MIN_UPLOAD_BYTES_PER_SECOND: '2000', UPLOAD_RATE_WINDOW_SECONDS: '1', MAX_CONCURRENT_UPLOADS: '1', UPLOAD_QUEUE_SECONDS: '1',
  });
  acc = await svc.addAccount();
  token = (await login(svc, acc, await restClientOf(svc, acc))).access_token;
});
after(() => svc.close());

async function stored(): Promise<{ feeds: number; processes: number }> {
  const count = async (table: string): Promise<number> => Number((await svc.db.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
  return { feeds: await count('feed'), processes: await count('import_process') };
}

/** A body of `rows` recipients, sent fast up to `fastBytes` and then `bytesPerTick` every `tickMs`. */
function upload(rows: number, fastBytes: number, bytesPerTick: number, tickMs: number, prefix: string) {
  const data = Buffer.from(JSON.stringify(Array.from({ length: rows }, (_, i) => ({ Email: `${prefix}${i}@example.com`, Fields: [{ Id: 1, Value: `Name ${i}` }] }))));
  return sendRaw(svc.url, {
    path: `${REST_BASE}/Console/List/${acc.list.id}/Recipients`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    length: data.length,
    body: trickle(data, fastBytes, bytesPerTick, tickMs),
  });
}

const errorOf = (body: string): { ErrorCode: string; ErrorDescription: string } => JSON.parse(body) as { ErrorCode: string; ErrorDescription: string };

test('a body that trickles below the minimum upload rate: 408, and the partial feed is deleted', { timeout: 60_000 }, async () => {
  const before = await stored();
  const reply = await upload(20_000, 200_000, 100, 500, 'slow');
  assert.equal(reply.status, 408, reply.body);
  assert.equal(errorOf(reply.body).ErrorCode, '408');
  assert.match(errorOf(reply.body).ErrorDescription, /arrived too slowly: less than 2000 bytes per second/);
  assert.deepEqual(await stored(), before);
});

test('an upload that waits for a slot longer than UPLOAD_QUEUE_SECONDS: 503 with Retry-After; the one holding the slot completes', { timeout: 60_000 }, async () => {
  const before = await stored();
  // Holds the only slot for about three seconds, well above the minimum rate.
  const holding = upload(4000, 1000, 25_000, 250, 'holder');
  await new Promise((r) => setTimeout(r, 500));
  const waiting = await upload(10, 1_000_000, 1, 1, 'waiter');
  assert.equal(waiting.status, 503, waiting.body);
  assert.equal(waiting.headers['retry-after'], '10');
  assert.match(errorOf(waiting.body).ErrorDescription, /busy with other uploads/);
  const held = await holding;
  assert.equal(held.status, 200, held.body);
  await waitForImport(svc, token, Number(held.body));
  assert.deepEqual(await stored(), { feeds: before.feeds + 1, processes: before.processes + 1 }, 'only the upload that held the slot');
});
