/**
 * The import command's input file: a CSV (subscribers by column) or an XML subscribers feed
 * (cut into its `<subscriber>` elements as written). Rows are counted first with a quick scan,
 * so the progress bar can show a percentage and an ETA.
 */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import type { InputEncoding } from '../charset.ts';
import { readCsvSubscribers, type ColumnTarget, type SkippedRecord } from '../csv.ts';
import type { ImportItem } from '../import-report.ts';
import { readXmlFeed } from '../xml-feed.ts';
import { ConfigError } from './config.ts';

export type InputFormat = 'csv' | 'xml';

export interface InputOptions {
  readonly format?: InputFormat | undefined;
  readonly delimiter?: string | undefined;
  readonly encoding?: InputEncoding | undefined;
  readonly columns?: Readonly<Record<string, ColumnTarget>> | undefined;
}

export interface OpenedInput {
  readonly format: InputFormat;
  readonly items: AsyncIterable<ImportItem>;
  /** campo elements per subscriber (CSV); undefined for XML feeds, which are sent as written. */
  readonly fieldCount: number | undefined;
  /** Columns of the CSV header that are not imported. */
  readonly ignoredColumns: readonly string[];
  /** CSV records left out because they could not be read; filled while the rows are read. */
  readonly skipped: readonly SkippedRecord[];
}

export function formatOf(path: string, given: InputFormat | undefined): InputFormat {
  if (given) return given;
  const ext = extname(path).toLowerCase();
  if (ext === '.xml') return 'xml';
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
  throw new ConfigError(`cannot tell the format of ${path} from its name: pass --format csv or --format xml`);
}

export async function openInput(path: string, options: InputOptions): Promise<OpenedInput> {
  const format = formatOf(path, options.format);
  if (format === 'xml') {
    return { format, items: readXmlFeed(createReadStream(path), options.encoding ? { encoding: options.encoding } : {}), fieldCount: undefined, ignoredColumns: [], skipped: [] };
  }
  const csv = await readCsvSubscribers(createReadStream(path), {
    ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
    ...(options.encoding !== undefined ? { encoding: options.encoding } : {}),
    ...(options.columns !== undefined ? { columns: options.columns } : {}),
  });
  return { format, items: csv, fieldCount: csv.fieldCount, ignoredColumns: csv.ignoredColumns, skipped: csv.skipped };
}

/**
 * About how many subscribers the file holds: CSV records (line breaks outside quotes, blank
 * lines and the header left out) or `<subscriber` tags. Only for the progress display.
 */
export async function countRows(path: string, format: InputFormat): Promise<number> {
  let count = 0;
  if (format === 'csv') {
    let quoted = false;
    let lineHasContent = false;
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      for (const byte of chunk) {
        if (byte === 0x22) quoted = !quoted;
        if (quoted) {
          lineHasContent = true;
          continue;
        }
        if (byte === 0x0a) {
          if (lineHasContent) count++;
          lineHasContent = false;
        } else if (byte !== 0x0d && byte !== 0x20 && byte !== 0x09) {
          lineHasContent = true;
        }
      }
    }
    if (lineHasContent) count++;
    return Math.max(0, count - 1);
  }
  let tail = '';
  for await (const chunk of createReadStream(path, { encoding: 'latin1' }) as AsyncIterable<string>) {
    const text = tail + chunk;
    count += text.match(/<subscriber[\s/>]/g)?.length ?? 0;
    // 11 characters hold any start of a tag split across chunks, never a whole counted match (12).
    tail = text.slice(-11);
  }
  return count;
}
