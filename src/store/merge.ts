/**
 * The batch merge: the one write path of an import, applying a planned batch of a feed to the
 * recipients, subscriptions, memberships and confirmation requests in one transaction.
 */
import type { BatchKeys, BatchPlan, PriorRecipient } from '../model/batch.ts';
import type { ImportProcess } from '../model/records.ts';
import type { Lease } from './processes.ts';

export interface BatchMergeStore {
  /**
   * Applies one batch in one transaction: reads the prior state of the batch's recipients, asks
   * `plan` what to write, writes it, and moves the checkpoint and counters. Throws LeaseLostError
   * (and writes nothing) when the lease is no longer held.
   */
  mergeBatch(
    lease: Lease,
    keys: BatchKeys,
    lastRow: number,
    plan: (prior: ReadonlyMap<string, PriorRecipient>) => BatchPlan,
  ): Promise<ImportProcess>;
}
