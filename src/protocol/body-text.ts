/**
 * Turns a request body (bytes) into text chunks: counts bytes against the size cap as they
 * arrive, and decodes the charset the request declares (Content-Type first, then the XML
 * declaration, then UTF-8). UTF-8 is decoded strictly, so invalid bytes are an error rather
 * than silent U+FFFD; other charsets go through iconv-lite, whose windows-1252 is right where
 * Node 20's TextDecoder is not (0x80–0x9F).
 */
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { clientFault, tooLarge } from './faults.ts';

/** The `charset` parameter of a Content-Type header, lower-cased, or null. */
export function charsetOf(contentType: string | undefined): string | null {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m ? m[1]!.toLowerCase() : null;
}

/** The encoding named in an XML declaration at the start of `head`, or null. */
function declaredEncoding(head: Buffer): string | null {
  const text = head.toString('latin1', 0, Math.min(head.length, 200));
  const m = /^(?:\uFEFF|\xEF\xBB\xBF)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(text);
  return m ? m[1]!.toLowerCase() : null;
}

interface TextDecoderLike {
  write(chunk: Buffer): string;
  end(): string;
}

const isUtf8Name = (charset: string): boolean => charset === 'utf-8' || charset === 'utf8';

function makeDecoder(charset: string): TextDecoderLike {
  if (isUtf8Name(charset)) {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
    const guard = (f: () => string): string => {
      try {
        return f();
      } catch {
        throw clientFault('The request body is not valid UTF-8.', 400);
      }
    };
    return { write: (c) => guard(() => decoder.decode(c, { stream: true })), end: () => guard(() => decoder.decode()) };
  }
  if (!iconv.encodingExists(charset)) throw clientFault(`Unsupported charset "${charset}".`, 415);
  const decoder = iconv.getDecoder(charset);
  return {
    write: (c) => decoder.write(c),
    end: () => decoder.end() ?? '',
  };
}

/** The charset of a body whose first bytes are `head`: the Content-Type's, else the XML declaration's, else UTF-8. */
const bodyCharset = (contentType: string | undefined, head: Buffer): string =>
  charsetOf(contentType) ?? declaredEncoding(head) ?? 'utf-8';

const decoderFor = (contentType: string | undefined, head: Buffer): TextDecoderLike => makeDecoder(bodyCharset(contentType, head));

/** Drops a leading byte-order mark. */
const withoutBom = (s: string): string => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);

/**
 * Yields the body as decoded text, checking the byte cap as the bytes arrive so a huge body is
 * refused without being held in memory. A leading byte-order mark is dropped.
 */
export async function* bodyText(
  body: AsyncIterable<Buffer | string>,
  contentType: string | undefined,
  limit: number,
): AsyncGenerator<string> {
  let decoder: TextDecoderLike | null = null;
  let received = 0;
  let first = true;
  let pending: Buffer[] = [];
  const strip = (s: string): string => {
    if (first && s.length > 0) {
      first = false;
      return withoutBom(s);
    }
    return s;
  };
  for await (const raw of body) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    received += chunk.length;
    if (received > limit) throw tooLarge(limit);
    if (decoder === null) {
      // Wait for enough bytes to read the XML declaration before choosing the charset.
      pending.push(chunk);
      const head = Buffer.concat(pending);
      if (head.length < 200 && !head.includes(0x3e /* > */)) continue;
      decoder = decoderFor(contentType, head);
      pending = [];
      const text = strip(decoder.write(head));
      if (text) yield text;
      continue;
    }
    const text = strip(decoder.write(chunk));
    if (text) yield text;
  }
  if (decoder === null) {
    const head = Buffer.concat(pending);
    decoder = decoderFor(contentType, head);
    const text = strip(decoder.write(head));
    if (text) yield text;
  }
  const rest = strip(decoder.end());
  if (rest) yield rest;
}

/** A body already read whole as text, decoded as `bodyText` decodes it. */
export function wholeBodyText(body: Buffer, contentType: string | undefined): string {
  const charset = bodyCharset(contentType, body);
  if (isUtf8Name(charset)) {
    // Validating and then decoding natively costs a fraction of a fatal TextDecoder.
    if (!isUtf8(body)) throw clientFault('The request body is not valid UTF-8.', 400);
    return withoutBom(body.toString('utf8'));
  }
  const decoder = makeDecoder(charset);
  return withoutBom(decoder.write(body) + decoder.end());
}
