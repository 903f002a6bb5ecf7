/**
 * Reads the body of MailUp's REST bulk import (`POST Console/List/{id}/Recipients`) as it streams
 * in: a JSON array of recipient objects, handed on as feed rows, the same rows a SOAP feed gives.
 *
 *   [{"Name": "Ann", "Email": "ann@example.com", "MobileNumber": "3331234567", "MobilePrefix": "+39",
 *     "Fields": [{"Id": 1, "Value": "Ann", "Description": "nome"}]}, …]
 *
 * How: a small scanner walks the bytes only far enough to find where each element of the top-level
 * array begins and ends (strings, escapes and bracket depth), and each element is then decoded
 * (UTF-8, refused when invalid) and parsed by V8's own JSON.parse, which checks it strictly. The
 * separators between elements are checked by the scanner, so the body as a whole is valid JSON
 * exactly when every element parses. Only the element being read is held, never the body
 * (docs/decisions.md, "REST bulk import: a scanner and JSON.parse per element").
 *
 * What is a whole-request error (JsonFeedError, the caller answers 400 and stores nothing):
 * anything that is not JSON, a top level that is not an array, an element that is not an object,
 * a member of the wrong type, a field Id outside 1..39 (`maxFieldId`) or given twice, a Value longer than
 * 200 characters, an unknown member (member names are matched without regard to case, as every
 * REST body is read), an element larger than MAX_ELEMENT_BYTES, more rows than the cap. What is left
 * to the import engine's row rules (a rejected row, reported like a SOAP reject, the call still
 * succeeds, spec 2.7): an invalid or missing e-mail address or mobile number. `idRecipient` and
 * the read-only members of a recipient read back from the API are accepted and ignored.
 */
import type { FeedRow } from '../model/records.ts';
import { FeedError, MAX_VALUE_LENGTH } from './feed-reader.ts';

/** Thrown for a body the import cannot take; the message names the element and what is wrong. */
export class JsonFeedError extends FeedError {
  constructor(message: string) {
    super(message);
    this.name = 'JsonFeedError';
  }
}

/** Longest `Fields[].Value` (spec 2.5: MailUp's fields are nvarchar(200)). */
export const MAX_REST_FIELD_LENGTH = 200;
/**
 * Largest element (one recipient) in bytes. A recipient with 39 fields of 200 characters, each
 * written as `\uXXXX` escapes, is under 50 KB; anything far larger is not a recipient, and this
 * bound keeps a hostile element from growing without limit.
 */
export const MAX_ELEMENT_BYTES = 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** What a value starting with byte `b` is, for messages. */
function kindAt(b: number): string {
  if (b === OPEN_OBJECT) return 'an object';
  if (b === OPEN_ARRAY) return 'an array';
  if (b === QUOTE) return 'a string';
  if (b === 0x2d || (b >= 0x30 && b <= 0x39)) return 'a number';
  if (b === 0x74 || b === 0x66) return 'a boolean';
  if (b === 0x6e) return 'null';
  return b >= 0x20 && b < 0x7f ? `the character '${String.fromCharCode(b)}'` : `the byte 0x${b.toString(16).padStart(2, '0')}`;
}

/** A JSON value's type, for messages. */
function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return `the number ${v}`;
  return `the boolean ${String(v)}`;
}

type Phase = 'start' | 'first-value' | 'value' | 'element' | 'after-value' | 'done';

export interface JsonFeedReaderOptions {
  /** Highest `Fields[].Id` (MailUp's 39: src/core/dynamic-fields.ts); ids run from 1. */
  readonly maxFieldId: number;
  /** Most rows taken; one more is a JsonFeedError naming the cap. */
  readonly maxRows?: number;
}

export class JsonFeedReader {
  private phase: Phase = 'start';
  /** Bytes seen before the first non-white-space one: a UTF-8 byte-order mark is skipped there. */
  private leading = 0;
  private sawContent = false;
  private depth = 0;
  private inString = false;
  /** The previous chunk ended on a backslash inside a string: the next byte is escaped. */
  private escapePending = false;
  private pieces: Buffer[] = [];
  private elementBytes = 0;
  private count = 0;
  /** Bytes of the body read so far, for messages about separators. */
  private offset = 0;
  private rows: FeedRow[] = [];
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly maxRows: number;
  private readonly maxFieldId: number;

  constructor(options: JsonFeedReaderOptions) {
    this.maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
    this.maxFieldId = options.maxFieldId;
  }

  /** True while nothing but white space (and a byte-order mark) was written. */
  get empty(): boolean {
    return !this.sawContent;
  }

  get rowCount(): number {
    return this.count;
  }

  /** The rows completed so far, once each. */
  take(): FeedRow[] {
    const rows = this.rows;
    this.rows = [];
    return rows;
  }

  write(chunk: Buffer): void {
    let i = 0;
    const len = chunk.length;
    if (this.phase === 'start' && this.leading < 3) i = this.skipByteOrderMark(chunk);
    while (i < len) {
      if (this.phase === 'element') {
        i = this.scanElement(chunk, i);
        continue;
      }
      const b = chunk[i]!;
      if (isWhitespace(b)) {
        i++;
        continue;
      }
      this.sawContent = true;
      switch (this.phase) {
        case 'start':
          if (b !== OPEN_ARRAY) {
            throw new JsonFeedError(`The body must be a JSON array of recipients, [{"Email": …}, …]; it starts with ${kindAt(b)}.`);
          }
          this.phase = 'first-value';
          i++;
          break;
        case 'first-value':
        case 'value':
          if (b === CLOSE_ARRAY && this.phase === 'first-value') {
            this.phase = 'done';
            i++;
            break;
          }
          if (b === CLOSE_ARRAY) throw new JsonFeedError(`The body is not valid JSON: a comma after element ${this.count - 1} is followed by ']'.`);
          if (b !== OPEN_OBJECT) throw new JsonFeedError(`Element ${this.count} of the array is ${kindAt(b)}, not a recipient object.`);
          if (this.count >= this.maxRows) throw new JsonFeedError(`The body holds more than ${this.maxRows} recipients, the most one import takes.`);
          // The element starts here: the loop goes on in scanElement, which counts this brace.
          this.phase = 'element';
          this.depth = 0;
          this.inString = false;
          this.elementBytes = 0;
          break;
        case 'after-value':
          if (b === COMMA) this.phase = 'value';
          else if (b === CLOSE_ARRAY) this.phase = 'done';
          else throw new JsonFeedError(`The body is not valid JSON: after element ${this.count - 1} comes ${kindAt(b)} (at byte ${this.offset + i}), not ',' or ']'.`);
          i++;
          break;
        case 'done':
          throw new JsonFeedError(`The body is not valid JSON: ${kindAt(b)} follows the end of the array (at byte ${this.offset + i}).`);
      }
    }
    this.offset += len;
  }

  /** Checks that the body was a complete array. */
  end(): void {
    if (this.escapePending || this.phase === 'element') {
      throw new JsonFeedError(`The body ended inside element ${this.count} of the array: the JSON is cut short.`);
    }
    if (this.phase === 'start') throw new JsonFeedError('The body is empty: it must be a JSON array of recipients, [{"Email": …}, …].');
    if (this.phase !== 'done') throw new JsonFeedError('The body ended before the array was closed with \']\': the JSON is cut short.');
    if (this.count === 0) throw new JsonFeedError('The body is an empty array: there is no recipient to import.');
  }

  private skipByteOrderMark(chunk: Buffer): number {
    const bom = [0xef, 0xbb, 0xbf];
    let i = 0;
    while (i < chunk.length && this.leading < 3 && chunk[i] === bom[this.leading]) {
      i++;
      this.leading++;
    }
    if (this.leading > 0 && this.leading < 3 && i < chunk.length) {
      throw new JsonFeedError('The body is not valid UTF-8 JSON: it starts with part of a byte-order mark.');
    }
    if (i < chunk.length || this.leading === 0) this.leading = 3;
    return i;
  }

  /** Scans element bytes from `i`; returns where it stopped (the end of the chunk, or past the element). */
  private scanElement(chunk: Buffer, i: number): number {
    const start = i;
    const len = chunk.length;
    // The next backslash at or after i, found once per chunk and again only once passed, so that
    // strings without escapes cost one indexOf for their closing quote.
    let backslash = -2;
    while (i < len) {
      if (this.inString) {
        if (this.escapePending) {
          this.escapePending = false;
          i++;
          continue;
        }
        const quote = chunk.indexOf(QUOTE, i);
        if (backslash !== -1 && backslash < i) backslash = chunk.indexOf(BACKSLASH, i);
        if (backslash !== -1 && (quote === -1 || backslash < quote)) {
          if (backslash + 1 >= len) {
            this.escapePending = true;
            i = len;
          } else {
            i = backslash + 2;
          }
          continue;
        }
        if (quote === -1) {
          i = len;
          break;
        }
        this.inString = false;
        i = quote + 1;
        continue;
      }
      const b = chunk[i]!;
      i++;
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN_OBJECT || b === OPEN_ARRAY) this.depth++;
      else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        if (--this.depth === 0) {
          this.keep(chunk.subarray(start, i));
          this.completeElement();
          return i;
        }
      }
    }
    this.keep(chunk.subarray(start, i));
    return i;
  }

  private keep(piece: Buffer): void {
    this.elementBytes += piece.length;
    if (this.elementBytes > MAX_ELEMENT_BYTES) {
      throw new JsonFeedError(`Element ${this.count} of the array is larger than ${MAX_ELEMENT_BYTES / 1024 / 1024} MiB: it is not a recipient.`);
    }
    if (piece.length > 0) this.pieces.push(piece);
  }

  private completeElement(): void {
    const index = this.count;
    const bytes = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.elementBytes);
    this.pieces = [];
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      throw new JsonFeedError(`Element ${index} of the array is not valid UTF-8.`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new JsonFeedError(`Element ${index} of the array is not valid JSON: ${(err as Error).message}.`);
    }
    this.rows.push({ row: index + 1, ...recipientValues(value, `Element ${index}`, this.maxFieldId) });
    this.count++;
    this.phase = 'after-value';
  }
}

/** The members a recipient object may carry: read, and ignored (read-only members of a recipient read back from the API). */
const RECIPIENT_MEMBERS = ['Name', 'Email', 'MobileNumber', 'MobilePrefix', 'Fields'] as const;
const IGNORED_RECIPIENT_MEMBERS = [
  'idRecipient', 'Status', 'Optin_Date', 'Optin_Request_Date', 'Optin_Request_IP', 'Optout_Date', 'Optout_MsgID', 'Optout_Subtype', 'Optout_Type',
] as const;
const FIELD_MEMBERS = ['Id', 'Value', 'Description'] as const;

/** Each name by its lower-case form, and by itself (the spelling clients send, found without lower-casing). */
const lowerCaseNames = (names: readonly string[]): ReadonlyMap<string, string> => new Map(names.flatMap((n) => [[n, n], [n.toLowerCase(), n]]));
const RECIPIENT_NAMES = lowerCaseNames([...RECIPIENT_MEMBERS, ...IGNORED_RECIPIENT_MEMBERS]);
const FIELD_NAMES = lowerCaseNames(FIELD_MEMBERS);
const IGNORED = new Set<string>(IGNORED_RECIPIENT_MEMBERS);

/**
 * The members of an object by their expected spelling, matched without regard to case as the
 * REST API reads every body (src/rest/request.ts bodyMembers); an unknown member, or one given
 * twice, is refused with its name.
 */
function membersOf(object: Record<string, unknown>, names: ReadonlyMap<string, string>, where: string, expected: readonly string[]): Map<string, unknown> {
  const found = new Map<string, unknown>();
  for (const key in object) {
    const name = names.get(key) ?? names.get(key.toLowerCase());
    if (name === undefined) throw new JsonFeedError(`${where}: unknown member "${key}"; expected ${expected.join(', ')}.`);
    if (found.has(name)) throw new JsonFeedError(`${where}: the member ${name} is given twice.`);
    found.set(name, object[key]);
  }
  return found;
}

/** A string member: absent or null is '', a string is kept (cut at MAX_VALUE_LENGTH, as the XML feed does). */
function stringMember(members: ReadonlyMap<string, unknown>, name: string, where: string): string {
  const v = members.get(name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new JsonFeedError(`${where}: ${name} must be a string or null, not ${typeOf(v)}.`);
  return v.length > MAX_VALUE_LENGTH ? v.slice(0, MAX_VALUE_LENGTH) : v;
}

/**
 * The values of one recipient object (spec 2.5), as a feed row holds them: the one reading of a
 * recipient of the REST API, for the bulk import (each element) and any call that takes one.
 * Values stay raw: the row rules (e-mail and mobile checks, trimming, empty values) are the import
 * engine's, as for a SOAP feed. The mobile number is kept as MobilePrefix + MobileNumber (imports
 * over REST run with mobileInputType 2). Member names are matched without regard to case;
 * `idRecipient` and the read-only members of a recipient read back from the API are ignored; any
 * other member is refused. `where` starts each message (`Element 17`, `The recipient`).
 */
export function recipientValues(value: unknown, where: string, maxFieldId: number): Omit<FeedRow, 'row'> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JsonFeedError(`${where} is ${typeOf(value)}, not a recipient object.`);
  }
  const members = membersOf(value as Record<string, unknown>, RECIPIENT_NAMES, where, RECIPIENT_MEMBERS);
  for (const name of IGNORED) members.delete(name);
  const fields: Record<number, string> = {};
  const list = members.get('Fields');
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) throw new JsonFeedError(`${where}: Fields must be an array of {"Id", "Value"} objects, not ${typeOf(list)}.`);
    list.forEach((field: unknown, f) => {
      const at = `${where}: Fields[${f}]`;
      if (typeof field !== 'object' || field === null || Array.isArray(field)) {
        throw new JsonFeedError(`${at} must be an object {"Id", "Value"}, not ${typeOf(field)}.`);
      }
      const m = membersOf(field as Record<string, unknown>, FIELD_NAMES, at, FIELD_MEMBERS);
      const id = m.get('Id');
      const raw = m.get('Value');
      const description = m.get('Description');
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > maxFieldId) {
        throw new JsonFeedError(`${at}.Id must be a whole number from 1 to ${maxFieldId}, not ${id === undefined ? 'missing' : typeOf(id)}.`);
      }
      if (description !== undefined && description !== null && typeof description !== 'string') {
        throw new JsonFeedError(`${at}.Description must be a string, not ${typeOf(description)}.`);
      }
      let text: string;
      if (raw === undefined || raw === null) text = '';
      else if (typeof raw === 'string') text = raw;
      // A number is taken as written (clients that keep a ZIP code or an age as a number).
      else if (typeof raw === 'number') text = String(raw);
      else throw new JsonFeedError(`${at}.Value must be a string, not ${typeOf(raw)}.`);
      if (text.length > MAX_REST_FIELD_LENGTH) {
        throw new JsonFeedError(`${at}.Value is ${text.length} characters long; a field holds at most ${MAX_REST_FIELD_LENGTH}.`);
      }
      if (id in fields) throw new JsonFeedError(`${at}.Id ${id} is given twice for this recipient.`);
      fields[id] = text;
    });
  }
  return {
    email: stringMember(members, 'Email', where),
    prefix: stringMember(members, 'MobilePrefix', where),
    number: stringMember(members, 'MobileNumber', where),
    name: stringMember(members, 'Name', where),
    fields,
  };
}
