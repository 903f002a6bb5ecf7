/**
 * Converting parameter text to its XSD type, as ASMX's XmlSerializer does for every binding,
 * and filling in what the request left out.
 */
import { clientFault } from './faults.ts';
import { defaultValue, paramsOf, type OperationArgs, type OperationName, type ParamSpec } from './operations.ts';

/** Decoded values by parameter name, before defaults are applied. */
export type RawArgs = Record<string, string | number | boolean | null>;

const INT = /^\s*[+-]?[0-9]+\s*$/;

/**
 * One parameter value. An empty or malformed int or boolean is a fault with HTTP 500, the way ASMX
 * fails to deserialize it (spec §2.5); booleans accept true/false/1/0.
 */
export function convertValue(spec: ParamSpec, text: string): string | number | boolean {
  switch (spec.type) {
    case 'string':
      return text;
    case 'int': {
      const n = INT.test(text) ? Number.parseInt(text, 10) : NaN;
      if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
        throw clientFault(`Parameter ${spec.name}: "${truncate(text)}" is not a valid int.`);
      }
      return n;
    }
    case 'boolean': {
      const t = text.trim();
      if (t === 'true' || t === '1') return true;
      if (t === 'false' || t === '0') return false;
      throw clientFault(`Parameter ${spec.name}: "${truncate(text)}" is not a valid boolean.`);
    }
  }
}

const truncate = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** The operation's arguments with every missing parameter defaulted (0, false, null). */
export function withDefaults<Op extends OperationName>(op: Op, raw: RawArgs): OperationArgs<Op> {
  const args: Record<string, unknown> = {};
  for (const p of paramsOf(op)) {
    if (p.streamed) continue;
    args[p.name] = Object.prototype.hasOwnProperty.call(raw, p.name) ? raw[p.name] : defaultValue(p.type);
  }
  return args as OperationArgs<Op>;
}
