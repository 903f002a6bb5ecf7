/**
 * The batching importer against the real service: batches of N, one start for all, polling to
 * the end, progress through the callback, a refused batch reported with its rows, a start
 * refused with -601/-602 while another import runs, retried until it succeeds; another client's
 * StartImportProcesses starting some of our batches (every batch still gets started and
 * finished), and the overall deadline ending a run whose processes cannot finish.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, type TestAccount, type TestService } from '../../test/helpers/service.ts';
import {
  ImportTimeoutError, MailUpImportClient, MailUpReturnCodeError, buildFeed, importSubscribers,
  type ImportProgress, type RawSubscriber, type Subscriber,
} from '../src/index.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService();
});
after(() => svc.close());

const clientFor = (service: TestService, acc: TestAccount): MailUpImportClient =>
  new MailUpImportClient({ endpoint: service.endpoint, user: acc.user, password: acc.password });

const people = (n: number, tag: string): Subscriber[] =>
  Array.from({ length: n }, (_, i) => ({ email: `${tag}-${i}@example.com`, fields: [`Name ${i}`, i % 2 === 0 ? '' : 'odd'] }));

test('batches of N, one start, polled to the end, with progress and the counters summed', async () => {
  const acc = await svc.addAccount();
  const events: ImportProgress[] = [];
  const report = await importSubscribers(clientFor(svc, acc), people(2345, 'batch'), {
    idList: acc.list.id, groups: [acc.groups[1]!.id], batchSize: 1000, pollIntervalMs: 50, onProgress: (p) => events.push(p),
  });
  assert.equal(report.outcome, 'completed');
  assert.equal(report.listGUID, acc.list.guid, 'looked up with GetNlLists');
  assert.deepEqual(report.batches.map((b) => [b.fromRow, b.toRow]), [[1, 1000], [1001, 2000], [2001, 2345]]);
  assert.deepEqual(report.started, report.batches.map((b) => b.idProcess));
  assert.deepEqual(report.batches.map((b) => b.details?.status), ['completed', 'completed', 'completed']);
  // One StartImportProcesses for every batch: one run, which the console shows as one import of 2,345 rows.
  const runIds = await Promise.all(report.batches.map(async (b) => (await svc.service.store.processes.getProcess(acc.account.id, b.idProcess!))!.runId));
  assert.deepEqual(runIds, [report.batches[0]!.idProcess, report.batches[0]!.idProcess, report.batches[0]!.idProcess]);
  assert.equal(report.rowsRead, 2345);
  assert.equal(report.rowsSent, 2345);
  assert.deepEqual(report.counters, { totalContacts: 2345, newEmail: 2345, newMobile: 0, existingEmail: 0, existingMobile: 0, optOutEmail: 0, optOutMobile: 0 });
  assert.deepEqual(report.failedBatches, []);

  const types = events.map((e) => e.event.type);
  assert.deepEqual(types.slice(0, 5), ['batch-sent', 'batch-sent', 'batch-sent', 'input-ended', 'started']);
  assert.equal(types.filter((t) => t === 'process-finished').length, 3);
  assert.equal(types.at(-1), 'done');
  const last = events.at(-1)!;
  assert.deepEqual([last.phase, last.processesDone, last.processesTotal, last.rowsImported, last.counters.newEmail], ['done', 3, 3, 2345, 2345]);
  assert.deepEqual(events.filter((e) => e.event.type === 'batch-sent').map((e) => e.rowsSent), [1000, 2000, 2345]);

  const members = await svc.db.query<{ n: number }>(
    'SELECT COUNT(*) AS n FROM membership m JOIN recipient r ON r.id = m.recipient_id WHERE r.account_id = ? AND m.group_id = ?', [acc.account.id, acc.groups[1]!.id]);
  assert.equal(Number(members[0]!.n), 2345);
});

test('a batch the service refuses is reported with its rows; the other batches are imported', async () => {
  const acc = await svc.addAccount();
  const good = (i: number): RawSubscriber => ({ row: i, xml: buildFeed([{ email: `raw-${i}@example.com` }]).slice('<subscribers>'.length, -'</subscribers>'.length) });
  const broken: RawSubscriber = { row: 4, xml: '<subscriber email="broken@example.com"><campo1>unclosed</subscriber>' };
  const items = [good(1), good(2), good(3), broken, good(5), good(6)];
  const failures: ImportProgress[] = [];
  const report = await importSubscribers(clientFor(svc, acc), items, {
    idList: acc.list.id, listGUID: acc.list.guid, batchSize: 3, pollIntervalMs: 50,
    onProgress: (p) => {
      if (p.event.type === 'batch-failed') failures.push(p);
    },
  });
  assert.equal(report.outcome, 'partial');
  assert.equal(report.failedBatches.length, 1);
  const failed = report.failedBatches[0]!;
  assert.deepEqual([failed.batch, failed.fromRow, failed.toRow], [2, 4, 6]);
  assert.deepEqual(failed.rows, [broken, good(5), good(6)]);
  assert.ok(failed.error instanceof MailUpReturnCodeError && failed.error.returnCode === -402);
  assert.equal(failures.length, 1);
  assert.deepEqual([failures[0]!.rowsFailed, failures[0]!.batchesFailed], [3, 1]);
  assert.deepEqual([report.rowsSent, report.rowsFailed, report.counters.newEmail], [3, 3, 3]);
});

test('when every batch is refused the outcome is failed; an input that breaks off is partial', async () => {
  const acc = await svc.addAccount();
  const c = clientFor(svc, acc);
  const refused = await importSubscribers(c, [{ xml: '<subscriber', row: 1 }], { idList: acc.list.id, listGUID: acc.list.guid });
  assert.equal(refused.outcome, 'failed');
  assert.deepEqual(refused.started, []);

  async function* breaksOff(): AsyncGenerator<Subscriber> {
    yield* people(3, 'broken-input');
    throw new Error('the disk went away');
  }
  const partial = await importSubscribers(c, breaksOff(), { idList: acc.list.id, listGUID: acc.list.guid, pollIntervalMs: 50 });
  assert.equal(partial.outcome, 'partial');
  assert.equal(partial.inputError?.message, 'the disk went away');
  assert.equal(partial.counters.newEmail, 3);

  const empty = await importSubscribers(c, [], { idList: acc.list.id, listGUID: acc.list.guid });
  assert.deepEqual([empty.outcome, empty.rowsRead, empty.batches.length], ['completed', 0, 0]);
  await assert.rejects(importSubscribers(c, [], { idList: 999_999 }), /no list 999999/);
});

test('wait: false returns once the processes are started', async () => {
  const acc = await svc.addAccount();
  const c = clientFor(svc, acc);
  const report = await importSubscribers(c, people(10, 'nowait'), { idList: acc.list.id, listGUID: acc.list.guid, wait: false });
  assert.equal(report.outcome, 'completed');
  assert.equal(report.started.length, 1);
  assert.equal(report.batches[0]!.details, null);
  const deadline = Date.now() + 60_000;
  while ((await c.getProcessDetails({ idList: acc.list.id, listGUID: acc.list.guid, idProcess: report.started[0]! })).status !== 'completed') {
    assert.ok(Date.now() < deadline);
    await new Promise((r) => setTimeout(r, 50));
  }
});

for (const [returnCode, sameList] of [[-601, true], [-602, false]] as const) {
  test(`the service refuses the start with ${returnCode} while another import runs; the importer retries and finishes`, async () => {
    // No worker at first: the import started below keeps the account busy until the worker starts.
    const busy = await startTestService({}, { runWorker: false });
    try {
      const acc = await busy.addAccount();
      const c = clientFor(busy, acc);
      const blockingList = sameList ? acc.list : await busy.service.store.lists.createList(acc.account.id, 'Other list');
      const [blocking] = await c.startImportProcesses({
        listsIDs: String(blockingList.id), listsGUIDs: blockingList.guid, xmlDoc: buildFeed(people(50, `blocking${returnCode}`)),
      });
      const retries: number[] = [];
      let workerStarted = false;
      const report = await importSubscribers(c, people(1200, `retry${returnCode}`), {
        idList: acc.list.id, listGUID: acc.list.guid, batchSize: 500, pollIntervalMs: 50,
        startRetry: { initialDelayMs: 50, maxDelayMs: 200, attempts: 100 },
        onProgress: (p) => {
          if (p.event.type !== 'start-retry') return;
          retries.push(p.event.returnCode);
          if (!workerStarted && retries.length >= 2) {
            workerStarted = true;
            busy.service.worker.start();
          }
        },
      });
      assert.ok(retries.length >= 2, 'the first start attempts were refused');
      assert.ok(retries.every((code) => code === returnCode), retries.join(','));
      assert.equal(report.outcome, 'completed');
      assert.equal(report.error, null);
      assert.deepEqual(report.started, report.batches.map((b) => b.idProcess));
      assert.equal(report.counters.newEmail, 1200);
      const first = await c.getProcessDetails({ idList: blockingList.id, listGUID: blockingList.guid, idProcess: blocking!.idProcess });
      assert.equal(first.status, 'completed');
      assert.ok(first.endDate!.getTime() <= report.batches[0]!.details!.startDate!.getTime() + 1000, 'ours ran after the blocking import');
    } finally {
      await busy.close();
    }
  });
}

test('a start refused for good is reported, not retried', async () => {
  const busy = await startTestService({}, { runWorker: false });
  try {
    const acc = await busy.addAccount();
    const c = clientFor(busy, acc);
    await c.startImportProcesses({ listsIDs: String(acc.list.id), listsGUIDs: acc.list.guid, xmlDoc: buildFeed([{ email: 'x@b.it' }]) });
    const retries: number[] = [];
    const report = await importSubscribers(c, people(5, 'gives-up'), {
      idList: acc.list.id, listGUID: acc.list.guid, startRetry: { attempts: 3, initialDelayMs: 10 },
      onProgress: (p) => {
        if (p.event.type === 'start-retry') retries.push(p.event.attempt);
      },
    });
    assert.deepEqual(retries, [1, 2]);
    assert.equal(report.outcome, 'failed');
    assert.ok(report.error instanceof MailUpReturnCodeError && report.error.returnCode === -601);
    assert.equal(report.batches[0]!.idProcess !== null, true, 'the prepared process stays, listed in the report');
  } finally {
    await busy.close();
  }
});

/**
 * Two runs into one account at once. Ours prepares six batches of five rows; after our fifth
 * (or sixth) NewImportProcess the other run prepares its own batch and calls
 * StartImportProcesses without xmlDoc, which starts every pending process of the account: ours
 * among them, the first running (no worker yet, so it stays running), the rest queued behind it.
 * Our own start then finds the account busy. Every batch of ours must still be started and
 * finished: what the other client started counts, and a batch left waiting is started again.
 */
for (const othersStart of [5, 6] as const) {
  test(`another client's StartImportProcesses starts ${othersStart} of our 6 batches: every batch is started and finished`, { timeout: 60_000 }, async () => {
    const race = await startTestService({}, { runWorker: false });
    try {
      const acc = await race.addAccount();
      const ours = clientFor(race, acc);
      const other = clientFor(race, acc);
      let otherProcess = 0;
      let otherStarted: number[] = [];
      const rows = people(30, `race-${othersStart}`);
      async function* input(): AsyncGenerator<Subscriber> {
        for (let i = 0; i <= rows.length; i++) {
          if (i === othersStart * 5) {
            otherProcess = await other.newImportProcess({ idList: acc.list.id, listGUID: acc.list.guid, xmlDoc: buildFeed(people(5, `other-${othersStart}`)) });
            otherStarted = (await other.startImportProcesses({ listsIDs: String(acc.list.id), listsGUIDs: acc.list.guid })).map((p) => p.idProcess);
          }
          if (i < rows.length) yield rows[i]!;
        }
      }
      const events: ImportProgress['event'][] = [];
      let workerStarted = false;
      const report = await importSubscribers(ours, input(), {
        idList: acc.list.id, listGUID: acc.list.guid, batchSize: 5, pollIntervalMs: 50,
        startRetry: { initialDelayMs: 50, maxDelayMs: 200, attempts: 3 },
        signal: AbortSignal.timeout(30_000),
        onProgress: (p) => {
          events.push(p.event);
          // Once our own start has been tried (and refused: the account is busy), let the imports run.
          if (!workerStarted && p.phase !== 'sending' && p.event.type !== 'input-ended') {
            workerStarted = true;
            race.service.worker.start();
          }
        },
      });
      const ids = report.batches.map((b) => b.idProcess!);
      assert.equal(ids.length, 6);
      assert.deepEqual(otherStarted, [...ids.slice(0, othersStart), otherProcess], 'the other run started our first batches with its own');
      assert.equal(report.error, null, String(report.error));
      assert.equal(report.outcome, 'completed');
      assert.deepEqual([report.timedOut, report.remaining], [false, []]);
      assert.deepEqual(report.batches.map((b) => b.details?.status), Array(6).fill('completed'));
      assert.deepEqual(report.started, ids);
      assert.equal(report.counters.newEmail, 30);
      const byOthers = events.flatMap((e) => (e.type === 'started' && e.by === 'another-client' ? e.processes : []));
      assert.deepEqual(byOthers, ids.slice(0, othersStart), 'what the other client started counts as started');
      if (othersStart === 5) {
        const retries = events.filter((e) => e.type === 'start-retry');
        assert.ok(retries.length >= 1 && retries.every((e) => e.type === 'start-retry' && e.returnCode === -601 && e.waiting.join() === String(ids[5])),
          JSON.stringify(retries));
        assert.ok(events.some((e) => e.type === 'started' && e.by === 'this-import' && e.processes.includes(ids[5]!)), 'our last batch was started again');
      }
      // The other run's process (queued after ours when it started all six) finishes too.
      const until = Date.now() + 20_000;
      let otherDetails = await other.getProcessDetails({ idList: acc.list.id, listGUID: acc.list.guid, idProcess: otherProcess });
      while (otherDetails.status !== 'completed' && otherDetails.status !== 'failed' && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
        otherDetails = await other.getProcessDetails({ idList: acc.list.id, listGUID: acc.list.guid, idProcess: otherProcess });
      }
      assert.equal(otherDetails.status, 'completed', 'the other run is not disturbed');
      const [count] = await race.db.query<{ n: number }>('SELECT COUNT(*) AS n FROM recipient WHERE account_id = ?', [acc.account.id]);
      assert.equal(Number(count!.n), 35);
    } finally {
      await race.close();
    }
  });
}

test('the deadline ends a run whose processes cannot finish: a timeout error listing what is left', { timeout: 60_000 }, async () => {
  // No worker: the other client's import, started first, runs for ever and ours never get a turn.
  const stuck = await startTestService({}, { runWorker: false });
  try {
    const acc = await stuck.addAccount();
    const ours = clientFor(stuck, acc);
    const other = clientFor(stuck, acc);
    const otherProcess = await other.newImportProcess({ idList: acc.list.id, listGUID: acc.list.guid, xmlDoc: buildFeed(people(3, 'stuck-other')) });
    const rows = people(6, 'stuck');
    async function* input(): AsyncGenerator<Subscriber> {
      for (let i = 0; i < rows.length; i++) {
        // After our first two batches the other run starts everything pending: its process runs,
        // ours queue behind it; our third batch is prepared later and stays waiting.
        if (i === 4) await other.startImportProcesses({ listsIDs: String(acc.list.id), listsGUIDs: acc.list.guid });
        yield rows[i]!;
      }
    }
    const t0 = Date.now();
    const report = await importSubscribers(ours, input(), {
      idList: acc.list.id, listGUID: acc.list.guid, batchSize: 2, pollIntervalMs: 50, timeoutMs: 1500,
      startRetry: { initialDelayMs: 50, maxDelayMs: 200, attempts: 1000 },
      signal: AbortSignal.timeout(20_000),
    });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1500 && elapsed < 10_000, `${elapsed} ms`);
    const ids = report.batches.map((b) => b.idProcess!);
    assert.equal(report.outcome, 'partial');
    assert.equal(report.timedOut, true);
    assert.deepEqual(report.remaining, [
      { batch: 1, idProcess: ids[0], fromRow: 1, toRow: 2, status: 'waiting', statusCode: 1, started: true, error: null },
      { batch: 2, idProcess: ids[1], fromRow: 3, toRow: 4, status: 'waiting', statusCode: 1, started: true, error: null },
      { batch: 3, idProcess: ids[2], fromRow: 5, toRow: 6, status: 'waiting', statusCode: 1, started: false, error: null },
    ]);
    assert.ok(report.error instanceof ImportTimeoutError, String(report.error));
    assert.deepEqual([report.error.timeoutMs, report.error.remaining], [1500, report.remaining]);
    assert.ok(report.error.message.startsWith(`the import did not finish within 1.5 s: 3 of 3 processes left: ${ids[0]} waiting (queued behind the running import), ` +
      `${ids[1]} waiting (queued behind the running import), ${ids[2]} waiting (not started); `), report.error.message);
    assert.deepEqual(report.started, ids.slice(0, 2));
    const blocking = await other.getProcessDetails({ idList: acc.list.id, listGUID: acc.list.guid, idProcess: otherProcess });
    assert.equal(blocking.status, 'running');
  } finally {
    await stuck.close();
  }
});
