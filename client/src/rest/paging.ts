/**
 * Paging, filtering and ordering of the REST API's collections (spec §2.4): the query parameters
 * (`pageNumber` 0-based, `pageSize`, `filterby`, `orderby`), helpers that write the filter subset
 * MailUp documents with the quoting right, and a walk over every page by the envelope's rules.
 */
import type { QueryValue } from './rest-transport.ts';
import type { RestPage } from './types.ts';

/** One page of a collection, filtered and ordered. */
export interface PageQuery {
  /** 0-based (default 0). */
  readonly pageNumber?: number;
  /** Items per page (MailUp's default 20). */
  readonly pageSize?: number;
  /**
   * A filter expression, e.g. `Email=='ann@example.com'` or `Name.Contains('News')`; build it with
   * {@link filterEquals} / {@link filterContains} to get the quoting right. Comparisons are case-sensitive.
   */
  readonly filterBy?: string;
  /** `Name asc`, `Name asc;idGroup desc`, or the terms as an array (`['Name asc', 'idGroup desc']`). */
  readonly orderBy?: string | readonly string[];
}

/** Every page of a collection, walked with this page size. */
export interface WalkQuery extends Omit<PageQuery, 'pageNumber'> {
  /** Items per request while walking (default 100). */
  readonly pageSize?: number;
}

/** The default page size of the walks: fewer calls than MailUp's 20, still a small answer. */
export const WALK_PAGE_SIZE = 100;

const quoted = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/**
 * `Field=='value'` (a number or boolean is written bare), for `filterBy`.
 * @example
 * ```ts
 * filterEquals('Email', "o'brien@example.com"); // Email=='o''brien@example.com'
 * ```
 */
export function filterEquals(field: string, value: string | number | boolean): string {
  return `${field}==${typeof value === 'string' ? quoted(value) : String(value)}`;
}

/** `Field.Contains('value')`, for `filterBy`. */
export function filterContains(field: string, value: string): string {
  return `${field}.Contains(${quoted(value)})`;
}

/** Conditions that must all hold: `a and b`. */
export function filterAll(...conditions: readonly string[]): string {
  return conditions.join(' and ');
}

/** The query parameters of a page, spelt as MailUp's SDKs send them. */
export function pageParams(query: PageQuery = {}): Record<string, QueryValue> {
  const whole = (name: string, n: number | undefined, min: number): number | undefined => {
    if (n === undefined) return undefined;
    if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be a whole number from ${min}, not ${String(n)}`);
    return n;
  };
  const orderBy = Array.isArray(query.orderBy) ? query.orderBy.join(';') : (query.orderBy as string | undefined);
  return {
    pageNumber: whole('pageNumber', query.pageNumber, 0),
    pageSize: whole('pageSize', query.pageSize, 1),
    filterby: query.filterBy === undefined || query.filterBy === '' ? undefined : query.filterBy,
    orderby: orderBy === undefined || orderBy === '' ? undefined : orderBy,
  };
}

/**
 * Every item of a collection, page after page: pages 0, 1, … until `ceil(TotalElementsCount /
 * PageSize)` pages are read, stopping early when a page says `IsPaginated: false` or comes back
 * empty (the collection shrank under the walk).
 */
export async function* walkPages<T>(fetchPage: (pageNumber: number) => Promise<RestPage<T>>): AsyncGenerator<T> {
  for (let pageNumber = 0; ; pageNumber++) {
    const page = await fetchPage(pageNumber);
    yield* page.Items;
    const pages = page.PageSize > 0 ? Math.ceil(page.TotalElementsCount / page.PageSize) : 0;
    if (!page.IsPaginated || page.Items.length === 0 || pageNumber + 1 >= pages) return;
  }
}
