/**
 * Reads a subscribers feed (spec §8) as it streams in and hands on its rows in batches:
 *
 *   <subscribers><subscriber email="…" Prefix="…" Number="…" Name="…"><campo1>…</campo1>…</subscriber>…</subscribers>
 *
 * Tolerant as real clients need (spec §8.3): missing attributes are empty, CDATA is kept,
 * `campo0` and unknown elements are ignored. Strict where it matters: the feed must be well-formed
 * XML (otherwise the caller answers -402), no DTD, bounded depth and value sizes. Rows are kept
 * raw; rules and normalisation happen when the process runs.
 */
import { XmlSyntaxError, XmlTokenizer, type XmlHandler } from '../xml/tokenizer.ts';
import type { FeedRow } from '../model/records.ts';

export class FeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedError';
  }
}

/** Highest campo number kept; MailUp consoles have far fewer personal-data fields. */
export const MAX_FIELD_NUMBER = 200;
/**
 * Longest value kept per attribute or field. The documented limits are far lower (50 for an
 * e-mail, 100/200 for a field), so longer values are cut here and rejected by the row rules,
 * while a hostile multi-megabyte value never sits in memory.
 */
export const MAX_VALUE_LENGTH = 4096;

const NOT_XML_WHITESPACE = /[^ \t\r\n]/;

/** `s` cut to MAX_VALUE_LENGTH, never between the two halves of a surrogate pair. */
function bounded(s: string): string {
  if (s.length <= MAX_VALUE_LENGTH) return s;
  const last = s.charCodeAt(MAX_VALUE_LENGTH - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? MAX_VALUE_LENGTH - 1 : MAX_VALUE_LENGTH);
}

/** The field number of a `campoN` element, or null for anything else (`campo0` included). */
function fieldNumber(name: string): number | null {
  // campo followed by one to four digits.
  if (name.length < 6 || name.length > 9 || !name.startsWith('campo')) return null;
  let n = 0;
  for (let i = 5; i < name.length; i++) {
    const digit = name.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return null;
    n = n * 10 + digit;
  }
  return n >= 1 && n <= MAX_FIELD_NUMBER ? n : null;
}

/** A row while its element is open; `row` is set when it closes. */
interface OpenRow {
  row: number;
  email: string;
  prefix: string;
  number: string;
  name: string;
  fields: Record<number, string>;
}

function openRow(attrs: readonly string[]): OpenRow {
  const row: OpenRow = { row: 0, email: '', prefix: '', number: '', name: '', fields: {} };
  for (let i = 0; i < attrs.length; i += 2) {
    switch (attrs[i]) {
      case 'email': row.email = bounded(attrs[i + 1]!); break;
      case 'Prefix': row.prefix = bounded(attrs[i + 1]!); break;
      case 'Number': row.number = bounded(attrs[i + 1]!); break;
      case 'Name': row.name = bounded(attrs[i + 1]!); break;
    }
  }
  return row;
}

class FeedHandler implements XmlHandler {
  private depth = 0;
  private current: OpenRow | null = null;
  private field: number | null = null;
  private value = '';
  /** The field's value reached MAX_VALUE_LENGTH: the rest of its text is dropped. */
  private full = false;
  rows: FeedRow[] = [];
  count = 0;

  onOpen(name: string, attrs: string[]): void {
    const depth = ++this.depth;
    if (depth === 3) {
      if (this.current !== null) {
        this.field = fieldNumber(name);
        this.value = '';
        this.full = false;
      }
    } else if (depth === 2) {
      if (name === 'subscriber') this.current = openRow(attrs);
    } else if (depth === 1 && name !== 'subscribers') {
      throw new FeedError(`the feed's root element is <${name}>, not <subscribers>`);
    }
  }

  onText(text: string): void {
    // Text of a field, also when split over several events; anything past the limit is dropped
    // as it arrives, so a hostile value never accumulates.
    if (this.depth === 3 && this.field !== null && !this.full) {
      const value = this.value + text;
      this.full = value.length >= MAX_VALUE_LENGTH;
      this.value = bounded(value);
    }
  }

  onClose(): void {
    const depth = this.depth--;
    if (depth === 3) {
      if (this.field !== null) {
        this.current!.fields[this.field] = this.value;
        this.field = null;
        this.value = '';
      }
    } else if (depth === 2 && this.current !== null) {
      this.current.row = ++this.count;
      this.rows.push(this.current);
      this.current = null;
    }
  }
}

/**
 * Parses feed text pushed in pieces. `take()` returns the rows completed so far; `end()` checks
 * the document is complete. Errors are FeedError with a plain reason.
 */
export class FeedReader {
  private readonly handler = new FeedHandler();
  private readonly tokenizer = new XmlTokenizer(this.handler, { maxDepth: 16, maxMarkupLength: 1 << 20 });
  private sawText = false;

  write(text: string): void {
    if (!this.sawText && NOT_XML_WHITESPACE.test(text)) this.sawText = true;
    this.wrap(() => this.tokenizer.write(text));
  }

  /** True when nothing but XML white space was written (the caller answers -401). */
  get empty(): boolean {
    return !this.sawText;
  }

  get rowCount(): number {
    return this.handler.count;
  }

  take(): FeedRow[] {
    const rows = this.handler.rows;
    this.handler.rows = [];
    return rows;
  }

  end(): void {
    this.wrap(() => this.tokenizer.end());
  }

  private wrap(f: () => void): void {
    try {
      f();
    } catch (err) {
      if (err instanceof XmlSyntaxError) throw new FeedError(`the feed is not well-formed XML: ${err.message}`);
      throw err;
    }
  }
}
