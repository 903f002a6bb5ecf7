/**
 * One recipient as a single-recipient call gives it (the HTTP subscribe API, the REST API), checked
 * and put in the form the store keeps, by the very rules an import applies to a feed row
 * (src/import/normalise-row.ts): the e-mail trimmed, lower-cased, at most 50 characters; the
 * mobile in `+digits` form (a number without `+` or `00` is a national number of the list's
 * default country, as an import with mobileInputType 1 reads it; a prefix given apart is the
 * country code, as with mobileInputType 2); fields of at most 100 characters (200 in 7-bit ASCII), an
 * empty value keeping the stored one unless `emptyFieldsClear` (importType 3 or 6), white space
 * only clearing it. What a row cannot carry, a call can: control characters are refused here.
 */
import { MAX_FIELD_NUMBER } from '../import/feed-reader.ts';
import { normaliseRow, rejectKind } from '../import/normalise-row.ts';
import { hasControlCharacter } from './text.ts';

/** A recipient as a call names it; every member may be left out. */
export interface RecipientInput {
  /** An existing recipient of the account by id (REST); otherwise it is found by e-mail, or by mobile when there is no e-mail. */
  readonly id?: number;
  readonly email?: string | null;
  readonly mobile?: string | null;
  /**
   * The country code given apart from the number (REST `MobilePrefix`), with or without `+` or
   * `00`: read as the country code, as an import reads Prefix with mobileInputType 2 (the REST
   * bulk import's reading). Absent or empty: any country code is inside `mobile`. Ignored when
   * there is no `mobile` (a prefix alone is no number).
   */
  readonly mobilePrefix?: string | null;
  readonly name?: string | null;
  /** campoN values by N, from 1 to MAX_FIELD_NUMBER. */
  readonly fields?: Readonly<Record<number, string>>;
}

export interface CheckedRecipient {
  readonly id: number | null;
  readonly email: string | null;
  readonly mobile: string | null;
  /** null: keep the stored name. */
  readonly name: string | null;
  /** Fields to write; '' clears one. */
  readonly fields: Readonly<Record<number, string>>;
}

export type RecipientInputRefusal = 'invalid-email' | 'invalid-mobile' | 'no-address' | 'invalid-field';

export interface RecipientCheckOptions {
  readonly emptyFieldsClear?: boolean;
  /** The default country (ISO 3166 alpha-2) of the call's list: it reads a mobile without `+` or `00`. None: such a mobile is refused. */
  readonly country?: string | null;
}

/**
 * Checks and normalises a recipient. Without an id, an e-mail or a mobile is required
 * ('no-address'); 'invalid-field' covers a field number out of range, a value too long, and
 * control characters in a field or the name.
 */
export function checkRecipient(
  input: RecipientInput, options: RecipientCheckOptions = {},
): { ok: true; value: CheckedRecipient } | { ok: false; reason: RecipientInputRefusal } {
  const email = input.email ?? '';
  const mobile = input.mobile ?? '';
  const prefix = mobile.trim() === '' ? '' : (input.mobilePrefix ?? '').trim();
  const name = input.name ?? '';
  const fields = input.fields ?? {};
  if (hasControlCharacter(email)) return { ok: false, reason: 'invalid-email' };
  if (hasControlCharacter(mobile) || hasControlCharacter(prefix)) return { ok: false, reason: 'invalid-mobile' };
  if (hasControlCharacter(name)) return { ok: false, reason: 'invalid-field' };
  for (const [k, v] of Object.entries(fields)) {
    const n = Number(k);
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_FIELD_NUMBER || hasControlCharacter(v)) return { ok: false, reason: 'invalid-field' };
  }
  const id = input.id ?? null;
  const anAddress = email.trim() !== '' || mobile.replace(/\s/g, '') !== '';
  if (id !== null && !anAddress) {
    // Named by id alone: only the data is checked, with a stand-in address the row rules accept.
    const checked = normaliseRow({ row: 0, email: 'id@only.invalid', prefix: '', number: '', name, fields }, rowOptions(options));
    if (!checked.ok) return { ok: false, reason: 'invalid-field' };
    return { ok: true, value: { id, email: null, mobile: null, name: checked.value.name, fields: checked.value.fields } };
  }
  // One reading of a mobile for every door (src/import/phone-number.ts readMobile): a prefix given
  // apart is the country code (mobileInputType 2), as the REST bulk import reads MobilePrefix.
  const checked = normaliseRow({ row: 0, email, prefix, number: mobile, name, fields }, rowOptions(options, prefix !== ''), options.country ?? null);
  if (!checked.ok) {
    const kind = rejectKind(checked.reason);
    if (kind === 'no-prefix') return { ok: false, reason: 'invalid-mobile' };
    return { ok: false, reason: kind === 'invalid-email' || kind === 'invalid-mobile' ? kind : kind === 'other' ? 'invalid-field' : 'no-address' };
  }
  const v = checked.value;
  return { ok: true, value: { id, email: v.email, mobile: v.mobile, name: v.name, fields: v.fields } };
}

/** Both channels, the country code inside the number (1) or in the prefix given apart (2); empty values kept (3) or cleared (6). */
const rowOptions = (options: RecipientCheckOptions, prefixApart = false) =>
  ({ importType: options.emptyFieldsClear ? 6 : 3, mobileInputType: prefixApart ? 2 : 1 }) as const;

/** Longest sender name kept in a From. */
export const MAX_SENDER_NAME = 100;

/**
 * The From of a confirmation request a call asks for (HTTP Dynsndmail, dynsndname): the address
 * checked as a recipient's is, the name on one line without quotes; null when the call names no
 * address (a name alone keeps the message's sender). False when either is not acceptable.
 */
export function senderFrom(email: string | null | undefined, name: string | null | undefined): string | null | false {
  const address = (email ?? '').trim();
  if (address === '') return null;
  const checked = checkRecipient({ email: address });
  if (!checked.ok || checked.value.email === null) return false;
  const display = (name ?? '').trim();
  if (display === '') return checked.value.email;
  if (hasControlCharacter(display) || /[\r\n\t"\\<>]/.test(display) || Array.from(display).length > MAX_SENDER_NAME) return false;
  return `"${display}" <${checked.value.email}>`;
}
