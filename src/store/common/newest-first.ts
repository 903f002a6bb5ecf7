/**
 * The console's newest-first listings (processes, the outbox), paged by keyset on the id, never
 * OFFSET: the same paging on both engines, around each adapter's query.
 */
import type { KeysetPage } from '../queries.ts';

/** Older than `olderThan` pages forward, newer than `newerThan` back; neither is the first page. */
export interface NewestFirstQuery {
  readonly olderThan?: number;
  readonly newerThan?: number;
  readonly limit: number;
}

/**
 * A page of `fetch`'s rows: `fetch(cursor, backward, limit)` gives up to `limit` rows past the
 * cursor in the direction's order (forward: ids below it, descending; backward: ids above it,
 * ascending; no cursor: from the newest). Paging back to the start gives the first page, full,
 * rather than a short one.
 */
export async function newestFirstPage<R, T>(
  query: NewestFirstQuery, fetch: (cursor: number | null, backward: boolean, limit: number) => R[] | Promise<R[]>, map: (row: R) => T,
): Promise<KeysetPage<T>> {
  const backward = query.newerThan !== undefined;
  const cursor = backward ? query.newerThan! : query.olderThan ?? null;
  const rows = await fetch(cursor, backward, query.limit + 1);
  const more = rows.length > query.limit;
  const items = rows.slice(0, query.limit).map(map);
  if (!backward) return { items, hasNext: more, hasPrevious: cursor !== null };
  if (!more) return newestFirstPage({ limit: query.limit }, fetch, map);
  return { items: items.reverse(), hasNext: true, hasPrevious: true };
}
