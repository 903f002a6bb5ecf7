/**
 * The batching importer against the real service: batches of N, one start for all, polling to
 * the end, progress through the callback, a refused batch reported with its rows, and a start
 * refused with -601/-602 while another import runs, retried until it succeeds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestService, type TestAccount, type TestService } from '../../test/helpers/service.ts';
import {
  MailUpImportClient, MailUpReturnCodeError, buildFeed, importSubscribers,
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
