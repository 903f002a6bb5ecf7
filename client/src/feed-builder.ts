/**
 * Writing the subscribers feed (`xmlDoc`, spec §8) from plain objects:
 *
 *   <subscribers><subscriber email="…" Prefix="…" Number="…" Name="…"><campo1>…</campo1>…</subscriber>…</subscribers>
 *
 * As MailUp asks (spec §8.2): every subscriber has the same attributes and the same campo
 * elements, in order, empty ones included (with importType 1–3 an empty field keeps the stored
 * value, with 4–6 it clears it). Values are escaped; characters XML 1.0 cannot carry at all
 * (control characters other than tab and line breaks) are dropped.
 */
import { escapeXmlText } from './transport.ts';

/** A field value; null and undefined are written as an empty element. */
export type FieldValue = string | number | null | undefined;

/** One subscriber. Every property is optional; missing ones are written empty. */
export interface Subscriber {
  readonly email?: string | null;
  /**
   * The international prefix of the mobile number (e.g. `+39`). With mobileInputType 1 it is
   * put in front of `number`; with 2 it goes to the `Prefix` attribute.
   */
  readonly prefix?: string | null;
  /** The mobile number: with mobileInputType 1 the whole international number (`+393331234567`). */
  readonly number?: string | null;
  /** The `Name` attribute. */
  readonly name?: string | null;
  /**
   * Personal-data fields: an array where `fields[0]` is campo1, or an object by campo number
   * (`{ 1: 'Anna', 3: 'ACME' }`).
   */
  readonly fields?: readonly FieldValue[] | Readonly<Record<number, FieldValue>>;
}

/** How a feed is written. */
export interface FeedOptions {
  /**
   * How mobile numbers are written: 1 (default) the whole number in `Number` and `Prefix`
   * empty; 2 the prefix in `Prefix` and the rest in `Number`. Pass the same value to the
   * import call.
   */
  readonly mobileInputType?: 1 | 2;
  /**
   * How many campo elements every subscriber gets (campo1…campoN). Default: the highest field
   * number of the subscribers ({@link buildFeed}) or of each subscriber ({@link FeedBuilder}).
   */
  readonly fieldCount?: number;
}

/** Characters XML 1.0 cannot carry even as references, and lone surrogates. */
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ATTRIBUTE_SPECIAL = /[&<>"\t\n\r]/g;
const ATTRIBUTE_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

const clean = (value: FieldValue): string => (value === null || value === undefined ? '' : String(value)).replace(NOT_XML, '');
const attribute = (value: FieldValue): string => clean(value).replace(ATTRIBUTE_SPECIAL, (c) => ATTRIBUTE_ESCAPES[c]!);

/** The fields of a subscriber by campo number (1-based). */
function fieldEntries(subscriber: Subscriber): Array<[number, FieldValue]> {
  const fields = subscriber.fields;
  if (!fields) return [];
  if (Array.isArray(fields)) return fields.map((v, i) => [i + 1, v]);
  return Object.entries(fields).map(([k, v]) => {
    const n = Number(k);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`field "${k}" is not a campo number (1, 2, …)`);
    return [n, v as FieldValue];
  });
}

/** The highest campo number a subscriber uses (0 when none). */
export function highestField(subscriber: Subscriber): number {
  return fieldEntries(subscriber).reduce((max, [n]) => Math.max(max, n), 0);
}

/**
 * Writes subscribers one at a time with fixed options, for callers that assemble the feed
 * themselves (the importer writes each batch this way).
 *
 * @example
 * ```ts
 * const builder = new FeedBuilder({ fieldCount: 3 });
 * builder.subscriber({ email: 'anna@example.com', fields: ['Anna'] });
 * // '<subscriber email="anna@example.com" Prefix="" Number="" Name=""><campo1>Anna</campo1><campo2></campo2><campo3></campo3></subscriber>'
 * ```
 */
export class FeedBuilder {
  readonly mobileInputType: 1 | 2;
  readonly fieldCount: number | undefined;

  constructor(options: FeedOptions = {}) {
    const type = options.mobileInputType ?? 1;
    if (type !== 1 && type !== 2) throw new RangeError(`mobileInputType must be 1 or 2, not ${String(type)}`);
    if (options.fieldCount !== undefined && !(Number.isInteger(options.fieldCount) && options.fieldCount >= 0)) {
      throw new RangeError(`fieldCount must be a whole number, not ${String(options.fieldCount)}`);
    }
    this.mobileInputType = type;
    this.fieldCount = options.fieldCount;
  }

  /** One `<subscriber>` element. */
  subscriber(subscriber: Subscriber): string {
    const entries = fieldEntries(subscriber);
    const values: FieldValue[] = [];
    for (const [n, v] of entries) values[n - 1] = v;
    const count = this.fieldCount ?? values.length;
    if (values.length > count) throw new RangeError(`subscriber ${subscriber.email ?? ''} has campo${values.length}, more than fieldCount ${count}`);
    const prefix = clean(subscriber.prefix).trim();
    const number = clean(subscriber.number).trim();
    const [prefixAttr, numberAttr] = this.mobileInputType === 2 ? [prefix, number] : ['', number === '' ? '' : prefix + number];
    let xml = `<subscriber email="${attribute(subscriber.email?.trim())}" Prefix="${attribute(prefixAttr)}" Number="${attribute(numberAttr)}" Name="${attribute(subscriber.name)}">`;
    for (let n = 1; n <= count; n++) xml += `<campo${n}>${escapeXmlText(clean(values[n - 1]))}</campo${n}>`;
    return `${xml}</subscriber>`;
  }
}

/** The feed's root element, opened and closed, around the `<subscriber>` elements. */
export const FEED_OPEN = '<subscribers>';
/** See {@link FEED_OPEN}. */
export const FEED_CLOSE = '</subscribers>';

/**
 * A whole feed as one string. Without `fieldCount`, every subscriber gets as many campo
 * elements as the one with the most.
 *
 * @example
 * ```ts
 * const xmlDoc = buildFeed([
 *   { email: 'anna@example.com', fields: ['Anna', 'Rossi'] },
 *   { email: 'luca@example.com', prefix: '+39', number: '3331234567', fields: { 1: 'Luca' } },
 * ]);
 * await client.newImportProcess({ idList: 1, listGUID, xmlDoc });
 * ```
 */
export function buildFeed(subscribers: Iterable<Subscriber>, options: FeedOptions = {}): string {
  const all = [...subscribers];
  const fieldCount = options.fieldCount ?? all.reduce((max, s) => Math.max(max, highestField(s)), 0);
  const builder = new FeedBuilder({ ...options, fieldCount });
  return FEED_OPEN + all.map((s) => builder.subscriber(s)).join('') + FEED_CLOSE;
}

/** Size of the pieces {@link streamFeed} yields. */
const STREAM_CHUNK_CHARS = 64 * 1024;

/**
 * A feed as text chunks, subscriber by subscriber, for inputs too large to hold in memory.
 * `fieldCount` should be given (a stream cannot be looked at twice); without it each subscriber
 * gets as many campo elements as its own highest field.
 *
 * @example
 * ```ts
 * const xmlDoc = streamFeed(readRowsSomehow(), { fieldCount: 3 });
 * const idProcess = await client.newImportProcess({ idList: 1, listGUID, xmlDoc });
 * ```
 */
export async function* streamFeed(subscribers: AsyncIterable<Subscriber> | Iterable<Subscriber>, options: FeedOptions = {}): AsyncGenerator<string> {
  const builder = new FeedBuilder(options);
  let chunk = FEED_OPEN;
  for await (const subscriber of subscribers) {
    chunk += builder.subscriber(subscriber);
    if (chunk.length >= STREAM_CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk + FEED_CLOSE;
}
