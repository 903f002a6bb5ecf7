/**
 * The conventions every admin command module shares: how argument values come in (parsers that
 * turn bad input into usage errors), how results go out (aligned text, or JSON with `--json`),
 * and the two kinds of failure, which decide the exit code:
 *
 * - UsageError (exit 2): the command line itself is wrong (a bad IP, GUID, id or name);
 * - CliError (exit 1): the command line is fine but the data says no (unknown account or list).
 *
 * Both print one `error: …` line on stderr and never a stack trace.
 */
import { InvalidArgumentError } from 'commander';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command cannot be done with this data (exit 1). */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** The command line is wrong (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

// Argument values. Parsers throw commander's InvalidArgumentError, so commander names the
// argument or option in its message and the run ends as a usage error.

/** A positive integer such as an account, list or group id. */
export function positiveInteger(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('Expected a positive whole number.');
  return n;
}

/** A comma-separated list of positive integers (`1,2,5`), without duplicates. */
export function positiveIntegerList(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw new InvalidArgumentError('Expected comma-separated ids such as 1,2.');
  const ids = parts.map((part) => {
    const n = /^\d+$/.test(part) ? Number(part) : NaN;
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`"${part}" is not an id; expected comma-separated ids such as 1,2.`);
    return n;
  });
  return [...new Set(ids)];
}

/** A name that is not empty once trimmed; returned trimmed. */
export function nonEmptyName(value: string): string {
  const name = value.trim();
  if (name === '') throw new InvalidArgumentError('The name must not be empty.');
  return name;
}

// Results.

export interface Streams {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export type Cell = string | number | boolean | null;

/**
 * Where a command's result goes. Every command calls `result` exactly once: with `--json` the
 * data is printed as one JSON document and nothing else reaches stdout; otherwise the
 * human-readable text is. Notes and warnings go to stderr in both modes, so they never break a
 * pipe into `jq`.
 */
export class Output {
  constructor(private readonly streams: Streams, private readonly jsonWanted: () => boolean) {}

  get json(): boolean {
    return this.jsonWanted();
  }

  result(data: unknown, text: () => string): void {
    if (this.json) this.streams.stdout(`${JSON.stringify(data, null, 2)}\n`);
    else {
      const body = text();
      this.streams.stdout(body.endsWith('\n') ? body : `${body}\n`);
    }
  }

  warn(message: string): void {
    this.streams.stderr(`warning: ${message}\n`);
  }

  note(message: string): void {
    this.streams.stderr(`${message}\n`);
  }

  error(message: string): void {
    this.streams.stderr(`error: ${message}\n`);
  }
}

/** Columns padded to their widest cell, two spaces apart; `empty` when there are no rows. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[], empty: string): string {
  if (rows.length === 0) return empty;
  const text = (c: Cell): string => (c === null || c === '' ? '-' : typeof c === 'boolean' ? (c ? 'yes' : 'no') : String(c));
  const lines = [headers, ...rows.map((row) => row.map(text))];
  const widths = headers.map((_, i) => Math.max(...lines.map((line) => (line[i] ?? '').length)));
  return lines.map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** `label: value` lines with the values aligned. */
export function details(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length + 1));
  return pairs.map(([label, value]) => `  ${`${label}:`.padEnd(width)}  ${value === null || value === '' ? '-' : String(value)}`).join('\n');
}
