/**
 * Reading `<mailupMessage>` result strings into typed values, one parser per operation. Written
 * for MailUp's documented shapes (spec §4–§13) and the variants real clients meet: booleans in
 * any case or as 1/0/-1, dates with dots or colons (or the old `yyyy-MM-dd`), one `<process>` per
 * started process or several triplets in one, IdUser as an element or as the ReturnCode.
 */
import { MailUpReturnCodeError, describeReturnCode } from './errors.ts';
import type { OperationName } from './generated/operations.ts';
import { XmlReadError, attributeOf, childElement, childElements, findElement, readXml, textOf, type XmlElement } from './xml-reader.ts';

/** A result string that cannot be read as the operation's result. */
export class InvalidResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidResultError';
  }
}

/** A group of a list, as GetNlLists returns it. */
export interface MailUpGroup {
  readonly idGroup: number;
  readonly groupName: string;
}

/** A list with its groups, as GetNlLists returns it. */
export interface MailUpList {
  readonly idList: number;
  readonly listGUID: string;
  readonly listName: string;
  readonly groups: readonly MailUpGroup[];
}

/** One process StartImportProcesses started. */
export interface StartedProcess {
  readonly idProcess: number;
  readonly idList: number;
}

/** `StatusCode` of GetProcessDetails by name: 1 waiting to run, 2 running, 3 completed, 4 failed. */
export type ProcessStatus = 'waiting' | 'running' | 'completed' | 'failed' | 'unknown';

/** StatusCode → {@link ProcessStatus}; any other code reads as `'unknown'`. */
export const PROCESS_STATUS_BY_CODE: Readonly<Record<number, ProcessStatus>> = { 1: 'waiting', 2: 'running', 3: 'completed', 4: 'failed' };

/** Whether a process will not change any more. */
export const isFinished = (status: ProcessStatus): boolean => status === 'completed' || status === 'failed';

/** GetProcessDetails, read. Counters are per channel, as MailUp reports them. */
export interface ProcessDetails {
  readonly idProcess: number;
  /** When the process started, in the endpoint's time zone; null before it started. */
  readonly startDate: Date | null;
  /** When it finished; null while it has not. */
  readonly endDate: Date | null;
  /** Rows of the feed. */
  readonly totalContacts: number;
  readonly newEmail: number;
  readonly newMobile: number;
  readonly existingEmail: number;
  readonly existingMobile: number;
  readonly optOutEmail: number;
  readonly optOutMobile: number;
  readonly statusCode: number;
  readonly status: ProcessStatus;
  readonly isRunning: boolean;
  /** Whether the import asked for double opt-in (ConfirmEmail). */
  readonly confirmationEmail: boolean;
  /** null when no confirmation was asked for; false while the requests wait; true once sent. */
  readonly confirmationSent: boolean | null;
}

/** What each operation's method resolves to. */
export interface OperationResults {
  GetIdWsUser: number;
  GetIdUser: number;
  GetNlLists: MailUpList[];
  GetNlListsUser: MailUpList[];
  NewImportProcess: number;
  StartImportProcesses: StartedProcess[];
  CreateGroup: number;
  GetProcessDetails: ProcessDetails;
  StartProcess: void;
}

export interface ParseContext {
  /** The IANA time zone result dates are written in. */
  readonly timeZone: string;
}

interface MailupBody {
  readonly returnCode: number;
  readonly body: XmlElement;
}

type ResultParser<Op extends OperationName> = (message: MailupBody, ctx: ParseContext, operation: Op) => OperationResults[Op];

const integer = (raw: string, what: string): number => {
  const t = raw.trim();
  if (!/^-?\d+$/.test(t)) throw new InvalidResultError(`${what} is not a number: "${raw.slice(0, 40)}"`);
  return Number(t);
};

/** Booleans as .NET writes them (`True`), and as the ASP client reads them (1, -1, 0). */
function boolean(raw: string, what: string): boolean {
  const t = raw.trim().toLowerCase();
  if (t === 'true' || t === '1' || t === '-1') return true;
  if (t === 'false' || t === '0') return false;
  throw new InvalidResultError(`${what} is not a boolean: "${raw.slice(0, 40)}"`);
}

/** Reads the result string: the first ReturnCode inside mailupBody, and the body itself. */
export function readMailupMessage(result: string): MailupBody {
  let root: XmlElement;
  try {
    root = readXml(result, { lenient: true });
  } catch (err) {
    throw new InvalidResultError(`the result string is not XML: ${err instanceof XmlReadError ? err.message : String(err)}`);
  }
  const body = findElement(root, 'mailupBody');
  const code = body ? childElement(body, 'ReturnCode') : undefined;
  if (!body || !code) throw new InvalidResultError('the result string has no mailupBody/ReturnCode');
  return { returnCode: integer(textOf(code), 'ReturnCode'), body };
}

function lists({ body }: MailupBody): MailUpList[] {
  const container = childElement(body, 'Lists');
  if (!container) return [];
  return childElements(container, 'List').map((list) => ({
    idList: integer(attributeOf(list, 'idList') ?? '', 'idList'),
    listGUID: attributeOf(list, 'listGUID') ?? '',
    listName: attributeOf(list, 'listName') ?? '',
    groups: childElements(list).flatMap((holder) => childElements(holder, 'Group')).map((group) => ({
      idGroup: integer(attributeOf(group, 'idGroup') ?? '', 'idGroup'),
      groupName: attributeOf(group, 'groupName') ?? '',
    })),
  }));
}

/** `<IdUser>` when present; otherwise the ReturnCode is the id, as create-style methods answer. */
function idUser({ returnCode, body }: MailupBody): number {
  const element = childElement(body, 'IdUser');
  return element ? integer(textOf(element), 'IdUser') : returnCode;
}

/**
 * `<processes>`: one `<process>` per process, or (as the Magento module's comment shows)
 * several processID/listID/ReturnCode triplets inside one; read in document order.
 */
function processes({ body }: MailupBody, _ctx: ParseContext, operation: OperationName): StartedProcess[] {
  const container = childElement(body, 'processes');
  if (!container) return [];
  const started: { idProcess: number; idList: number; returnCode: number }[] = [];
  for (const item of childElements(container).flatMap((process) => childElements(process))) {
    const value = textOf(item);
    const name = item.localName.toLowerCase();
    if (name === 'processid') started.push({ idProcess: integer(value, 'processID'), idList: 0, returnCode: 0 });
    else if (name === 'listid' && started.length > 0) started[started.length - 1]!.idList = integer(value, 'listID');
    else if (name === 'returncode' && started.length > 0) started[started.length - 1]!.returnCode = integer(value, 'ReturnCode');
  }
  const failed = started.find((p) => p.returnCode < 0);
  if (failed) {
    throw new MailUpReturnCodeError({
      operation, returnCode: failed.returnCode, meaning: describeReturnCode(failed.returnCode), idProcess: failed.idProcess,
    });
  }
  return started.map(({ idProcess, idList }) => ({ idProcess, idList }));
}

function processDetails({ body }: MailupBody, ctx: ParseContext): ProcessDetails {
  const process = childElement(body, 'ImportProcess');
  if (!process) throw new InvalidResultError('the result has no ImportProcess');
  const field = (name: string): string | null => {
    const element = childElement(process, name);
    return element ? textOf(element).trim() : null;
  };
  const count = (name: string): number => {
    const value = field(name);
    return value === null || value === '' ? 0 : integer(value, name);
  };
  const statusCode = count('StatusCode');
  const status = PROCESS_STATUS_BY_CODE[statusCode] ?? 'unknown';
  const flag = (name: string, missing: boolean): boolean => {
    const value = field(name);
    return value === null || value === '' ? missing : boolean(value, name);
  };
  const sent = field('ConfirmationSent');
  return {
    idProcess: integer(attributeOf(process, 'idProcess') ?? '', 'idProcess'),
    startDate: parseMailUpDate(field('StartDate') ?? '', ctx.timeZone),
    endDate: parseMailUpDate(field('EndDate') ?? '', ctx.timeZone),
    totalContacts: count('TotalContacts'),
    newEmail: count('NewEmail'),
    newMobile: count('NewMobile'),
    existingEmail: count('ExistingEmail'),
    existingMobile: count('ExistingMobile'),
    optOutEmail: count('OptOutEmail'),
    optOutMobile: count('OptOutMobile'),
    statusCode,
    status,
    // Older consoles omit IsRunning and ConfirmationEmail (spec §12.2).
    isRunning: flag('IsRunning', status === 'running'),
    confirmationEmail: flag('ConfirmationEmail', false),
    confirmationSent: sent === null || sent === '' ? null : boolean(sent, 'ConfirmationSent'),
  };
}

const returnCodeAsId = ({ returnCode }: MailupBody): number => returnCode;

/** The result half of the protocol, one parser per operation; a 10th operation will not compile without one. */
export const RESULT_PARSERS: { readonly [Op in OperationName]: ResultParser<Op> } = {
  GetIdWsUser: idUser,
  GetIdUser: idUser,
  GetNlLists: lists,
  GetNlListsUser: lists,
  NewImportProcess: returnCodeAsId,
  StartImportProcesses: processes,
  CreateGroup: returnCodeAsId,
  GetProcessDetails: processDetails,
  StartProcess: () => undefined,
};

/**
 * Reads an operation's result string: throws MailUpReturnCodeError for a negative ReturnCode,
 * InvalidResultError for a document that is not the operation's result.
 */
export function parseResult<Op extends OperationName>(operation: Op, result: string, ctx: ParseContext): OperationResults[Op] {
  const message = readMailupMessage(result);
  if (message.returnCode < 0) {
    throw new MailUpReturnCodeError({
      operation, returnCode: message.returnCode, meaning: describeReturnCode(message.returnCode), idProcess: null,
    });
  }
  return (RESULT_PARSERS[operation] as ResultParser<Op>)(message, ctx, operation);
}

const DAY_FIRST = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2})[.:](\d{1,2})(?:[.:](\d{1,2}))?)?$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T\s](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * Reads a MailUp date (`30/10/2012 15.39.12`; colons and the old `2008-01-16` too) as a wall
 * time in `timeZone`. Empty means no date (null); anything else unreadable is an error.
 */
export function parseMailUpDate(raw: string, timeZone: string): Date | null {
  const text = raw.trim();
  if (text === '') return null;
  let parts: number[];
  const day = DAY_FIRST.exec(text);
  const iso = day ? null : ISO_DATE.exec(text);
  if (day) parts = [day[3], day[2], day[1], day[4], day[5], day[6]].map((p) => Number(p ?? 0));
  else if (iso) parts = iso.slice(1).map((p) => Number(p ?? 0));
  else throw new InvalidResultError(`"${text.slice(0, 40)}" is not a date`);
  const [year, month, dayOfMonth, hour, minute, second] = parts as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > 31 || hour > 23 || minute > 59 || second > 59) {
    throw new InvalidResultError(`"${text}" is not a valid date`);
  }
  return zonedTime(year, month, dayOfMonth, hour, minute, second, timeZone);
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** How far `timeZone` is ahead of UTC at the instant `utcMs`, in milliseconds. */
function zoneOffset(utcMs: number, timeZone: string): number {
  let format = offsetFormatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    offsetFormatters.set(timeZone, format);
  }
  const p: Record<string, number> = {};
  for (const { type, value } of format.formatToParts(new Date(utcMs))) p[type] = Number(value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/**
 * The instant a wall-clock time in `timeZone` names. In the autumn hour that happens twice the
 * earlier one is taken; a time skipped in spring is read with the offset before the change.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, second: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const before = zoneOffset(wall - 86_400_000, timeZone);
  const after = zoneOffset(wall + 86_400_000, timeZone);
  // Try both offsets of the day; a candidate is right when the zone agrees with it at that instant.
  for (const offset of before >= after ? [before, after] : [after, before]) {
    if (zoneOffset(wall - offset, timeZone) === offset) return new Date(wall - offset);
  }
  return new Date(wall - before);
}
