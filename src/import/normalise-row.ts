/**
 * Turns a stored feed row into what the rules and the store work with, or a reason to reject it.
 *
 * - importType 1/4 import the e-mail channel only, 2/5 the SMS channel only, 3/6 both (spec §7.2);
 *   1–3 leave stored fields alone when a value is empty, 4–6 clear them. A value of white space
 *   only (MailUp's Magento module sends one space) clears the field whatever the type.
 * - e-mail: trimmed, lower-cased, at most 50 characters (spec §8.2).
 * - mobile: one international form, read by readMobile (./phone-number.ts) with the list's
 *   default country: mobileInputType 1 has the country code inside Number, 2 in Prefix; a number
 *   without one is a national number of the list's country, rejected when the list has none.
 * - campoN: at most 100 characters, or 200 when pure 7-bit ASCII (spec §8.2).
 * - with clearMissingFieldsUpTo (REST clearMissingOrEmptyFields), fields up to that number that
 *   the row leaves out are cleared too.
 */
import type { FeedRow, ImportOptions } from '../model/records.ts';
import { INVALID_MOBILE, NO_COUNTRY_REASON, readMobile } from './phone-number.ts';

export interface Channels {
  readonly email: boolean;
  readonly sms: boolean;
}

export function channelsOf(importType: number): Channels {
  const base = ((importType - 1) % 3) + 1;
  return { email: base === 1 || base === 3, sms: base === 2 || base === 3 };
}

export interface NormalisedRow {
  readonly row: number;
  readonly email: string | null;
  readonly mobile: string | null;
  readonly name: string | null;
  /** Fields to write: '' clears. */
  readonly fields: Readonly<Record<number, string>>;
}

export type RowResult = { readonly ok: true; readonly value: NormalisedRow } | { readonly ok: false; readonly reason: string };

export const MAX_EMAIL_LENGTH = 50;
const EMAIL = /^[^\s@"<>()\[\],;:\\]+@[^\s@"<>()\[\],;:\\]+\.[^\s@"<>()\[\],;:\\]+$/;
const ASCII = /^[\x00-\x7f]*$/;
function fieldTooLong(value: string): boolean {
  return value.length > (ASCII.test(value) ? 200 : 100);
}

/** `country`: the default country (ISO 3166 alpha-2) of the list the row is for; null when it has none. */
export function normaliseRow(
  row: FeedRow, options: Pick<ImportOptions, 'importType' | 'mobileInputType' | 'clearMissingFieldsUpTo'>, country: string | null = null,
): RowResult {
  const channels = channelsOf(options.importType);
  const clearEmpty = options.importType >= 4;

  let email: string | null = null;
  if (channels.email) {
    const e = row.email.trim().toLowerCase();
    if (e !== '') {
      if (e.length > MAX_EMAIL_LENGTH) return { ok: false, reason: `e-mail address longer than ${MAX_EMAIL_LENGTH} characters` };
      if (!EMAIL.test(e)) return { ok: false, reason: 'invalid e-mail address' };
      email = e;
    }
  }
  let mobile: string | null = null;
  if (channels.sms) {
    const m = readMobile(row.prefix, row.number, options.mobileInputType, country);
    if (!m.ok) return m;
    mobile = m.mobile;
  }
  if (email === null && mobile === null) {
    return { ok: false, reason: channels.email && channels.sms ? 'no e-mail address or mobile number' : channels.email ? 'no e-mail address' : 'no mobile number' };
  }
  const fields: Record<number, string> = {};
  for (const [k, v] of Object.entries(row.fields)) {
    if (fieldTooLong(v)) return { ok: false, reason: `campo${k} longer than the allowed length` };
    // Empty: keep the stored value (1-3) or clear it (4-6); white space only: clear it.
    if (v !== '' && v.trim() !== '') fields[Number(k)] = v;
    else if (v !== '' || clearEmpty) fields[Number(k)] = '';
  }
  // REST clearMissingOrEmptyFields: a field the row leaves out is cleared like an empty one.
  const clearUpTo = options.clearMissingFieldsUpTo ?? 0;
  for (let n = 1; n <= clearUpTo; n++) if (!(n in fields)) fields[n] = '';
  const name = row.name.trim() === '' ? null : row.name;
  return { ok: true, value: { row: row.row, email, mobile, name, fields } };
}

/** What a reject reason of normaliseRow is about, for the REST import detail's counts (`Rows.Invalid`). */
/** 'no-prefix': a mobile without a country code on a list without a default country (REST `WithoutPrefix`). */
export type RejectKind = 'invalid-email' | 'invalid-mobile' | 'no-prefix' | 'no-email' | 'no-mobile' | 'other';

/** The kind of a reason normaliseRow gave (kept next to the reasons, so the two cannot drift apart). */
export function rejectKind(reason: string): RejectKind {
  if (reason === 'invalid e-mail address' || reason.startsWith('e-mail address longer than')) return 'invalid-email';
  if (reason === NO_COUNTRY_REASON) return 'no-prefix';
  if (reason.startsWith(INVALID_MOBILE)) return 'invalid-mobile';
  if (reason === 'no e-mail address' || reason === 'no e-mail address or mobile number') return 'no-email';
  if (reason === 'no mobile number') return 'no-mobile';
  return 'other';
}
