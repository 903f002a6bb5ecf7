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
import type { FeedRow } from '../store/types.ts';

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

const CAMPO = /^campo([0-9]{1,4})$/;

const attribute = (attrs: string[], name: string): string => {
  for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === name) return attrs[i + 1]!.slice(0, MAX_VALUE_LENGTH);
  return '';
};

class FeedHandler implements XmlHandler {
  private depth = 0;
  private current: { email: string; prefix: string; number: string; name: string; fields: Record<number, string> } | null = null;
  private field: number | null = null;
  private value = '';
  rows: FeedRow[] = [];
  count = 0;

  onOpen(name: string, attrs: string[]): void {
    this.depth++;
    if (this.depth === 1) {
      if (name !== 'subscribers') throw new FeedError(`the feed's root element is <${name}>, not <subscribers>`);
    } else if (this.depth === 2 && name === 'subscriber') {
      this.current = {
        email: attribute(attrs, 'email'), prefix: attribute(attrs, 'Prefix'), number: attribute(attrs, 'Number'),
        name: attribute(attrs, 'Name'), fields: {},
      };
    } else if (this.depth === 3 && this.current !== null) {
      const m = CAMPO.exec(name);
      const n = m ? Number(m[1]) : 0;
      this.field = n >= 1 && n <= MAX_FIELD_NUMBER ? n : null;
      this.value = '';
    }
  }

  onText(text: string): void {
    if (this.depth === 3 && this.field !== null && this.value.length < MAX_VALUE_LENGTH) {
      this.value = (this.value + text).slice(0, MAX_VALUE_LENGTH);
    }
  }

  onClose(): void {
    if (this.depth === 3 && this.field !== null && this.current !== null) {
      this.current.fields[this.field] = this.value;
      this.field = null;
    } else if (this.depth === 2 && this.current !== null) {
      this.count++;
      this.rows.push({ row: this.count, ...this.current });
      this.current = null;
    }
    this.depth--;
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
    if (!this.sawText && /\S/.test(text)) this.sawText = true;
    this.wrap(() => this.tokenizer.write(text));
  }

  /** True when nothing but white space was written (the caller answers -401). */
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
