/**
 * A small, non-validating XML reader for the documents the client receives: SOAP response
 * envelopes and `<mailupMessage>` result strings, a few kilobytes each, so a tree is fine.
 *
 * The lenient mode reads result strings the way MailUp writes them, quirks included:
 * - the `encoding="windows-1252"` declaration is a label only (the string arrived as UTF-8 SOAP
 *   text), so declarations are skipped;
 * - list and group names may carry a bare `&` or `"` (a documented MailUp bug, spec §6.3): a
 *   bare `&` is read as itself, and an attribute value ends only at a quote that is followed by
 *   the next attribute or the end of the tag;
 * - end tags are matched without regard to case or stray spaces (`</ NewMobile >` in old samples).
 * DTDs are refused in both modes: nothing here ever expands an entity it does not know.
 */

export interface XmlElement {
  /** The name as written, with its prefix (`soap:Body`). */
  readonly name: string;
  /** The name without its prefix (`Body`). */
  readonly localName: string;
  /** Attributes by name as written, values decoded. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlNode[];
}

export type XmlNode = XmlElement | string;

export class XmlReadError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'XmlReadError';
  }
}

export interface ReadXmlOptions {
  /** Accept MailUp's result-string quirks (see the module comment). */
  readonly lenient?: boolean;
}

const NAME = /[^\s/>=]+/y;
const SPACE = /\s*/y;
const ENTITY = /&(?:(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);)?/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** After a closing quote: another attribute, or the end of the tag. */
const VALUE_END = /"(?=\s*\/?>|\s+[^\s"=/>]+\s*=)|'(?=\s*\/?>|\s+[^\s'=/>]+\s*=)/y;

const localOf = (name: string): string => name.slice(name.indexOf(':') + 1);

function decode(text: string, lenient: boolean, offset: number): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (match, ref: string | undefined) => {
    if (ref === undefined) {
      if (lenient) return match;
      throw new XmlReadError('bare "&" in text', offset);
    }
    if (ref[0] !== '#') return NAMED[ref]!;
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0) {
      if (lenient) return '\ufffd';
      throw new XmlReadError(`invalid character reference ${match}`, offset);
    }
    return String.fromCodePoint(code);
  });
}

interface Open {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: XmlNode[];
}

/** Reads a whole document and returns its root element. */
export function readXml(text: string, options: ReadXmlOptions = {}): XmlElement {
  const lenient = options.lenient === true;
  const stack: Open[] = [];
  let root: XmlElement | null = null;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const fail = (message: string, at = i): never => {
    throw new XmlReadError(message, at);
  };
  const addText = (raw: string, at: number): void => {
    const top = stack[stack.length - 1];
    if (top) top.children.push(decode(raw, lenient, at));
    else if (/\S/.test(raw)) fail('text outside the root element', at);
  };
  const close = (open: Open): void => {
    const element: XmlElement = { name: open.name, localName: localOf(open.name), attributes: open.attributes, children: open.children };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else if (root === null) root = element;
    else fail('a second root element');
  };

  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) {
      addText(text.slice(i), i);
      break;
    }
    if (lt > i) addText(text.slice(i, lt), i);
    i = lt;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i);
      if (end < 0) fail('unterminated processing instruction');
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) fail('unterminated CDATA section');
      const top = stack[stack.length - 1];
      if (!top) fail('CDATA outside the root element');
      top!.children.push(text.slice(i + 9, end));
      i = end + 3;
    } else if (text.startsWith('<!', i)) {
      fail('document type declarations are not accepted');
    } else if (text.startsWith('</', i)) {
      const end = text.indexOf('>', i);
      if (end < 0) fail('unterminated end tag');
      const name = text.slice(i + 2, end).trim();
      i = end + 1;
      const top = stack[stack.length - 1];
      if (top && top.name === name) {
        close(stack.pop()!);
      } else if (lenient) {
        const at = stack.findLastIndex((o) => o.name.toLowerCase() === name.toLowerCase());
        // A stray end tag is dropped; one that closes an outer element closes the inner ones too.
        if (at >= 0) while (stack.length > at) close(stack.pop()!);
      } else {
        fail(top ? `</${name}> does not close <${top.name}>` : `unexpected </${name}>`);
      }
    } else {
      i = readStartTag(i + 1);
    }
  }
  if (stack.length > 0) {
    if (!lenient) fail(`<${stack[stack.length - 1]!.name}> is not closed`);
    while (stack.length > 0) close(stack.pop()!);
  }
  if (root === null) return fail('no root element', 0);
  return root;

  /** Reads `name attr="v" …>` from `at` (just past `<`); returns the offset after the tag. */
  function readStartTag(at: number): number {
    NAME.lastIndex = at;
    const name = NAME.exec(text)?.[0];
    if (!name) return fail('a tag without a name', at);
    let p = at + name.length;
    const attributes: Record<string, string> = {};
    for (;;) {
      SPACE.lastIndex = p;
      SPACE.exec(text);
      p = SPACE.lastIndex;
      if (text.startsWith('/>', p)) {
        if (root !== null && stack.length === 0) fail('a second root element', p);
        close({ name, attributes, children: [] });
        return p + 2;
      }
      if (text[p] === '>') {
        stack.push({ name, attributes, children: [] });
        return p + 1;
      }
      NAME.lastIndex = p;
      const attr = NAME.exec(text)?.[0];
      if (!attr) return fail(`unterminated tag <${name}>`, p);
      p += attr.length;
      SPACE.lastIndex = p;
      SPACE.exec(text);
      p = SPACE.lastIndex;
      if (text[p] !== '=') return fail(`attribute ${attr} has no value`, p);
      SPACE.lastIndex = p + 1;
      SPACE.exec(text);
      p = SPACE.lastIndex;
      const quote = text[p];
      if (quote !== '"' && quote !== "'") return fail(`attribute ${attr} is not quoted`, p);
      const end = valueEnd(p + 1, quote);
      if (end < 0) return fail(`unterminated value of attribute ${attr}`, p);
      attributes[attr] = decode(text.slice(p + 1, end).replace(/[\t\n\r]/g, ' '), lenient, p + 1);
      p = end + 1;
    }
  }

  /**
   * Where the attribute value starting at `from` ends (the offset of its closing quote). Lenient:
   * the first quote before the next `<` that is followed by another attribute or the tag's end.
   */
  function valueEnd(from: number, quote: string): number {
    const first = text.indexOf(quote, from);
    if (!lenient || first < 0) return first;
    const lt = text.indexOf('<', from);
    const stop = lt < 0 ? text.length : lt;
    for (let q = first; q >= 0 && q < stop; q = text.indexOf(quote, q + 1)) {
      VALUE_END.lastIndex = q;
      if (VALUE_END.test(text)) return q;
    }
    return first;
  }
}

const matches = (element: XmlElement, localName: string): boolean =>
  element.localName === localName || element.localName.toLowerCase() === localName.toLowerCase();

/** The child elements, optionally only those with this local name (compared without regard to case). */
export function childElements(element: XmlElement, localName?: string): XmlElement[] {
  return element.children.filter((c): c is XmlElement => typeof c !== 'string' && (localName === undefined || matches(c, localName)));
}

/** The first child element with this local name. */
export function childElement(element: XmlElement, localName: string): XmlElement | undefined {
  return childElements(element, localName)[0];
}

/** The first element with this local name, the element itself included, depth first. */
export function findElement(element: XmlElement, localName: string): XmlElement | undefined {
  if (matches(element, localName)) return element;
  for (const child of childElements(element)) {
    const found = findElement(child, localName);
    if (found) return found;
  }
  return undefined;
}

/** The text of an element and its descendants. */
export function textOf(element: XmlElement): string {
  return element.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

/** An attribute by local name, compared without regard to case (the ASP client reads them so). */
export function attributeOf(element: XmlElement, name: string): string | undefined {
  const attrs = element.attributes;
  if (name in attrs) return attrs[name];
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(attrs)) if (localOf(k).toLowerCase() === wanted) return v;
  return undefined;
}
