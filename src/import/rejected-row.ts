/**
 * A rejected row as the reject report keeps it (import_reject.raw): the row as the feed sent it,
 * field by field, so that the report can show it in its columns (email, Prefix, Number, Name,
 * campoN) rather than as one string.
 *
 * Stored as JSON: `{"email":…,"prefix":…,"number":…,"name":…,"fields":{"1":…}}`. Each value is
 * kept up to MAX_KEPT characters (a rejected row may carry a field of megabytes; past the cap it
 * ends with `…`). Reports written before this form kept `email="…" Prefix="…" Number="…"
 * Name="…" campo1="…"`; `readRejectedRow` reads both.
 */
import type { FeedRow } from '../model/records.ts';

/** The longest value kept of a rejected row's field. */
export const MAX_KEPT = 500;

export interface RejectedRowValues {
  readonly email: string;
  readonly prefix: string;
  readonly number: string;
  readonly name: string;
  /** campoN values by N. */
  readonly fields: Readonly<Record<number, string>>;
}

const kept = (value: string): string => (value.length > MAX_KEPT ? `${value.slice(0, MAX_KEPT)}…` : value);

/** The stored form of a rejected feed row. */
export function storeRejectedRow(row: FeedRow): string {
  const fields: Record<string, string> = {};
  for (const [n, v] of Object.entries(row.fields)) fields[n] = kept(v);
  return JSON.stringify({ email: kept(row.email), prefix: kept(row.prefix), number: kept(row.number), name: kept(row.name), fields });
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The values of a stored rejected row, in either stored form; an unreadable one gives its text as the e-mail. */
export function readRejectedRow(raw: string): RejectedRowValues {
  if (raw.startsWith('{')) {
    try {
      const o = JSON.parse(raw) as Record<string, unknown>;
      const fields: Record<number, string> = {};
      if (o.fields !== null && typeof o.fields === 'object') {
        for (const [n, v] of Object.entries(o.fields as Record<string, unknown>)) if (/^\d+$/.test(n)) fields[Number(n)] = text(v);
      }
      return { email: text(o.email), prefix: text(o.prefix), number: text(o.number), name: text(o.name), fields };
    } catch {
      // Not JSON after all: read as the older form below.
    }
  }
  return readAttributeForm(raw);
}

/**
 * The older form, `email="…" Prefix="…" Number="…" Name="…" campo1="…"`, written without
 * escaping: a value ends at the quote that is followed by the next known name (or the end).
 */
function readAttributeForm(raw: string): RejectedRowValues {
  const pairs = [...raw.matchAll(/(?:^| )(email|Prefix|Number|Name|campo\d+)="([\s\S]*?)"(?=(?: (?:email|Prefix|Number|Name|campo\d+)=")|$)/g)];
  if (pairs.length === 0) return { email: raw, prefix: '', number: '', name: '', fields: {} };
  const values: Record<string, string> = {};
  const fields: Record<number, string> = {};
  for (const [, key, value] of pairs) {
    if (key!.startsWith('campo')) fields[Number(key!.slice(5))] = value!;
    else values[key!] = value!;
  }
  return { email: values.email ?? '', prefix: values.Prefix ?? '', number: values.Number ?? '', name: values.Name ?? '', fields };
}

/** The campoN numbers any of the rows has, in order: the CSV's field columns. */
export function fieldNumbersOf(rows: Iterable<RejectedRowValues>): number[] {
  const numbers = new Set<number>();
  for (const r of rows) for (const n of Object.keys(r.fields)) numbers.add(Number(n));
  return [...numbers].sort((a, b) => a - b);
}
