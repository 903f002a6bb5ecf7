/**
 * Import processes on PostgreSQL: creating and starting them (one running import per account, the
 * rest queued, under the account's start lock), reading them, and a worker's claim, renewal,
 * finish and failure. The unique partial index on running processes has the last word: a start
 * that loses a race it could not see is mapped to the busy outcome (-601/-602), never to an
 * error. Claims use `FOR UPDATE SKIP LOCKED` (claim.ts); every transaction that makes a process
 * claimable queues a NOTIFY, delivered on commit, that wakes idle workers on every host
 * (wake-channel.ts).
 */
import type pg from 'pg';
import { flag, toProcess, toProcessWithQueue, toRejectRow, type Row } from '../common/row-mappers.ts';
import { PROCESS_COLUMNS, PROCESS_WITH_QUEUE_COLUMNS } from '../common/process-sql.ts';
import { inRuns, RUN_AGGREGATE_COLUMNS, RUN_KEY, runKeyOfProcess, toRunRecords, type RunFilter } from '../common/run-sql.ts';
import {
  LeaseLostError, type CancelOutcome, type CreateOptions, type Lease, type ProcessStore, type RunRecord, type StartOneOutcome, type StartOutcome,
} from '../processes.ts';
import type { RejectReportRow } from '../../model/batch.ts';
import type { Feed, ImportOptions, ImportProcess, ProcessWithQueue } from '../../model/records.ts';
import { claimSql, notifyWork, RELEASE_SQL, RENEW_SQL } from './claim.ts';
import { lockAccount, LOCK } from './locks.ts';
import { inTransaction, pgError, queryRows } from './pool.ts';
import { enqueueWebhookEvents } from './webhooks.ts';
import { inSnapshot } from './snapshot.ts';

export class PgProcesses implements ProcessStore {
  constructor(private readonly pool: pg.Pool) {}

  async createProcesses(
    accountId: number, feed: Feed, lists: readonly { listId: number; options: ImportOptions }[], options: CreateOptions,
  ): Promise<{ ok: true; processes: ImportProcess[] } | Extract<StartOutcome, { ok: false }>> {
    try {
      return await inTransaction(this.pool, async (c) => {
        await lockAccount(c, LOCK.start, accountId);
        let busy: 'busy-same-list' | 'busy-other-list' | null = null;
        if (options.start && lists.length > 0) {
          busy = await this.busyReason(c, accountId, lists[0]!.listId);
          if (busy && !options.queueWhenBusy) return { ok: false as const, reason: busy };
        }
        const ids: number[] = [];
        for (const l of lists) {
          const r = await c.query<Row>(
            'INSERT INTO import_process (account_id, list_id, feed_id, options, total_contacts) VALUES ($1, $2, $3, $4, $5) RETURNING id',
            [accountId, l.listId, feed.id, JSON.stringify(l.options), feed.totalRows],
          );
          ids.push(Number(r.rows[0]!.id));
        }
        if (options.start && busy) await this.markQueued(c, accountId, ids);
        else if (options.start) await this.markStarted(c, ids);
        const { rows } = await c.query<Row>(`SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.id = ANY($1::bigint[]) ORDER BY p.id`, [ids]);
        const byId = new Map(rows.map((r) => [Number(r.id), toProcess(r)]));
        return { ok: true as const, processes: ids.map((id) => byId.get(id)!) };
      });
    } catch (err) {
      const busy = await this.busyAfterRace(err, accountId, lists[0]?.listId);
      if (busy) return { ok: false, reason: busy };
      throw err;
    }
  }

  /** Why the account cannot start an import on `listId` now, or null when it can. */
  private async busyReason(c: pg.ClientBase, accountId: number, listId: number): Promise<'busy-same-list' | 'busy-other-list' | null> {
    const busy = await busyList(c, accountId);
    if (busy === null) return null;
    return busy === listId ? 'busy-same-list' : 'busy-other-list';
  }

  async busyListId(accountId: number): Promise<number | null> {
    return busyList(this.pool, accountId);
  }

  /**
   * A start that broke the one-running-import index lost a race with another start: the account
   * is busy, and the answer says with which list.
   */
  private async busyAfterRace(err: unknown, accountId: number, listId: number | undefined): Promise<'busy-same-list' | 'busy-other-list' | null> {
    const e = pgError(err);
    if (e.code !== '23505' || e.constraint !== 'import_process_one_running' || listId === undefined) return null;
    const client = await this.pool.connect();
    try {
      return (await this.busyReason(client, accountId, listId)) ?? 'busy-other-list';
    } finally {
      client.release();
    }
  }

  /** The first process runs now; the others wait their turn, in this order; together they are a run. Wakes the workers. */
  private async markStarted(c: pg.ClientBase, ids: readonly number[]): Promise<void> {
    const seq = Date.now();
    await markRun(c, ids);
    for (const [i, id] of ids.entries()) {
      if (i === 0) await c.query('UPDATE import_process SET status = 2, start_date = now() WHERE id = $1', [id]);
      else await c.query('UPDATE import_process SET queued_seq = $1 WHERE id = $2', [seq + i, id]);
    }
    if (ids.length > 0) await notifyWork(c, [ids[0]!]);
  }

  /**
   * The processes wait their turn behind every process the account already has queued, in this
   * order; the account's running import promotes them when it ends (endProcess).
   */
  private async markQueued(c: pg.ClientBase, accountId: number, ids: readonly number[]): Promise<void> {
    const { rows } = await c.query<Row>('SELECT MAX(queued_seq) AS last FROM import_process WHERE account_id = $1', [accountId]);
    const seq = Math.max(Date.now(), Number(rows[0]?.last ?? 0) + 1);
    await markRun(c, ids);
    for (const [i, id] of ids.entries()) await c.query('UPDATE import_process SET queued_seq = $1 WHERE id = $2', [seq + i, id]);
  }

  async startOrQueueProcess(accountId: number, processId: number): Promise<StartOneOutcome> {
    return inTransaction(this.pool, async (c): Promise<StartOneOutcome> => {
      await lockAccount(c, LOCK.start, accountId);
      const { rows } = await c.query<Row>('SELECT status, queued_seq FROM import_process WHERE id = $1 AND account_id = $2', [processId, accountId]);
      const r = rows[0];
      if (r === undefined) return { ok: false, reason: 'not-found' };
      if (Number(r.status) !== 1) return { ok: false, reason: 'not-waiting' };
      if (r.queued_seq !== null) return { ok: false, reason: 'already-queued' };
      // Under the account's start lock, which every start and promotion takes, the busy check holds until commit.
      const busy = (await busyList(c, accountId)) !== null;
      if (busy) await this.markQueued(c, accountId, [processId]);
      else await this.markStarted(c, [processId]);
      return { ok: true, queued: busy };
    });
  }

  async cancelProcess(accountId: number, processId: number, reason: string): Promise<CancelOutcome> {
    return inTransaction(this.pool, async (c): Promise<CancelOutcome> => {
      await lockAccount(c, LOCK.start, accountId);
      // FOR UPDATE waits for a batch in flight, which holds the row from its lease check to its
      // commit: the batch commits with its counters first, and the next one finds its lease gone.
      const { rows } = await c.query<Row>('SELECT status, run_id FROM import_process WHERE id = $1 AND account_id = $2 FOR UPDATE', [processId, accountId]);
      const r = rows[0];
      if (r === undefined) return { ok: false, reason: 'not-found' };
      const status = Number(r.status);
      if (status !== 1 && status !== 2) return { ok: false, reason: 'finished' };
      const siblings = r.run_id === null ? [] : (await c.query<Row>(
        'SELECT id FROM import_process WHERE account_id = $1 AND run_id = $2 AND status = 1 AND id <> $3 ORDER BY id',
        [accountId, r.run_id, processId])).rows.map((s) => Number(s.id));
      const ids = [processId, ...siblings];
      await c.query(`
        UPDATE import_process SET status = 4, end_date = now(), failure_reason = $1, queued_seq = NULL, lease_owner = NULL, lease_expires_at = NULL
        WHERE id = ANY($2::bigint[]) AND status IN (1, 2)`, [reason, ids]);
      if (status === 2) await promoteNext(c, accountId);
      // The webhook events are stored with the change they report (docs/webhooks.md).
      await enqueueWebhookEvents(c, 'import.cancelled', ids);
      return { ok: true, cancelled: ids };
    });
  }

  async getProcess(accountId: number, processId: number): Promise<ImportProcess | null> {
    const { rows } = await this.pool.query<Row>({
      name: 'process-by-id',
      text: `SELECT ${PROCESS_COLUMNS} FROM import_process p WHERE p.id = $1 AND p.account_id = $2`,
      values: [processId, accountId],
    });
    return rows[0] ? toProcess(rows[0]) : null;
  }

  async listProcesses(accountId: number, options: { limit?: number; offset?: number } = {}): Promise<ProcessWithQueue[]> {
    return (await queryRows(this.pool, `SELECT ${PROCESS_WITH_QUEUE_COLUMNS} FROM import_process p WHERE p.account_id = $1 ORDER BY p.id DESC LIMIT $2 OFFSET $3`,
      [accountId, options.limit ?? 50, options.offset ?? 0])).map(toProcessWithQueue);
  }

  async listRuns(accountId: number, options: { listIds?: readonly number[] | null; limit?: number; offset?: number } = {}): Promise<RunRecord[]> {
    return this.readRuns(accountId, null, options.listIds ?? null, options.limit ?? 50, options.offset ?? 0);
  }

  async getRun(accountId: number, runId: number, options: { listIds?: readonly number[] | null } = {}): Promise<RunRecord | null> {
    return (await this.readRuns(accountId, { run: runId }, options.listIds ?? null, 1, 0))[0] ?? null;
  }

  async getRunOfProcess(accountId: number, processId: number): Promise<RunRecord | null> {
    return (await this.readRuns(accountId, { process: processId }, null, 1, 0))[0] ?? null;
  }

  /** A page of runs (or the one named), aggregated in SQL, with their processes; one snapshot, so both agree. */
  private async readRuns(accountId: number, which: RunFilter, listIds: readonly number[] | null, limit: number, offset: number): Promise<RunRecord[]> {
    const lists = listIds === null ? null : [...listIds];
    // The run's id, or the process's whose run is read, is $5 when one is named.
    const key = which === null ? null : 'run' in which ? '$5::bigint' : runKeyOfProcess('$5::bigint', '$1');
    return inSnapshot(this.pool, async (c) => {
      const aggregates = (await c.query<Row>(`
        SELECT ${RUN_AGGREGATE_COLUMNS} FROM import_process p
        WHERE p.account_id = $1 AND ($2::bigint[] IS NULL OR p.list_id = ANY($2::bigint[]))
          ${key === null ? '' : `AND ${inRuns(`= ${key}`, `= ${key}`)}`}
        GROUP BY ${RUN_KEY} ORDER BY ${RUN_KEY} DESC LIMIT $3 OFFSET $4`,
      [accountId, lists, limit, offset, ...(which === null ? [] : ['run' in which ? which.run : which.process])])).rows;
      if (aggregates.length === 0) return [];
      const keys = aggregates.map((a) => Number(a.run_key));
      const processes = (await c.query<Row>(`
        SELECT ${PROCESS_COLUMNS} FROM import_process p
        WHERE p.account_id = $1 AND ($2::bigint[] IS NULL OR p.list_id = ANY($2::bigint[]))
          AND ${inRuns('= ANY($3::bigint[])', '= ANY($3::bigint[])')}`,
      [accountId, lists, keys])).rows.map(toProcess);
      return toRunRecords(aggregates, processes);
    });
  }

  async startProcesses(accountId: number, processIds: readonly number[]): Promise<StartOutcome> {
    try {
      return await inTransaction(this.pool, async (c): Promise<StartOutcome> => {
        await lockAccount(c, LOCK.start, accountId);
        const { rows } = await c.query<Row>('SELECT * FROM import_process WHERE id = ANY($1::bigint[]) AND account_id = $2', [processIds, accountId]);
        const byId = new Map(rows.map((r) => [Number(r.id), r]));
        const found = processIds.map((id) => byId.get(id));
        if (found.some((r) => r === undefined)) return { ok: false, reason: 'not-found' };
        if (found.some((r) => Number(r!.status) !== 1 || r!.queued_seq !== null)) return { ok: false, reason: 'not-startable' };
        const busy = await this.busyReason(c, accountId, Number(found[0]!.list_id));
        if (busy) return { ok: false, reason: busy };
        await this.markStarted(c, processIds);
        return { ok: true };
      });
    } catch (err) {
      const first = processIds[0];
      const listId = first === undefined ? undefined : (await this.getProcess(accountId, first))?.listId;
      const busy = await this.busyAfterRace(err, accountId, listId);
      if (busy) return { ok: false, reason: busy };
      throw err;
    }
  }

  async pendingProcessIds(accountId: number): Promise<number[]> {
    return (await queryRows(this.pool, 'SELECT id FROM import_process WHERE account_id = $1 AND status = 1 AND queued_seq IS NULL ORDER BY id', [accountId]))
      .map((r) => Number(r.id));
  }

  // Worker side

  async claimProcess(owner: string, leaseMs: number): Promise<Lease | null> {
    const { rows } = await this.pool.query<Row>({ ...claimSql(PROCESS_COLUMNS), values: [owner, leaseMs] });
    return rows[0] ? { process: toProcess(rows[0]), owner, leaseMs } : null;
  }

  async renewLease(lease: Lease): Promise<boolean> {
    return (await this.pool.query({ ...RENEW_SQL, values: [lease.leaseMs, lease.process.id, lease.owner] })).rowCount === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.pool.query({ ...RELEASE_SQL, values: [lease.process.id, lease.owner] });
  }

  /** Waits for the row lock of a batch being merged; that worker's lease is then lost. Wakes the workers. */
  async releaseAllLeases(): Promise<number[]> {
    return inTransaction(this.pool, async (c) => {
      const { rows } = await c.query<Row>(`
        UPDATE import_process SET lease_owner = NULL, lease_expires_at = NULL WHERE status = 2 AND lease_owner IS NOT NULL RETURNING id`);
      const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
      await notifyWork(c, ids);
      return ids;
    });
  }

  async finishProcess(lease: Lease): Promise<void> {
    await this.endProcess(lease, 3, null);
  }

  async failProcess(lease: Lease, reason: string): Promise<void> {
    await this.endProcess(lease, 4, reason);
  }

  /** Ends the lease's process (status 3 or 4) and promotes the account's next queued one, in one transaction. */
  private async endProcess(lease: Lease, status: 3 | 4, reason: string | null): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await lockAccount(c, LOCK.start, lease.process.accountId);
      const ended = await c.query(`
        UPDATE import_process SET status = $1, end_date = now(), failure_reason = $2, lease_owner = NULL, lease_expires_at = NULL
        WHERE id = $3 AND lease_owner = $4 AND status = 2`, [status, reason, lease.process.id, lease.owner]);
      if (ended.rowCount !== 1) throw new LeaseLostError(lease.process.id);
      await promoteNext(c, lease.process.accountId);
      await enqueueWebhookEvents(c, status === 3 ? 'import.completed' : 'import.failed', [lease.process.id]);
    });
  }

  async rejectReport(accountId: number, processId: number, options: { limit?: number; offset?: number } = {}): Promise<RejectReportRow[]> {
    const rows = await queryRows(this.pool, `
      SELECT r.* FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = $1 AND p.account_id = $2 ORDER BY r.row_no LIMIT $3 OFFSET $4`,
    [processId, accountId, options.limit ?? null, options.offset ?? 0]);
    return rows.map(toRejectRow);
  }

  async rejectReasons(accountId: number, processId: number): Promise<Record<string, number>> {
    const rows = await queryRows(this.pool, `
      SELECT r.reason, count(*) AS n FROM import_reject r JOIN import_process p ON p.id = r.process_id
      WHERE r.process_id = $1 AND p.account_id = $2 GROUP BY r.reason`, [processId, accountId]);
    return Object.fromEntries(rows.map((r) => [String(r.reason), Number(r.n)]));
  }

  async processStatusCounts(): Promise<{ byStatus: Record<1 | 2 | 3 | 4, number>; queued: number }> {
    const byStatus: Record<1 | 2 | 3 | 4, number> = { 1: 0, 2: 0, 3: 0, 4: 0 };
    let queued = 0;
    for (const r of await queryRows(this.pool, 'SELECT status, queued_seq IS NOT NULL AS queued, count(*) AS n FROM import_process GROUP BY 1, 2', [])) {
      byStatus[Number(r.status) as 1] += Number(r.n);
      if (flag(r.queued)) queued += Number(r.n);
    }
    return { byStatus, queued };
  }
}

/** Starts the account's next queued process, if any, and wakes the workers; under the account's start lock. */
async function promoteNext(c: pg.ClientBase, accountId: number): Promise<void> {
  const promoted = await c.query<Row>(`
    UPDATE import_process SET status = 2, start_date = now(), queued_seq = NULL
    WHERE id = (SELECT id FROM import_process WHERE account_id = $1 AND status = 1 AND queued_seq IS NOT NULL ORDER BY queued_seq, id LIMIT 1)
    RETURNING id`, [accountId]);
  await notifyWork(c, promoted.rows.map((r) => Number(r.id)));
}

/** The processes started together form a run, named by the first one's id. */
async function markRun(c: pg.ClientBase, ids: readonly number[]): Promise<void> {
  if (ids.length > 0) await c.query('UPDATE import_process SET run_id = $1 WHERE id = ANY($2::bigint[])', [ids[0], ids]);
}

/** The list of the account's running (or queued) import, as a start would see it on `c`. */
async function busyList(c: pg.ClientBase | pg.Pool, accountId: number): Promise<number | null> {
  const { rows } = await c.query<Row>(`
    SELECT list_id FROM import_process WHERE account_id = $1 AND (status = 2 OR queued_seq IS NOT NULL)
    ORDER BY status DESC, id LIMIT 1`, [accountId]);
  return rows[0] ? Number(rows[0].list_id) : null;
}
