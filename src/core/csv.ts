/**
 * CSV text (RFC 4180, UTF-8, CRLF line ends) for every door that answers a CSV: the console's
 * downloads and the JSON API's reject report write their lines with these, so a file reads the
 * same whichever door gave it.
 *
 * Every file starts with a UTF-8 byte-order mark: without it Excel reads the file as the
 * machine's ANSI code page and shows `Zoë` as `ZoÃ«`. Spreadsheets, Python's `utf-8-sig`, pandas
 * and most CSV readers take the mark as what it is; a program that does not must drop the first
 * three bytes (EF BB BF).
 *
 * A cell that a spreadsheet would run as a formula (starting with = @ or a tab/CR, or with + or
 * - when it is not simply a number such as a mobile number) is prefixed with an apostrophe.
 */
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

/**
 * Joins lines into chunks of about 64 KB, the first starting with the byte-order mark, so a
 * download of a million rows needs no more memory than one chunk.
 */
export async function* csvChunks(lines: AsyncIterable<string>): AsyncGenerator<string> {
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
