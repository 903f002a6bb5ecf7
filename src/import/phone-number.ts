/**
 * How every door reads a mobile number (an import row's Prefix/Number, the HTTP subscribe API's
 * `Sms`, the REST API's MobilePrefix/MobileNumber): one function, with the country of the list
 * the number is for (docs/behaviour.md, "Mobile numbers").
 *
 * - With a country code — `+` or `00` first, or a `Prefix` given with mobileInputType 2 — the
 *   number is international and read as it always was: the country code's leading zeros dropped
 *   (`+001` → `+1`), `+` and 6–15 digits.
 * - Without one, it is a national number of the list's country, read by that country's numbering
 *   plan (the trunk prefix dropped where the plan says so: `0171 7654321` in DE is
 *   `+491717654321`, `3331234567` in IT is `+393331234567`) and kept only when valid there.
 * - Without one on a list that has no country, it is rejected: a guess would text a stranger.
 *
 * The plans are libphonenumber-js's "max" metadata (a port of Google's libphonenumber): the
 * default "min" metadata checks lengths only, and would let through numbers no plan allows.
 * Spaces, dots, dashes, slashes and parentheses are ignored in every form.
 */
import { createRequire } from 'node:module';
import type { CountryCode } from 'libphonenumber-js/max';

type NumberingPlans = typeof import('libphonenumber-js/max');
let loadedPlans: NumberingPlans | undefined;
/**
 * The plans weigh about 12 MB in each isolate that loads them (the server and its import thread),
 * so they are loaded when a number is first read by a country's plan, not at start-up: a server
 * whose feeds carry international numbers only never pays for them.
 */
const plans = (): NumberingPlans => (loadedPlans ??= createRequire(import.meta.url)('libphonenumber-js/max') as NumberingPlans);

export type MobileReading =
  | { readonly ok: true; readonly mobile: string | null }
  | { readonly ok: false; readonly reason: string };

/** Every reason a reading gives starts with this, so reports can tell mobile rejects from others. */
export const INVALID_MOBILE = 'invalid mobile number';
export const NO_COUNTRY_REASON = `${INVALID_MOBILE}: no country code (+ or 00) and the list has no default country`;
export const notValidInReason = (country: string): string => `${INVALID_MOBILE}: not a valid number in ${country}`;

const MOBILE_NOISE = /[\s().\-\/]/g;

/** Whether `code` is an ISO 3166 alpha-2 code (upper case) with a known numbering plan. */
export const isCountryWithPlan = (code: string): boolean => /^[A-Z]{2}$/.test(code) && plans().isSupportedCountry(code);

/**
 * The number in international form (`+digits`), or null when none is given. mobileInputType 1
 * carries the country code inside `number`, 2 in `prefix`. `country` is the list's default
 * country, null when it has none.
 */
export function readMobile(prefix: string, number: string, mobileInputType: number, country: string | null): MobileReading {
  const givenPrefix = mobileInputType === 2 ? prefix.replace(MOBILE_NOISE, '') : '';
  const raw = givenPrefix + number.replace(MOBILE_NOISE, '');
  if (raw === '') return { ok: true, mobile: null };
  if (givenPrefix !== '' || raw.startsWith('+') || raw.startsWith('00')) return international(raw);
  if (country === null) return { ok: false, reason: NO_COUNTRY_REASON };
  if (!/^[0-9]{1,17}$/.test(raw)) return { ok: false, reason: INVALID_MOBILE };
  const phone = plans().parsePhoneNumberFromString(raw, country as CountryCode);
  if (phone === undefined || !phone.isValid()) return { ok: false, reason: notValidInReason(country) };
  return { ok: true, mobile: phone.number };
}

/** `+` or `00` and the country code (its leading zeros dropped), then the rest: 6–15 digits in all. */
function international(raw: string): MobileReading {
  let digits = raw.startsWith('+') ? raw.slice(1) : raw.startsWith('00') ? raw.slice(2) : raw;
  digits = digits.replace(/^0+/, '');
  if (!/^[0-9]{6,15}$/.test(digits)) return { ok: false, reason: INVALID_MOBILE };
  return { ok: true, mobile: `+${digits}` };
}
