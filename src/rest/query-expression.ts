/**
 * The `filterby` and `orderby` query parameters of the REST API, in the subset real clients send
 * (spec §2.4), parsed into plain data that a resource applies to its items (applyQuery below) or
 * turns into SQL:
 *
 *   filterby  Field=='value'  Field==12  Field.Contains('value')   joined by `and` (or `&&`);
 *             the whole expression may be wrapped in double quotes (filterby="Name.Contains('x')");
 *             values in single or double quotes, a quote doubled inside ('O''Brien');
 *             comparisons are case-sensitive, as MailUp's are.
 *   orderby   Field asc|desc, several joined by `;` (or `,`): "Name asc;idGroup desc";
 *             without a direction, asc.
 *
 * Field names are matched without regard to case and answered in the resource's spelling.
 * Anything else (`or`, `!=`, other methods, unknown fields, a value of the wrong type) is refused
 * with a message naming the part not understood: a filter is never guessed, nor partly applied.
 */

export type FieldType = 'string' | 'number' | 'boolean';

/** The fields a resource can be filtered and ordered by, in its spelling, with their types. */
export type QueryFields = Readonly<Record<string, FieldType>>;

export interface FilterCondition {
  /** The field, in the resource's spelling. */
  readonly field: string;
  readonly op: 'equals' | 'contains';
  readonly value: string | number | boolean;
}

/** Conditions that must all hold; empty for no filter. */
export type Filter = readonly FilterCondition[];

export interface OrderTerm {
  readonly field: string;
  readonly direction: 'asc' | 'desc';
}

export type Order = readonly OrderTerm[];

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const SUPPORTED_FILTER = "supported: Field=='value', Field==number, Field.Contains('value'), joined with and";

/** A lexical token of a filter expression, with where it starts. */
type Token =
  | { kind: 'name'; text: string; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'number'; value: number; text: string; at: number }
  | { kind: 'op'; text: string; at: number };

class FilterSyntaxError extends Error {}

/**
 * The text without one pair of double quotes wrapped around all of it. A filter or an order starts
 * with a field name, so a leading quote can only be such a wrapper.
 */
function unwrapped(raw: string): string {
  const text = raw.trim();
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1).trim() : text;
}

const excerpt = (text: string, at: number): string => {
  const part = text.slice(at, at + 30);
  return part.length < text.length - at ? `${part}…` : part;
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterSyntaxError(`a quoted value that never ends at position ${at + 1}: "${excerpt(text, at)}"`);
        if (text[i] === c) {
          if (text[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      tokens.push({ kind: 'string', value, at });
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (number && !/[A-Za-z_]/.test(text[i + number[0].length] ?? '')) {
      tokens.push({ kind: 'number', value: Number(number[0]), text: number[0], at });
      i += number[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (name) {
      tokens.push({ kind: 'name', text: name[0], at });
      i += name[0].length;
      continue;
    }
    const op = /^(==|!=|<>|>=|<=|&&|\|\||[().=<>!,])/.exec(text.slice(i));
    if (op) {
      tokens.push({ kind: 'op', text: op[0], at });
      i += op[0].length;
      continue;
    }
    throw new FilterSyntaxError(`"${c}" at position ${at + 1} is not understood ("${excerpt(text, at)}")`);
  }
  return tokens;
}

/** The resource's spelling of a field named in any case, or null. */
function fieldNamed(fields: QueryFields, name: string): string | null {
  const lower = name.toLowerCase();
  return Object.keys(fields).find((f) => f.toLowerCase() === lower) ?? null;
}

const fieldList = (fields: QueryFields): string => Object.keys(fields).join(', ');

/** Parses a `filterby` value; an absent or blank one is no filter. */
export function parseFilter(raw: string | null | undefined, fields: QueryFields): Parsed<Filter> {
  if (raw === null || raw === undefined || raw.trim() === '' || raw.trim() === '""') return { ok: true, value: [] };
  const text = unwrapped(raw);
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (err) {
    return { ok: false, error: `filterby: ${(err as Error).message}; ${SUPPORTED_FILTER}` };
  }
  const conditions: FilterCondition[] = [];
  let i = 0;
  const fail = (message: string): Parsed<Filter> => ({ ok: false, error: `filterby: ${message}; ${SUPPORTED_FILTER}` });
  const near = (t: Token | undefined): string => (t === undefined ? 'at the end' : `at position ${t.at + 1} ("${excerpt(text, t.at)}")`);
  for (;;) {
    const name = tokens[i];
    if (name?.kind !== 'name') return fail(`expected a field name ${near(name)}`);
    const field = fieldNamed(fields, name.text);
    if (field === null) return fail(`unknown field "${name.text}"; the fields of this resource are ${fieldList(fields)}`);
    const type = fields[field]!;
    const op = tokens[i + 1];
    if (op?.kind === 'op' && op.text === '==') {
      const value = tokens[i + 2];
      if (value?.kind === 'string') {
        if (type !== 'string') return fail(`${field} is a ${type}; compare it without quotes, as in ${field}==${type === 'number' ? '12' : 'true'}`);
        conditions.push({ field, op: 'equals', value: value.value });
      } else if (value?.kind === 'number') {
        if (type !== 'number') return fail(`${field} is a ${type}; ${type === 'string' ? `quote the value, as in ${field}=='${value.text}'` : `compare it with true or false`}`);
        conditions.push({ field, op: 'equals', value: value.value });
      } else if (value?.kind === 'name' && /^(true|false)$/i.test(value.text)) {
        if (type !== 'boolean') return fail(`${field} is a ${type}; ${value.text} is not one`);
        conditions.push({ field, op: 'equals', value: value.text.toLowerCase() === 'true' });
      } else {
        return fail(`expected a value after ${field}== ${near(value)}`);
      }
      i += 3;
    } else if (op?.kind === 'op' && op.text === '.') {
      const method = tokens[i + 2];
      if (method?.kind !== 'name' || method.text !== 'Contains') {
        return fail(`${method?.kind === 'name' ? `the method "${method.text}"` : 'what follows the dot'} ${near(method ?? op)} is not supported`);
      }
      const [open, value, close] = [tokens[i + 3], tokens[i + 4], tokens[i + 5]];
      if (open?.kind !== 'op' || open.text !== '(') return fail(`expected ( after Contains ${near(open)}`);
      if (value?.kind !== 'string') return fail(`Contains takes one quoted value ${near(value)}`);
      if (close?.kind !== 'op' || close.text !== ')') return fail(`expected ) after the value of Contains ${near(close)}`);
      if (type !== 'string') return fail(`Contains works on text fields; ${field} is a ${type}`);
      conditions.push({ field, op: 'contains', value: value.value });
      i += 6;
    } else {
      return fail(`expected == or .Contains( after ${field} ${near(op)}`);
    }
    const next = tokens[i];
    if (next === undefined) return { ok: true, value: conditions };
    const joins = (next.kind === 'name' && next.text.toLowerCase() === 'and') || (next.kind === 'op' && next.text === '&&');
    if (!joins) return fail(`expected "and" or the end of the filter ${near(next)}`);
    i++;
  }
}

/** Parses an `orderby` value; an absent or blank one is no order. */
export function parseOrder(raw: string | null | undefined, fields: QueryFields): Parsed<Order> {
  if (raw === null || raw === undefined || raw.trim() === '') return { ok: true, value: [] };
  const text = unwrapped(raw);
  const terms: OrderTerm[] = [];
  for (const part of text.split(/[;,]/)) {
    const words = part.trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) continue;
    const fail = (message: string): Parsed<Order> => ({ ok: false, error: `orderby: ${message} in "${part.trim()}"; supported: Field asc|desc, several joined by ;` });
    if (words.length > 2) return fail('expected a field and asc or desc');
    const field = fieldNamed(fields, words[0]!);
    if (field === null) return fail(`unknown field "${words[0]}"; the fields of this resource are ${fieldList(fields)}`);
    const direction = (words[1] ?? 'asc').toLowerCase();
    if (direction !== 'asc' && direction !== 'desc') return fail(`"${words[1]}" is not asc or desc`);
    terms.push({ field, direction });
  }
  return { ok: true, value: terms };
}

/** Whether the item passes every condition; `valueOf` reads a field of the item. */
export function matches<T>(item: T, filter: Filter, valueOf: (item: T, field: string) => unknown): boolean {
  return filter.every((c) => {
    const value = valueOf(item, c.field);
    if (c.op === 'contains') return typeof value === 'string' && value.includes(c.value as string);
    return value === c.value;
  });
}

/** Compares two field values: numbers by value, text by code points (no locale guessing), nulls first. */
function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The items that pass the filter, in the given order (the items' own order breaks ties). */
export function applyQuery<T>(items: readonly T[], query: { readonly filter: Filter; readonly order: Order }, valueOf: (item: T, field: string) => unknown): T[] {
  const kept = items.filter((item) => matches(item, query.filter, valueOf));
  if (query.order.length === 0) return kept;
  return kept
    .map((item, index) => ({ item, index }))
    .sort((a, b) => {
      for (const term of query.order) {
        const c = compareValues(valueOf(a.item, term.field), valueOf(b.item, term.field));
        if (c !== 0) return term.direction === 'asc' ? c : -c;
      }
      return a.index - b.index;
    })
    .map(({ item }) => item);
}
