/**
 * The records the service keeps, as every layer sees them (DESIGN.md "Data model"): the store
 * reads and writes them, the import engine and the doors work with them. Ids are numbers; dates
 * are Date objects; nothing here knows SQL or a protocol.
 */

export interface Account {
  readonly id: number;
  /** The WS user name, `a` followed by the account number (`a1234`). */
  readonly wsUser: string;
  readonly passwordHash: string;
  readonly wsEnabled: boolean;
  readonly ipCheck: boolean;
  readonly allowedIps: readonly string[];
  readonly name: string;
  readonly createdAt: Date;
  /**
   * Who may call the HTTP subscribe API (`/frontend/…`) for this account's lists: addresses and
   * CIDR ranges in canonical form (src/core/http-api-access.ts); empty, nobody.
   */
  readonly httpApiIps: readonly string[];
}

export interface AccountChanges {
  readonly passwordHash?: string;
  readonly wsEnabled?: boolean;
  readonly ipCheck?: boolean;
  readonly allowedIps?: readonly string[];
  readonly name?: string;
  readonly httpApiIps?: readonly string[];
}

export interface MailingList {
  readonly id: number;
  readonly accountId: number;
  /** Lower-case 36-character GUID; compared without regard to case. */
  readonly guid: string;
  readonly name: string;
}

export interface Group {
  readonly id: number;
  readonly listId: number;
  readonly name: string;
  /** Free text about the group (the REST API's Group.Notes). The stores always fill it ('' when none); records built by hand may leave it out. */
  readonly notes?: string;
}

/** A list as a listing of the account's lists shows it: with its default country and its groups. */
export interface ListWithGroups extends MailingList {
  /** The default country (ISO 3166 alpha-2) that reads mobile numbers without + or 00; null when it has none. */
  readonly country: string | null;
  readonly groups: readonly Group[];
}

/** A console user: a person who signs in to the console and whose id GetIdUser returns. */
export interface ConsoleUser {
  readonly id: number;
  readonly accountId: number;
  readonly username: string;
  readonly passwordHash: string;
  /** Lists this user may see; null means every list of the account. */
  readonly listIds: readonly number[] | null;
  /** A disabled user cannot sign in to the console (src/core/console-users.ts). */
  readonly enabled: boolean;
  readonly createdAt: Date;
}

export type ProcessStatus = 1 | 2 | 3 | 4;

export interface ImportOptions {
  readonly groupIds: readonly number[];
  readonly importType: number;
  readonly mobileInputType: number;
  readonly asPending: boolean;
  readonly ConfirmEmail: boolean;
  readonly asOptOut: boolean;
  readonly forceOptIn: boolean;
  readonly replaceGroups: boolean;
  readonly idConfirmNL: number;
  /**
   * ConfirmEmail asks only recipients not yet on the list; subscribed and pending ones keep their
   * state and get no request (REST bulk imports, spec 2.7). Absent in SOAP imports.
   */
  readonly confirmNewOnly?: boolean;
  /**
   * Fields 1 to this number that a row leaves out are cleared, as an empty value is with
   * importType 4-6 (REST `clearMissingOrEmptyFields`). Absent in SOAP imports: a campoN left out
   * keeps its stored value.
   */
  readonly clearMissingFieldsUpTo?: number;
}

/** The six per-channel counters of GetProcessDetails. */
export interface Counters {
  newEmail: number;
  newMobile: number;
  existingEmail: number;
  existingMobile: number;
  optOutEmail: number;
  optOutMobile: number;
}

export const zeroCounters = (): Counters => ({
  newEmail: 0, newMobile: 0, existingEmail: 0, existingMobile: 0, optOutEmail: 0, optOutMobile: 0,
});

export interface ImportProcess {
  readonly id: number;
  readonly accountId: number;
  readonly listId: number;
  readonly feedId: number;
  readonly options: ImportOptions;
  readonly status: ProcessStatus;
  /** Waiting, in status 1, for the account's running import to finish (StartImportProcesses). */
  readonly queued: boolean;
  /** The run: the processes one start set going together, named by the id of the first; null until started. */
  readonly runId: number | null;
  readonly createdAt: Date;
  readonly startDate: Date | null;
  readonly endDate: Date | null;
  readonly totalContacts: number;
  readonly counters: Readonly<Counters>;
  /** Feed rows merged so far (rows 1..checkpoint). */
  readonly checkpoint: number;
  readonly rejected: number;
  readonly failureReason: string | null;
  /** When Send Now delivered every request of the process; null until then. */
  readonly confirmationSentAt: Date | null;
}

/**
 * The rows of a process counted as merged, wherever they are shown or summed (a process's
 * progress, a run's totals, the JSON API): a completed process all its rows, the others their
 * checkpoint, never more than their rows. The stores sum the same rule in SQL for a run
 * (src/store/common/run-sql.ts RUN_AGGREGATE_COLUMNS; test/store/processes.test.ts checks both agree).
 */
export function rowsMergedOf(p: Pick<ImportProcess, 'status' | 'checkpoint' | 'totalContacts'>): number {
  return p.status === 3 ? p.totalContacts : Math.min(p.checkpoint, p.totalContacts);
}

/**
 * A process with the number of its confirmation requests not yet sent, for listings. Counting
 * them costs a read per pending request, so the reads every poll makes (GetProcessDetails) leave
 * it out.
 */
export interface ProcessWithQueue extends ImportProcess {
  readonly confirmationsPending: number;
}

/** One subscriber of a feed as stored: raw values, normalised later by the worker. */
export interface FeedRow {
  /** 1-based position in the feed. */
  readonly row: number;
  readonly email: string;
  readonly prefix: string;
  readonly number: string;
  readonly name: string;
  /** campoN values by N (N ≥ 1), exactly as given (empty strings kept). */
  readonly fields: Readonly<Record<number, string>>;
}

export interface Feed {
  readonly id: number;
  readonly accountId: number;
  readonly totalRows: number;
  readonly chunkCount: number;
}
