/**
 * An import process as the REST API shows it (spec 2.5; docs/behaviour.md "REST bulk import"):
 *
 * - `GET Import/{id}` (status): `idImport`, `Completed`, and five counts mapped from the process's
 *   counters (the same ones GetProcessDetails shows) and its rejected rows;
 * - `GET Imports/{id}` (detail): the options the process runs with, its dates and status code,
 *   and `Rows` with the valid and invalid rows broken down.
 *
 * Every count is the store's, committed with each batch, so it is exact at every poll and after a
 * crash (a batch is counted once, when it commits). While the import runs the counts cover the
 * rows merged so far.
 */
import type { RejectKind } from '../import/normalise-row.ts';
import type { ImportProcess } from '../model/records.ts';

export interface RestImportStatus {
  readonly idImport: number;
  /** The process has ended: status 3 (done) or 4 (failed; GET Imports/{id} tells which). */
  readonly Completed: boolean;
  /** Rows whose e-mail address was new on the list (NewEmail). */
  readonly CreatedRecipients: number;
  /** Rows whose e-mail address was already on the list, or that leave it unsubscribed (ExistingEmail + OptOutEmail). */
  readonly UpdatedRecipients: number;
  /** Rows merged so far that passed the row rules. */
  readonly ValidRecipients: number;
  /** Rows rejected by the row rules (the reject report). */
  readonly NotValidRecipients: number;
  /** Rows written to the recipients: every valid row. */
  readonly ImportedRecipients: number;
}

/** Rows merged so far that passed the row rules: the checkpoint less the rejects. */
const validRows = (p: ImportProcess): number => Math.max(0, p.checkpoint - p.rejected);

export function importStatusOf(p: ImportProcess): RestImportStatus {
  const c = p.counters;
  return {
    idImport: p.id,
    Completed: p.status === 3 || p.status === 4,
    CreatedRecipients: c.newEmail,
    UpdatedRecipients: c.existingEmail + c.optOutEmail,
    ValidRecipients: validRows(p),
    NotValidRecipients: p.rejected,
    ImportedRecipients: validRows(p),
  };
}

/**
 * The detail, in the member order of MailUp's own answer. Filename, FieldSeparator, IgnoreFirstRow
 * and IgnoreDoubleQuotes describe CSV file imports, which this server has not: always "", "",
 * false, false. RepeatedEmail and RepeatedNumber are 0: a row repeating an earlier one counts as an
 * update. `reasons` is the reject report counted by reason (ProcessStore.rejectReasons), `kindOf`
 * the import engine's name for each.
 */
export function importDetailOf(
  p: ImportProcess, reasons: Readonly<Record<string, number>>, kindOf: (reason: string) => RejectKind, formatDate: (d: Date) => string,
) {
  const invalid: Record<RejectKind, number> = { 'invalid-email': 0, 'invalid-mobile': 0, 'no-prefix': 0, 'no-email': 0, 'no-mobile': 0, other: 0 };
  for (const [reason, n] of Object.entries(reasons)) invalid[kindOf(reason)] += n;
  const c = p.counters;
  const o = p.options;
  return {
    EndDate: p.endDate ? formatDate(p.endDate) : '',
    FieldSeparator: '',
    Filename: '',
    IdGroups: [...o.groupIds],
    IdImport: p.id,
    IdList: p.listId,
    IgnoreDoubleQuotes: false,
    IgnoreFirstRow: false,
    ImportAsUnsubscribed: o.asOptOut,
    IncludePendingRecipients: o.asPending,
    OverwriteEmptyFields: o.importType >= 4,
    ReplaceExistingGroup: o.replaceGroups,
    Rows: {
      Invalid: {
        InvalidEmail: invalid['invalid-email'],
        InvalidNumber: invalid['invalid-mobile'],
        Total: p.rejected,
        WithoutEmail: invalid['no-email'],
        WithoutNumber: invalid['no-mobile'],
        WithoutPrefix: invalid['no-prefix'],
      },
      Total: p.totalContacts,
      Valid: {
        EmailNew: c.newEmail,
        EmailUpdate: c.existingEmail + c.optOutEmail,
        NumberNew: c.newMobile,
        NumberUpdate: c.existingMobile + c.optOutMobile,
        RepeatedEmail: 0,
        RepeatedNumber: 0,
        Total: validRows(p),
      },
    },
    SendConfirmationEmail: o.ConfirmEmail,
    StartDate: p.startDate ? formatDate(p.startDate) : '',
    StatusCode: p.status,
  };
}

/** `yyyy-MM-dd HH:mm:ss.fff` in `timeZone`, as the REST API writes dates (spec 2.5). */
export function restDate(date: Date, timeZone: string): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(date).map((p) => [p.type, p.value]));
  const ms = String(date.getMilliseconds()).padStart(3, '0');
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}.${ms}`;
}
