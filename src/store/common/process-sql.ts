/**
 * SQL both adapters use to read import processes; it is the same text in either dialect. The
 * table is aliased `p`.
 */

/** Requests not yet settled: a cancelled one (recipient no longer pending) needs no message. */
export const UNSENT = `('queued', 'sending', 'failed')`;

/** What every process read selects (src/store/row-mappers.ts toProcess). */
export const PROCESS_COLUMNS = 'p.*';

/**
 * The same with the count of unsent confirmation requests (toProcessWithQueue): one index entry
 * per pending request, so only listings ask for it, never the reads every poll makes.
 */
export const PROCESS_WITH_QUEUE_COLUMNS =
  `p.*, (SELECT count(*) FROM confirmation_request c WHERE c.process_id = p.id AND c.status IN ${UNSENT}) AS confirmations_pending`;
