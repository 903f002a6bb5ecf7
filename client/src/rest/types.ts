/**
 * The objects of MailUp's REST API v1.1 as the client hands them over: the wire members with
 * MailUp's own spelling (so they can be sent back as they came, as MailUp's samples do), with
 * `yyyy-MM-dd HH:mm:ss.fff` dates read as `Date` (an empty date is null).
 */

/** MailUp's paging envelope: one page of a collection. */
export interface RestPage<T> {
  /** True when the collection takes more than one page. */
  readonly IsPaginated: boolean;
  readonly Items: readonly T[];
  /** 0-based. */
  readonly PageNumber: number;
  readonly PageSize: number;
  readonly Skipped: number;
  readonly TotalElementsCount: number;
}

/** A list as `GET User/Lists` answers it. */
export interface RestList {
  readonly Company: string;
  readonly Description: string;
  readonly Name: string;
  readonly idList: number;
  readonly listGuid: string;
}

/** A group of a list. */
export interface RestGroup {
  /** MailUp answers null here. */
  readonly Count: number | null;
  readonly Deletable: boolean;
  readonly Name: string;
  readonly Notes: string;
  readonly idGroup: number;
  readonly idList: number;
}

/** What `createGroup` sends: a name, optional notes. */
export interface NewGroup {
  readonly Name: string;
  readonly Notes?: string;
  readonly Deletable?: boolean;
}

/** A personal-data field definition (`GET Recipient/DynamicFields`): ids 1 to 39. */
export interface RestDynamicField {
  readonly Description: string;
  readonly Id: number;
}

/** A personal-data field value of a recipient. */
export interface RestField {
  /** 1 to 39. */
  readonly Id: number;
  /** At most 200 characters. */
  readonly Value: string;
  /** The field's name; optional when sent. */
  readonly Description?: string | null;
}

/** A recipient as it is sent: `Name` is required by MailUp but may be empty. */
export interface RestRecipient {
  readonly Email?: string | null;
  readonly Name?: string | null;
  readonly MobilePrefix?: string | null;
  readonly MobileNumber?: string | null;
  readonly Fields?: readonly RestField[] | null;
  /** Names the recipient for `PUT Recipient/Detail` (else the e-mail address does). */
  readonly idRecipient?: number | null;
}

/** A recipient as the API answers it. */
export interface RestRecipientDetail {
  readonly idRecipient: number;
  readonly Email: string | null;
  readonly Name: string | null;
  readonly MobilePrefix: string | null;
  readonly MobileNumber: string | null;
  readonly Fields: readonly RestField[];
}

/** The subscription states a list's recipients are read by (`GET List/{id}/Recipients/{state}`). */
export const RECIPIENT_STATES = ['Subscribed', 'Unsubscribed', 'Pending', 'EmailOptins'] as const;
export type RecipientState = (typeof RECIPIENT_STATES)[number];

/**
 * A recipient of a list read by state. `Subscribed`, `Unsubscribed` and `Pending` answer the
 * recipient's own members; `EmailOptins` answers the opt-in members (`Status`, the dates, …).
 * Members the answer leaves out are undefined here; members this type does not name are kept as
 * they came.
 */
export interface RestRecipientItem {
  readonly idRecipient: number;
  readonly Email: string | null;
  readonly Name?: string | null;
  readonly MobilePrefix?: string | null;
  readonly MobileNumber?: string | null;
  readonly Fields?: readonly RestField[];
  /** `OPTIN`, `OPTOUT`, `PENDING`… (EmailOptins). */
  readonly Status?: string;
  readonly Optin_Date?: Date | null;
  readonly Optin_Request_Date?: Date | null;
  readonly Optin_Request_IP?: string | null;
  readonly Optout_Date?: Date | null;
  readonly Optout_MsgID?: number | null;
  readonly Optout_Subtype?: string | null;
  readonly Optout_Type?: string | null;
}

/** `GET Import/{idImport}`: where an asynchronous import stands. */
export interface RestImportStatus {
  readonly idImport: number;
  /** The import has ended (completed or failed; {@link RestImportDetail}'s `StatusCode` tells which). */
  readonly Completed: boolean;
  readonly CreatedRecipients: number;
  readonly UpdatedRecipients: number;
  readonly ValidRecipients: number;
  readonly NotValidRecipients: number;
  readonly ImportedRecipients: number;
}

/** `GET Imports/{idImport}`: an import's options, dates, status code and row counts. */
export interface RestImportDetail {
  readonly IdImport: number;
  readonly IdList: number;
  readonly IdGroups: readonly number[];
  readonly StartDate: Date | null;
  readonly EndDate: Date | null;
  /** 1 waiting, 2 running, 3 completed, 4 failed (the SOAP StatusCode). */
  readonly StatusCode: number;
  readonly Filename?: string;
  readonly FieldSeparator?: string;
  readonly IgnoreFirstRow?: boolean;
  readonly IgnoreDoubleQuotes?: boolean;
  readonly ImportAsUnsubscribed?: boolean;
  readonly IncludePendingRecipients?: boolean;
  readonly OverwriteEmptyFields?: boolean;
  readonly ReplaceExistingGroup?: boolean;
  readonly SendConfirmationEmail?: boolean;
  readonly Rows?: {
    readonly Total: number;
    readonly Invalid: {
      readonly InvalidEmail: number; readonly InvalidNumber: number; readonly WithoutEmail: number;
      readonly WithoutNumber: number; readonly WithoutPrefix: number; readonly Total: number;
    };
    readonly Valid: {
      readonly EmailNew: number; readonly EmailUpdate: number; readonly NumberNew: number; readonly NumberUpdate: number;
      readonly RepeatedEmail: number; readonly RepeatedNumber: number; readonly Total: number;
    };
  };
}

/** Where a bulk import goes: a list, or a group (and its list). */
export type ImportTarget = { readonly idList: number } | { readonly idGroup: number };

/** The query of a bulk import (`POST List|Group/{id}/Recipients`). */
export interface BulkImportOptions {
  /** Double opt-in: new and not-yet-subscribed recipients become pending; the confirmation mailing is prepared. */
  readonly ConfirmEmail?: boolean;
  /** `asOptout` imports the recipients as unsubscribed. */
  readonly importType?: 'asOptin' | 'asOptout';
  /** A field missing or empty in the body is cleared (by default it keeps its stored value). */
  readonly clearMissingOrEmptyFields?: boolean;
  /** Group imports only: the recipients leave the list's other groups first. */
  readonly removeFromPrevGroups?: boolean;
}
