/**
 * Reading the REST API's JSON answers into the client's types: the paging envelope, bare ids,
 * and MailUp's `yyyy-MM-dd HH:mm:ss.fff` dates (written in the account's time zone, like the SOAP
 * dates) as `Date`. An answer that is not the shape a call expects is an AnswerShapeError, which
 * the client reports as a TransportError `invalid-response`.
 */
import { zonedTime } from '../result-parser.ts';
import type { RestImportDetail, RestImportStatus, RestPage, RestRecipientItem } from './types.ts';

/** The answer does not have the shape the call expects. */
export class AnswerShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnswerShapeError';
  }
}

const REST_DATE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A REST date (`2020-01-27 10:38:00.000`, also with a `T`, without seconds or fraction, or a bare
 * `2020-01-27`) as the instant it names in `timeZone`; an empty string or null is null.
 *
 * @example
 * ```ts
 * parseRestDate('2025-03-01 10:00:01.250', 'Europe/Rome'); // 2025-03-01T09:00:01.250Z
 * ```
 */
export function parseRestDate(raw: unknown, timeZone: string): Date | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'string') throw new AnswerShapeError(`a date must be a string, not ${typeof raw}`);
  const text = raw.trim();
  if (text === '') return null;
  const m = REST_DATE.exec(text) ?? DATE_ONLY.exec(text);
  if (!m) throw new AnswerShapeError(`"${text.slice(0, 40)}" is not a yyyy-MM-dd HH:mm:ss.fff date`);
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    throw new AnswerShapeError(`"${text}" is not a valid date`);
  }
  const fraction = m[7] ?? '';
  const ms = fraction === '' ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  return new Date(zonedTime(year, month, day, hour, minute, second, timeZone).getTime() + ms);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON text of an answer, parsed; an empty body is undefined. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AnswerShapeError(`the answer is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
}

/** A bare id (`16`), as MailUp answers creation calls; a string of digits is read too. */
export function readId(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new AnswerShapeError(`${what}: expected a number, got ${JSON.stringify(value)?.slice(0, 80) ?? 'nothing'}`);
  }
  return n;
}

/** An object answer. */
export function readObject(value: unknown, what: string): Record<string, unknown> {
  if (!isObject(value)) throw new AnswerShapeError(`${what}: expected a JSON object, got ${JSON.stringify(value)?.slice(0, 80) ?? 'nothing'}`);
  return value;
}

/** The paging envelope, each item read by `item`. */
export function readPage<T>(value: unknown, what: string, item: (raw: unknown) => T): RestPage<T> {
  const o = readObject(value, what);
  if (!Array.isArray(o.Items)) throw new AnswerShapeError(`${what}: the answer has no Items array`);
  const count = (name: string, fallback: number): number => (typeof o[name] === 'number' ? (o[name] as number) : fallback);
  const items = o.Items.map(item);
  return {
    IsPaginated: o.IsPaginated === true,
    Items: items,
    PageNumber: count('PageNumber', 0),
    PageSize: count('PageSize', items.length),
    Skipped: count('Skipped', 0),
    TotalElementsCount: count('TotalElementsCount', items.length),
  };
}

/** An item of a collection, kept as it came after a check that it is an object. */
export const asItem = <T>(what: string) => (raw: unknown): T => readObject(raw, what) as unknown as T;

const RECIPIENT_DATES = ['Optin_Date', 'Optin_Request_Date', 'Optout_Date'] as const;

/** A recipient of a list by state, its dates read in `timeZone`. */
export function readRecipientItem(raw: unknown, timeZone: string): RestRecipientItem {
  const o = { ...readObject(raw, 'a recipient') };
  for (const name of RECIPIENT_DATES) if (name in o) o[name] = parseRestDate(o[name], timeZone);
  if (typeof o.idRecipient !== 'number') throw new AnswerShapeError(`a recipient has no idRecipient: ${JSON.stringify(raw).slice(0, 120)}`);
  return o as unknown as RestRecipientItem;
}

const STATUS_COUNTS = ['CreatedRecipients', 'UpdatedRecipients', 'ValidRecipients', 'NotValidRecipients', 'ImportedRecipients'] as const;

/** `GET Import/{id}`: the counts as numbers (a missing one is 0), `Completed` as a boolean. */
export function readImportStatus(raw: unknown): RestImportStatus {
  const o = readObject(raw, 'the import status');
  const idImport = readId(o.idImport ?? o.IdImport, 'the import status idImport');
  if (typeof o.Completed !== 'boolean') throw new AnswerShapeError(`the import status has no Completed boolean: ${JSON.stringify(raw).slice(0, 160)}`);
  const counts = Object.fromEntries(STATUS_COUNTS.map((name) => {
    const v = o[name];
    if (v !== undefined && v !== null && typeof v !== 'number') throw new AnswerShapeError(`the import status ${name} is not a number`);
    return [name, typeof v === 'number' ? v : 0];
  })) as Record<(typeof STATUS_COUNTS)[number], number>;
  return { idImport, Completed: o.Completed, ...counts };
}

/** `GET Imports/{id}`: the detail with its dates read in `timeZone`. */
export function readImportDetail(raw: unknown, timeZone: string): RestImportDetail {
  const o = readObject(raw, 'the import detail');
  return {
    ...(o as object),
    IdImport: readId(o.IdImport ?? o.idImport, 'the import detail IdImport'),
    IdList: readId(o.IdList ?? o.idList, 'the import detail IdList'),
    IdGroups: Array.isArray(o.IdGroups) ? o.IdGroups.map((g) => readId(g, 'the import detail IdGroups')) : [],
    StartDate: parseRestDate(o.StartDate, timeZone),
    EndDate: parseRestDate(o.EndDate, timeZone),
    StatusCode: readId(o.StatusCode, 'the import detail StatusCode'),
  } as RestImportDetail;
}
