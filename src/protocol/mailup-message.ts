/**
 * The result string every operation returns: a complete `<mailupMessage>` document, written the
 * way MailUp writes it (spec §4): a `windows-1252` declaration with a space before `?>`,
 * `True`/`False`, `dd/MM/yyyy HH.mm.ss` dates, empty elements for no value. Every non-ASCII
 * character becomes a character reference, so the document is pure ASCII whatever the client
 * thinks the encoding is.
 */
import { asciiOnly, escapeAttribute, escapeText } from '../xml/escape.ts';

export const RESULT_DECLARATION = '<?xml version="1.0" encoding="windows-1252" ?>';

/** A value written into a result: null and undefined are written as an empty element. */
export type ResultValue = string | number | boolean | Date | null | undefined;

/** A piece of result body: already-built markup. Build it only with the helpers below. */
export class Markup {
  constructor(readonly xml: string) {}
}

export interface ResultFormat {
  /** Formats a date as `dd/MM/yyyy HH.mm.ss` in the configured time zone. */
  readonly formatDate: (date: Date) => string;
}

export function formatValue(value: ResultValue, format: ResultFormat): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value instanceof Date) return format.formatDate(value);
  return escapeText(String(value));
}

/** `<name attr="…">children</name>`; children are values (escaped) or nested markup. */
export function element(
  name: string,
  attrs: Record<string, string | number> | null,
  ...children: (Markup | string | number)[]
): Markup {
  let open = name;
  if (attrs) for (const [k, v] of Object.entries(attrs)) open += ` ${k}="${escapeAttribute(String(v))}"`;
  const body = children.map((c) => (c instanceof Markup ? c.xml : escapeText(String(c)))).join('');
  return new Markup(`<${open}>${body}</${name}>`);
}

/** `<name attr="…" />`, self-closing with a space as in MailUp's GetNlLists sample. */
export function emptyElement(name: string, attrs: Record<string, string | number>): Markup {
  let open = name;
  for (const [k, v] of Object.entries(attrs)) open += ` ${k}="${escapeAttribute(String(v))}"`;
  return new Markup(`<${open} />`);
}

/** A sequence of `<name>value</name>` elements in the given order. */
export function fields(values: ReadonlyArray<readonly [string, ResultValue]>, format: ResultFormat): Markup {
  return new Markup(values.map(([k, v]) => `<${k}>${formatValue(v, format)}</${k}>`).join(''));
}

/** The complete result document: ReturnCode first, then the payload. */
export function mailupMessage(returnCode: number, payload?: Markup): string {
  const body = `<ReturnCode>${returnCode}</ReturnCode>${payload ? payload.xml : ''}`;
  return `${RESULT_DECLARATION}${asciiOnly(`<mailupMessage><mailupBody>${body}</mailupBody></mailupMessage>`)}`;
}

/** How many formatted dates a formatter remembers (see below). */
const FORMATTED_DATES_KEPT = 4096;

/**
 * Formats dates as MailUp does (`30/10/2012 15.39.12`) in an IANA time zone, e.g. Europe/Rome.
 *
 * Intl's formatToParts costs about 10 µs a date, and GetProcessDetails writes two per call while
 * clients poll the same processes over and over: the last few thousand results are kept, keyed
 * by the whole second (the format has no finer unit).
 */
export function makeDateFormatter(timeZone: string): (date: Date) => string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  const formatted = new Map<number, string>();
  return (date) => {
    const second = Math.floor(date.getTime() / 1000);
    let text = formatted.get(second);
    if (text === undefined) {
      const p: Record<string, string> = {};
      for (const { type, value } of parts.formatToParts(date)) p[type] = value;
      text = `${p.day}/${p.month}/${p.year} ${p.hour}.${p.minute}.${p.second}`;
      if (formatted.size >= FORMATTED_DATES_KEPT) formatted.clear();
      formatted.set(second, text);
    }
    return text;
  };
}
