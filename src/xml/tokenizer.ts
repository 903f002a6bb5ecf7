/**
 * A strict, streaming XML tokenizer for the two documents this service reads: the SOAP envelope
 * and the subscribers feed.
 *
 * Why not sax or saxes (docs/decisions.md): sax walks every character in JavaScript (12 MB/s) and
 * saxes builds a text node as one string (a 500 MB `xmlDoc` would become one 500 MB string). Here
 * text is found with `indexOf` and handed on in chunks, so a huge `xmlDoc` streams in constant
 * memory, and the small tags of a feed are matched with regular expressions.
 *
 * What it enforces: well-formedness (one root, matching tags, quoted attributes without `<`, no
 * duplicate attributes, valid names and references, nothing but white space, comments and PIs
 * outside the root). What it refuses outright: any DOCTYPE, so no entity can ever be declared or
 * expanded (XXE, billion laughs); only the five predefined entities and character references
 * exist. Every buffer is bounded: markup longer than `maxMarkupLength` and nesting deeper than
 * `maxDepth` are errors. Namespaces are left to the caller (names arrive qualified, as written).
 */

export class XmlSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} (at character ${offset})`);
    this.name = 'XmlSyntaxError';
  }
}

export interface XmlHandler {
  /** A start tag. `attrs` holds name/value pairs flat: [name0, value0, name1, value1, …]. */
  onOpen(name: string, attrs: string[]): void;
  onClose(name: string): void;
  /** Character data (text or CDATA), already decoded; one text node may arrive in several calls. */
  onText(text: string): void;
}

export interface TokenizerLimits {
  /** Longest tag, comment-free markup or processing instruction, in characters. */
  readonly maxMarkupLength: number;
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: TokenizerLimits = { maxMarkupLength: 1 << 20, maxDepth: 64 };

// XML 1.0 Name, restricted to the BMP ranges of the spec's NameStartChar / NameChar.
const NAME_START = 'A-Z_a-z:\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`);
const TAG_NAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*`);
const ATTRIBUTE = new RegExp(`[ \\t\\r\\n]+([${NAME_START}][${NAME_CHAR}]*)[ \\t\\r\\n]*=[ \\t\\r\\n]*(?:"([^"<]*)"|'([^'<]*)')`, 'y');
const TAG_TAIL = /[ \t\r\n]*(\/?)$/y;
const END_TAG_TAIL = /[ \t\r\n]*$/y;
const WHITESPACE = /^[ \t\r\n]*$/;
const QUOTE_OR_GT = /["'>]/g;
// Characters XML 1.0 forbids anywhere in a document (C0 controls but tab, LF, CR; U+FFFE/U+FFFF).
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const ATTRIBUTE_WHITESPACE = /[\t\n\r]/g;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const enum State { Text, CData, Comment }

export class XmlTokenizer {
  private buf = '';
  /** Characters consumed before `buf`, for error positions. */
  private consumed = 0;
  private state: State = State.Text;
  private readonly stack: string[] = [];
  private seenRoot = false;
  private rootClosed = false;
  private started = false;
  /** The last character of the previous chunk was CR: a following LF belongs to it. */
  private pendingCR = false;

  constructor(private readonly handler: XmlHandler, private readonly limits: TokenizerLimits = DEFAULT_LIMITS) {}

  get depth(): number {
    return this.stack.length;
  }

  write(chunk: string): void {
    if (chunk.length === 0) return;
    if (FORBIDDEN_CHAR.test(chunk)) this.fail('character not allowed in XML');
    this.buf = this.buf.length === 0 ? chunk : this.buf + chunk;
    this.parse(false);
  }

  end(): void {
    this.parse(true);
    if (this.state === State.CData) this.fail('unterminated CDATA section');
    if (this.state === State.Comment) this.fail('unterminated comment');
    if (this.buf.length > 0) this.fail('unexpected end of document');
    if (!this.seenRoot) this.fail('no root element');
    if (this.stack.length > 0) this.fail(`unclosed element <${this.stack[this.stack.length - 1]}>`);
  }

  private fail(message: string, at = 0): never {
    throw new XmlSyntaxError(message, this.consumed + at);
  }

  /** Drops `n` characters from the front of the buffer. */
  private advance(n: number): void {
    this.buf = this.buf.slice(n);
    this.consumed += n;
  }

  private parse(final: boolean): void {
    for (;;) {
      if (this.state === State.CData) {
        if (!this.skipUntil(']]>', true, final)) return;
        continue;
      }
      if (this.state === State.Comment) {
        if (!this.skipUntil('-->', false, final)) return;
        continue;
      }
      const lt = this.buf.indexOf('<');
      if (lt !== 0) {
        // Text up to the next '<', or all of it but a trailing partial reference.
        let end = lt < 0 ? this.buf.length : lt;
        if (lt < 0 && !final) {
          const amp = this.buf.lastIndexOf('&');
          if (amp >= 0 && this.buf.indexOf(';', amp) < 0) {
            if (this.buf.length - amp > 16) this.fail('malformed reference', amp);
            end = amp;
          }
        }
        if (end > 0) this.text(this.buf.slice(0, end));
        this.advance(end);
        if (lt < 0) return;
        continue;
      }
      if (!this.markup(final)) return;
    }
  }

  /** Handles the markup at the start of the buffer; false when more input is needed. */
  private markup(final: boolean): boolean {
    const buf = this.buf;
    if (buf.length < 2) return this.needMore(final);
    const c = buf.charCodeAt(1);
    if (c === 0x21 /* ! */) {
      if (buf.startsWith('<!--')) {
        this.advance(4);
        this.state = State.Comment;
        return true;
      }
      if (buf.startsWith('<![CDATA[')) {
        if (this.stack.length === 0) this.fail('CDATA outside the root element');
        this.advance(9);
        this.state = State.CData;
        return true;
      }
      if (buf.length < 9 && ('<!DOCTYPE'.startsWith(buf) || '<![CDATA['.startsWith(buf) || '<!--'.startsWith(buf))) {
        return this.needMore(final);
      }
      if (buf.startsWith('<!DOCTYPE')) this.fail('DOCTYPE is not allowed');
      this.fail('malformed markup');
    }
    if (c === 0x3f /* ? */) {
      const end = buf.indexOf('?>', 2);
      if (end < 0) return this.needMore(final);
      const target = /^[^ \t\r\n?]*/.exec(buf.slice(2, end))?.[0] ?? '';
      if (!NAME.test(target)) this.fail('malformed processing instruction');
      if (target.toLowerCase() === 'xml' && (target !== 'xml' || this.started)) {
        this.fail('XML declaration not at the start of the document');
      }
      this.started = true;
      this.advance(end + 2);
      return true;
    }
    const gt = findTagEnd(buf);
    if (gt < 0) {
      if (buf.length > this.limits.maxMarkupLength) this.fail('tag too long');
      return this.needMore(final);
    }
    this.started = true;
    if (c === 0x2f /* / */) this.endTag(buf.slice(2, gt));
    else this.startTag(buf.slice(1, gt));
    this.advance(gt + 1);
    return true;
  }

  private needMore(final: boolean): boolean {
    if (final) this.fail('unexpected end of document');
    return false;
  }

  private startTag(body: string): void {
    const name = TAG_NAME.exec(body)?.[0];
    if (name === undefined) this.fail('malformed start tag');
    if (this.rootClosed) this.fail('content after the root element');
    const attrs: string[] = [];
    let pos = name.length;
    for (;;) {
      ATTRIBUTE.lastIndex = pos;
      const m = ATTRIBUTE.exec(body);
      if (m === null) break;
      const attrName = m[1]!;
      for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === attrName) this.fail(`duplicate attribute ${attrName}`);
      const raw = m[2] ?? m[3] ?? '';
      attrs.push(attrName, this.decode(raw.replace(ATTRIBUTE_WHITESPACE, ' ')));
      pos = ATTRIBUTE.lastIndex;
    }
    TAG_TAIL.lastIndex = pos;
    const tail = TAG_TAIL.exec(body);
    if (tail === null) this.fail(`malformed start tag <${name}>`);
    if (this.stack.length >= this.limits.maxDepth) this.fail('elements nested too deeply');
    this.seenRoot = true;
    this.stack.push(name);
    this.handler.onOpen(name, attrs);
    if (tail[1] === '/') this.close(name);
  }

  private endTag(body: string): void {
    const name = TAG_NAME.exec(body)?.[0];
    END_TAG_TAIL.lastIndex = name?.length ?? 0;
    if (name === undefined || !END_TAG_TAIL.test(body)) this.fail('malformed end tag');
    const open = this.stack[this.stack.length - 1];
    if (open !== name) this.fail(open === undefined ? `unexpected </${name}>` : `</${name}> does not close <${open}>`);
    this.close(name);
  }

  private close(name: string): void {
    this.stack.pop();
    if (this.stack.length === 0) this.rootClosed = true;
    this.handler.onClose(name);
  }

  private text(raw: string): void {
    if (this.stack.length === 0) {
      if (!WHITESPACE.test(raw)) this.fail(this.rootClosed ? 'content after the root element' : 'text before the root element');
      return;
    }
    if (raw.includes(']]>')) this.fail("']]>' is not allowed in text");
    this.handler.onText(this.decode(this.normaliseNewlines(raw)));
  }

  /**
   * Streams a CDATA section's content (`emit`) or skips a comment, up to `terminator`.
   * Keeps the last characters that could begin the terminator for the next chunk.
   */
  private skipUntil(terminator: string, emit: boolean, final: boolean): boolean {
    const end = this.buf.indexOf(terminator);
    if (end < 0) {
      const keep = Math.min(this.buf.length, terminator.length - 1);
      const take = this.buf.length - keep;
      if (emit && take > 0) this.handler.onText(this.normaliseNewlines(this.buf.slice(0, take)));
      if (!emit && this.buf.slice(0, take).includes('--')) this.fail("'--' is not allowed in a comment");
      this.advance(take);
      return this.needMore(final);
    }
    if (emit) {
      if (end > 0) this.handler.onText(this.normaliseNewlines(this.buf.slice(0, end)));
    } else if (this.buf.slice(0, end).includes('--') || this.buf[end - 1] === '-') {
      this.fail("'--' is not allowed in a comment");
    }
    this.advance(end + terminator.length);
    this.state = State.Text;
    return true;
  }

  /** XML end-of-line handling: CRLF and lone CR become LF, also across chunk boundaries. */
  private normaliseNewlines(s: string): string {
    if (this.pendingCR && s.charCodeAt(0) === 10) s = s.slice(1);
    this.pendingCR = s.charCodeAt(s.length - 1) === 13;
    return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
  }

  /** Replaces the predefined entities and character references; anything else is an error. */
  private decode(s: string): string {
    let amp = s.indexOf('&');
    if (amp < 0) return s;
    let out = '';
    let from = 0;
    while (amp >= 0) {
      const semi = s.indexOf(';', amp);
      if (semi < 0) this.fail('malformed reference');
      out += s.slice(from, amp) + this.reference(s.slice(amp + 1, semi));
      from = semi + 1;
      amp = s.indexOf('&', from);
    }
    return out + s.slice(from);
  }

  private reference(ref: string): string {
    const predefined = PREDEFINED[ref];
    if (predefined !== undefined && Object.prototype.hasOwnProperty.call(PREDEFINED, ref)) return predefined;
    let code = NaN;
    if (/^#[0-9]{1,7}$/.test(ref)) code = Number.parseInt(ref.slice(1), 10);
    else if (/^#x[0-9a-fA-F]{1,6}$/.test(ref)) code = Number.parseInt(ref.slice(2), 16);
    else this.fail(NAME.test(ref) ? `undefined entity &${ref};` : 'malformed reference');
    const allowed = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) this.fail(`character reference &${ref}; is not an XML character`);
    return String.fromCodePoint(code);
  }
}

/** The index of the '>' closing the tag that starts the buffer, skipping quoted values; -1 if incomplete. */
function findTagEnd(buf: string): number {
  QUOTE_OR_GT.lastIndex = 1;
  for (;;) {
    const m = QUOTE_OR_GT.exec(buf);
    if (m === null) return -1;
    if (m[0] === '>') return m.index;
    const close = buf.indexOf(m[0], m.index + 1);
    if (close < 0) return -1;
    QUOTE_OR_GT.lastIndex = close + 1;
  }
}

/** Whether `name` is an XML Name (used by callers that build names). */
export function isXmlName(name: string): boolean {
  return NAME.test(name);
}
