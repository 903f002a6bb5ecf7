import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunRecord } from '../store/processes.ts';
import { runIdOf, summarizeRun } from './runs.ts';

const START = new Date('2026-01-01T10:00:00Z');
const at = (seconds: number): Date => new Date(START.getTime() + seconds * 1000);

function run(overrides: Partial<RunRecord>): RunRecord {
  return {
    id: 7, processes: [], totalRows: 200_000, rowsMerged: 0, rejected: 0, byStatus: { 1: 0, 2: 0, 3: 0, 4: 0 },
    createdAt: START, startDate: START, endDate: null, ...overrides,
  };
}

test('a running run: percent, rate over its running time and time left over all its processes', () => {
  // 40 processes of 5,000: 3 done, the fourth half merged, 100 s after the first started.
  const s = summarizeRun(run({ rowsMerged: 17_500, byStatus: { 1: 36, 2: 1, 3: 3, 4: 0 } }), at(100));
  assert.deepEqual([s.state, s.percent, s.rowsPerSecond, s.elapsedMs, s.remainingMs], ['running', 8, 175, 100_000, ((200_000 - 17_500) / 175) * 1000]);
});

test('no rate before half a second or before a row is merged; none started: waiting with no elapsed time', () => {
  assert.equal(summarizeRun(run({ rowsMerged: 10, byStatus: { 1: 1, 2: 1, 3: 0, 4: 0 } }), at(0.2)).rowsPerSecond, null);
  assert.equal(summarizeRun(run({ byStatus: { 1: 1, 2: 1, 3: 0, 4: 0 } }), at(30)).remainingMs, null);
  const waiting = summarizeRun(run({ startDate: null, byStatus: { 1: 40, 2: 0, 3: 0, 4: 0 } }), at(30));
  assert.deepEqual([waiting.state, waiting.percent, waiting.elapsedMs, waiting.rowsPerSecond, waiting.remainingMs], ['waiting', 0, null, null, null]);
});

test('ended runs: completed is 100 % with nothing left, its rate over its running time; failed keeps its percent and has no time left', () => {
  const done = summarizeRun(run({ rowsMerged: 200_000, byStatus: { 1: 0, 2: 0, 3: 40, 4: 0 }, endDate: at(400) }), at(9_000));
  assert.deepEqual([done.state, done.percent, done.rowsPerSecond, done.remainingMs, done.elapsedMs], ['completed', 100, 500, 0, 400_000]);
  const failed = summarizeRun(run({ rowsMerged: 50_000, byStatus: { 1: 0, 2: 0, 3: 10, 4: 30 }, endDate: at(100) }), at(9_000));
  assert.deepEqual([failed.state, failed.percent, failed.rowsPerSecond, failed.remainingMs], ['failed', 25, 500, null]);
});

test('a process that stands alone is the run named by its id', () => {
  assert.equal(runIdOf({ id: 12, runId: null }), 12);
  assert.equal(runIdOf({ id: 12, runId: 11 }), 11);
});
