/**
 * Subscribers from a CSV file, streamed: csv-parse (it keeps multi-byte characters whole across
 * chunks and respects backpressure; see stack-notes), a header row naming the columns, the
 * delimiter guessed from that header unless given, a byte-order mark dropped.
 *
 * Columns are recognised by name, without regard to case: `email` (or `e-mail`), `prefix`,
 * `number` (or `mobile`), `name`, and `campoN` for personal-data field N. Any other column is
 * mapped with the `columns` option (`{ 'First name': 1 }`) or ignored (and listed, so the
 * caller can say so).
 */
import { parse, type CsvError } from 'csv-parse';
import { Readable } from 'node:stream';
import { decodeText, type InputEncoding } from './charset.ts';
import type { Subscriber } from './feed-builder.ts';

/** Where a column goes: an attribute of the subscriber, a campo number, or nowhere. */
export type ColumnTarget = 'email' | 'prefix' | 'number' | 'name' | 'ignore' | number;

/** How a CSV is read. */
export interface CsvOptions {
  /** The field delimiter; guessed from the header (`,` `;` tab `|`) when omitted. */
  readonly delimiter?: string;
  /** The file's encoding (default UTF-8). */
  readonly encoding?: InputEncoding;
  /** Targets of columns by header name (compared without regard to case), beyond the standard names. */
  readonly columns?: Readonly<Record<string, ColumnTarget>>;
}

/** A subscriber read from a CSV row, with where it came from. */
export interface CsvSubscriber extends Subscriber {
  readonly email: string;
  readonly prefix: string;
  readonly number: string;
  readonly name: string;
  /** The data row, 1 for the first row after the header. */
  readonly row: number;
  /** The line of the file where the row ends (1-based, the header is line 1). */
  readonly line: number;
  readonly fields: readonly string[];
}

/** A record that could not be read (bad quoting…) and was left out. */
export interface SkippedRecord {
  /** The line of the file where reading the record failed. */
  readonly line: number | null;
  readonly reason: string;
}

/** The subscribers of a CSV, and what its header said. */
export interface CsvSubscriberSource extends AsyncIterable<CsvSubscriber> {
  readonly header: readonly string[];
  readonly delimiter: string;
  /** campo1…campoN are written for every subscriber. */
  readonly fieldCount: number;
  /** Header names that are not imported. */
  readonly ignoredColumns: readonly string[];
  /** Records left out because they could not be read; filled while the rows are read. */
  readonly skipped: readonly SkippedRecord[];
}

/** A CSV that cannot be read as subscribers: bad header, bad quoting… `line` says where. */
export class CsvInputError extends Error {
  constructor(message: string, readonly line: number | null) {
    super(line === null ? message : `line ${line}: ${message}`);
    this.name = 'CsvInputError';
  }
}

const STANDARD_COLUMNS: Readonly<Record<string, ColumnTarget>> = {
  email: 'email', 'e-mail': 'email', prefix: 'prefix', number: 'number', mobile: 'number', name: 'name',
};
const CAMPO = /^campo([1-9][0-9]*)$/;
const DELIMITERS = [',', ';', '\t', '|'];

const key = (name: string): string => name.trim().toLowerCase();

/** csv-parse's message without its repeated line number. */
function describeCsvError(err: CsvError | undefined): string {
  if (!err) return 'unreadable record';
  return err.message.replace(/^Invalid [^:]*: /, '').replace(/ at line \d+/, '');
}

/** The delimiter that occurs most often outside quotes in the first line (`,` on a tie or none). */
export function guessDelimiter(firstLine: string): string {
  const counts = new Map(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const c of firstLine) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
    else if (!quoted && (c === '\n' || c === '\r')) break;
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

function targetsOf(header: readonly string[], options: CsvOptions): ColumnTarget[] {
  const custom = new Map(Object.entries(options.columns ?? {}).map(([name, target]) => [key(name), target]));
  const unknownMapped = [...custom.keys()].filter((name) => !header.some((h) => key(h) === name));
  if (unknownMapped.length > 0) throw new CsvInputError(`the header has no column ${unknownMapped.map((n) => `"${n}"`).join(', ')}`, 1);
  const targets = header.map((name): ColumnTarget => {
    const k = key(name);
    const target = custom.get(k) ?? STANDARD_COLUMNS[k] ?? (CAMPO.exec(k) ? Number(CAMPO.exec(k)![1]) : 'ignore');
    if (typeof target === 'number' && !(Number.isInteger(target) && target >= 1)) {
      throw new CsvInputError(`column "${name}" maps to campo${target}, which is not a field number`, 1);
    }
    return target;
  });
  const seen = new Map<ColumnTarget, string>();
  targets.forEach((t, i) => {
    if (t === 'ignore') return;
    if (seen.has(t)) throw new CsvInputError(`columns "${seen.get(t)}" and "${header[i]}" both give ${typeof t === 'number' ? `campo${t}` : t}`, 1);
    seen.set(t, header[i]!);
  });
  if (!seen.has('email') && !seen.has('number')) {
    throw new CsvInputError(`the header names neither an email nor a mobile number column (got: ${header.join(', ')})`, 1);
  }
  return targets;
}

/**
 * Reads subscribers from CSV bytes or text. Resolves once the header is read.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * const csv = await readCsvSubscribers(createReadStream('contacts.csv'), { columns: { 'First name': 1, 'Last name': 2 } });
 * for await (const s of csv) console.log(s.row, s.email, s.fields);
 * ```
 */
export async function readCsvSubscribers(
  input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, options: CsvOptions = {},
): Promise<CsvSubscriberSource> {
  const text = decodeText(input, options.encoding ?? 'utf-8');
  // Read until the header line is complete, to guess the delimiter before parsing.
  let head = '';
  let ended = false;
  while (!/[\r\n]/.test(head.replace(/"[^"]*"/g, '')) && head.length < 1 << 20) {
    const next = await text.next();
    if (next.done) {
      ended = true;
      break;
    }
    head += next.value;
  }
  const delimiter = options.delimiter ?? guessDelimiter(head);
  if (delimiter.length === 0) throw new CsvInputError('the delimiter is empty', null);
  async function* all(): AsyncGenerator<string> {
    if (head !== '') yield head;
    if (!ended) yield* text;
  }
  const source = Readable.from(all(), { objectMode: false });
  const skipped: SkippedRecord[] = [];
  // A malformed record is left out and reported, the way the service keeps a reject report,
  // instead of ending the whole import at that line.
  const parser = parse({
    delimiter, bom: true, skip_empty_lines: true, relax_column_count: true, info: true, skip_records_with_error: true,
    on_skip: (err) => {
      skipped.push({ line: typeof err?.lines === 'number' ? err.lines : null, reason: describeCsvError(err) });
      return undefined;
    },
  });
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<{ record: string[]; info: { lines: number } }>;

  const fail = (err: unknown): never => {
    if (err instanceof Error && (err as CsvError).code?.startsWith('CSV_')) {
      const lines = (err as CsvError).lines;
      throw new CsvInputError(describeCsvError(err as CsvError), typeof lines === 'number' ? lines : null);
    }
    throw err;
  };
  const first = await records.next().catch(fail);
  if (first.done) throw new CsvInputError(skipped.length > 0 ? `the header cannot be read: ${skipped[0]!.reason}` : 'the file is empty: a header row is needed', skipped[0]?.line ?? null);
  const header = first.value.record.map((h) => h.trim());
  let targets: ColumnTarget[];
  try {
    targets = targetsOf(header, options);
  } catch (err) {
    parser.destroy();
    source.destroy();
    throw err;
  }
  const fieldCount = targets.reduce<number>((max, t) => (typeof t === 'number' ? Math.max(max, t) : max), 0);
  const ignoredColumns = header.filter((_, i) => targets[i] === 'ignore');

  async function* subscribers(): AsyncGenerator<CsvSubscriber> {
    let row = 0;
    try {
      for (;;) {
        const next = await records.next().catch(fail);
        if (next.done) return;
        const { record, info } = next.value;
        row++;
        const subscriber: { email: string; prefix: string; number: string; name: string } = { email: '', prefix: '', number: '', name: '' };
        const fields: string[] = new Array<string>(fieldCount).fill('');
        targets.forEach((target, i) => {
          const value = record[i] ?? '';
          if (typeof target === 'number') fields[target - 1] = value;
          else if (target !== 'ignore') subscriber[target] = value;
        });
        yield { ...subscriber, fields, row, line: info.lines };
      }
    } finally {
      parser.destroy();
      source.destroy();
    }
  }
  const iterable = subscribers();
  return { header, delimiter, fieldCount, ignoredColumns, skipped, [Symbol.asyncIterator]: () => iterable };
}
