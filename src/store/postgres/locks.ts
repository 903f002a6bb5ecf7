/**
 * Per-account advisory locks: they serialize what SQLite's write lock serialized and PostgreSQL's
 * row locks alone would not: starting and promoting an account's imports (the busy check and the
 * queue, processes.ts), creating accounts (accounts.ts), and changing an account's subscribers (a
 * batch merge against a confirm click, a Send Now claim, or the completion that settles a
 * process: merge.ts, confirmations.ts). Every transaction takes such a lock before any row lock,
 * so they cannot deadlock. Each is held until its transaction ends.
 */
import type pg from 'pg';

/** Kinds of per-account advisory lock (the first key; the second is the account). */
export const LOCK = { start: 1, subscribers: 2, accounts: 3, webhooks: 4 } as const;

export async function lockAccount(client: pg.ClientBase, kind: number, accountId: number): Promise<void> {
  await client.query({ name: 'lock-account', text: 'SELECT pg_advisory_xact_lock($1::int, hashint8($2::bigint))', values: [kind, accountId] });
}
