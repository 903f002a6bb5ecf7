/**
 * How the CLI answers: exit codes that tell success, partial failure and error apart, errors
 * described in one line (and as objects with `--json`), JSON documents on stdout.
 */
import { MailUpError } from '../errors.ts';

/** The exit codes, documented in `--help`. */
export const EXIT_CODES = {
  /** Everything asked for was done. */
  success: 0,
  /** Nothing was done: the call failed (ReturnCode, fault, network…). */
  error: 1,
  /** The command line or the settings are wrong. */
  usage: 2,
  /**
   * Part was done: some batches or processes failed, the input broke off, or the import's
   * deadline (`--deadline`) passed with processes left.
   */
  partial: 3,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** An error as data: its code and the details of its kind, never a stack trace. */
export function errorToJson(err: unknown): Record<string, unknown> {
  if (err instanceof MailUpError) {
    const { name, message } = err;
    return { name, message, ...Object.fromEntries(Object.entries(err)) };
  }
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** JSON with errors as objects; dates become ISO strings as usual. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Error ? errorToJson(v) : v), 2);
}

/** One line for a human: the ReturnCode or fault in front, when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export interface Output {
  readonly json: boolean;
  /** A result: JSON on stdout with --json, text lines otherwise. */
  result(text: string | readonly string[], data: unknown): void;
  /** Progress and notices for a human, on stderr. */
  note(message: string): void;
  warn(message: string): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Output {
  return {
    json,
    result(text, data) {
      if (json) stdout.write(`${toJson(data)}\n`);
      else stdout.write(`${typeof text === 'string' ? text : text.join('\n')}\n`);
    },
    note(message) {
      stderr.write(`${message}\n`);
    },
    warn(message) {
      stderr.write(`warning: ${message}\n`);
    },
  };
}

/** A table of text columns, left-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
