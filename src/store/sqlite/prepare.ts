/**
 * better-sqlite3's statements with rows built in JavaScript.
 *
 * Rows: in its default mode better-sqlite3 creates every row object in C++, setting each column
 * by name: the names are looked up in V8's string table anew for every row, and the objects end
 * up as slow dictionaries, so reading their properties afterwards is slow too. Measured in the
 * server under load, one GetProcessDetails process read took about 25 µs that way and 13 µs with
 * the rows built here: the statement runs in raw mode (each row an array) and the objects are
 * made with the column names read once, all of one shape, which V8 optimises.
 */
import type Database from 'better-sqlite3';

export type Row = Record<string, unknown>;

/** The part of a better-sqlite3 statement the store uses. */
export interface Statement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  run(...params: unknown[]): Database.RunResult;
}

export function prepare(db: Database.Database, sql: string): Statement {
  const statement = db.prepare(sql);
  // Writes without RETURNING produce no rows: nothing to build.
  return statement.reader ? builtRows(statement) : statement;
}

function builtRows(statement: Database.Statement): Statement {
  const raw = statement.raw(true);
  // A name given twice (`SELECT a.id, b.id`) keeps the last value, as better-sqlite3's own rows do.
  const names = raw.columns().map((c) => c.name);
  const toRow = (values: unknown[]): Row => {
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i]!] = values[i];
    return row;
  };
  return {
    get: (...params) => {
      const values = raw.get(...params) as unknown[] | undefined;
      return values === undefined ? undefined : toRow(values);
    },
    all: (...params) => (raw.all(...params) as unknown[][]).map(toRow),
    *iterate(...params) {
      for (const values of raw.iterate(...params) as IterableIterator<unknown[]>) yield toRow(values);
    },
    run: (...params) => raw.run(...params),
  };
}
