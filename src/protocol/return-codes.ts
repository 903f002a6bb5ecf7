/**
 * Every ReturnCode the service can answer, with its documented meaning (spec §3.4, §6.4, §10.4,
 * §11, §12.3, §13, §7.5). Operations return these as values; only the protocol edge renders them.
 * docs/return-codes.md is checked against this table by a test.
 */
export const RETURN_CODES = {
  // Authentication (spec §3.4)
  [-1000]: 'unrecognized error',
  [-1001]: 'account not valid',
  [-1002]: 'password not valid',
  [-1003]: 'account suspended',
  [-1004]: 'account inactive',
  [-1005]: 'account expired',
  [-1006]: 'web service not enabled',
  [-1007]: 'web service not active',
  [-1011]: 'IP not registered',
  [-1012]: 'IP registered but flagged "deny access"',
  [-1013]: 'authentication data missing',
  [-1014]: 'contract not signed',
  // List check (spec §3.4)
  [-100]: 'unrecognized error',
  [-101]: 'verification failed: the list ID and GUID do not match or do not belong to the account',
  [-102]: 'list GUID format not valid',
  // GetNlLists, GetNlListsUser, GetIdUser, GetIdWsUser
  [-200]: 'unrecognized error',
  // CreateGroup (spec §13)
  [-300]: 'unrecognized error',
  [-301]: 'list not specified',
  [-302]: 'group name not specified',
  [-303]: 'group already exists',
  // NewImportProcess (spec §10.4)
  [-400]: 'unrecognized error',
  [-401]: 'xmlDoc is empty',
  [-402]: 'conversion of the XML to CSV failed (the feed is not well-formed or not a subscribers feed)',
  [-403]: 'creating the import process failed',
  [-410]: 'cannot create the confirmation email',
  // StartImportProcesses (spec §7.5)
  [-450]: 'listsIDs and listsGUIDs must contain the same number of elements',
  // GetProcessDetails (spec §12.3)
  [-500]: 'unrecognized error',
  [-501]: 'idProcess not found',
  // StartProcess (spec §11)
  [-600]: 'unrecognized error',
  [-601]: 'an import process is already running for this list',
  [-602]: 'an import process is already running for a different list',
  [-603]: 'error checking the process status',
  [-604]: 'error starting the process job',
} as const;

export type ErrorCode = keyof typeof RETURN_CODES extends infer K ? (K extends `${infer N extends number}` ? N : K) : never;

export function describeReturnCode(code: number): string | undefined {
  return (RETURN_CODES as Record<number, string>)[code];
}

/** An operation's failure: a documented negative ReturnCode. */
export interface Failure {
  readonly ok: false;
  readonly code: ErrorCode;
}

export const fail = (code: ErrorCode): Failure => ({ ok: false, code });
