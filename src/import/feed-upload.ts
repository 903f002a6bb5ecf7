/**
 * Receives the `xmlDoc` text of a request as it is decoded (or, for the REST bulk import, the JSON
 * body's bytes: see `reader`), checks it as a feed and stores its
 * rows in chunks, so neither the SOAP body nor the feed is ever held whole in memory. Nothing is
 * stored until `gate` resolves to a writer (the caller authenticates first); a null gate means
 * the text is read and dropped. A feed that is empty or not well-formed is deleted, and the
 * caller answers -401 or -402.
 */
import type { Feed, FeedRow } from '../model/records.ts';
import type { FeedWriter } from '../store/feeds.ts';
import { FeedError, FeedReader } from './feed-reader.ts';

/** Rows per stored chunk, which is also the worker's batch size. */
export const FEED_CHUNK_ROWS = 5000;

export type FeedOutcome =
  | { readonly kind: 'stored'; readonly feed: Feed }
  | { readonly kind: 'empty' }
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'discarded' };

/** What an upload reads its rows with: the XML feed reader (text), or the REST body reader (bytes). */
export interface RowReader<Piece> {
  write(piece: Piece): void;
  /** The rows completed so far, once each. */
  take(): FeedRow[];
  /** Checks the feed is complete; throws a FeedError otherwise. */
  end(): void;
  /** Nothing but white space was written. */
  readonly empty: boolean;
}

export class FeedUpload<Gate, Piece = string> {
  private pending: Piece[] = [];
  private rows: FeedRow[] = [];
  private error: string | null = null;
  private writer: FeedWriter | null = null;
  private adopted = false;
  private outcome: FeedOutcome | null = null;

  /**
   * @param gate resolves to what the caller decided (e.g. the authenticated account) and the
   *   writer to store into, or a null writer to drop the feed.
   * @param reader reads the pieces written: by default the XML feed reader, for `xmlDoc` text
   *   (Piece is then string, the default, which the cast relies on); the REST bulk import passes
   *   a JsonFeedReader for its body's bytes.
   */
  constructor(
    readonly gate: Promise<{ value: Gate; writer: FeedWriter | null }>,
    private readonly chunkRows = FEED_CHUNK_ROWS,
    private readonly reader: RowReader<Piece> = new FeedReader() as RowReader<unknown> as RowReader<Piece>,
  ) {}

  write(piece: Piece): void {
    this.pending.push(piece);
  }

  /** Why the feed was refused (a FeedError's message), once it was; null while it is fine. */
  get failure(): string | null {
    return this.error;
  }

  async flush(): Promise<void> {
    const { writer } = await this.gate;
    this.writer = writer;
    const texts = this.pending;
    this.pending = [];
    if (writer === null || this.error !== null) return;
    try {
      for (const t of texts) this.reader.write(t);
    } catch (err) {
      if (!(err instanceof FeedError)) throw err;
      this.error = err.message;
      return;
    }
    for (const row of this.reader.take()) this.rows.push(row);
    while (this.rows.length >= this.chunkRows) await writer.append(this.rows.splice(0, this.chunkRows));
  }

  /** Completes the feed once the request has been read. Safe to call more than once. */
  async finish(): Promise<FeedOutcome> {
    if (this.outcome) return this.outcome;
    await this.flush();
    const writer = this.writer;
    if (writer === null) return (this.outcome = { kind: 'discarded' });
    if (this.error === null && this.reader.empty) this.error = 'empty';
    if (this.error === null) {
      try {
        this.reader.end();
      } catch (err) {
        if (!(err instanceof FeedError)) throw err;
        this.error = err.message;
      }
    }
    if (this.error !== null) {
      await writer.abort();
      return (this.outcome = this.error === 'empty' ? { kind: 'empty' } : { kind: 'malformed', reason: this.error });
    }
    for (const row of this.reader.take()) this.rows.push(row);
    while (this.rows.length > 0) await writer.append(this.rows.splice(0, this.chunkRows));
    return (this.outcome = { kind: 'stored', feed: await writer.complete() });
  }

  /** The stored feed now belongs to a process and must be kept. */
  adopt(): void {
    this.adopted = true;
  }

  /** Deletes the stored feed unless a process adopted it (a failed call leaves nothing behind). */
  async release(): Promise<void> {
    if (!this.adopted && this.writer !== null) await this.writer.abort();
  }
}
