/**
 * Converting parameter text to its XSD type, as ASMX's XmlSerializer does for every binding,
 * and filling in what the request left out.
 */
import { clientFault } from './faults.ts';
import { defaultValue, paramsOf, type OperationArgs, type OperationName, type ParamSpec } from './operations.ts';

/** Decoded values by parameter name, before defaults are applied. */
export type RawArgs = Record<string, string | number | boolean | null>;

/** XmlConvert trims XML white space only (space, tab, CR, LF), not every Unicode space. */
const INT = /^[ \t\r\n]*[+-]?[0-9]+[ \t\r\n]*$/;
const XML_SPACE = /^[ \t\r\n]+|[ \t\r\n]+$/g;
/**
 * Characters XML 1.0 cannot carry. The SOAP decoder never lets them through, but the GET and POST
 * bindings would, and one stored in a group name would make every later GetNlLists unreadable.
 */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/**
 * One parameter value. An empty or malformed int or boolean is a fault with HTTP 500, the way ASMX
 * fails to deserialize it (spec §2.5); booleans accept true/false/1/0. A string with a character
 * XML cannot carry is refused with HTTP 400.
 */
export function convertValue(spec: ParamSpec, text: string): string | number | boolean {
  switch (spec.type) {
    case 'string':
      if (NOT_XML.test(text)) throw clientFault(`Parameter ${spec.name} contains a character that XML does not allow.`, 400);
      return text;
    case 'int': {
      const n = INT.test(text) ? Number.parseInt(text, 10) : NaN;
      if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
        throw clientFault(`Parameter ${spec.name}: "${truncate(text)}" is not a valid int.`);
      }
      return n === 0 ? 0 : n; // "-0" is 0, not JavaScript's -0
    }
    case 'boolean': {
      const t = text.replace(XML_SPACE, '');
      if (t === 'true' || t === '1') return true;
      if (t === 'false' || t === '0') return false;
      throw clientFault(`Parameter ${spec.name}: "${truncate(text)}" is not a valid boolean.`);
    }
  }
}

/** The start of a value for a fault message, cut between characters, never inside one. */
function truncate(s: string): string {
  const chars = Array.from(s);
  return chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : s;
}

/** The operation's arguments with every missing parameter defaulted (0, false, null). */
export function withDefaults<Op extends OperationName>(op: Op, raw: RawArgs): OperationArgs<Op> {
  const args: Record<string, unknown> = {};
  for (const p of paramsOf(op)) {
    if (p.streamed) continue;
    args[p.name] = Object.prototype.hasOwnProperty.call(raw, p.name) ? raw[p.name] : defaultValue(p.type);
  }
  return args as OperationArgs<Op>;
}
