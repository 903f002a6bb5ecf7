/**
 * How both adapters keep a submitted feed: chunks of parsed rows, each stored as one JSON text
 * (feed_chunk.rows) of compact [email, prefix, number, name, fields] arrays, its first row's
 * number beside it.
 */
import type { FeedRow } from '../../model/records.ts';

type StoredRow = [string, string, string, string, Readonly<Record<number, string>>];

/** The text stored for a chunk of consecutive rows. */
export function encodeFeedChunk(rows: readonly FeedRow[]): string {
  const stored: StoredRow[] = rows.map((r) => [r.email, r.prefix, r.number, r.name, r.fields]);
  return JSON.stringify(stored);
}

/** The rows of a stored chunk from `fromRow` on; the chunk starts at `firstRow` (≤ `fromRow`). */
export function decodeFeedChunk(text: string, firstRow: number, fromRow: number): FeedRow[] {
  return (JSON.parse(text) as StoredRow[]).slice(fromRow - firstRow).map(([email, prefix, number, name, fields], i) => ({
    row: fromRow + i, email, prefix, number, name, fields,
  }));
}
