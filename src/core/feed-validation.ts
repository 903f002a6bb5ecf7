/**
 * Checking a feed without importing it (`POST /api/feeds/validate`): the feed is read with the
 * reader an import stores it with (src/import/feed-reader.ts) and every row goes through the row
 * rules the import worker applies (prepareBatch: normaliseRow with the list's default country),
 * so a feed that validates clean imports clean. Nothing is stored: no feed, no process, no
 * recipient; the only reads are the list and its country.
 *
 * It tells the rows, the rows that would be rejected (row number, reason, the row as sent), the
 * rows that repeat an earlier row's recipient (same e-mail, or same mobile for a row without
 * e-mail: the import merges them into one recipient and counts the repeat as Existing), and the
 * channels the valid rows carry.
 */
import type { FeedRow, MailingList } from '../model/records.ts';
import { emailKey, mobileKey } from '../model/batch.ts';
import type { Store } from '../store/store.ts';
import { FeedError, FeedReader } from '../import/feed-reader.ts';
import { FEED_CHUNK_ROWS } from '../import/feed-upload.ts';
import { prepareBatch } from '../import/plan-batch.ts';
import { readRejectedRow, type RejectedRowValues } from '../import/rejected-row.ts';
import { importOptions } from './imports.ts';

/** The most rejected and duplicate rows listed; the counts always cover the whole feed. */
export const MAX_LISTED_ROWS = 1000;

export interface ValidationRequest {
  /** The list the feed is for (its default country reads national mobile numbers); null for none. */
  readonly listId: number | null;
  /** As in an import: 0 for the default (3: both channels). */
  readonly importType: number;
  /** As in an import: 0 for the default (1: country code inside Number). */
  readonly mobileInputType: number;
}

export interface DuplicateRow {
  readonly row: number;
  /** The earlier row with the same recipient. */
  readonly firstRow: number;
  readonly email: string | null;
  readonly mobile: string | null;
}

export interface FeedValidation {
  readonly rows: number;
  readonly validRows: number;
  readonly rejectedRows: number;
  /** The first MAX_LISTED_ROWS rejected rows, in row order. */
  readonly rejected: readonly { readonly row: number; readonly reason: string; readonly values: RejectedRowValues }[];
  readonly duplicateRows: number;
  /** The first MAX_LISTED_ROWS duplicate rows, in row order. */
  readonly duplicates: readonly DuplicateRow[];
  /** Valid rows with an e-mail address and with a mobile number (a row can have both). */
  readonly channels: { readonly email: number; readonly sms: number };
  readonly importType: number;
  readonly mobileInputType: number;
  readonly listId: number | null;
  /** The list's default country used for national mobile numbers; null when none. */
  readonly country: string | null;
}

export type ValidationRefusal =
  | { readonly ok: false; readonly reason: 'unknown-list' | 'invalid-option' | 'empty' }
  | { readonly ok: false; readonly reason: 'malformed'; readonly message: string };

/** A list to check the options against when the caller names none: importOptions reads a list only for its groups, and none are given. */
const NO_LIST: MailingList = { id: 0, accountId: 0, guid: '', name: '' };

export async function validateFeed(
  store: Store, accountId: number, text: AsyncIterable<string>, request: ValidationRequest,
): Promise<{ ok: true; report: FeedValidation } | ValidationRefusal> {
  let list = NO_LIST;
  // The list's default country reads the numbers that carry no country code; it comes with the list.
  let country: string | null = null;
  if (request.listId !== null) {
    const found = (await store.lists.listLists(accountId, [request.listId]))[0];
    if (found === undefined) return { ok: false, reason: 'unknown-list' };
    list = found;
    country = found.country;
  }
  const checked = await importOptions(store, list, {
    groupIds: [], importType: request.importType, mobileInputType: request.mobileInputType,
    asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
  });
  if (!checked.ok) return { ok: false, reason: 'invalid-option' };
  const options = checked.options;

  const reader = new FeedReader();
  const seen = new Map<string, number>();
  let rows = 0;
  let validRows = 0;
  let rejectedRows = 0;
  let duplicateRows = 0;
  const rejected: { row: number; reason: string; values: RejectedRowValues }[] = [];
  const duplicates: DuplicateRow[] = [];
  const channels = { email: 0, sms: 0 };

  const check = (batch: FeedRow[]): void => {
    if (batch.length === 0) return;
    rows += batch.length;
    const prepared = prepareBatch(batch, options, country);
    rejectedRows += prepared.rejects.length;
    for (const r of prepared.rejects) if (rejected.length < MAX_LISTED_ROWS) rejected.push({ row: r.row, reason: r.reason, values: readRejectedRow(r.raw) });
    for (const r of prepared.rows) {
      validRows++;
      if (r.email !== null) channels.email++;
      if (r.mobile !== null) channels.sms++;
      // The recipient the import would merge the row into, keyed as planBatch keys it.
      const key = r.email !== null ? emailKey(r.email) : mobileKey(r.mobile!);
      const firstRow = seen.get(key);
      if (firstRow === undefined) seen.set(key, r.row);
      else {
        duplicateRows++;
        if (duplicates.length < MAX_LISTED_ROWS) duplicates.push({ row: r.row, firstRow, email: r.email, mobile: r.mobile });
      }
    }
  };

  try {
    let pending: FeedRow[] = [];
    for await (const piece of text) {
      reader.write(piece);
      pending = pending.concat(reader.take());
      if (pending.length >= FEED_CHUNK_ROWS) {
        check(pending);
        pending = [];
      }
    }
    if (reader.empty) return { ok: false, reason: 'empty' };
    reader.end();
    check(pending.concat(reader.take()));
  } catch (err) {
    if (err instanceof FeedError) return { ok: false, reason: 'malformed', message: err.message };
    throw err;
  }
  return {
    ok: true,
    report: {
      rows, validRows, rejectedRows, rejected, duplicateRows, duplicates, channels,
      importType: options.importType, mobileInputType: options.mobileInputType, listId: request.listId, country,
    },
  };
}
