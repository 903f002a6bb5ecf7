/**
 * CSV downloads (RFC 4180, UTF-8, CRLF line ends), streamed: rows are read from the store one at
 * a time and sent in chunks of about 64 KB, so an export of a million recipients needs no more
 * memory than one chunk.
 *
 * Every download starts with a UTF-8 byte-order mark: without it Excel reads the file as the
 * machine's ANSI code page and shows `Zoë` as `ZoÃ«`. Spreadsheets, Python's `utf-8-sig`, pandas
 * and most CSV readers take the mark as what it is; a program that does not must drop the first
 * three bytes (EF BB BF).
 *
 * A cell that a spreadsheet would run as a formula (starting with = @ or a tab/CR, or with + or
 * - when it is not simply a number such as a mobile number) is prefixed with an apostrophe.
 */
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024;
export const BYTE_ORDER_MARK = '\uFEFF';
const NUMBER_LIKE = /^[+-]?[\d\s().]*$/;

export type CsvValue = string | number | null | undefined;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=@\t\r]/.test(text) || (/^[+-]/.test(text) && !NUMBER_LIKE.test(text))) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/** Joins lines into chunks of about CHUNK characters, the first starting with the byte-order mark. */
async function* chunked(lines: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = BYTE_ORDER_MARK;
  for await (const line of lines) {
    buffer += line;
    if (buffer.length >= CHUNK) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer !== '') yield buffer;
}

/**
 * Sends the lines as a CSV attachment. `lines` should open what it reads only when first read,
 * and release it in a `finally`: a client that goes away ends the generator early.
 */
export function sendCsv(reply: FastifyReply, filename: string, lines: AsyncIterable<string>): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`)
    .send(Readable.from(chunked(lines), { objectMode: false, encoding: 'utf8' }));
}
