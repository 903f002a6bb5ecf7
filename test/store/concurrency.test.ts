/**
 * The store's promises under concurrency, from several handles on one database at once (what
 * several API servers and workers are): one running import per account whatever the race, every
 * running process claimed by exactly one worker, no duplicate groups or account numbers. With
 * SQLite the handles are connections to one file; with PostgreSQL, separate pools.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.ts';
import type { Lease, StartOutcome } from '../../src/store/processes.ts';
import { accountWithList, defaultOptions, feedRow, storeFeed, storeFixture, type StoreFixture } from './store-fixture.ts';

let fx: StoreFixture;
let handles: Store[];
before(async () => {
  fx = await storeFixture();
  handles = [fx.store, await fx.open(), await fx.open()];
});
after(() => fx.close());

test('racing starts of one account: exactly one import runs, every other start is told busy (-601/-602), none fails', async () => {
  const store = fx.store;
  const a = await accountWithList(store, 'Race');
  const second = await store.lists.createList(a.accountId, 'Second');
  const feed = await storeFeed(store, a.accountId, [feedRow(1, 'race@x.it')]);
  const ids: number[] = [];
  for (let i = 0; i < 12; i++) {
    const created = await store.processes.createProcesses(a.accountId, feed, [{ listId: i % 2 ? second.id : a.listId, options: defaultOptions() }], { start: false });
    assert.ok(created.ok);
    ids.push(created.processes[0]!.id);
  }
  // Every handle starts its own processes at the same moment, single and in pairs, and creates started ones.
  const outcomes: StartOutcome[] = await Promise.all([
    ...ids.map((id, i) => handles[i % handles.length]!.processes.startProcesses(a.accountId, i % 4 === 3 ? [id, ids[(i + 5) % ids.length]!] : [id])),
    ...handles.map(async (h) => {
      const r = await h.processes.createProcesses(a.accountId, feed, [{ listId: second.id, options: defaultOptions() }], { start: true });
      return r.ok ? { ok: true as const } : r;
    }),
  ]);
  const started = outcomes.filter((o) => o.ok);
  assert.equal(started.length, 1, JSON.stringify(outcomes));
  for (const o of outcomes) if (!o.ok) assert.ok(['busy-same-list', 'busy-other-list', 'not-startable'].includes(o.reason), o.reason);
  const running = await fx.db.query<{ n: number }>('SELECT count(*) AS n FROM import_process WHERE account_id = ? AND status = 2', [a.accountId]);
  assert.equal(Number(running[0]!.n), 1);
  // The rule is the database's own: a second running import cannot even be written by hand.
  const idle = await fx.db.query<{ id: number }>('SELECT id FROM import_process WHERE account_id = ? AND status = 1 ORDER BY id LIMIT 1', [a.accountId]);
  await assert.rejects(fx.db.execute('UPDATE import_process SET status = 2 WHERE id = ?', [idle[0]!.id]), /unique|UNIQUE/);
});

test('racing workers: each running process is claimed by exactly one of them', async () => {
  const store = fx.store;
  const processIds: number[] = [];
  for (let i = 0; i < 8; i++) {
    const a = await accountWithList(store, `Claim ${i}`);
    const feed = await storeFeed(store, a.accountId, [feedRow(1, `c${i}@x.it`)]);
    const created = await store.processes.createProcesses(a.accountId, feed, [{ listId: a.listId, options: defaultOptions() }], { start: true });
    assert.ok(created.ok);
    processIds.push(created.processes[0]!.id);
  }
  const claimed = await Promise.all(handles.flatMap((h, w) => [0, 1, 2].map(async (k) => {
    const mine: Lease[] = [];
    for (let l = await h.processes.claimProcess(`worker-${w}-${k}`, 60_000); l; l = await h.processes.claimProcess(`worker-${w}-${k}`, 60_000)) mine.push(l);
    return mine;
  })));
  const all = claimed.flat().map((l) => l.process.id).filter((id) => processIds.includes(id)).sort((x, y) => x - y);
  assert.deepEqual(all, [...processIds].sort((x, y) => x - y), 'every process once, none twice');
  const owners = await fx.db.query<{ id: number; lease_owner: string }>(
    `SELECT id, lease_owner FROM import_process WHERE id IN (${processIds.map(() => '?').join(', ')}) ORDER BY id`, processIds);
  for (const row of owners) {
    const holder = claimed.flat().find((l) => l.process.id === row.id)!;
    assert.equal(row.lease_owner, holder.owner);
  }
});

test('racing group creation and account creation give one group per name and distinct account numbers', async () => {
  const store = fx.store;
  const account = await store.accounts.createAccount({ passwordHash: 'h', name: 'Groups' });
  const list = await store.lists.createList(account.id, 'L');
  const groups = await Promise.all(handles.flatMap((h) => ['Promo', 'PROMO', 'promo'].map((name) => h.lists.createGroup(list.id, name))));
  assert.equal(new Set(groups.map((g) => g.group.id)).size, 1);
  assert.equal(groups.filter((g) => g.created).length, 1);
  const accounts = await Promise.all(handles.flatMap((h) => [1, 2, 3].map((i) => h.accounts.createAccount({ passwordHash: 'h', name: `Racer ${i}` }))));
  assert.equal(new Set(accounts.map((a) => a.id)).size, accounts.length);
});

test('a process read through one handle shows at once what another handle committed, and what it wrote itself', async () => {
  // Its own fixture: claimProcess takes any process ready to run.
  const own = await storeFixture();
  try {
    const [reader, writer] = [own.store, await own.open()];
    const a = await accountWithList(reader, 'Fresh reads');
    const feed = await storeFeed(reader, a.accountId, [feedRow(1, 'fresh@x.it')]);
    const created = await reader.processes.createProcesses(a.accountId, feed, [{ listId: a.listId, options: defaultOptions() }], { start: false });
    assert.ok(created.ok);
    const id = created.processes[0]!.id;
    assert.equal((await reader.processes.getProcess(a.accountId, id))?.status, 1);
    assert.equal((await reader.processes.getProcess(a.accountId, id))?.status, 1, 'read twice, nothing written between');
    assert.equal(await reader.processes.getProcess(a.accountId + 1, id), null, 'another account never sees it');

    assert.equal((await writer.processes.startProcesses(a.accountId, [id])).ok, true);
    const started = await reader.processes.getProcess(a.accountId, id);
    assert.equal(started?.status, 2, 'a start committed through another handle');
    assert.ok(started?.startDate instanceof Date);

    const lease = await reader.processes.claimProcess('reader', 60_000);
    assert.equal(lease?.process.id, id);
    await reader.processes.failProcess(lease!, 'stopped by the test');
    const failed = await reader.processes.getProcess(a.accountId, id);
    assert.equal(failed?.status, 4, 'a write made through the reading handle itself');
    assert.equal(failed?.failureReason, 'stopped by the test');
  } finally {
    await own.close();
  }
});
