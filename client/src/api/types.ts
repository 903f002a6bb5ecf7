/**
 * The JSON API's answers (a compatible server's `/api/…`, described by its OpenAPI document at
 * `/api/openapi.json`). Written by hand; each `…_FIELDS` list names every property of its type
 * (the compiler checks it lists them all), and a test compares the lists with the `required`
 * properties of the server's document, so the two cannot drift apart unnoticed.
 */

/** Every key of T is in K: `true`, else a compile error where it is used. */
type AllKeys<T, K extends readonly PropertyKey[]> = Exclude<keyof T, K[number]> extends never ? true : never;

export type ImportStateName = 'waiting' | 'running' | 'completed' | 'failed';

/** The options an import runs with, defaults applied. */
export interface JsonImportOptions {
  readonly groupIds: readonly number[];
  readonly importType: number;
  readonly mobileInputType: number;
  readonly asPending: boolean;
  readonly ConfirmEmail: boolean;
  readonly asOptOut: boolean;
  readonly forceOptIn: boolean;
  readonly replaceGroups: boolean;
  readonly idConfirmNL: number;
  readonly confirmNewOnly?: boolean;
  readonly clearMissingFieldsUpTo?: number;
}

/** An import process as a listing shows it. Times are ISO 8601 strings. */
export interface ImportSummary {
  readonly idProcess: number;
  readonly listId: number;
  /** GetProcessDetails' StatusCode: 1 waiting, 2 running, 3 completed, 4 failed. */
  readonly statusCode: 1 | 2 | 3 | 4;
  readonly status: ImportStateName;
  readonly waitingFor: 'start' | 'turn' | null;
  readonly isRunning: boolean;
  readonly createdAt: string;
  readonly startDate: string | null;
  readonly endDate: string | null;
  readonly totalContacts: number;
  readonly newEmail: number;
  readonly newMobile: number;
  readonly existingEmail: number;
  readonly existingMobile: number;
  readonly optOutEmail: number;
  readonly optOutMobile: number;
  readonly confirmationEmail: boolean;
  readonly confirmationSent: boolean | null;
  readonly options: JsonImportOptions;
  readonly runId: number | null;
  /** Feed rows merged so far, as its run counts them: all the process's rows once it completed, else its checkpoint. */
  readonly rowsMerged: number;
  readonly rejectedRows: number;
  /** Why a failed import failed ("cancelled by <user>" for a cancel). */
  readonly reason: string | null;
  readonly cancelled: boolean;
}

export const IMPORT_SUMMARY_FIELDS = [
  'idProcess', 'listId', 'statusCode', 'status', 'waitingFor', 'isRunning', 'createdAt', 'startDate', 'endDate', 'totalContacts',
  'newEmail', 'newMobile', 'existingEmail', 'existingMobile', 'optOutEmail', 'optOutMobile', 'confirmationEmail', 'confirmationSent',
  'options', 'runId', 'rowsMerged', 'rejectedRows', 'reason', 'cancelled',
] as const satisfies readonly (keyof ImportSummary)[];
export const IMPORT_SUMMARY_COMPLETE: AllKeys<ImportSummary, typeof IMPORT_SUMMARY_FIELDS> = true;

/** The processes one start set going together. */
export interface ImportRun {
  readonly runId: number;
  readonly processIds: readonly number[];
  readonly state: ImportStateName;
  readonly totalRows: number;
  readonly rowsMerged: number;
  readonly rejectedRows: number;
  readonly percent: number;
}

export const IMPORT_RUN_FIELDS = ['runId', 'processIds', 'state', 'totalRows', 'rowsMerged', 'rejectedRows', 'percent'] as const satisfies readonly (keyof ImportRun)[];
export const IMPORT_RUN_COMPLETE: AllKeys<ImportRun, typeof IMPORT_RUN_FIELDS> = true;

/** One import process (`GET /api/imports/{idProcess}`). */
export interface ImportDetails extends ImportSummary {
  readonly run: ImportRun | null;
  /** Rejected rows counted by reason. */
  readonly rejectReasons: Readonly<Record<string, number>>;
}

export const IMPORT_DETAILS_FIELDS = [...IMPORT_SUMMARY_FIELDS, 'run', 'rejectReasons'] as const satisfies readonly (keyof ImportDetails)[];
export const IMPORT_DETAILS_COMPLETE: AllKeys<ImportDetails, typeof IMPORT_DETAILS_FIELDS> = true;

/** A row as it was sent, in its columns. */
export interface RowValues {
  readonly email: string;
  readonly prefix: string;
  readonly number: string;
  readonly name: string;
  /** campoN values by N. */
  readonly fields: Readonly<Record<string, string>>;
}

/** A rejected row: its number in the feed (1 for the first subscriber), why, and the row as sent. */
export interface JsonRejectedRow {
  readonly row: number;
  readonly reason: string;
  readonly values: RowValues;
}

export const REJECTED_ROW_FIELDS = ['row', 'reason', 'values'] as const satisfies readonly (keyof JsonRejectedRow)[];
export const REJECTED_ROW_COMPLETE: AllKeys<JsonRejectedRow, typeof REJECTED_ROW_FIELDS> = true;

/** A page of a listing: `next` is the cursor of the next page, null on the last. */
export interface JsonPage<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}

export interface RejectsPage extends JsonPage<JsonRejectedRow> {
  /** Rejected rows in all. */
  readonly total: number;
}

export interface CancelAnswer {
  /** The processes ended, the one named first. */
  readonly cancelled: readonly number[];
  readonly import: ImportDetails;
}

export interface StartAnswer {
  /** True when it waits its turn behind the account's running import. */
  readonly queued: boolean;
  readonly behindListId: number | null;
  readonly import: ImportDetails;
}

export interface DuplicateRow {
  readonly row: number;
  /** The earlier row with the same recipient. */
  readonly firstRow: number;
  readonly email: string | null;
  readonly mobile: string | null;
}

/** What `POST /api/feeds/validate` found; `rejected` and `duplicates` list at most 1000 rows each, the counts cover all. */
export interface FeedValidation {
  readonly rows: number;
  readonly validRows: number;
  readonly rejectedRows: number;
  readonly rejected: readonly JsonRejectedRow[];
  readonly duplicateRows: number;
  readonly duplicates: readonly DuplicateRow[];
  readonly channels: { readonly email: number; readonly sms: number };
  readonly importType: number;
  readonly mobileInputType: number;
  readonly listId: number | null;
  readonly country: string | null;
  /** CSV records that could not be read and were left out (always empty for an XML feed). */
  readonly skippedRecords: readonly { readonly line: number | null; readonly reason: string }[];
}

export const FEED_VALIDATION_FIELDS = [
  'rows', 'validRows', 'rejectedRows', 'rejected', 'duplicateRows', 'duplicates', 'channels', 'importType', 'mobileInputType', 'listId', 'country', 'skippedRecords',
] as const satisfies readonly (keyof FeedValidation)[];
export const FEED_VALIDATION_COMPLETE: AllKeys<FeedValidation, typeof FEED_VALIDATION_FIELDS> = true;

/** `GET /api/imports` filters and paging. */
export interface ListImportsQuery {
  /** 1–4 or the state's name. */
  readonly status?: 1 | 2 | 3 | 4 | ImportStateName;
  readonly list?: number;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface PageQuery {
  readonly limit?: number;
  readonly cursor?: string;
}

export interface ValidateFeedOptions {
  /** The list the feed is for: its default country reads national mobile numbers. */
  readonly list?: number;
  readonly importType?: number;
  readonly mobileInputType?: number;
}

/** {@link ValidateFeedOptions} for a CSV, which the server reads as `mailup-import` reads a CSV file. */
export interface ValidateCsvOptions extends ValidateFeedOptions {
  /** The field separator; guessed from the header when omitted. */
  readonly delimiter?: string;
  /** The CSV's encoding (default UTF-8). */
  readonly encoding?: 'utf-8' | 'windows-1252' | 'latin1';
}
