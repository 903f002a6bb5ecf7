/**
 * The importer's items as REST recipients: a subscriber object (a CSV row: email, prefix,
 * number, name, campoN fields) or a `<subscriber>` element of an XML feed becomes
 * `{"Email","Name","MobilePrefix","MobileNumber","Fields":[{"Id","Value"}]}`.
 *
 * - campoN is field Id N; MailUp's REST fields run 1 to 39, so a higher one cannot be sent;
 * - a field value holds at most 200 characters (MailUp's nvarchar(200)): the API refuses the
 *   whole request for a longer one, so such a row is left out and reported instead;
 * - empty fields are not sent: without `clearMissingOrEmptyFields` a field missing or empty keeps
 *   its stored value, with it both are cleared, so leaving them out changes nothing;
 * - the mobile prefix and number go as they are, in their own members (the API joins them).
 */
import type { FieldValue, Subscriber } from '../feed-builder.ts';
import type { ImportItem } from '../import-report.ts';
import type { RawSubscriber } from '../xml-feed.ts';
import { XmlReadError, attributeOf, childElements, readXml, textOf } from '../xml-reader.ts';
import type { RestField, RestRecipient } from './types.ts';

/** The highest personal-data field id of MailUp's REST API. */
export const MAX_REST_FIELD_ID = 39;
/** The longest field value the REST API takes. */
export const MAX_REST_FIELD_LENGTH = 200;

/** A recipient, or why the item cannot be sent over REST. */
export type RecipientOutcome = { readonly ok: true; readonly recipient: RestRecipient } | { readonly ok: false; readonly reason: string };

const isRaw = (item: ImportItem): item is RawSubscriber => typeof (item as RawSubscriber).xml === 'string';

const text = (v: FieldValue): string => (v === null || v === undefined ? '' : String(v));

/** The `<subscriber>` element as a subscriber object (attributes email, Prefix, Number, Name; campoN children). */
function subscriberOfXml(raw: RawSubscriber): Subscriber | string {
  let element;
  try {
    element = readXml(raw.xml);
  } catch (err) {
    if (err instanceof XmlReadError) return `the <subscriber> element is not well-formed XML: ${err.message}`;
    throw err;
  }
  const attr = (name: string): string => {
    const found = Object.keys(element.attributes).find((k) => k.toLowerCase() === name.toLowerCase());
    return found === undefined ? '' : attributeOf(element, found) ?? '';
  };
  const fields: Record<number, string> = {};
  for (const child of childElements(element)) {
    const m = /^campo([1-9][0-9]*)$/i.exec(child.localName);
    if (m) fields[Number(m[1])] = textOf(child);
  }
  return { email: attr('email'), prefix: attr('Prefix'), number: attr('Number'), name: attr('Name'), fields };
}

/** The fields of a subscriber by id, from an array (`fields[0]` is campo1) or an object by campo number. */
function fieldsOf(subscriber: Subscriber): Array<[number, string]> {
  const fields = subscriber.fields;
  if (!fields) return [];
  const entries: Array<[number, FieldValue]> = Array.isArray(fields)
    ? fields.map((v, i) => [i + 1, v])
    : Object.entries(fields).map(([k, v]) => [Number(k), v as FieldValue]);
  return entries.map(([n, v]) => [n, text(v)]);
}

/** One importer item as a REST recipient, or why it cannot be sent. */
export function restRecipientOf(item: ImportItem): RecipientOutcome {
  const subscriber = isRaw(item) ? subscriberOfXml(item) : item;
  if (typeof subscriber === 'string') return { ok: false, reason: subscriber };
  const Fields: RestField[] = [];
  for (const [n, value] of fieldsOf(subscriber)) {
    if (!Number.isInteger(n) || n < 1) return { ok: false, reason: `field "${n}" is not a campo number` };
    if (value === '') continue;
    if (n > MAX_REST_FIELD_ID) return { ok: false, reason: `campo${n} cannot be sent over REST: its fields run from 1 to ${MAX_REST_FIELD_ID}` };
    if (value.length > MAX_REST_FIELD_LENGTH) {
      return { ok: false, reason: `campo${n} is ${value.length} characters long; the REST API takes at most ${MAX_REST_FIELD_LENGTH}` };
    }
    Fields.push({ Id: n, Value: value });
  }
  const prefix = text(subscriber.prefix).trim();
  const number = text(subscriber.number).trim();
  return {
    ok: true,
    recipient: {
      Email: text(subscriber.email).trim(),
      Name: text(subscriber.name),
      ...(prefix === '' ? {} : { MobilePrefix: prefix }),
      ...(number === '' ? {} : { MobileNumber: number }),
      ...(Fields.length === 0 ? {} : { Fields }),
    },
  };
}
