/**
 * The cursors of the console's recipient search, one format for both adapters: base64url of a
 * row's sort key (its mode first), opaque to the console.
 */

/** A row of a recipient search: its id and its sort key (mode first), as a cursor carries it. */
export interface SearchKey {
  readonly id: number;
  readonly key: readonly unknown[];
}

export function encodeCursor(key: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key a cursor carries, or null for one that is not ours. */
function decodeCursor(cursor: string): unknown[] | null {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(key) ? key : null;
  } catch {
    return null;
  }
}

/**
 * The sort key of a cursor taken from a page of the same kind of search (its mode, a key of its
 * shape); null for none, or for one from another search, which then starts from the first page.
 */
export function cursorKeyFor(
  cursor: string | undefined, plan: { readonly mode: string; readonly validKey: (key: readonly unknown[]) => boolean },
): unknown[] | null {
  if (cursor === undefined) return null;
  const key = decodeCursor(cursor);
  return key !== null && key[0] === plan.mode && plan.validKey(key) ? key : null;
}
