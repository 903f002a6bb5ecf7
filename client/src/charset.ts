/**
 * Decoding input files (CSV, XML feeds) to text as they stream. UTF-8 uses TextDecoder in
 * streaming mode, so a character split across two chunks stays whole, and a byte-order mark is
 * dropped. windows-1252 has its own table: Node 20's TextDecoder treats it as Latin-1 and gets
 * 0x80–0x9F wrong (€, curly quotes, …), and iconv-lite is a server-only dependency.
 */

/** The encodings input files may be in. */
export type InputEncoding = 'utf-8' | 'windows-1252' | 'latin1';

/** {@link InputEncoding}, as a list for option parsers. */
export const INPUT_ENCODINGS: readonly InputEncoding[] = ['utf-8', 'windows-1252', 'latin1'];

/** windows-1252 bytes 0x80–0x9F; the five unassigned ones map to the C1 control of the same value. */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
];

/** Accepts the usual spellings (`UTF8`, `cp1252`, `ISO-8859-1`…); undefined when unknown. */
export function normaliseEncoding(name: string): InputEncoding | undefined {
  const n = name.trim().toLowerCase().replace(/[\s_]/g, '-');
  if (n === 'utf-8' || n === 'utf8') return 'utf-8';
  if (n === 'windows-1252' || n === 'cp1252' || n === 'win-1252' || n === 'x-cp1252') return 'windows-1252';
  if (n === 'latin1' || n === 'latin-1' || n === 'iso-8859-1' || n === 'iso8859-1' || n === 'l1' || n === 'us-ascii' || n === 'ascii') return 'latin1';
  return undefined;
}

function singleByte(bytes: Uint8Array, windows: boolean): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    const codes = Array.from(bytes.subarray(i, i + 8192), (b) => (windows && b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80]! : b));
    out += String.fromCharCode(...codes);
  }
  return out;
}

/** Bytes that are not UTF-8: usually a file saved as windows-1252 by a spreadsheet. */
export class InputEncodingError extends Error {
  constructor(offset: number) {
    super(`the input is not valid UTF-8 (near byte ${offset}); if it was saved as windows-1252 or Latin-1, say so with the encoding option`);
    this.name = 'InputEncodingError';
  }
}

/** Text of a byte stream in the given encoding; strings pass through unchanged. */
export async function* decodeText(input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, encoding: InputEncoding = 'utf-8'): AsyncGenerator<string> {
  const utf8 = encoding === 'utf-8' ? new TextDecoder('utf-8', { fatal: true }) : null;
  let first = true;
  let offset = 0;
  const decodeUtf8 = (chunk?: Uint8Array): string => {
    try {
      return chunk ? utf8!.decode(chunk, { stream: true }) : utf8!.decode();
    } catch {
      throw new InputEncodingError(offset);
    } finally {
      offset += chunk?.length ?? 0;
    }
  };
  for await (const chunk of input) {
    let text = typeof chunk === 'string' ? chunk : utf8 ? decodeUtf8(chunk) : singleByte(chunk, encoding === 'windows-1252');
    if (first && text !== '') {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    if (text !== '') yield text;
  }
  const rest = utf8 ? decodeUtf8() : '';
  if (rest !== '') yield rest;
}
