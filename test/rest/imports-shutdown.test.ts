/**
 * SIGTERM with a REST bulk import still arriving: like a SOAP feed (test/reliability/
 * shutdown-deadline.test.ts), the body trickling in above the minimum rate is answered 503 (or
 * its connection cut) at SHUTDOWN_TIMEOUT_SECONDS, its partial feed is deleted, no process is
 * created, and the server exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildServer, storeOf } from '../helpers/child-server.ts';
import { REST_BASE } from '../helpers/rest.ts';
import { isShutdownAnswer, storedFeeds, trickle, waitForFeeds } from '../helpers/uploads.ts';
import { sendRaw } from '../security/hostile-client.ts';
import { demoToken } from './import-helpers.ts';

const DEADLINE_S = 2;
const MARGIN_MS = 3000;

test('SIGTERM with a REST bulk import trickling in: 503 or cut at SHUTDOWN_TIMEOUT_SECONDS, no partial feed, no process, exit 0', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-rest-shutdown-'));
  const server = await startChildServer(dir, { SHUTDOWN_TIMEOUT_SECONDS: String(DEADLINE_S) });
  try {
    const token = await demoToken(server);
    const listId = Number(/idList (\d+)/.exec(server.output())![1]);
    const data = Buffer.from(JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ Email: `trickled${i}@example.com`, Fields: [{ Id: 1, Value: `Name ${i}` }] }))));
    // About 12,000 recipients at once (two chunks stored), the rest at 2 KB/s, twice the default minimum.
    const reply = sendRaw(server.url, {
      path: `${REST_BASE}/Console/List/${listId}/Recipients`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      length: data.length,
      body: trickle(data, Math.floor(data.length * 0.6), 512, 250),
    }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    await waitForFeeds(dir, (s) => s.partial.chunks >= 2, 60_000);

    const exited = once(server.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const signalled = performance.now();
    server.child.kill('SIGTERM');
    const outcome = await exited;
    const ms = performance.now() - signalled;
    t.diagnostic(`exited ${ms.toFixed(0)} ms after SIGTERM`);
    assert.ok(ms < DEADLINE_S * 1000 + MARGIN_MS, `exited ${ms.toFixed(0)} ms after SIGTERM (deadline ${DEADLINE_S} s)`);
    assert.deepEqual(outcome, [0, null], `exit code and signal\n${server.output()}`);

    const answer = await reply;
    assert.ok(isShutdownAnswer(answer), `the trickling client got ${answer instanceof Error ? answer.message : `${answer.status} ${answer.body}`}`);
    if (!(answer instanceof Error)) {
      assert.deepEqual(JSON.parse(answer.body), {
        ErrorCode: '503', ErrorDescription: 'The server is shutting down; send the request again.', ErrorName: 'ServiceUnavailable', ErrorStack: null,
      });
    }
    assert.deepEqual((await storedFeeds(dir)).partial, { feeds: 0, chunks: 0 }, 'no partial feed is left');
    assert.deepEqual(await (await storeOf(dir)).query('SELECT id FROM import_process'), [], 'no process');
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
