/**
 * The single source of truth for the WSMailUpImport protocol.
 *
 * Glossary used across the code base:
 * - operation: one of the nine web methods of the WSDL (GetNlLists, NewImportProcess, …).
 * - result string: the `<mailupMessage>` document every operation returns as one escaped `xs:string`.
 * - ReturnCode: the first element of that document; 0 or an id on success, negative on failure.
 * - feed: the subscribers XML (`xmlDoc`) submitted with NewImportProcess or StartImportProcesses.
 * - row: one `<subscriber>` of a feed. batch: the rows merged in one transaction.
 * - process: one import of one feed into one list (`idProcess`); status 1 to run, 2 running, 3 done, 4 failed.
 * - lease: a worker's time-limited claim on a running process. checkpoint: the last row merged.
 * - channel: `email` or `sms`; a recipient is subscribed to a list per channel.
 *
 * The WSDL, the request decoders of all four bindings and the client's types are derived from
 * this table, so adding a parameter here is the whole protocol change.
 */

/** The XSD types the WSDL uses for operation parameters. */
export type XsdType = 'string' | 'int' | 'boolean';

export interface ParamSpec {
  readonly name: string;
  readonly type: XsdType;
  readonly minOccurs: 0 | 1;
  /** A large parameter the decoder hands over as a stream of text chunks instead of a string. */
  readonly streamed?: true;
}

export interface OperationSpec {
  /** The parameters in WSDL sequence order. */
  readonly params: readonly ParamSpec[];
}

export const SERVICE_NAMESPACE = 'http://ws.mailupnet.it/';
export const SERVICE_NAME = 'WSMailUpImport';
export const SERVICE_DOCUMENTATION = 'MailUp WebService for subscribers import.';
/** The path the WSDL advertises; routing matches it without regard to case. */
export const SERVICE_PATH = '/Services/WSMailupImport.asmx';

const s = <N extends string>(name: N) => ({ name, type: 'string', minOccurs: 0 }) as const;
const int = <N extends string>(name: N) => ({ name, type: 'int', minOccurs: 1 }) as const;
const bool = <N extends string>(name: N) => ({ name, type: 'boolean', minOccurs: 1 }) as const;
const feed = () => ({ name: 'xmlDoc', type: 'string', minOccurs: 0, streamed: true }) as const;

const importFlags = [bool('asPending'), bool('ConfirmEmail'), bool('asOptOut'), bool('forceOptIn'), bool('replaceGroups')] as const;

/** The nine operations in WSDL order, with their parameters in WSDL sequence order. */
export const OPERATIONS = {
  GetIdWsUser: { params: [] },
  GetIdUser: { params: [s('userName')] },
  GetNlLists: { params: [] },
  GetNlListsUser: { params: [int('userId')] },
  NewImportProcess: {
    params: [
      int('idList'), s('listGUID'), feed(), s('idGroups'), int('importType'), int('mobileInputType'),
      ...importFlags, int('idConfirmNL'),
    ],
  },
  StartImportProcesses: {
    params: [
      s('listsIDs'), s('listsGUIDs'), feed(), s('groupsIDs'), int('importType'), int('mobileInputType'),
      ...importFlags,
    ],
  },
  CreateGroup: { params: [int('idList'), s('listGUID'), s('newGroupName')] },
  GetProcessDetails: { params: [int('idList'), s('listGUID'), int('idProcess')] },
  StartProcess: { params: [int('idList'), s('listGUID'), int('idProcess')] },
} as const satisfies Record<string, OperationSpec>;

export type OperationName = keyof typeof OPERATIONS;
export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

export function isOperationName(name: string): name is OperationName {
  return Object.prototype.hasOwnProperty.call(OPERATIONS, name);
}

/** The SOAPAction (1.1) and action (1.2) of an operation. */
export const soapActionOf = (op: OperationName): string => `${SERVICE_NAMESPACE}${op}`;

/** The fields of the `Authentication` SOAP header, all optional strings. */
export const AUTHENTICATION_FIELDS = ['User', 'Password', 'encType'] as const;

type ParamsOf<Op extends OperationName> = (typeof OPERATIONS)[Op]['params'][number];
type TsTypeOf<P extends ParamSpec> = P extends { streamed: true }
  ? never
  : P['type'] extends 'int' ? number : P['type'] extends 'boolean' ? boolean : string | null;

/**
 * The decoded arguments of an operation: ints default to 0, booleans to false and strings to
 * null when the element is missing, as ASMX's XmlSerializer does. Streamed parameters are
 * carried separately (see `StreamedParamName`).
 */
export type OperationArgs<Op extends OperationName> = {
  [P in ParamsOf<Op> as P extends { streamed: true } ? never : P['name']]: TsTypeOf<P>;
};

/** Operations that carry a streamed feed parameter. */
export type FeedOperationName = {
  [Op in OperationName]: Extract<ParamsOf<Op>, { streamed: true }> extends never ? never : Op;
}[OperationName];

export function paramsOf(op: OperationName): readonly ParamSpec[] {
  return OPERATIONS[op].params;
}

/** The default of a missing element, as ASMX's XmlSerializer gives it. */
export function defaultValue(type: XsdType): number | boolean | null {
  return type === 'int' ? 0 : type === 'boolean' ? false : null;
}
