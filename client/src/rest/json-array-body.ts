/**
 * A JSON array request body written item by item as fetch reads it (a ReadableStream sent with
 * `duplex: 'half'`), so a bulk import of a million recipients is never one string in memory.
 *
 * A refused request (401 with an expired token, 429 too many calls) must be sent again, which a
 * stream read once cannot be. So:
 * - an array source is simply written again from its start;
 * - any other (async) iterable is read once, and the bytes written from it are kept up to
 *   `replayLimitBytes`: while they fit, the body can be sent again (what was kept, then the rest
 *   of the iterable); once more was written, it cannot (`replayable` is false) and the refusal is
 *   the caller's to handle. The API answers 401 and 429 before it reads a body, so the first
 *   bytes are usually all that were taken.
 * An error thrown by the source (an unreadable input file) ends the stream and is kept in
 * `sourceError`, so the caller reports it rather than fetch's "network error".
 */

/** Characters gathered before a chunk is handed to fetch. */
const CHUNK_CHARS = 64 * 1024;

export type ItemSource<T> = AsyncIterable<T> | Iterable<T>;

export class JsonArrayBody<T> {
  readonly #source: ItemSource<T>;
  readonly #toJson: (item: T, index: number) => string;
  readonly #replayLimitBytes: number;
  /** The one pass over a non-array source, as encoded chunks. */
  #chunks: AsyncGenerator<Uint8Array> | null = null;
  /** Chunks taken from `#chunks`, kept while they fit in the replay limit. */
  #kept: Uint8Array[] = [];
  #keptBytes = 0;
  #taken = 0;
  #overflowed = false;
  #ended = false;
  #pending: Promise<Uint8Array | null> | null = null;
  #items = 0;
  #sourceError: unknown = undefined;

  constructor(source: ItemSource<T>, toJson: (item: T, index: number) => string, replayLimitBytes: number) {
    this.#source = source;
    this.#toJson = toJson;
    this.#replayLimitBytes = replayLimitBytes;
  }

  /** Whether the body can be sent again from its start. */
  get replayable(): boolean {
    return Array.isArray(this.#source) || !this.#overflowed;
  }

  /** Items written so far (for an array: in the latest stream). */
  get items(): number {
    return this.#items;
  }

  /** What the source threw, if it threw. */
  get sourceError(): unknown {
    return this.#sourceError;
  }

  /** A new stream of the whole body. For a non-array source, only while `replayable`. */
  stream(): ReadableStream<Uint8Array> {
    if (Array.isArray(this.#source)) return this.#fresh(this.#source as readonly T[]);
    if (this.#overflowed) throw new Error('the body was streamed beyond its replay limit and cannot be sent again');
    this.#chunks ??= this.#encode(this.#source);
    let position = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          if (position < this.#taken) {
            if (this.#overflowed) throw new Error('the body cannot be sent again: part of it was not kept');
            controller.enqueue(this.#kept[position++]!);
            return;
          }
          if (this.#ended) {
            controller.close();
            return;
          }
          const chunk = await this.#take();
          if (chunk !== null && this.#overflowed) {
            position++;
            controller.enqueue(chunk);
            return;
          }
        }
      },
      // A cancelled stream (the request was answered early) leaves the source where it is, for
      // the next stream to go on from.
      cancel: () => undefined,
    });
  }

  /** Ends the source's iteration (closing a file it reads) when no further stream will be made. */
  async close(): Promise<void> {
    this.#ended = true;
    await this.#chunks?.return(undefined).catch(() => undefined);
  }

  /** The next chunk of the single pass, kept while it fits; null at the end. */
  #take(): Promise<Uint8Array | null> {
    this.#pending ??= this.#chunks!.next().then(
      (r) => {
        this.#pending = null;
        if (r.done) {
          this.#ended = true;
          return null;
        }
        this.#taken++;
        if (!this.#overflowed && this.#keptBytes + r.value.length <= this.#replayLimitBytes) {
          this.#kept.push(r.value);
          this.#keptBytes += r.value.length;
        } else {
          this.#overflowed = true;
          this.#kept = [];
        }
        return r.value;
      },
      (err: unknown) => {
        this.#pending = null;
        this.#sourceError = err;
        throw err;
      },
    );
    return this.#pending;
  }

  #fresh(items: readonly T[]): ReadableStream<Uint8Array> {
    const chunks = this.#encode(items);
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const r = await chunks.next();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel: async () => {
        await chunks.return(undefined);
      },
    });
  }

  async *#encode(items: ItemSource<T>): AsyncGenerator<Uint8Array> {
    const encoder = new TextEncoder();
    let text = '[';
    let index = 0;
    this.#items = 0;
    try {
      for await (const item of items) {
        text += (index === 0 ? '' : ',') + this.#toJson(item, index);
        index++;
        this.#items = index;
        if (text.length >= CHUNK_CHARS) {
          yield encoder.encode(text);
          text = '';
        }
      }
    } catch (err) {
      this.#sourceError = err;
      throw err;
    }
    yield encoder.encode(`${text}]`);
  }
}
