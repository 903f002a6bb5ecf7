/**
 * The JSON schemas of the JSON API's requests and answers. Fastify checks requests and writes
 * answers with them, and the OpenAPI document (/api/openapi.json) is generated from them, so the
 * document cannot drift from what the routes do. Nullable values are `type: [T, 'null']`
 * (OpenAPI 3.1 is JSON Schema 2020-12).
 */

export const errorSchema = {
  type: 'object',
  description: 'Every refusal and error: a sentence saying what was wrong.',
  required: ['error'],
  properties: { error: { type: 'string' } },
} as const;

/** The error answers a route can give, by status. */
export function errors(...statuses: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema]));
}

/** Every authenticated route: missing or wrong credentials, a disabled service or refused address, attempts waiting. */
export const AUTH_ERRORS = [401, 403, 429] as const;

const int = { type: 'integer' } as const;
const nullableInt = { type: ['integer', 'null'] } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const importOptionsSchema = {
  type: 'object',
  description: 'The options the import runs with (NewImportProcess / StartImportProcesses arguments, defaults applied).',
  required: ['groupIds', 'importType', 'mobileInputType', 'asPending', 'ConfirmEmail', 'asOptOut', 'forceOptIn', 'replaceGroups', 'idConfirmNL'],
  properties: {
    groupIds: { type: 'array', items: int },
    importType: int,
    mobileInputType: int,
    asPending: { type: 'boolean' },
    ConfirmEmail: { type: 'boolean' },
    asOptOut: { type: 'boolean' },
    forceOptIn: { type: 'boolean' },
    replaceGroups: { type: 'boolean' },
    idConfirmNL: int,
    confirmNewOnly: { type: 'boolean' },
    clearMissingFieldsUpTo: int,
  },
} as const;

const summaryProperties = {
  idProcess: int,
  listId: int,
  statusCode: { type: 'integer', enum: [1, 2, 3, 4], description: 'GetProcessDetails StatusCode: 1 waiting, 2 running, 3 completed, 4 failed.' },
  status: { type: 'string', enum: ['waiting', 'running', 'completed', 'failed'] },
  waitingFor: { type: ['string', 'null'], enum: ['start', 'turn', null], description: 'What a waiting process waits for.' },
  isRunning: { type: 'boolean' },
  createdAt: { type: 'string', format: 'date-time' },
  startDate: nullableTime,
  endDate: nullableTime,
  totalContacts: int,
  newEmail: int,
  newMobile: int,
  existingEmail: int,
  existingMobile: int,
  optOutEmail: int,
  optOutMobile: int,
  confirmationEmail: { type: 'boolean' },
  confirmationSent: { type: ['boolean', 'null'] },
  options: importOptionsSchema,
  runId: nullableInt,
  rowsMerged: { type: 'integer', description: "Feed rows merged so far, as its run counts them: all the process's rows once it completed, else its checkpoint." },
  rejectedRows: int,
  reason: { type: ['string', 'null'], description: 'Why a failed import failed ("cancelled by <user>" for a cancel).' },
  cancelled: { type: 'boolean' },
} as const;

export const importSummarySchema = {
  type: 'object',
  description: 'An import process: the GetProcessDetails fields and what SOAP cannot carry.',
  required: Object.keys(summaryProperties),
  properties: summaryProperties,
} as const;

export const importDetailsSchema = {
  type: 'object',
  description: 'An import process: the GetProcessDetails fields, its options and run, rows merged, rejected rows by reason, and the failure reason.',
  required: [...Object.keys(summaryProperties), 'run', 'rejectReasons'],
  properties: {
    ...summaryProperties,
    run: {
      type: ['object', 'null'],
      description: 'The processes one start set going together; null for a process never started.',
      required: ['runId', 'processIds', 'state', 'totalRows', 'rowsMerged', 'rejectedRows', 'percent'],
      properties: {
        runId: int,
        processIds: { type: 'array', items: int },
        state: { type: 'string', enum: ['waiting', 'running', 'completed', 'failed'] },
        totalRows: int,
        rowsMerged: int,
        rejectedRows: int,
        percent: { type: 'integer', minimum: 0, maximum: 100 },
      },
    },
    rejectReasons: { type: 'object', description: 'Rejected rows counted by reason.', additionalProperties: int },
  },
} as const;

/** A rejected row as it was sent, in its columns. */
export const rowValuesSchema = {
  type: 'object',
  required: ['email', 'prefix', 'number', 'name', 'fields'],
  properties: {
    email: { type: 'string' },
    prefix: { type: 'string' },
    number: { type: 'string' },
    name: { type: 'string' },
    fields: { type: 'object', description: 'campoN values by N.', additionalProperties: { type: 'string' } },
  },
} as const;

export const rejectedRowSchema = {
  type: 'object',
  required: ['row', 'reason', 'values'],
  properties: { row: { type: 'integer', description: 'The row number in the feed (1 for the first subscriber).' }, reason: { type: 'string' }, values: rowValuesSchema },
} as const;

/** `limit` and `cursor`, the paging of every listing. */
export const pagingProperties = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50, description: 'Items per page (1–1000).' },
  cursor: { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'The `next` of the previous page; omitted for the first page.' },
} as const;

export const nextSchema = { type: ['string', 'null'], description: 'The cursor of the next page; null on the last page.' } as const;

export const idProcessParams = {
  type: 'object',
  required: ['idProcess'],
  properties: { idProcess: { type: 'integer', minimum: 1 } },
} as const;
