/**
 * The work queue on PostgreSQL is the import_process table itself. A worker on any host claims
 * the oldest running process that nobody holds, or whose holder stopped renewing: the candidate
 * row is locked with `FOR UPDATE SKIP LOCKED`, so two workers asking at once never wait on each
 * other and never get the same process, and a batch being merged (which holds the row lock)
 * is never claimed from under its worker. Lease times come from the database's clock, the one
 * clock every host shares, so skew between hosts cannot expire a healthy lease.
 */
import type pg from 'pg';

/** The channel that wakes idle workers on every host; the payload is the process id. */
export const WORK_CHANNEL = 'mailup_import_work';

export function claimSql(processColumns: string): { name: string; text: string } {
  return {
    name: 'claim-process',
    text: `UPDATE import_process p SET lease_owner = $1, lease_expires_at = clock_timestamp() + $2 * interval '1 millisecond'
      WHERE p.id = (
        SELECT id FROM import_process
        WHERE status = 2 AND (lease_owner IS NULL OR lease_expires_at < clock_timestamp())
        ORDER BY id LIMIT 1
        FOR NO KEY UPDATE SKIP LOCKED)
      RETURNING ${processColumns}`,
  };
}

export const RENEW_SQL = {
  name: 'renew-lease',
  text: `UPDATE import_process SET lease_expires_at = clock_timestamp() + $1 * interval '1 millisecond'
    WHERE id = $2 AND lease_owner = $3 AND status = 2`,
};

/** Gives the process back at once (a worker shutting down) and tells the other workers. */
export const RELEASE_SQL = {
  name: 'release-lease',
  text: `WITH released AS (
      UPDATE import_process SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2 RETURNING id)
    SELECT pg_notify('${WORK_CHANNEL}', id::text) FROM released`,
};

/** Queued in the transaction that made processes claimable; delivered when it commits. */
export async function notifyWork(client: pg.ClientBase, processIds: readonly number[]): Promise<void> {
  if (processIds.length === 0) return;
  await client.query(`SELECT pg_notify('${WORK_CHANNEL}', id::text) FROM unnest($1::bigint[]) AS id`, [processIds]);
}
