/**
 * The import worker reads and prepares the next batch while it merges one. A read that fails
 * meanwhile is the import's failure like any other (status 4, with its message), thrown where the
 * batch is awaited: it must not escape first as an unhandled rejection, which would end the
 * process that runs the worker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImportWorker, type WorkerLog } from '../../src/import/worker.ts';
import type { Store } from '../../src/store/store.ts';
import { accountWithList, defaultOptions, eventually, feedRow, storeFeed, storeFixture, unwrap, type StoreFixture } from '../store/store-fixture.ts';

let fx: StoreFixture;
before(async () => {
  fx = await storeFixture();
});
after(() => fx.close());

const quiet: WorkerLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

test('a batch read ahead that fails while the batch before it is merged fails the import, recorded', async () => {
  const raw = unwrap(fx.store);
  const a = await accountWithList(raw);
  const feed = await storeFeed(raw, a.accountId, Array.from({ length: 12_000 }, (_, i) => feedRow(i + 1, `ahead${i}@x.it`)));
  const created = await raw.processes.createProcesses(a.accountId, feed, [{ listId: a.listId, options: defaultOptions() }], { start: true });
  assert.ok(created.ok, JSON.stringify(created));
  const id = created.processes[0]!.id;

  // The store as it is, but the second read of feed rows (the first read ahead) fails.
  let reads = 0;
  const feeds = new Proxy(raw.feeds, {
    get(target, prop) {
      if (prop !== 'readFeedRows') return Reflect.get(target, prop, target);
      return async (...args: Parameters<Store['feeds']['readFeedRows']>) => {
        if (++reads === 2) throw new Error('the next chunk could not be read');
        return target.readFeedRows(...args);
      };
    },
  });
  const store = new Proxy(raw, { get: (target, prop) => (prop === 'feeds' ? feeds : Reflect.get(target, prop, target)) });

  const worker = new ImportWorker({ store, leaseMs: 60_000, pollMs: 20, log: quiet });
  worker.start();
  try {
    const failed = await eventually(async () => {
      const now = await raw.processes.getProcess(a.accountId, id);
      return now?.status === 4 ? now : null;
    });
    assert.match(failed.failureReason ?? '', /the next chunk could not be read/);
    assert.ok(failed.checkpoint > 0, 'the batch before the failed read was merged');
  } finally {
    await worker.stop();
  }
});
