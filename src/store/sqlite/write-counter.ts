/**
 * How many writes this process has committed to the embedded database, counted across its
 * threads: the HTTP thread and the import thread each have their own connection to the file, and
 * each counts into the same shared integer. A reader that keeps an answer (src/http/answer-cache.ts)
 * notes the count before it reads and reuses the answer only while the count is unchanged.
 *
 * A write is counted once it is visible to other connections: at once for a statement that runs
 * on its own (autocommit), when the outermost transaction ends for a statement inside one. A
 * transaction that rolls back is counted too; counting too often only costs a reader a fresh read.
 * Writes by other processes (the admin CLI) are not counted.
 */
/** A count for the stores of one database file in this process's threads to share. */
export const newWriteCount = (): SharedArrayBuffer => new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);

export class WriteCounter {
  private readonly count: Int32Array;
  /** A statement of the open transaction wrote; counted when the transaction ends. */
  private uncounted = false;

  /** `buffer`: the count shared with the other threads' counters; a new one when omitted. */
  constructor(buffer: SharedArrayBuffer = newWriteCount()) {
    this.count = new Int32Array(buffer);
  }

  /** The writes committed so far. Wraps around past 2³¹, which only equality comparisons tolerate. */
  get value(): number {
    return Atomics.load(this.count, 0);
  }

  /** After a statement that may have written; `inTransaction`: whether the connection is inside a transaction now. */
  wrote(inTransaction: boolean): void {
    if (inTransaction) this.uncounted = true;
    else Atomics.add(this.count, 0, 1);
  }

  /** After a transaction function returned or threw; `inTransaction`: whether an outer transaction is still open. */
  transactionEnded(inTransaction: boolean): void {
    if (!this.uncounted || inTransaction) return;
    this.uncounted = false;
    Atomics.add(this.count, 0, 1);
  }
}
