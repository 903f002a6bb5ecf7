/**
 * SIGTERM stops the service gracefully: an upload in flight is still answered, the worker
 * commits the batch it is merging and releases its lease, and the process exits 0. A restart
 * resumes the import at once (without waiting for a lease to expire) and ends exactly like an
 * uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  demoAccount, importSnapshot, mixedFeed, processRow, startChildServer, startDemoImport, stopChildServer, waitForProcessRow,
} from '../helpers/child-server.ts';
import { soapEnvelope } from '../helpers/service.ts';

const ROWS = 30_000;

test('SIGTERM finishes in-flight requests and the current batch, releases the lease, and a restart resumes at once', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailup-sigterm-'));
  const referenceDir = mkdtempSync(join(tmpdir(), 'mailup-sigterm-ref-'));
  // A long lease: resuming must not wait for it to expire.
  const env = { LEASE_SECONDS: '600' };
  try {
    const reference = await startChildServer(referenceDir, env);
    const refId = await startDemoImport(reference, mixedFeed(ROWS));
    await waitForProcessRow(referenceDir, refId, (p) => p.status === 3);
    await stopChildServer(reference, 'SIGTERM');

    const server = await startChildServer(dir, env);
    const demo = demoAccount(server);
    const id = await startDemoImport(server, mixedFeed(ROWS));
    await waitForProcessRow(dir, id, (p) => p.checkpoint >= 5000 || p.status !== 2);

    // An upload whose body is only half sent when SIGTERM arrives.
    const body = Buffer.from(soapEnvelope('NewImportProcess', {
      idList: demo.list.id, listGUID: demo.list.guid, xmlDoc: mixedFeed(200), idGroups: '', importType: 3, mobileInputType: 1,
      asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
    }, demo.auth));
    const answer = new Promise<string>((resolve, reject) => {
      const req = request(server.endpoint, { method: 'POST', agent: false, headers: {
        'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/NewImportProcess', 'content-length': body.length,
      } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write(body.subarray(0, body.length / 2));
      setTimeout(() => req.end(body.subarray(body.length / 2)), 500);
    });
    await new Promise((r) => setTimeout(r, 200));
    const exit = stopChildServer(server, 'SIGTERM');
    assert.match(await answer, /ReturnCode&gt;\d+&lt;\/ReturnCode/, 'the in-flight upload was answered with a process id');
    assert.equal(await exit, 0, 'clean exit');

    const stopped = await processRow(dir, id);
    assert.equal(stopped.status, 2, 'the import is not finished yet');
    assert.equal(stopped.lease_owner, null, 'the lease was released');
    assert.equal(stopped.checkpoint % 5000 === 0 || stopped.checkpoint === ROWS, true, 'the checkpoint sits on a batch boundary');

    const restarted = await startChildServer(dir, env);
    try {
      await waitForProcessRow(dir, id, (p) => p.status === 3, 120_000);
    } finally {
      await stopChildServer(restarted, 'SIGTERM');
    }
    const after = await importSnapshot(dir) as { process: unknown[] };
    const expected = await importSnapshot(referenceDir) as { process: unknown[] };
    // The extra upload created a second process (never started); compare the import itself.
    assert.equal(after.process.length, 2);
    assert.deepEqual({ ...after, process: after.process.slice(0, 1) }, expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(referenceDir, { recursive: true, force: true });
  }
});
