/**
 * The read-only views the console (and exports) page through: processes, list statistics,
 * recipient search and detail, list exports, reject reports and the outbox. Every page is keyset
 * paged, never OFFSET, and every streamed read is one snapshot.
 */
import type { Group, ProcessStatus, ProcessWithQueue } from '../model/records.ts';
import type { RejectReportRow } from '../model/batch.ts';
import type { Channel, SubscriptionStatus, UnsubscribeReason } from '../model/subscription.ts';
import type { OutboxMessage } from './confirmations.ts';

/** A page of a keyset-paged listing; `hasNext` / `hasPrevious` say whether the neighbouring pages exist. */
export interface KeysetPage<T> {
  readonly items: T[];
  readonly hasNext: boolean;
  readonly hasPrevious: boolean;
}

/** Which processes the import status page lists. */
export type ProcessStatusFilter = 'all' | 'waiting' | 'running' | 'completed' | 'failed';

export interface ProcessPageQuery {
  readonly status: ProcessStatusFilter;
  /** Only these lists' processes; null for every list of the account. */
  readonly listIds: readonly number[] | null;
  /** Newest first: `olderThan` pages forward, `newerThan` back; neither is the first page. */
  readonly olderThan?: number;
  readonly newerThan?: number;
  readonly limit: number;
}

/** Subscriptions of one channel by status. */
export interface StatusCounts {
  readonly subscribed: number;
  readonly pending: number;
  readonly unsubscribed: number;
}

export type ChannelCounts = Readonly<Record<Channel, StatusCounts>>;

export interface ListStats {
  readonly listId: number;
  readonly counts: ChannelCounts;
  /** Distinct recipients with any subscription on the list. */
  readonly recipients: number;
  readonly groups: readonly { readonly groupId: number; readonly members: number; readonly counts: ChannelCounts }[];
}

export interface RecipientFilter {
  /** E-mail addresses that start with this (lower case); sorts the page by e-mail. */
  readonly emailPrefix?: string;
  /** Mobile numbers that start with this (international form, `+` and digits); sorts by mobile. */
  readonly mobilePrefix?: string;
  readonly listId?: number;
  readonly groupId?: number;
  readonly channel?: Channel;
  readonly status?: SubscriptionStatus;
}

/** Where a recipient page starts: after or before a cursor taken from a row of another page. */
export interface RecipientPageQuery {
  readonly after?: string;
  readonly before?: string;
  readonly limit: number;
}

export interface RecipientSummary {
  readonly id: number;
  readonly email: string | null;
  readonly mobile: string | null;
  readonly name: string | null;
  readonly subscriptions: readonly { readonly listId: number; readonly channel: Channel; readonly status: SubscriptionStatus }[];
  /** Opaque position of this row, for the next or previous page. */
  readonly cursor: string;
}

export interface RecipientDetail {
  readonly id: number;
  readonly accountId: number;
  readonly email: string | null;
  readonly mobile: string | null;
  readonly name: string | null;
  readonly fields: Readonly<Record<number, string>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly subscriptions: readonly {
    readonly listId: number;
    readonly channel: Channel;
    readonly status: SubscriptionStatus;
    readonly reason: UnsubscribeReason | null;
    /** The import that last changed this subscription. */
    readonly processId: number | null;
    readonly updatedAt: Date;
    readonly confirmedAt: Date | null;
  }[];
  readonly groups: readonly Group[];
  /** Imports that changed its subscriptions or queued a confirmation request for it, newest first. */
  readonly imports: readonly {
    readonly processId: number;
    readonly listId: number;
    readonly status: ProcessStatus;
    readonly createdAt: Date;
    readonly endDate: Date | null;
  }[];
  readonly confirmations: readonly {
    readonly requestId: number;
    readonly processId: number;
    readonly listId: number;
    readonly status: string;
    readonly attempts: number;
    readonly lastError: string | null;
    readonly createdAt: Date;
    readonly sentAt: Date | null;
    readonly confirmedAt: Date | null;
  }[];
}

/** One recipient of a list as the CSV export writes it. */
export interface ListExportRow {
  readonly id: number;
  readonly email: string | null;
  readonly mobile: string | null;
  readonly name: string | null;
  readonly emailStatus: SubscriptionStatus | null;
  readonly smsStatus: SubscriptionStatus | null;
  readonly fields: Readonly<Record<number, string>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A list export: the campo numbers any exported recipient has, then the rows, read lazily. */
export interface ListExport {
  readonly fieldNumbers: readonly number[];
  /** One consistent snapshot, read row by row; finishing or leaving the loop releases it. */
  readonly rows: AsyncIterable<ListExportRow>;
  /** Releases the snapshot without reading (further); safe to call more than once. */
  close(): void;
}

export interface QueryStore {
  /** The account's processes, newest first, a page at a time (keyset on the id). */
  consoleProcesses(accountId: number, query: ProcessPageQuery): Promise<KeysetPage<ProcessWithQueue>>;
  /**
   * Recipients by channel and status of each list, and of each of its groups (unless `groups` is
   * false: the group counts read every member's subscriptions, the dearest part).
   */
  listStats(accountId: number, listIds: readonly number[], options?: { readonly groups?: boolean }): Promise<ListStats[]>;
  /**
   * Recipients matching the filter, a page at a time, never with OFFSET: in id order, or in
   * e-mail or mobile order when searching by a prefix. A cursor that does not fit the filter
   * starts at the first page.
   */
  searchRecipients(accountId: number, filter: RecipientFilter, page: RecipientPageQuery): Promise<KeysetPage<RecipientSummary>>;
  recipientDetail(accountId: number, recipientId: number): Promise<RecipientDetail | null>;
  /**
   * Every recipient with a subscription on the list, in id order, from one snapshot read on a
   * connection of its own; null for another account's list. Call `close` (or finish the rows)
   * to release the snapshot.
   */
  exportList(accountId: number, listId: number): Promise<ListExport | null>;
  /** Reject rows after `afterRow`, in row order. */
  rejectReportPage(accountId: number, processId: number, query: { afterRow?: number; limit: number }): Promise<KeysetPage<RejectReportRow>>;
  /** The whole reject report, streamed in row order; null for another account's process. */
  streamRejectReport(accountId: number, processId: number): Promise<AsyncIterable<RejectReportRow> | null>;
  /** The outbox, newest first, a page at a time (keyset on the id). */
  outboxPage(accountId: number, query: { olderThan?: number; newerThan?: number; limit: number }): Promise<KeysetPage<OutboxMessage>>;
  getOutboxMessage(accountId: number, id: number): Promise<OutboxMessage | null>;
}
