import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowsMergedOf, zeroCounters, type ImportProcess, type ProcessStatus } from '../model/records.ts';
import { processProgress } from './progress.ts';
import { summarizeRun } from './runs.ts';

const START = new Date('2026-01-01T10:00:00Z');
const at = (seconds: number): Date => new Date(START.getTime() + seconds * 1000);

function process(overrides: Partial<ImportProcess>): ImportProcess {
  return {
    id: 12, accountId: 1, listId: 3, feedId: 4, status: 2, queued: false, runId: 12, createdAt: START, startDate: START, endDate: null,
    totalContacts: 10_000, counters: zeroCounters(), checkpoint: 0, rejected: 0, failureReason: null, confirmationSentAt: null,
    options: { importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0, groupIds: [] },
    ...overrides,
  };
}

/** The run made of the process alone, as the store would read it. */
function runOfOne(p: ImportProcess) {
  const byStatus: Record<ProcessStatus, number> = { 1: 0, 2: 0, 3: 0, 4: 0 };
  byStatus[p.status] = 1;
  return {
    id: p.id, processes: [p], totalRows: p.totalContacts, rowsMerged: rowsMergedOf(p), rejected: p.rejected, byStatus,
    createdAt: p.createdAt, startDate: p.startDate, endDate: p.status === 3 || p.status === 4 ? p.endDate : null,
  };
}

test('a running process: rows merged of its rows, percent, rate since its start and time left at that rate', () => {
  const p = processProgress(process({ checkpoint: 2_500 }), at(10));
  assert.deepEqual(p, { totalRows: 10_000, rowsMerged: 2_500, percent: 25, rowsPerSecond: 250, remainingMs: 30_000, elapsedMs: 10_000 });
  assert.equal(processProgress(process({ checkpoint: 5 }), at(0.4)).rowsPerSecond, null, 'no rate before half a second');
  assert.equal(processProgress(process({ checkpoint: 0 }), at(10)).remainingMs, null, 'nor before a row is merged');
});

test('a completed process counts all its rows and has nothing left; a failed one keeps its checkpoint; a waiting one has no time yet', () => {
  const done = processProgress(process({ status: 3, checkpoint: 9_000, endDate: at(20) }), at(500));
  assert.deepEqual([done.rowsMerged, done.percent, done.remainingMs, done.elapsedMs, done.rowsPerSecond], [10_000, 100, 0, 20_000, 500]);
  const failed = processProgress(process({ status: 4, checkpoint: 12_000, endDate: at(20) }), at(500));
  assert.deepEqual([failed.rowsMerged, failed.percent, failed.remainingMs, failed.elapsedMs], [10_000, 100, null, 20_000], 'never more than its rows');
  const waiting = processProgress(process({ status: 1, runId: null, startDate: null }), at(500));
  assert.deepEqual([waiting.rowsMerged, waiting.percent, waiting.elapsedMs, waiting.rowsPerSecond, waiting.remainingMs], [0, 0, null, null, null]);
});

test("a process's progress is that of the run made of it alone", () => {
  const now = at(40);
  for (const p of [
    process({ status: 1, runId: null, startDate: null }), process({ checkpoint: 3_000 }), process({ status: 3, checkpoint: 10_000, endDate: at(30) }),
    process({ status: 4, checkpoint: 4_000, endDate: at(30) }), process({ status: 3, checkpoint: 0, totalContacts: 0, endDate: at(1) }),
  ]) {
    const { totalRows, rowsMerged, percent, rowsPerSecond, remainingMs, elapsedMs } = summarizeRun(runOfOne(p), now);
    assert.deepEqual(processProgress(p, now), { totalRows, rowsMerged, percent, rowsPerSecond, remainingMs, elapsedMs }, `status ${p.status}`);
  }
});
