/**
 * What every REST route reads and answers, the same way: the caller's account, query parameters
 * (names matched without regard to case, as MailUp's IIS does), path ids, paging with its
 * envelope, `filterby`/`orderby`, and JSON bodies checked member by member.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Account } from '../model/records.ts';
import { badRequest, notFound, RestError } from './errors.ts';
import { parseFilter, parseOrder, type Filter, type Order, type QueryFields } from './query-expression.ts';

// The caller

export interface RestAuth {
  readonly account: Account;
  /** The REST client the access token was given to. */
  readonly clientId: string;
}

const AUTH = new WeakMap<FastifyRequest, RestAuth>();

export function setRestAuth(request: FastifyRequest, auth: RestAuth): void {
  AUTH.set(request, auth);
}

/** The account the request's bearer token stands for (every REST route is behind the check). */
export function restAuth(request: FastifyRequest): RestAuth {
  const auth = AUTH.get(request);
  if (auth === undefined) throw new RestError(401, 'Authorization error: no access token was checked for this request');
  return auth;
}

// Query parameters

/**
 * A query parameter by name, in any case (`pageSize`, `PageSize`, `pagesize`); null when absent.
 * Given twice (in any spellings), it is refused rather than one of them guessed.
 */
export function queryParam(request: FastifyRequest, name: string): string | null {
  const query = (request.query ?? {}) as Record<string, string | string[] | undefined>;
  const lower = name.toLowerCase();
  const values = Object.entries(query).filter(([key]) => key.toLowerCase() === lower).flatMap(([, v]) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
  if (values.length > 1) throw badRequest(`The query parameter ${name} is given ${values.length} times; give it once.`);
  return values[0] ?? null;
}

/** A boolean query parameter (`true`/`True`/`1`, `false`/`0`); `fallback` when absent or empty. */
export function booleanParam(request: FastifyRequest, name: string, fallback = false): boolean {
  const raw = queryParam(request, name)?.trim() ?? '';
  if (raw === '') return fallback;
  if (/^(true|1)$/i.test(raw)) return true;
  if (/^(false|0)$/i.test(raw)) return false;
  throw badRequest(`The query parameter ${name} must be true or false, not "${raw}".`);
}

/**
 * A positive id from the path (`idList`, `idGroup`, …). An id that is not a number names no
 * resource: 404, as for an unknown id.
 */
export function pathId(request: FastifyRequest, name: string): number {
  const raw = ((request.params ?? {}) as Record<string, string | undefined>)[name] ?? '';
  const id = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id) || id <= 0) throw notFound(`${name} "${raw}" is not an id of this account.`);
  return id;
}

// Paging (spec §2.4)

export const DEFAULT_PAGE_SIZE = 20;
/** The largest page a call may ask for: beyond it, 400 (a client wanting everything pages). */
export const MAX_PAGE_SIZE = 1000;

export interface Paging {
  /** 0-based. */
  readonly pageNumber: number;
  readonly pageSize: number;
}

/** `pageNumber` (0-based, default 0) and `pageSize` (1 to MAX_PAGE_SIZE, default 20), in any case. */
export function pagingOf(request: FastifyRequest): Paging {
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = queryParam(request, name)?.trim() ?? '';
    if (raw === '') return fallback;
    const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`${name} must be a whole number from ${min} to ${max}, not "${raw}".`);
    return n;
  };
  return { pageNumber: number('pageNumber', 0, 0, 1_000_000_000), pageSize: number('pageSize', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE) };
}

/** MailUp's paging envelope around the items of one page. */
export interface Envelope<T> {
  readonly IsPaginated: boolean;
  readonly Items: readonly T[];
  readonly PageNumber: number;
  readonly PageSize: number;
  readonly Skipped: number;
  readonly TotalElementsCount: number;
}

/**
 * The envelope of one page, given its items and the total of every page. `IsPaginated` is true
 * whenever the whole takes more than one page (so on every page of it, the last included): a
 * client that stops when it is false never stops early. `PageSize` is the size asked for, never
 * 0, so `TotalElementsCount / PageSize` (how mailupy counts pages) always works.
 */
export function envelope<T>(items: readonly T[], total: number, paging: Paging): Envelope<T> {
  return {
    IsPaginated: total > paging.pageSize,
    Items: items,
    PageNumber: paging.pageNumber,
    PageSize: paging.pageSize,
    Skipped: paging.pageNumber * paging.pageSize,
    TotalElementsCount: total,
  };
}

/** The envelope of one page of a whole collection held in memory. */
export function pageOf<T>(all: readonly T[], paging: Paging): Envelope<T> {
  const start = paging.pageNumber * paging.pageSize;
  return envelope(all.slice(start, start + paging.pageSize), all.length, paging);
}

/** A collection call's paging, `filterby` and `orderby`, checked against the resource's fields. */
export interface CollectionQuery {
  readonly paging: Paging;
  readonly filter: Filter;
  readonly order: Order;
}

export function collectionQueryOf(request: FastifyRequest, fields: QueryFields): CollectionQuery {
  const paging = pagingOf(request);
  const filter = parseFilter(queryParam(request, 'filterby'), fields);
  if (!filter.ok) throw badRequest(filter.error);
  const order = parseOrder(queryParam(request, 'orderby'), fields);
  if (!order.ok) throw badRequest(order.error);
  return { paging, filter: filter.value, order: order.value };
}

// Answers

/** Answers `value` as JSON (a number stays a bare JSON number, as MailUp answers ids). */
export function sendJson(reply: FastifyReply, value: unknown, status = 200): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(value));
}

/** Answers 200 with no body: what MailUp answers to deletions and subscriptions (clients read the status only). */
export function sendOk(reply: FastifyReply): FastifyReply {
  return reply.code(200).send();
}

// JSON bodies

export type JsonObject = Readonly<Record<string, unknown>>;

/** The body as a JSON object; 400 when it is missing, not JSON (the parser refused it before) or not an object. */
export function jsonObjectBody(request: FastifyRequest, what: string): JsonObject {
  const body: unknown = request.body;
  if (body === undefined || body === null) throw badRequest(`The request body is empty; expected ${what} as a JSON object.`);
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest(`The request body must be ${what} as a JSON object, not ${describeJson(body)}.`);
  return body as JsonObject;
}

/** How a JSON value is named in messages: `an array`, `a string`, `null`… */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The members of a body object, each looked up in its expected spelling without regard to case.
 * `known` lists the members the call reads; `ignored` those accepted and not read (the read-only
 * members of an object a client sends back as it got it). Any other member is refused, naming it:
 * a misspelt member is a 400, never silently dropped.
 */
export function bodyMembers(body: JsonObject, known: readonly string[], ignored: readonly string[] = []): Map<string, unknown> {
  const byLower = new Map([...known, ...ignored].map((name) => [name.toLowerCase(), name]));
  const found = new Map<string, unknown>();
  for (const [key, value] of Object.entries(body)) {
    const name = byLower.get(key.toLowerCase());
    if (name === undefined) throw badRequest(`Unknown member "${key}" in the request body; expected ${known.join(', ')}.`);
    if (found.has(name)) throw badRequest(`The member ${name} is given twice in the request body.`);
    found.set(name, value);
  }
  for (const name of ignored) found.delete(name);
  return found;
}

/** A string member: its value, null when absent or JSON null; 400 for another type. */
export function stringMember(members: ReadonlyMap<string, unknown>, name: string): string | null {
  const value = members.get(name);
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw badRequest(`${name} must be a string, not ${describeJson(value)}.`);
  return value;
}

/** A boolean member: its value, null when absent or JSON null; 400 for another type. */
export function booleanMember(members: ReadonlyMap<string, unknown>, name: string): boolean | null {
  const value = members.get(name);
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw badRequest(`${name} must be true or false, not ${describeJson(value)}.`);
  return value;
}
