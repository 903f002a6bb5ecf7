/**
 * The ProcessStore contract (src/store/processes.ts), run against the adapter TEST_STORE names
 * (npm test runs it on both): creating and starting import processes (one running import per
 * account, the rest queued), reading them, and a worker's claim, renewal, finish and failure.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rowsMergedOf } from '../../src/model/records.ts';
import { LeaseLostError, type Lease } from '../../src/store/processes.ts';
import { accountWithList, claim, contractSuite, defaultOptions, feedRow, mergeRecipients, runningProcess, storeFeed, storeFixture } from './store-fixture.ts';

const suite = contractSuite('processes');

/** An account with a list and a stored feed of two rows. */
async function accountWithFeed(name: string) {
  const a = await accountWithList(suite.store, name);
  const feed = await storeFeed(suite.store, a.accountId, [feedRow(1, 'q@x.it'), feedRow(2, 'q2@x.it')]);
  return { ...a, feed };
}

describe('creating and starting', () => {
  test('createProcesses makes one process per list in status 1, with the feed\'s row count and the options given', async () => {
    const a = await accountWithFeed('Create');
    const second = await suite.store.lists.createList(a.accountId, 'Second');
    const options = defaultOptions({ groupIds: a.groupIds, asPending: true, ConfirmEmail: true, idConfirmNL: 7, replaceGroups: true });
    const created = await suite.store.processes.createProcesses(a.accountId, a.feed, [
      { listId: a.listId, options }, { listId: second.id, options: defaultOptions() },
    ], { start: false });
    assert.ok(created.ok);
    const [one, two] = created.processes;
    assert.equal(created.processes.length, 2);
    assert.deepEqual(
      [one!.accountId, one!.listId, one!.feedId, one!.status, one!.queued, one!.totalContacts, one!.checkpoint, one!.rejected, one!.startDate, one!.endDate, one!.failureReason, one!.confirmationSentAt],
      [a.accountId, a.listId, a.feed.id, 1, false, 2, 0, 0, null, null, null, null]);
    assert.deepEqual(one!.options, options);
    assert.deepEqual(one!.counters, { newEmail: 0, newMobile: 0, existingEmail: 0, existingMobile: 0, optOutEmail: 0, optOutMobile: 0 });
    assert.ok(one!.createdAt instanceof Date);
    assert.deepEqual([two!.listId, two!.status, two!.options], [second.id, 1, defaultOptions()]);
    assert.deepEqual(await suite.store.processes.getProcess(a.accountId, one!.id), one);
  });

  test('the first process runs, the others wait in order; one running import per account with -601/-602 reasons', async () => {
    const a = await accountWithFeed('Queue');
    const { feed } = a;
    const second = await suite.store.lists.createList(a.accountId, 'Second');
    const created = await suite.store.processes.createProcesses(a.accountId, feed, [
      { listId: a.listId, options: defaultOptions() }, { listId: second.id, options: defaultOptions({ asPending: true }) },
    ], { start: true });
    assert.ok(created.ok);
    const [running, waiting] = created.processes;
    assert.deepEqual([running!.status, running!.queued, running!.totalContacts, running!.startDate instanceof Date], [2, false, 2, true]);
    assert.deepEqual([waiting!.status, waiting!.queued, waiting!.options.asPending, waiting!.startDate], [1, true, true, null]);

    // Busy: by the running process's list (-601 same list, -602 another).
    const idle = await suite.store.processes.createProcesses(a.accountId, feed, [{ listId: second.id, options: defaultOptions() }], { start: false });
    assert.ok(idle.ok);
    assert.deepEqual(await suite.store.processes.pendingProcessIds(a.accountId), [idle.processes[0]!.id], 'neither the running nor the queued one');
    assert.deepEqual(await suite.store.processes.startProcesses(a.accountId, [idle.processes[0]!.id]), { ok: false, reason: 'busy-other-list' });
    assert.equal(await suite.store.processes.busyListId(a.accountId), a.listId, 'the running process\'s list');
    const other = await accountWithFeed('Idle');
    assert.equal(await suite.store.processes.busyListId(other.accountId), null, 'an account that runs nothing');
    const before = (await suite.store.processes.listProcesses(a.accountId)).length;
    assert.deepEqual(await suite.store.processes.createProcesses(a.accountId, feed, [{ listId: a.listId, options: defaultOptions() }], { start: true }),
      { ok: false, reason: 'busy-same-list' });
    assert.deepEqual(await suite.store.processes.createProcesses(a.accountId, feed, [{ listId: second.id, options: defaultOptions() }], { start: true }),
      { ok: false, reason: 'busy-other-list' });
    assert.equal((await suite.store.processes.listProcesses(a.accountId)).length, before, 'a refused start created nothing');
    assert.deepEqual(await suite.store.processes.startProcesses(a.accountId, [running!.id]), { ok: false, reason: 'not-startable' });
    assert.deepEqual(await suite.store.processes.startProcesses(a.accountId, [waiting!.id]), { ok: false, reason: 'not-startable' }, 'already queued');
    assert.deepEqual(await suite.store.processes.startProcesses(a.accountId + 1000, [idle.processes[0]!.id]), { ok: false, reason: 'not-found' });
    const processes = await suite.store.processes.listProcesses(a.accountId);
    assert.deepEqual(processes.map((p) => p.id), [idle.processes[0]!.id, waiting!.id, running!.id], 'newest first');

    // Finishing the running one starts the next in the queue, in the same transaction.
    const lease = await claim(suite.store, running!.id, 'queue-owner');
    await suite.store.processes.finishProcess(lease);
    const [done, next] = await Promise.all([suite.store.processes.getProcess(a.accountId, running!.id), suite.store.processes.getProcess(a.accountId, waiting!.id)]);
    assert.deepEqual([done!.status, done!.endDate instanceof Date, next!.status, next!.queued, next!.startDate instanceof Date], [3, true, 2, false, true]);
    assert.equal(await suite.store.processes.getProcess(a.accountId + 1000, running!.id), null);
  });

  test('createProcesses with queueWhenBusy runs at once when the account is idle, and otherwise joins the end of its queue', async () => {
    const a = await accountWithFeed('Queue when busy');
    const second = await suite.store.lists.createList(a.accountId, 'Second');
    const queueing = { start: true, queueWhenBusy: true } as const;
    const first = await suite.store.processes.createProcesses(a.accountId, a.feed, [{ listId: a.listId, options: defaultOptions() }], queueing);
    assert.ok(first.ok);
    assert.deepEqual([first.processes[0]!.status, first.processes[0]!.queued], [2, false], 'an idle account runs it at once');
    const started = await suite.store.processes.createProcesses(a.accountId, a.feed, [
      { listId: second.id, options: defaultOptions() }, { listId: a.listId, options: defaultOptions() },
    ], queueing);
    const third = await suite.store.processes.createProcesses(a.accountId, a.feed, [{ listId: a.listId, options: defaultOptions() }], queueing);
    assert.ok(started.ok && third.ok);
    const waiting = [...started.processes, ...third.processes];
    assert.deepEqual(waiting.map((p) => [p.status, p.queued, p.startDate]), [[1, true, null], [1, true, null], [1, true, null]],
      'busy, on the same list or another: queued, never refused');
    assert.deepEqual(await suite.store.processes.pendingProcessIds(a.accountId), [], 'queued processes are not pending a StartProcess');
    // Each end promotes the next, in the order they were queued.
    let running = first.processes[0]!.id;
    for (const next of waiting) {
      await suite.store.processes.finishProcess(await claim(suite.store, running, 'queue-when-busy'));
      const promoted = await suite.store.processes.getProcess(a.accountId, next.id);
      assert.deepEqual([promoted!.status, promoted!.queued], [2, false], `process ${next.id} runs after ${running}`);
      running = next.id;
    }
  });

  test('startProcesses starts all in the order given, or none: an unknown or foreign process starts nothing', async () => {
    const a = await accountWithFeed('Atomic');
    const b = await accountWithFeed('Atomic other');
    const make = async (acc: typeof a) => {
      const r = await suite.store.processes.createProcesses(acc.accountId, acc.feed, [{ listId: acc.listId, options: defaultOptions() }], { start: false });
      assert.ok(r.ok);
      return r.processes[0]!.id;
    };
    const [p1, p2, p3] = [await make(a), await make(a), await make(a)];
    const foreign = await make(b);
    assert.deepEqual(await suite.store.processes.startProcesses(a.accountId, [p1, 987_654_321]), { ok: false, reason: 'not-found' });
    assert.deepEqual(await suite.store.processes.startProcesses(a.accountId, [p1, foreign]), { ok: false, reason: 'not-found' }, "another account's process");
    assert.deepEqual(await suite.store.processes.pendingProcessIds(a.accountId), [p1, p2, p3], 'nothing started');
    assert.deepEqual(await suite.store.processes.pendingProcessIds(b.accountId), [foreign]);

    assert.deepEqual(await suite.store.processes.startProcesses(a.accountId, [p3, p1, p2]), { ok: true });
    const [s1, s2, s3] = await Promise.all([p1, p2, p3].map((id) => suite.store.processes.getProcess(a.accountId, id)));
    assert.deepEqual([s3!.status, s3!.queued, s1!.status, s1!.queued, s2!.status, s2!.queued], [2, false, 1, true, 1, true]);
    assert.deepEqual(await suite.store.processes.pendingProcessIds(a.accountId), []);
    // The queue runs in the order given: p3, then p1, then p2.
    await suite.store.processes.finishProcess(await claim(suite.store, p3, 'atomic'));
    assert.equal((await suite.store.processes.getProcess(a.accountId, p1))!.status, 2);
    assert.equal((await suite.store.processes.getProcess(a.accountId, p2))!.status, 1);
    await suite.store.processes.finishProcess(await claim(suite.store, p1, 'atomic'));
    assert.equal((await suite.store.processes.getProcess(a.accountId, p2))!.status, 2);
    await suite.store.processes.finishProcess(await claim(suite.store, p2, 'atomic'));
    assert.equal((await suite.store.processes.getProcess(b.accountId, foreign))!.status, 1, "the other account's process never started");
  });
});

describe('reading', () => {
  test("getProcess, listProcesses and pendingProcessIds never show another account's processes", async () => {
    const a = await accountWithFeed('Reader');
    const b = await accountWithFeed('Reader other');
    const mine = await suite.store.processes.createProcesses(a.accountId, a.feed, [{ listId: a.listId, options: defaultOptions() }], { start: false });
    const theirs = await suite.store.processes.createProcesses(b.accountId, b.feed, [{ listId: b.listId, options: defaultOptions() }], { start: false });
    assert.ok(mine.ok && theirs.ok);
    assert.equal(await suite.store.processes.getProcess(b.accountId, mine.processes[0]!.id), null);
    assert.equal(await suite.store.processes.getProcess(a.accountId, theirs.processes[0]!.id), null);
    assert.equal(await suite.store.processes.getProcess(a.accountId, 987_654_321), null);
    assert.deepEqual((await suite.store.processes.listProcesses(a.accountId)).map((p) => p.id), [mine.processes[0]!.id]);
    assert.deepEqual(await suite.store.processes.pendingProcessIds(a.accountId), [mine.processes[0]!.id]);
    assert.deepEqual(await suite.store.processes.listProcesses(987_654_321), []);
    assert.deepEqual(await suite.store.processes.pendingProcessIds(987_654_321), []);
  });

  test('listProcesses: newest first, paged by limit and offset, with the unsent confirmation requests of each', async () => {
    const a = await accountWithFeed('Paged');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await suite.store.processes.createProcesses(a.accountId, a.feed, [{ listId: a.listId, options: defaultOptions() }], { start: false });
      assert.ok(r.ok);
      ids.push(r.processes[0]!.id);
    }
    const newest = [...ids].reverse();
    const all = await suite.store.processes.listProcesses(a.accountId);
    assert.deepEqual(all.map((p) => p.id), newest);
    assert.ok(all.every((p) => p.confirmationsPending === 0));
    assert.deepEqual(all[0], { ...(await suite.store.processes.getProcess(a.accountId, newest[0]!))!, confirmationsPending: 0 });
    assert.deepEqual((await suite.store.processes.listProcesses(a.accountId, { limit: 2 })).map((p) => p.id), newest.slice(0, 2));
    assert.deepEqual((await suite.store.processes.listProcesses(a.accountId, { limit: 2, offset: 2 })).map((p) => p.id), newest.slice(2, 4));
    assert.deepEqual((await suite.store.processes.listProcesses(a.accountId, { offset: 4 })).map((p) => p.id), newest.slice(4));

    // A process that queued confirmation requests counts them until they are sent.
    const running = await runningProcess(suite.store, 2, { ConfirmEmail: true });
    await mergeRecipients(suite.store, running.lease, [{ email: 'c1@x.it', emailStatus: 'pending', confirm: true }, { email: 'c2@x.it', emailStatus: 'pending', confirm: true }], { lastRow: 2 });
    const [listed] = await suite.store.processes.listProcesses(running.accountId);
    assert.deepEqual([listed!.id, listed!.confirmationsPending], [running.process.id, 2]);
    await suite.store.processes.finishProcess(running.lease);
  });
});

describe('leases', () => {
  test("a claimed process is nobody else's until its lease expires; the old holder then writes nothing", async () => {
    const p = await runningProcess(suite.store, 3);
    assert.equal(p.lease.process.id, p.process.id);
    assert.deepEqual([p.lease.owner, p.lease.leaseMs, p.lease.process.status], [`owner-${p.process.id}`, 60_000, 2]);
    // A second worker finds nothing of this process while the lease holds.
    const others: Lease[] = [];
    for (let l = await suite.store.processes.claimProcess('other-owner', 60_000); l; l = await suite.store.processes.claimProcess('other-owner', 60_000)) others.push(l);
    assert.ok(others.every((l) => l.process.id !== p.process.id));
    for (const l of others) await suite.store.processes.releaseLease(l);
    assert.equal(await suite.store.processes.renewLease(p.lease), true);

    // Let it expire: shorten it by renewing with a tiny lease, then wait for another claim to take it.
    const short: Lease = { ...p.lease, leaseMs: 1 };
    assert.equal(await suite.store.processes.renewLease(short), true);
    const taken = await claim(suite.store, p.process.id, 'new-owner');
    assert.equal(taken.process.id, p.process.id);
    assert.equal(taken.owner, 'new-owner');
    assert.equal(await suite.store.processes.renewLease(p.lease), false);
    await assert.rejects(suite.store.processes.finishProcess(p.lease), LeaseLostError);
    await assert.rejects(suite.store.processes.failProcess(p.lease, 'too late'), LeaseLostError);
    await suite.store.processes.releaseLease(p.lease);
    const unchanged = await suite.store.processes.getProcess(p.accountId, p.process.id);
    assert.deepEqual([unchanged!.checkpoint, unchanged!.status, unchanged!.failureReason], [0, 2, null]);
    assert.equal(await suite.store.processes.renewLease(taken), true, "the old holder's release did not free the new holder's lease");

    // Released: claimable again at once.
    await suite.store.processes.releaseLease(taken);
    assert.equal(await suite.store.processes.renewLease(taken), false, 'a released lease is not held');
    const again = await claim(suite.store, p.process.id, 'third-owner');
    await suite.store.processes.failProcess(again, 'stopped by the test');
    const failed = await suite.store.processes.getProcess(p.accountId, p.process.id);
    assert.deepEqual([failed!.status, failed!.failureReason, failed!.endDate instanceof Date], [4, 'stopped by the test', true]);
    assert.equal(await suite.store.processes.renewLease(again), false, 'an ended process holds no lease');
  });

  test('claimProcess takes only running processes, each once, and answers null when there is none', async () => {
    // Its own database: claims take any process ready to run.
    const own = await storeFixture();
    try {
      const s = own.store;
      assert.equal(await s.processes.claimProcess('idle-worker', 60_000), null);
      const a = await accountWithList(s, 'Claims');
      const b = await accountWithList(s, 'Claims other');
      const feedA = await storeFeed(s, a.accountId, [feedRow(1, 'a@x.it')]);
      const feedB = await storeFeed(s, b.accountId, [feedRow(1, 'b@x.it')]);
      const idle = await s.processes.createProcesses(a.accountId, feedA, [{ listId: a.listId, options: defaultOptions() }], { start: false });
      assert.ok(idle.ok);
      assert.equal(await s.processes.claimProcess('idle-worker', 60_000), null, 'a process never started is not claimed');
      const first = await s.processes.createProcesses(b.accountId, feedB, [{ listId: b.listId, options: defaultOptions() }], { start: true });
      assert.ok(first.ok);
      assert.deepEqual(await s.processes.startProcesses(a.accountId, idle.processes.map((p) => p.id)), { ok: true });
      const l1 = await s.processes.claimProcess('w1', 60_000);
      const l2 = await s.processes.claimProcess('w2', 30_000);
      assert.deepEqual([l1?.owner, l1?.leaseMs, l1?.process.status, l2?.owner, l2?.leaseMs, l2?.process.status], ['w1', 60_000, 2, 'w2', 30_000, 2]);
      assert.deepEqual([l1!.process.id, l2!.process.id].sort((x, y) => x - y), [idle.processes[0]!.id, first.processes[0]!.id].sort((x, y) => x - y));
      assert.equal(await s.processes.claimProcess('w3', 60_000), null, 'every running process is held');
    } finally {
      await own.close();
    }
  });

  test('releaseAllLeases frees every held lease at once, unexpired ones too: the holders lose them and the next claims take the processes', async () => {
    // Its own database: it frees every lease in it.
    const own = await storeFixture();
    try {
      const s = own.store;
      assert.deepEqual(await s.processes.releaseAllLeases(), [], 'nothing held, nothing freed');
      const started = async (name: string) => {
        const a = await accountWithList(s, name);
        const feed = await storeFeed(s, a.accountId, [feedRow(1, 'a@x.it'), feedRow(2, 'b@x.it')]);
        const r = await s.processes.createProcesses(a.accountId, feed, [{ listId: a.listId, options: defaultOptions() }], { start: true });
        assert.ok(r.ok);
        return { ...a, process: r.processes[0]! };
      };
      const [one, two, unclaimed, ended] = [await started('Release 1'), await started('Release 2'), await started('Release 3'), await started('Release 4')];
      const idle = await accountWithList(s, 'Release idle');
      const idleFeed = await storeFeed(s, idle.accountId, [feedRow(1, 'i@x.it')]);
      const never = await s.processes.createProcesses(idle.accountId, idleFeed, [{ listId: idle.listId, options: defaultOptions() }], { start: false });
      assert.ok(never.ok);
      const l1 = await claim(s, one.process.id, 'dead-worker', 600_000);
      const l2 = await claim(s, two.process.id, 'other-dead-worker', 600_000);
      const l4 = await claim(s, ended.process.id, 'finisher', 600_000);
      await s.processes.finishProcess(l4);
      await mergeRecipients(s, l1, [{ email: 'a@x.it', emailStatus: 'subscribed' }], { lastRow: 1 });
      assert.equal(await s.processes.claimProcess('newcomer', 60_000).then((l) => l?.process.id), unclaimed.process.id, 'only the unclaimed one is free');
      assert.equal(await s.processes.claimProcess('newcomer', 60_000), null, 'the ten-minute leases hold');

      assert.deepEqual(await s.processes.releaseAllLeases(), [one.process.id, two.process.id, unclaimed.process.id].sort((x, y) => x - y));
      // The holders have lost them: a renewal answers false and no write of theirs lands.
      assert.equal(await s.processes.renewLease(l1), false);
      await assert.rejects(s.processes.finishProcess(l2), LeaseLostError);
      // Claimable at once, without waiting for the leases to expire, each once, at its checkpoint.
      const taken: Lease[] = [];
      for (let l = await s.processes.claimProcess('successor', 60_000); l; l = await s.processes.claimProcess('successor', 60_000)) taken.push(l);
      assert.deepEqual(taken.map((l) => l.process.id).sort((x, y) => x - y), [one.process.id, two.process.id, unclaimed.process.id].sort((x, y) => x - y));
      const resumed = taken.find((l) => l.process.id === one.process.id)!;
      assert.deepEqual([resumed.process.status, resumed.process.checkpoint, resumed.process.counters.newEmail], [2, 1, 0]);
      await assert.rejects(mergeRecipients(s, l1, [{ email: 'b@x.it', emailStatus: 'subscribed' }], { lastRow: 2 }), LeaseLostError);
      // Ended and never-started processes are untouched.
      assert.equal((await s.processes.getProcess(ended.accountId, ended.process.id))!.status, 3);
      assert.equal((await s.processes.getProcess(idle.accountId, never.processes[0]!.id))!.status, 1);
      for (const l of taken) await s.processes.finishProcess(l);
      assert.deepEqual(await s.processes.releaseAllLeases(), [], 'ended processes hold no lease');
    } finally {
      await own.close();
    }
  });

  test('failProcess ends the process with its reason, and the account\'s queue moves on', async () => {
    const a = await accountWithFeed('Fail');
    const created = await suite.store.processes.createProcesses(a.accountId, a.feed, [
      { listId: a.listId, options: defaultOptions() }, { listId: a.listId, options: defaultOptions() },
    ], { start: true });
    assert.ok(created.ok);
    const [first, second] = created.processes;
    await suite.store.processes.failProcess(await claim(suite.store, first!.id, 'failer'), 'the disk is full');
    const [failed, next] = await Promise.all([suite.store.processes.getProcess(a.accountId, first!.id), suite.store.processes.getProcess(a.accountId, second!.id)]);
    assert.deepEqual([failed!.status, failed!.failureReason, failed!.endDate instanceof Date], [4, 'the disk is full', true]);
    assert.deepEqual([next!.status, next!.queued], [2, false]);
    await suite.store.processes.finishProcess(await claim(suite.store, second!.id, 'failer'));
  });
});

describe('reports and counts', () => {
  test("rejectReport: the process's rejected rows in row order, paged; nothing for another account", async () => {
    const p = await runningProcess(suite.store, 6);
    const other = await accountWithList(suite.store, 'Reject other');
    await mergeRecipients(suite.store, p.lease, [{ email: 'ok@x.it', emailStatus: 'subscribed' }], {
      lastRow: 3, rejects: [{ row: 3, raw: 'email="c"', reason: 'invalid e-mail address' }, { row: 2, raw: 'email="b" Name="<&>"', reason: 'too long' }],
    });
    await mergeRecipients(suite.store, p.lease, [], { lastRow: 6, rejects: [{ row: 5, raw: 'email="e"', reason: 'invalid e-mail address' }] });
    const id = p.process.id;
    assert.deepEqual(await suite.store.processes.rejectReport(p.accountId, id), [
      { processId: id, row: 2, raw: 'email="b" Name="<&>"', reason: 'too long' },
      { processId: id, row: 3, raw: 'email="c"', reason: 'invalid e-mail address' },
      { processId: id, row: 5, raw: 'email="e"', reason: 'invalid e-mail address' },
    ]);
    assert.deepEqual((await suite.store.processes.rejectReport(p.accountId, id, { limit: 2 })).map((r) => r.row), [2, 3]);
    assert.deepEqual((await suite.store.processes.rejectReport(p.accountId, id, { limit: 2, offset: 2 })).map((r) => r.row), [5]);
    assert.deepEqual((await suite.store.processes.rejectReport(p.accountId, id, { offset: 1 })).map((r) => r.row), [3, 5]);
    assert.deepEqual(await suite.store.processes.rejectReport(other.accountId, id), []);
    assert.deepEqual(await suite.store.processes.rejectReport(p.accountId, 987_654_321), []);
    assert.equal((await suite.store.processes.getProcess(p.accountId, id))!.rejected, 3);
    await suite.store.processes.finishProcess(p.lease);
  });

  test('rejectReasons: the rejected rows counted by reason; nothing for another account', async () => {
    const p = await runningProcess(suite.store, 4);
    const other = await accountWithList(suite.store, 'Reject reasons other');
    await mergeRecipients(suite.store, p.lease, [{ email: 'ok@x.it', emailStatus: 'subscribed' }], {
      lastRow: 4, rejects: [
        { row: 2, raw: 'email="b"', reason: 'invalid e-mail address' }, { row: 3, raw: 'email="c"', reason: 'invalid e-mail address' },
        { row: 4, raw: 'email=""', reason: 'no e-mail address or mobile number' },
      ],
    });
    assert.deepEqual(await suite.store.processes.rejectReasons(p.accountId, p.process.id), {
      'invalid e-mail address': 2, 'no e-mail address or mobile number': 1,
    });
    assert.deepEqual(await suite.store.processes.rejectReasons(other.accountId, p.process.id), {});
    assert.deepEqual(await suite.store.processes.rejectReasons(p.accountId, 987_654_321), {});
    await suite.store.processes.finishProcess(p.lease);
  });

  test('processStatusCounts counts the processes of every account by status, and the queued ones', async () => {
    const before = await suite.store.processes.processStatusCounts();
    const delta = async () => {
      const now = await suite.store.processes.processStatusCounts();
      return { 1: now.byStatus[1] - before.byStatus[1], 2: now.byStatus[2] - before.byStatus[2], 3: now.byStatus[3] - before.byStatus[3],
        4: now.byStatus[4] - before.byStatus[4], queued: now.queued - before.queued };
    };
    const a = await accountWithFeed('Counts');
    const b = await accountWithFeed('Counts other');
    const idle = await suite.store.processes.createProcesses(b.accountId, b.feed, [{ listId: b.listId, options: defaultOptions() }], { start: false });
    const started = await suite.store.processes.createProcesses(a.accountId, a.feed, [
      { listId: a.listId, options: defaultOptions() }, { listId: a.listId, options: defaultOptions() },
    ], { start: true });
    assert.ok(idle.ok && started.ok);
    assert.deepEqual(await delta(), { 1: 2, 2: 1, 3: 0, 4: 0, queued: 1 });
    await suite.store.processes.finishProcess(await claim(suite.store, started.processes[0]!.id, 'counter'));
    assert.deepEqual(await delta(), { 1: 1, 2: 1, 3: 1, 4: 0, queued: 0 });
    await suite.store.processes.failProcess(await claim(suite.store, started.processes[1]!.id, 'counter'), 'stop');
    assert.deepEqual(await delta(), { 1: 1, 2: 0, 3: 1, 4: 1, queued: 0 });
  });
});

describe('cancelling and starting one process', () => {
  test('processes started together form a run named by the first; a process never started has none', async () => {
    const a = await accountWithFeed('Run ids');
    const started = await suite.store.processes.createProcesses(a.accountId, a.feed, [
      { listId: a.listId, options: defaultOptions() }, { listId: a.listId, options: defaultOptions() },
    ], { start: true });
    const idle = await suite.store.processes.createProcesses(a.accountId, a.feed, [{ listId: a.listId, options: defaultOptions() }], { start: false });
    assert.ok(started.ok && idle.ok);
    const first = started.processes[0]!.id;
    assert.deepEqual(started.processes.map((p) => p.runId), [first, first]);
    assert.equal(idle.processes[0]!.runId, null);
    await suite.store.processes.cancelProcess(a.accountId, first, 'cancelled by test');
  });

  test('cancelProcess ends a running process with its counters, drops its lease, cancels its run\'s waiting processes and starts the next run', async () => {
    const a = await accountWithFeed('Cancel running');
    const run = await suite.store.processes.createProcesses(a.accountId, a.feed, [
      { listId: a.listId, options: defaultOptions() }, { listId: a.listId, options: defaultOptions() }, { listId: a.listId, options: defaultOptions() },
    ], { start: true });
    const nextRun = await suite.store.processes.createProcesses(a.accountId, a.feed, [{ listId: a.listId, options: defaultOptions() }], { start: true, queueWhenBusy: true });
    assert.ok(run.ok && nextRun.ok);
    const [running, sibling1, sibling2] = run.processes;
    const lease = await claim(suite.store, running!.id, 'cancel-owner');
    await mergeRecipients(suite.store, lease, [{ email: 'kept@x.it', emailStatus: 'subscribed' }], { lastRow: 1, counters: { newEmail: 1 } });

    assert.deepEqual(await suite.store.processes.cancelProcess(a.accountId, running!.id, 'cancelled by ops'),
      { ok: true, cancelled: [running!.id, sibling1!.id, sibling2!.id] });
    const ended = (await suite.store.processes.getProcess(a.accountId, running!.id))!;
    assert.deepEqual([ended.status, ended.failureReason, ended.checkpoint, ended.counters.newEmail, ended.queued, ended.endDate instanceof Date],
      [4, 'cancelled by ops', 1, 1, false, true], 'rows merged so far stay counted');
    for (const s of [sibling1!, sibling2!]) {
      const p = (await suite.store.processes.getProcess(a.accountId, s.id))!;
      assert.deepEqual([p.status, p.failureReason, p.queued, p.startDate], [4, 'cancelled by ops', false, null]);
    }
    // The lease is gone: the worker's next batch, renewal or finish writes nothing.
    assert.equal(await suite.store.processes.renewLease(lease), false);
    await assert.rejects(mergeRecipients(suite.store, lease, [{ email: 'late@x.it', emailStatus: 'subscribed' }], { lastRow: 2, counters: { newEmail: 1 } }), LeaseLostError);
    await assert.rejects(suite.store.processes.finishProcess(lease), LeaseLostError);
    assert.equal((await suite.store.processes.getProcess(a.accountId, running!.id))!.checkpoint, 1);
    // The account's queue moves on to the next run, which is not the cancelled run's.
    const next = (await suite.store.processes.getProcess(a.accountId, nextRun.processes[0]!.id))!;
    assert.deepEqual([next.status, next.queued], [2, false]);

    // Refusals: already ended, another account's, unknown.
    assert.deepEqual(await suite.store.processes.cancelProcess(a.accountId, running!.id, 'again'), { ok: false, reason: 'finished' });
    assert.deepEqual(await suite.store.processes.cancelProcess(a.accountId + 1000, next.id, 'x'), { ok: false, reason: 'not-found' });
    assert.deepEqual(await suite.store.processes.cancelProcess(a.accountId, 987_654_321, 'x'), { ok: false, reason: 'not-found' });
    assert.equal((await suite.store.processes.getProcess(a.accountId, next.id))!.status, 2, 'a refused cancel changes nothing');
    assert.equal((await suite.store.processes.getProcess(a.accountId, running!.id))!.failureReason, 'cancelled by ops');
    assert.deepEqual(await suite.store.processes.cancelProcess(a.accountId, next.id, 'cancelled by ops'), { ok: true, cancelled: [next.id] });
  });

  test('cancelProcess on a process waiting for its start ends that one alone', async () => {
    const a = await accountWithFeed('Cancel waiting');
    const idle = await suite.store.processes.createProcesses(a.accountId, a.feed, [
      { listId: a.listId, options: defaultOptions() }, { listId: a.listId, options: defaultOptions() },
    ], { start: false });
    assert.ok(idle.ok);
    const [one, two] = idle.processes;
    assert.deepEqual(await suite.store.processes.cancelProcess(a.accountId, one!.id, 'cancelled by ops'), { ok: true, cancelled: [one!.id] });
    assert.deepEqual([(await suite.store.processes.getProcess(a.accountId, one!.id))!.status, (await suite.store.processes.getProcess(a.accountId, two!.id))!.status], [4, 1]);
    assert.deepEqual(await suite.store.processes.pendingProcessIds(a.accountId), [two!.id]);
  });

  test('a cancel and a batch merged at the same time: the batch commits wholly before the cancel, or not at all', async () => {
    for (let i = 0; i < 4; i++) {
      const p = await runningProcess(suite.store, 4);
      const [merged, cancelled] = await Promise.allSettled([
        mergeRecipients(suite.store, p.lease, [{ email: 'a@x.it', emailStatus: 'subscribed' }, { email: 'b@x.it', emailStatus: 'subscribed' }], { lastRow: 2, counters: { newEmail: 2 } }),
        suite.store.processes.cancelProcess(p.accountId, p.process.id, 'cancelled by race'),
      ]);
      assert.equal(cancelled.status, 'fulfilled');
      const ended = (await suite.store.processes.getProcess(p.accountId, p.process.id))!;
      assert.equal(ended.status, 4);
      if (merged.status === 'fulfilled') assert.deepEqual([ended.checkpoint, ended.counters.newEmail], [2, 2]);
      else {
        assert.ok(merged.reason instanceof LeaseLostError);
        assert.deepEqual([ended.checkpoint, ended.counters.newEmail], [0, 0]);
      }
      const stored = await suite.fx.db.query<{ n: number }>('SELECT count(*) AS n FROM recipient WHERE account_id = ?', [p.accountId]);
      assert.equal(Number(stored[0]!.n), ended.counters.newEmail, 'the recipients stored match the counters');
    }
  });

  test('startOrQueueProcess runs a process never started, or queues it behind the running import; refusals', async () => {
    const a = await accountWithFeed('Start one');
    const idle = await suite.store.processes.createProcesses(a.accountId, a.feed, [
      { listId: a.listId, options: defaultOptions() }, { listId: a.listId, options: defaultOptions() },
    ], { start: false });
    assert.ok(idle.ok);
    const [one, two] = idle.processes;
    assert.deepEqual(await suite.store.processes.startOrQueueProcess(a.accountId, one!.id), { ok: true, queued: false });
    const running = (await suite.store.processes.getProcess(a.accountId, one!.id))!;
    assert.deepEqual([running.status, running.runId], [2, one!.id]);
    assert.deepEqual(await suite.store.processes.startOrQueueProcess(a.accountId, two!.id), { ok: true, queued: true }, 'busy: queued, not refused');
    const queued = (await suite.store.processes.getProcess(a.accountId, two!.id))!;
    assert.deepEqual([queued.status, queued.queued, queued.runId], [1, true, two!.id]);
    assert.deepEqual(await suite.store.processes.startOrQueueProcess(a.accountId, two!.id), { ok: false, reason: 'already-queued' });
    assert.deepEqual(await suite.store.processes.startOrQueueProcess(a.accountId, one!.id), { ok: false, reason: 'not-waiting' });
    assert.deepEqual(await suite.store.processes.startOrQueueProcess(a.accountId + 1000, two!.id), { ok: false, reason: 'not-found' });
    // Its turn comes when the running one ends.
    await suite.store.processes.finishProcess(await claim(suite.store, one!.id, 'start-one'));
    assert.equal((await suite.store.processes.getProcess(a.accountId, two!.id))!.status, 2);
    await suite.store.processes.finishProcess(await claim(suite.store, two!.id, 'start-one'));
  });
});

describe('runs', () => {
  test('listRuns and getRun: one run per start with its processes and totals, a process never started as a run of its own', async () => {
    const a = await accountWithFeed('Runs');
    const second = await suite.store.lists.createList(a.accountId, 'Runs second');
    const run = await suite.store.processes.createProcesses(a.accountId, a.feed, [
      { listId: a.listId, options: defaultOptions() }, { listId: second.id, options: defaultOptions() }, { listId: a.listId, options: defaultOptions() },
    ], { start: true });
    const idle = await suite.store.processes.createProcesses(a.accountId, a.feed, [{ listId: a.listId, options: defaultOptions() }], { start: false });
    const other = await accountWithFeed('Runs other');
    const foreign = await suite.store.processes.createProcesses(other.accountId, other.feed, [{ listId: other.listId, options: defaultOptions() }], { start: true });
    assert.ok(run.ok && idle.ok && foreign.ok);
    const [first, onSecond, third] = run.processes;
    const lone = idle.processes[0]!;
    const lease = await claim(suite.store, first!.id, 'runs');
    await mergeRecipients(suite.store, lease, [{ email: 'run1@x.it', emailStatus: 'subscribed' }], { lastRow: 1, counters: { newEmail: 1 } });

    const runs = await suite.store.processes.listRuns(a.accountId);
    assert.deepEqual(runs.map((r) => r.id), [lone.id, first!.id], 'newest first; the account\'s runs only');
    const [loneRun, started] = runs;
    assert.deepEqual(loneRun!.processes.map((p) => p.id), [lone.id]);
    assert.deepEqual([loneRun!.totalRows, loneRun!.rowsMerged, loneRun!.byStatus, loneRun!.startDate, loneRun!.endDate],
      [2, 0, { 1: 1, 2: 0, 3: 0, 4: 0 }, null, null]);
    assert.deepEqual(started!.processes.map((p) => [p.id, p.status, p.listId]),
      [[first!.id, 2, a.listId], [onSecond!.id, 1, second.id], [third!.id, 1, a.listId]]);
    assert.deepEqual([started!.totalRows, started!.rowsMerged, started!.rejected, started!.byStatus, started!.endDate],
      [6, 1, 0, { 1: 2, 2: 1, 3: 0, 4: 0 }, null]);
    assert.ok(started!.startDate instanceof Date && started!.createdAt instanceof Date);

    // Pages, lists, one run by its id.
    assert.deepEqual((await suite.store.processes.listRuns(a.accountId, { limit: 1, offset: 1 })).map((r) => r.id), [first!.id]);
    const onlySecond = await suite.store.processes.listRuns(a.accountId, { listIds: [second.id] });
    assert.deepEqual(onlySecond.map((r) => [r.id, r.processes.map((p) => p.id), r.totalRows]), [[first!.id, [onSecond!.id], 2]],
      'only the processes on the lists given count');
    assert.deepEqual(await suite.store.processes.getRun(a.accountId, first!.id), started);
    assert.deepEqual(await suite.store.processes.getRun(a.accountId, lone.id), loneRun);
    assert.equal(await suite.store.processes.getRun(a.accountId, onSecond!.id), null, 'a process inside a run names no run');
    assert.equal(await suite.store.processes.getRun(other.accountId, first!.id), null, "another account's run");
    assert.equal(await suite.store.processes.getRun(a.accountId, first!.id, { listIds: [] }), null);

    // The run of a process: read by any of its processes, a lone one's its own; never another account's.
    for (const p of [first!, onSecond!, third!]) assert.deepEqual(await suite.store.processes.getRunOfProcess(a.accountId, p.id), started, `process ${p.id}`);
    assert.deepEqual(await suite.store.processes.getRunOfProcess(a.accountId, lone.id), loneRun);
    assert.equal(await suite.store.processes.getRunOfProcess(other.accountId, onSecond!.id), null, "another account's process");
    assert.equal(await suite.store.processes.getRunOfProcess(a.accountId, foreign.processes[0]!.id), null, 'nor its own of another account');
    assert.equal(await suite.store.processes.getRunOfProcess(a.accountId, 999_999_999), null, 'no such process');

    // A completed process counts all its rows; the run ends when its last process does.
    await suite.store.processes.finishProcess(lease);
    const half = (await suite.store.processes.getRun(a.accountId, first!.id))!;
    assert.deepEqual([half.rowsMerged, half.byStatus, half.endDate], [2, { 1: 1, 2: 1, 3: 1, 4: 0 }, null]);
    await suite.store.processes.finishProcess(await claim(suite.store, onSecond!.id, 'runs'));
    await suite.store.processes.cancelProcess(a.accountId, third!.id, 'cancelled by test');
    const ended = (await suite.store.processes.getRun(a.accountId, first!.id))!;
    const lastEnd = (await suite.store.processes.getProcess(a.accountId, third!.id))!.endDate;
    assert.deepEqual([ended.rowsMerged, ended.byStatus, ended.endDate], [4, { 1: 0, 2: 0, 3: 2, 4: 1 }, lastEnd]);
    await suite.store.processes.cancelProcess(other.accountId, foreign.processes[0]!.id, 'cancelled by test');
  });

  test("a run's rows merged (summed in SQL) are rowsMergedOf summed over its processes, in every state", async () => {
    const a = await accountWithFeed('Rows merged');
    // [status, checkpoint, rows merged] for processes of two rows: a completed one counts all its
    // rows whatever its checkpoint, the others their checkpoint, never more than their rows.
    const cases: readonly (readonly [number, number, number])[] = [
      [1, 0, 0], [1, 1, 1], [2, 1, 1], [3, 0, 2], [3, 1, 2], [3, 2, 2], [4, 0, 0], [4, 1, 1], [4, 5, 2],
    ];
    const created = await suite.store.processes.createProcesses(a.accountId, a.feed, cases.map(() => ({ listId: a.listId, options: defaultOptions() })), { start: false });
    assert.ok(created.ok);
    const ids = created.processes.map((p) => p.id);
    for (const [i, [status, checkpoint]] of cases.entries()) {
      await suite.fx.db.execute('UPDATE import_process SET status = ?, checkpoint = ? WHERE id = ?', [status, checkpoint, ids[i]]);
    }
    // Each stands alone: a run of one.
    const alone = (await suite.store.processes.listRuns(a.accountId)).reverse();
    assert.deepEqual(alone.map((r) => r.id), ids);
    assert.deepEqual(alone.map((r) => r.processes.map(rowsMergedOf)), cases.map(([, , merged]) => [merged]), 'the function, process by process');
    assert.deepEqual(alone.map((r) => r.rowsMerged), cases.map(([, , merged]) => merged), 'the SQL, run by run');
    // All in one run.
    await suite.fx.db.execute(`UPDATE import_process SET run_id = ? WHERE id IN (${ids.map(() => '?').join(', ')})`, [ids[0], ...ids]);
    const run = (await suite.store.processes.getRun(a.accountId, ids[0]!))!;
    assert.equal(run.processes.length, cases.length);
    assert.equal(run.rowsMerged, run.processes.reduce((sum, p) => sum + rowsMergedOf(p), 0));
    assert.equal(run.rowsMerged, cases.reduce((sum, [, , merged]) => sum + merged, 0));
    // Nothing left running for the claims of other tests.
    await suite.fx.db.execute('UPDATE import_process SET status = 4 WHERE account_id = ? AND status IN (1, 2)', [a.accountId]);
  });
});
