/**
 * The REST API's recipient objects (spec 2.5) and how they map to the core's recipients:
 *
 * - the recipient, as calls take it and as `Recipients/{Subscribed|Unsubscribed|Pending}`,
 *   `Group/{id}/Recipients` and `PUT Recipient/Detail` answer it:
 *   `{"Email","Fields":[{"Description","Id","Value"}],"MobileNumber","MobilePrefix","Name","idRecipient"}`;
 * - the recipient in a list by state, as `Recipients/EmailOptins` answers it:
 *   `{"Email","Optin_Date","Optin_Request_Date","Optin_Request_IP","Optout_Date","Optout_MsgID","Optout_Subtype","Optout_Type","Status","idRecipient"}`.
 *
 * Members are written in the order MailUp's serializer writes them (ordinal: capitals first),
 * as its samples show. What is translated here, and nothing else (the rules are the core's):
 *
 * - the mobile: the core keeps one `+digits` number; MailUp splits it into MobilePrefix (`+39`)
 *   and MobileNumber (`3331234567`). Given, the two are joined as they are written (`+39` or
 *   `0039` and the number) and the core reads the result as an import reads a number with its
 *   prefix. Answered, the prefix is the country calling code (libphonenumber-js knows which codes
 *   exist: they are prefix-free, so at most one fits) and the number is every digit after it,
 *   unchanged, so an item sent back as it was read names the same number;
 * - fields: `Fields[].Id` 1..39 (src/core/dynamic-fields.ts) ↔ the core's field numbers; an
 *   answer carries all 39, a field never set as "", with its description;
 * - dates: `yyyy-MM-dd HH:mm:ss.fff` in the configured time zone, or "" (./import-status.ts restDate).
 */
import { getCountries, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { DYNAMIC_FIELDS, DYNAMIC_FIELD_COUNT } from '../core/dynamic-fields.ts';
import type { RecipientInput } from '../core/recipient-input.ts';
import type { SubscriptionStatus } from '../model/subscription.ts';
import type { RecipientAttribute, RecipientListItem, RecipientRecord } from '../store/recipients.ts';
import { badRequest } from './errors.ts';
import { restDate } from './import-status.ts';
import type { QueryFields } from './query-expression.ts';
import { bodyMembers, describeJson, stringMember, type JsonObject } from './request.ts';

// The mobile number

/** Every country calling code there is, as digits (`1`, `39`, `881`…). */
const CALLING_CODES: ReadonlySet<string> = new Set(getCountries().map((country) => getCountryCallingCode(country) as string));

export interface MobileParts {
  readonly MobileNumber: string | null;
  readonly MobilePrefix: string | null;
}

/**
 * `+393331234567` → `{MobilePrefix: "+39", MobileNumber: "3331234567"}`. A number whose calling
 * code is not known is answered whole in MobileNumber with an empty prefix (given back as they
 * are, the parts name the same number).
 */
export function splitMobile(mobile: string | null): MobileParts {
  if (mobile === null || mobile === '') return { MobileNumber: null, MobilePrefix: null };
  const digits = mobile.replace(/^\+/, '');
  // Non-geographic codes (+800, +882…) are not any country's: the parser knows those.
  const parsed = parsePhoneNumberFromString(`+${digits}`)?.countryCallingCode as string | undefined;
  const code = parsed !== undefined && digits.startsWith(parsed) ? parsed
    : [1, 2, 3].map((n) => digits.slice(0, n)).find((prefix) => CALLING_CODES.has(prefix));
  if (code === undefined || code.length >= digits.length) return { MobileNumber: `+${digits}`, MobilePrefix: '' };
  return { MobileNumber: digits.slice(code.length), MobilePrefix: `+${code}` };
}

// The recipient

export interface RestField {
  readonly Description: string;
  readonly Id: number;
  readonly Value: string;
}

export interface RestRecipient {
  readonly Email: string | null;
  readonly Fields: readonly RestField[];
  readonly MobileNumber: string | null;
  readonly MobilePrefix: string | null;
  readonly Name: string;
  readonly idRecipient: number;
}

/** A recipient as the REST API answers it, with every dynamic field. */
export function restRecipientOf(r: RecipientRecord): RestRecipient {
  const mobile = splitMobile(r.mobile);
  return {
    Email: r.email,
    Fields: DYNAMIC_FIELDS.map((f) => ({ Description: f.description, Id: f.id, Value: r.fields[f.id] ?? '' })),
    MobileNumber: mobile.MobileNumber,
    MobilePrefix: mobile.MobilePrefix,
    Name: r.name ?? '',
    idRecipient: r.id,
  };
}

/** MailUp's words for a subscription's state. */
export const OPTIN_STATUS: Readonly<Record<SubscriptionStatus, string>> = { subscribed: 'OPTIN', unsubscribed: 'OPTOUT', pending: 'PENDING' };

export interface RestRecipientOptin {
  readonly Email: string | null;
  readonly Optin_Date: string;
  readonly Optin_Request_Date: string;
  readonly Optin_Request_IP: string | null;
  readonly Optout_Date: string;
  readonly Optout_MsgID: null;
  readonly Optout_Subtype: null;
  readonly Optout_Type: string | null;
  readonly Status: string;
  readonly idRecipient: number;
}

/**
 * A recipient's e-mail subscription to the list of a listing. Optin_Date: when it became
 * subscribed (confirmed, or its last change); Optin_Request_Date and _IP: the latest confirmation
 * request and the subscriber's address recorded with the opt-in; Optout_Date: when it was
 * unsubscribed, Optout_Type why (`user`, `import`, `bounce`, `complaint`). This server keeps no
 * message that caused an opt-out, nor a subtype: both null.
 */
export function restOptinOf(item: RecipientListItem, timeZone: string): RestRecipientOptin {
  const s = item.subscriptions.find((x) => x.channel === 'email');
  const date = (d: Date | null | undefined): string => (d ? restDate(d, timeZone) : '');
  return {
    Email: item.email,
    Optin_Date: s?.status === 'subscribed' ? date(s.confirmedAt ?? s.updatedAt) : '',
    Optin_Request_Date: date(s?.lastRequestAt),
    Optin_Request_IP: s?.requestIp ?? null,
    Optout_Date: s?.status === 'unsubscribed' ? date(s.updatedAt) : '',
    Optout_MsgID: null,
    Optout_Subtype: null,
    Optout_Type: s?.status === 'unsubscribed' ? s.reason : null,
    Status: s ? OPTIN_STATUS[s.status] : '',
    idRecipient: item.id,
  };
}

// Reading a recipient body

const RECIPIENT_MEMBERS = ['Email', 'Fields', 'MobileNumber', 'MobilePrefix', 'Name', 'idRecipient'] as const;
/** The members of a by-state item: a client may send one back as it read it; they are not written. */
const READ_ONLY_MEMBERS = ['Optin_Date', 'Optin_Request_Date', 'Optin_Request_IP', 'Optout_Date', 'Optout_MsgID', 'Optout_Subtype', 'Optout_Type', 'Status'] as const;
const FIELD_MEMBERS = ['Id', 'Value'] as const;

/** A recipient body as the core takes it, and what the body said, for messages. */
export interface RecipientBody {
  readonly input: RecipientInput;
  /** The body's idRecipient, when it gives one. */
  readonly id: number | null;
  readonly email: string | null;
  readonly mobilePrefix: string | null;
  readonly mobileNumber: string | null;
}

/**
 * Reads a recipient object: members in any case; `idRecipient` read (a call that does not look
 * recipients up by id ignores it); `Fields[].Description` and the by-state members ignored;
 * anything else is a 400 naming it, as is a member of the wrong type or a field Id outside 1..39
 * or given twice. A field Value may be a number (clients that keep a ZIP code as one).
 */
export function recipientBody(body: JsonObject): RecipientBody {
  const members = bodyMembers(body, RECIPIENT_MEMBERS, READ_ONLY_MEMBERS);
  const rawId = members.get('idRecipient');
  let id: number | null = null;
  if (rawId !== undefined && rawId !== null) {
    if (typeof rawId !== 'number' || !Number.isSafeInteger(rawId) || rawId <= 0) throw badRequest(`idRecipient must be a positive whole number, not ${describeValue(rawId)}.`);
    id = rawId;
  }
  const email = stringMember(members, 'Email');
  const mobilePrefix = stringMember(members, 'MobilePrefix');
  const mobileNumber = stringMember(members, 'MobileNumber');
  const name = stringMember(members, 'Name');
  const fields = fieldsOf(members.get('Fields'));
  const input: RecipientInput = {
    ...(id !== null ? { id } : {}),
    email: email === null || email.trim() === '' ? null : email,
    // The core reads MobilePrefix as the country code, with or without +, as the bulk import does.
    mobile: mobileNumber === null || mobileNumber.trim() === '' ? null : mobileNumber,
    mobilePrefix,
    name,
    fields,
  };
  return { input, id, email, mobilePrefix, mobileNumber };
}

function fieldsOf(list: unknown): Record<number, string> {
  const fields: Record<number, string> = {};
  if (list === undefined || list === null) return fields;
  if (!Array.isArray(list)) throw badRequest(`Fields must be an array of {"Id", "Value"} objects, not ${describeJson(list)}.`);
  list.forEach((item: unknown, index) => {
    const where = `Fields[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw badRequest(`${where} must be an object {"Id", "Value"}, not ${describeJson(item)}.`);
    const m = bodyMembers(item as JsonObject, FIELD_MEMBERS, ['Description']);
    const id = m.get('Id');
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > DYNAMIC_FIELD_COUNT) {
      throw badRequest(`${where}.Id must be a whole number from 1 to ${DYNAMIC_FIELD_COUNT}, not ${id === undefined ? 'missing' : describeValue(id)}.`);
    }
    const raw = m.get('Value');
    let value: string;
    if (raw === undefined || raw === null) value = '';
    else if (typeof raw === 'string') value = raw;
    else if (typeof raw === 'number') value = String(raw);
    else throw badRequest(`${where}.Value must be a string, not ${describeJson(raw)}.`);
    if (id in fields) throw badRequest(`${where}: the field Id ${id} is given twice.`);
    fields[id] = value;
  });
  return fields;
}

const describeValue = (value: unknown): string => (typeof value === 'number' ? `the number ${value}` : describeJson(value));

// Filtering and ordering listings

/** What `filterby`/`orderby` of a recipient listing may name. */
export const RECIPIENT_QUERY_FIELDS: QueryFields = { Email: 'string', Name: 'string', idRecipient: 'number' };
/** What `filterby`/`orderby` of `Recipients/EmailOptins` may name (Status only in `Status=='OPTIN'` form). */
export const OPTIN_QUERY_FIELDS: QueryFields = { Email: 'string', Status: 'string', idRecipient: 'number' };

/** The store's attribute for a query field of either shape. */
export const RECIPIENT_ATTRIBUTES: Readonly<Record<string, RecipientAttribute>> = { Email: 'email', Name: 'name', idRecipient: 'id' };

/** The state `Status=='…'` names, or null when the word is none of MailUp's. */
export function statusNamed(word: string): SubscriptionStatus | null {
  const found = Object.entries(OPTIN_STATUS).find(([, w]) => w === word);
  return found ? (found[0] as SubscriptionStatus) : null;
}
