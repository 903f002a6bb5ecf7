/**
 * The parameters of an HTTP subscribe API call, read as IIS and ASP.NET read them for MailUp: from
 * the query string and from a form body alike (WooCommerce posts an empty body with everything in
 * the query; a PHP library posts a form), names matched without regard to case, `+` as a space.
 * A parameter given twice with different values (in any case, in the query and the body) is
 * ambiguous and the call is refused; unknown parameters are ignored (clients send `source`,
 * `retCode` or `Confirm` to pages that take none).
 */
import { isGuid } from '../core/lists.ts';

/** Parameter values by lower-case name. */
export type Params = ReadonlyMap<string, string>;

/** Reads the query string and the body; null when a name has two different values. */
export function readParams(rawUrl: string, body: string): Params | null {
  const params = new Map<string, string>();
  const query = rawUrl.indexOf('?');
  const sources = [query < 0 ? '' : rawUrl.slice(query + 1), body];
  for (const source of sources) {
    for (const [name, value] of new URLSearchParams(source)) {
      const key = name.trim().toLowerCase();
      if (key === '') continue;
      const seen = params.get(key);
      if (seen !== undefined && seen !== value) return null;
      params.set(key, value);
    }
  }
  return params;
}

/** A parameter's value trimmed; '' when absent. */
export const param = (params: Params, name: string): string => (params.get(name.toLowerCase()) ?? '').trim();

/** Positive integer ids separated by `,` (or also `;`); null when one is not such an id. Empty gives []. */
export function idList(text: string, separators: RegExp = /,/): number[] | null {
  if (text === '') return [];
  const ids: number[] = [];
  for (const part of text.split(separators)) {
    const t = part.trim();
    if (!/^\d{1,15}$/.test(t) || Number(t) === 0) return null;
    ids.push(Number(t));
  }
  return ids;
}

/** `1`/`true` and `0`/`false`, in any case; the default when absent or empty; null for anything else. */
export function flag(text: string, fallback: boolean): boolean | null {
  const t = text.toLowerCase();
  if (t === '') return fallback;
  if (t === '1' || t === 'true') return true;
  if (t === '0' || t === 'false') return false;
  return null;
}

/** The ListGuid values, comma separated, lower case; null when one is not a GUID. */
export function guidList(text: string): string[] | null {
  if (text === '') return [];
  const guids = text.split(',').map((g) => g.trim());
  return guids.every(isGuid) ? guids.map((g) => g.toLowerCase()) : null;
}

const CAMPO = /^campo(\d{1,4})$/i;

/**
 * csvFldNames and csvFldValues: field codes `campoN` and their values, both separated by `;`, in
 * the same number; null when the counts differ, a name is not `campoN` or comes twice, or (for
 * XmlUpdSubscriber, as MailUp documents) a value holds `--`.
 */
export function csvFields(params: Params, options: { readonly refuseDoubleDash?: boolean } = {}): Record<number, string> | null {
  const rawNames = params.get('csvfldnames') ?? '';
  const rawValues = params.get('csvfldvalues');
  if (rawNames.trim() === '') return rawValues === undefined || rawValues === '' ? {} : null;
  const names = rawNames.split(';');
  const values = (rawValues ?? '').split(';');
  if (names.length !== values.length) return null;
  const fields: Record<number, string> = {};
  for (let i = 0; i < names.length; i++) {
    const m = CAMPO.exec(names[i]!.trim());
    if (!m) return null;
    const n = Number(m[1]);
    if (n in fields) return null;
    const value = values[i]!;
    if (options.refuseDoubleDash && value.includes('--')) return null;
    fields[n] = value;
  }
  return fields;
}
