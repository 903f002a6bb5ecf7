/**
 * Import processes on SQLite: creating and starting them (one running import per account, the
 * rest queued), reading them, and the worker side: claims, leases, finish and failure, which
 * promotes the account's next queued process.
 */
import { flag, toProcess, toProcessWithQueue, toRejectRow, type Row } from '../common/row-mappers.ts';
import { PROCESS_COLUMNS, PROCESS_WITH_QUEUE_COLUMNS } from '../common/process-sql.ts';
import { inRuns, RUN_AGGREGATE_COLUMNS, RUN_KEY, runKeyOfProcess, toRunRecords, type RunFilter } from '../common/run-sql.ts';
import {
  LeaseLostError, type CancelOutcome, type CreateOptions, type Lease, type ProcessStore, type RunRecord, type StartOneOutcome, type StartOutcome,
} from '../processes.ts';
import type { RejectReportRow } from '../../model/batch.ts';
import type { Feed, ImportOptions, ImportProcess, ProcessWithQueue } from '../../model/records.ts';
import { now, type SqliteConnection } from './connection.ts';
import type { Statement } from './prepare.ts';
import { enqueueWebhookEvents } from './webhooks.ts';

export class SqliteProcesses implements ProcessStore {
  private readonly stmt;

  constructor(private readonly db: SqliteConnection) {
    // Named statements are prepared once, at start-up, so a typo fails on boot.
    const named = (sql: string): Statement => db.named(sql);
    this.stmt = {
      processById: named(`SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.id = ? AND p.account_id = ?`),
      processByIdAny: named(`SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.id = ?`),
      claim: named(`
        UPDATE import_process SET lease_owner = ?, lease_expires_at = ?
        WHERE id = (SELECT id FROM import_process WHERE status = 2 AND (lease_owner IS NULL OR lease_expires_at < ?) ORDER BY id LIMIT 1)
        RETURNING id`),
      renew: named('UPDATE import_process SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 2'),
      release: named('UPDATE import_process SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?'),
      releaseAll: named('UPDATE import_process SET lease_owner = NULL, lease_expires_at = NULL WHERE status = 2 AND lease_owner IS NOT NULL RETURNING id'),
      end: named(`
        UPDATE import_process SET status = ?, end_date = ?, failure_reason = ?, lease_owner = NULL, lease_expires_at = NULL
        WHERE id = ? AND lease_owner = ? AND status = 2`),
      promoteNext: named(`
        UPDATE import_process SET status = 2, start_date = ?, queued_seq = NULL
        WHERE id = (SELECT id FROM import_process WHERE account_id = ? AND status = 1 AND queued_seq IS NOT NULL ORDER BY queued_seq, id LIMIT 1)`),
    };
  }

  /** Whether the process is the account's: the check the console's reads make first (queries.ts). */
  hasProcess(accountId: number, processId: number): boolean {
    return this.stmt.processById.get(processId, accountId) !== undefined;
  }

  /** The process by id alone, whichever account's: for a worker, whose lease names it (merge.ts). */
  readProcess(processId: number): ImportProcess {
    return toProcess(this.stmt.processByIdAny.get(processId) as Row);
  }

  async createProcesses(
    accountId: number, feed: Feed, lists: readonly { listId: number; options: ImportOptions }[], options: CreateOptions,
  ): Promise<{ ok: true; processes: ImportProcess[] } | Extract<StartOutcome, { ok: false }>> {
    const insert = this.db.prepare(`
      INSERT INTO import_process (account_id, list_id, feed_id, options, created_at, total_contacts) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`);
    const tx = this.db.transaction(() => {
      let busy: 'busy-same-list' | 'busy-other-list' | null = null;
      if (options.start && lists.length > 0) {
        busy = this.busyReason(accountId, lists[0]!.listId);
        if (busy && !options.queueWhenBusy) return { ok: false as const, reason: busy };
      }
      const ids = lists.map((l) => Number((insert.get(accountId, l.listId, feed.id, JSON.stringify(l.options), now(), feed.totalRows) as Row).id));
      if (options.start && busy) this.markQueued(accountId, ids);
      else if (options.start) this.markStarted(ids);
      return { ok: true as const, processes: ids.map((id) => toProcess(this.stmt.processById.get(id, accountId) as Row)) };
    });
    return tx.immediate();
  }

  /** Why the account cannot start an import on `listId` now, or null when it can. */
  private busyReason(accountId: number, listId: number): 'busy-same-list' | 'busy-other-list' | null {
    const busy = this.busyList(accountId);
    if (busy === null) return null;
    return busy === listId ? 'busy-same-list' : 'busy-other-list';
  }

  private busyList(accountId: number): number | null {
    const busy = this.db.prepare(`
      SELECT list_id FROM import_process WHERE account_id = ? AND (status = 2 OR queued_seq IS NOT NULL)
      ORDER BY status DESC, id LIMIT 1`).get(accountId) as Row | undefined;
    return busy ? Number(busy.list_id) : null;
  }

  async busyListId(accountId: number): Promise<number | null> {
    return this.busyList(accountId);
  }

  /** The first process runs now; the others wait their turn, in this order; together they are a run. */
  private markStarted(ids: readonly number[]): void {
    const seq = Date.now();
    this.markRun(ids);
    ids.forEach((id, i) => {
      if (i === 0) this.db.prepare('UPDATE import_process SET status = 2, start_date = ? WHERE id = ?').run(now(), id);
      else this.db.prepare('UPDATE import_process SET queued_seq = ? WHERE id = ?').run(seq + i, id);
    });
  }

  /** The processes wait their turn behind every process the account already has queued, in this order. */
  private markQueued(accountId: number, ids: readonly number[]): void {
    const last = this.db.prepare('SELECT MAX(queued_seq) AS last FROM import_process WHERE account_id = ?').get(accountId) as Row;
    const seq = Math.max(Date.now(), Number(last.last ?? 0) + 1);
    this.markRun(ids);
    ids.forEach((id, i) => this.db.prepare('UPDATE import_process SET queued_seq = ? WHERE id = ?').run(seq + i, id));
  }

  /** The processes started together form a run, named by the first one's id. */
  private markRun(ids: readonly number[]): void {
    if (ids.length === 0) return;
    this.db.prepare('UPDATE import_process SET run_id = ? WHERE id IN (SELECT value FROM json_each(?))').run(ids[0], JSON.stringify(ids));
  }

  async startOrQueueProcess(accountId: number, processId: number): Promise<StartOneOutcome> {
    const tx = this.db.transaction((): StartOneOutcome => {
      const r = this.db.prepare('SELECT status, queued_seq FROM import_process WHERE id = ? AND account_id = ?').get(processId, accountId) as Row | undefined;
      if (r === undefined) return { ok: false, reason: 'not-found' };
      if (Number(r.status) !== 1) return { ok: false, reason: 'not-waiting' };
      if (r.queued_seq !== null) return { ok: false, reason: 'already-queued' };
      const busy = this.busyList(accountId) !== null;
      if (busy) this.markQueued(accountId, [processId]);
      else this.markStarted([processId]);
      return { ok: true, queued: busy };
    });
    return tx.immediate();
  }

  async cancelProcess(accountId: number, processId: number, reason: string): Promise<CancelOutcome> {
    // IMMEDIATE takes the write lock first: a batch the worker thread is merging commits before
    // this reads the process, or waits and then finds its lease gone.
    const tx = this.db.transaction((): CancelOutcome => {
      const r = this.db.prepare('SELECT status, run_id FROM import_process WHERE id = ? AND account_id = ?').get(processId, accountId) as Row | undefined;
      if (r === undefined) return { ok: false, reason: 'not-found' };
      const status = Number(r.status);
      if (status !== 1 && status !== 2) return { ok: false, reason: 'finished' };
      const siblings = r.run_id === null ? [] : (this.db.prepare(`
        SELECT id FROM import_process WHERE account_id = ? AND run_id = ? AND status = 1 AND id <> ? ORDER BY id`)
        .all(accountId, r.run_id, processId) as Row[]).map((s) => Number(s.id));
      const ids = [processId, ...siblings];
      const t = now();
      this.db.prepare(`
        UPDATE import_process SET status = 4, end_date = ?, failure_reason = ?, queued_seq = NULL, lease_owner = NULL, lease_expires_at = NULL
        WHERE id IN (SELECT value FROM json_each(?)) AND status IN (1, 2)`).run(t, reason, JSON.stringify(ids));
      if (status === 2) this.stmt.promoteNext.run(t, accountId);
      // The webhook events are stored with the change they report (docs/webhooks.md).
      enqueueWebhookEvents(this.db, 'import.cancelled', ids);
      return { ok: true, cancelled: ids };
    });
    return tx.immediate();
  }

  async getProcess(accountId: number, processId: number): Promise<ImportProcess | null> {
    const r = this.stmt.processById.get(processId, accountId) as Row | undefined;
    return r ? toProcess(r) : null;
  }

  async listProcesses(accountId: number, options: { limit?: number; offset?: number } = {}): Promise<ProcessWithQueue[]> {
    return (this.db.prepare(`SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p WHERE p.account_id = ? ORDER BY p.id DESC LIMIT ? OFFSET ?`)
      .all(accountId, options.limit ?? 50, options.offset ?? 0) as Row[]).map(toProcessWithQueue);
  }

  async listRuns(accountId: number, options: { listIds?: readonly number[] | null; limit?: number; offset?: number } = {}): Promise<RunRecord[]> {
    return this.readRuns(accountId, null, options.listIds ?? null, options.limit ?? 50, options.offset ?? 0);
  }

  async getRun(accountId: number, runId: number, options: { listIds?: readonly number[] | null } = {}): Promise<RunRecord | null> {
    return this.readRuns(accountId, { run: runId }, options.listIds ?? null, 1, 0)[0] ?? null;
  }

  async getRunOfProcess(accountId: number, processId: number): Promise<RunRecord | null> {
    return this.readRuns(accountId, { process: processId }, null, 1, 0)[0] ?? null;
  }

  /** A page of runs (or the one named), aggregated in SQL, with their processes; one read transaction, so both agree. */
  private readRuns(accountId: number, which: RunFilter, listIds: readonly number[] | null, limit: number, offset: number): RunRecord[] {
    const lists = listIds === null ? null : JSON.stringify(listIds);
    // The run's id, or the process's whose run is read, is @key when one is named.
    const key = which === null ? null : 'run' in which ? '@key' : runKeyOfProcess('@key', '@account');
    return this.db.transaction(() => {
      const aggregates = this.db.prepare(`
        SELECT ${RUN_AGGREGATE_COLUMNS} FROM import_process p
        WHERE p.account_id = @account AND (@lists IS NULL OR p.list_id IN (SELECT value FROM json_each(@lists)))
          ${key === null ? '' : `AND ${inRuns(`= ${key}`, `= ${key}`)}`}
        GROUP BY ${RUN_KEY} ORDER BY ${RUN_KEY} DESC LIMIT @limit OFFSET @offset`)
        .all({ account: accountId, lists, key: which === null ? null : 'run' in which ? which.run : which.process, limit, offset }) as Row[];
      if (aggregates.length === 0) return [];
      const keys = JSON.stringify(aggregates.map((a) => Number(a.run_key)));
      const processes = (this.db.prepare(`
        SELECT ${PROCESS_COLUMNS} FROM import_process p
        WHERE p.account_id = @account AND (@lists IS NULL OR p.list_id IN (SELECT value FROM json_each(@lists)))
          AND ${inRuns('IN (SELECT value FROM json_each(@keys))', 'IN (SELECT value FROM json_each(@keys))')}`)
        .all({ account: accountId, lists, keys }) as Row[]).map(toProcess);
      return toRunRecords(aggregates, processes);
    })();
  }

  async startProcesses(accountId: number, processIds: readonly number[]): Promise<StartOutcome> {
    const tx = this.db.transaction((): StartOutcome => {
      const rows = processIds.map((id) => this.db.prepare('SELECT * FROM import_process WHERE id = ? AND account_id = ?').get(id, accountId) as Row | undefined);
      if (rows.some((r) => r === undefined)) return { ok: false, reason: 'not-found' };
      if (rows.some((r) => Number(r!.status) !== 1 || r!.queued_seq !== null)) return { ok: false, reason: 'not-startable' };
      const busy = this.busyReason(accountId, Number(rows[0]!.list_id));
      if (busy) return { ok: false, reason: busy };
      this.markStarted(processIds);
      return { ok: true };
    });
    return tx.immediate();
  }

  async pendingProcessIds(accountId: number): Promise<number[]> {
    return (this.db.prepare('SELECT id FROM import_process WHERE account_id = ? AND status = 1 AND queued_seq IS NULL ORDER BY id')
      .all(accountId) as Row[]).map((r) => Number(r.id));
  }

  // Worker side

  async claimProcess(owner: string, leaseMs: number): Promise<Lease | null> {
    const t = Date.now();
    const r = this.stmt.claim.get(owner, t + leaseMs, t) as Row | undefined;
    if (!r) return null;
    return { process: toProcess(this.stmt.processByIdAny.get(r.id) as Row), owner, leaseMs };
  }

  async renewLease(lease: Lease): Promise<boolean> {
    return this.stmt.renew.run(Date.now() + lease.leaseMs, lease.process.id, lease.owner).changes === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    this.stmt.release.run(lease.process.id, lease.owner);
  }

  async releaseAllLeases(): Promise<number[]> {
    return (this.stmt.releaseAll.all() as Row[]).map((r) => Number(r.id)).sort((a, b) => a - b);
  }

  async finishProcess(lease: Lease): Promise<void> {
    this.endProcess(lease, 3, null);
  }

  async failProcess(lease: Lease, reason: string): Promise<void> {
    this.endProcess(lease, 4, reason);
  }

  private endProcess(lease: Lease, status: 3 | 4, reason: string | null): void {
    this.db.transaction(() => {
      const t = now();
      if (this.stmt.end.run(status, t, reason, lease.process.id, lease.owner).changes !== 1) throw new LeaseLostError(lease.process.id);
      this.stmt.promoteNext.run(t, lease.process.accountId);
      enqueueWebhookEvents(this.db, status === 3 ? 'import.completed' : 'import.failed', [lease.process.id]);
    }).immediate();
  }

  async rejectReport(accountId: number, processId: number, options: { limit?: number; offset?: number } = {}): Promise<RejectReportRow[]> {
    const rows = this.db.prepare(`
      SELECT r.* FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = ? AND p.account_id = ? ORDER BY r.row_no LIMIT ? OFFSET ?`)
      .all(processId, accountId, options.limit ?? -1, options.offset ?? 0) as Row[];
    return rows.map(toRejectRow);
  }

  async rejectReasons(accountId: number, processId: number): Promise<Record<string, number>> {
    const rows = this.db.prepare(`
      SELECT r.reason, count(*) AS n FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = ? AND p.account_id = ? GROUP BY r.reason`).all(processId, accountId) as Row[];
    return Object.fromEntries(rows.map((r) => [String(r.reason), Number(r.n)]));
  }

  async processStatusCounts(): Promise<{ byStatus: Record<1 | 2 | 3 | 4, number>; queued: number }> {
    const byStatus: Record<1 | 2 | 3 | 4, number> = { 1: 0, 2: 0, 3: 0, 4: 0 };
    let queued = 0;
    for (const r of this.db.prepare('SELECT status, queued_seq IS NOT NULL AS queued, count(*) AS n FROM import_process GROUP BY 1, 2').all() as Row[]) {
      byStatus[Number(r.status) as 1] += Number(r.n);
      if (flag(r.queued)) queued += Number(r.n);
    }
    return { byStatus, queued };
  }
}
