/**
 * An existing subscribers feed file (`<subscribers><subscriber …>…</subscriber>…</subscribers>`)
 * cut into its `<subscriber>` elements as it streams, each kept as written, so a large file can
 * be imported in batches without being parsed into objects and written again. This only finds
 * element boundaries (quotes, comments, CDATA and processing instructions respected); whether
 * each element is a valid subscriber is for the service to say (-402 for its batch).
 */
import { decodeText, normaliseEncoding, type InputEncoding } from './charset.ts';

/** One `<subscriber>` element exactly as the feed wrote it. */
export interface RawSubscriber {
  readonly xml: string;
  /** Its position in the feed, 1 for the first. */
  readonly row: number;
}

/** A file that is not a subscribers feed (wrong root, unclosed elements, a DTD…). */
export class FeedInputError extends Error {
  constructor(message: string) {
    super(`the XML feed is not usable: ${message}`);
    this.name = 'FeedInputError';
  }
}

/** How a feed file is read. */
export interface XmlFeedOptions {
  /** The file's encoding; by default its XML declaration's, else UTF-8. */
  readonly encoding?: InputEncoding;
}

type Markup =
  | { kind: 'text'; end: number }
  | { kind: 'skip'; end: number }
  | { kind: 'doctype'; end: number }
  | { kind: 'open'; name: string; selfClosing: boolean; end: number }
  | { kind: 'close'; name: string; end: number };

/** The markup at `at` (a `<`), or null when the buffer does not hold all of it yet. */
function markupAt(buffer: string, at: number): Markup | null {
  const until = (marker: string, from: number): number | null => {
    const i = buffer.indexOf(marker, from);
    return i < 0 ? null : i + marker.length;
  };
  if (buffer.startsWith('<!--', at)) return wrap('skip', until('-->', at + 4));
  if (buffer.startsWith('<![CDATA[', at)) return wrap('skip', until(']]>', at + 9));
  if (buffer.startsWith('<?', at)) return wrap('skip', until('?>', at + 2));
  if (buffer.length - at < 9 && '<![CDATA['.startsWith(buffer.slice(at))) return null;
  if (buffer.startsWith('<!', at)) return wrap('doctype', until('>', at));
  if (buffer.startsWith('</', at)) {
    const end = until('>', at);
    return end === null ? null : { kind: 'close', name: buffer.slice(at + 2, end - 1).trim(), end };
  }
  let quote = '';
  for (let i = at + 1; i < buffer.length; i++) {
    const c = buffer[i]!;
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      const name = /^[^\s/>]+/.exec(buffer.slice(at + 1, i + 1))?.[0] ?? '';
      return { kind: 'open', name, selfClosing: buffer[i - 1] === '/', end: i + 1 };
    }
  }
  return null;

  function wrap(kind: 'skip' | 'doctype', end: number | null): Markup | null {
    return end === null ? null : { kind, end };
  }
}

const localName = (name: string): string => name.slice(name.indexOf(':') + 1);

/** The encoding an XML declaration names, if any. */
function declaredEncoding(head: Uint8Array): InputEncoding | undefined {
  const text = new TextDecoder('latin1').decode(head.subarray(0, 200));
  const m = /^(?:\ufeff|\u00ef\u00bb\u00bf)?<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/.exec(text);
  if (!m) return undefined;
  const encoding = normaliseEncoding(m[1]!);
  if (!encoding) throw new FeedInputError(`its declared encoding ${m[1]} is not supported (use UTF-8, windows-1252 or ISO-8859-1)`);
  return encoding;
}

/** Bytes first looked at for the declaration, then passed on whole. */
async function* withDeclaredEncoding(
  input: AsyncIterable<Uint8Array | string>, given: InputEncoding | undefined,
): AsyncGenerator<string> {
  const iterator = input[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const encoding = given ?? (typeof first.value === 'string' ? 'utf-8' : declaredEncoding(first.value) ?? 'utf-8');
  async function* bytes(): AsyncGenerator<Uint8Array | string> {
    yield first.value as Uint8Array | string;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  yield* decodeText(bytes(), encoding);
}

/**
 * The `<subscriber>` elements of a feed, in order, as written. Other elements under
 * `<subscribers>` are skipped, as the service skips them.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * for await (const s of readXmlFeed(createReadStream('feed.xml'))) console.log(s.row, s.xml.length);
 * ```
 */
export async function* readXmlFeed(
  input: AsyncIterable<Uint8Array | string>, options: XmlFeedOptions = {},
): AsyncGenerator<RawSubscriber> {
  let buffer = '';
  /** Where scanning goes on in `buffer`. */
  let scan = 0;
  /** Where the depth-1 element being cut out starts in `buffer`, or -1. */
  let start = -1;
  let isSubscriber = false;
  let depth = 0;
  let sawRoot = false;
  let rootClosed = false;
  let row = 0;
  let ended = false;
  const found: RawSubscriber[] = [];
  const text = withDeclaredEncoding(input, options.encoding);

  for (;;) {
    let pos = scan;
    while (pos < buffer.length) {
      const lt = buffer.indexOf('<', pos);
      const textEnd = lt < 0 ? buffer.length : lt;
      if ((depth === 0 || (depth === 1 && start < 0)) && /\S/.test(buffer.slice(pos, textEnd))) {
        throw new FeedInputError(depth === 0 ? 'there is text outside the <subscribers> element' : 'there is text between subscribers');
      }
      if (lt < 0) {
        pos = buffer.length;
        break;
      }
      const markup = markupAt(buffer, lt);
      if (markup === null) {
        pos = lt;
        break;
      }
      pos = markup.end;
      if (markup.kind === 'doctype') throw new FeedInputError('document type declarations are not accepted');
      if (markup.kind === 'open') {
        if (depth === 0) {
          if (sawRoot) throw new FeedInputError('there is a second root element');
          if (localName(markup.name) !== 'subscribers') throw new FeedInputError(`the root element is <${markup.name}>, not <subscribers>`);
          sawRoot = true;
          if (markup.selfClosing) rootClosed = true;
          else depth = 1;
          continue;
        }
        if (depth === 1) {
          start = lt;
          isSubscriber = localName(markup.name) === 'subscriber';
        }
        if (!markup.selfClosing) depth++;
        else if (depth === 1) cut(markup.end);
      } else if (markup.kind === 'close') {
        if (depth === 0) throw new FeedInputError(`unexpected </${markup.name}>`);
        depth--;
        if (depth === 0) {
          if (localName(markup.name) !== 'subscribers') throw new FeedInputError(`</${markup.name}> closes <subscribers>`);
          rootClosed = true;
        } else if (depth === 1) {
          cut(markup.end);
        }
      }
      if (found.length > 0) yield* found.splice(0);
    }
    // Keep only what is not done with: the element being cut out, or unfinished markup.
    const keep = start >= 0 ? start : pos;
    buffer = buffer.slice(keep);
    scan = pos - keep;
    if (start >= 0) start = 0;
    if (ended) break;
    const next = await text.next();
    if (next.done) ended = true;
    else buffer += next.value;
  }
  if (!sawRoot) throw new FeedInputError('there is no <subscribers> element');
  if (!rootClosed) throw new FeedInputError('the file ends before </subscribers>');

  function cut(end: number): void {
    if (isSubscriber) found.push({ xml: buffer.slice(start, end), row: ++row });
    start = -1;
  }
}
