/**
 * mailup-import-client: a typed client for MailUp's WSMailUpImport SOAP web service (MailUp's
 * consoles or any compatible server), a subscriber-feed builder, CSV and XML-feed readers, and
 * a batching importer; and a typed client for MailUp's REST API v1.1 (OAuth2 tokens handled,
 * lists, groups, fields, recipients, streamed bulk imports and their polling). The
 * `mailup-import` command line tool is built on the same exports.
 *
 * @example
 * ```ts
 * import { MailUpImportClient, importSubscribers } from 'mailup-import-client';
 *
 * const client = new MailUpImportClient({ endpoint: 'http://localhost:8080', user: 'a1234', password: 'secret' });
 * const report = await importSubscribers(client, [{ email: 'anna@example.com', fields: ['Anna'] }], { idList: 1 });
 * console.log(report.outcome, report.counters.newEmail);
 * ```
 *
 * @packageDocumentation
 */
export {
  MailUpImportClient, DOCUMENTED_DEFAULTS, IDEMPOTENT_OPERATIONS, encodeArgs, methodNameOf, resolveEndpoint,
  type CallOptions, type MailUpImportClientOptions, type MethodName, type OperationArgs, type OperationMethod, type OperationMethods,
} from './client.ts';
export {
  MailUpError, MailUpReturnCodeError, SoapFaultError, TransportError, ERROR_CODES, TRANSPORT_FAILURES, describeReturnCode,
  type MailUpErrorClass, type MailUpErrorCode, type ReturnCodeDetails, type SoapFaultDetails, type TransportDetails, type TransportFailure,
} from './errors.ts';
export { JsonApiError, type JsonApiErrorDetails } from './errors.ts';
export { RestApiError, RestAuthError, type FailedOperation, type RestApiErrorDetails, type RestAuthErrorDetails, type RestOperation } from './errors.ts';
export {
  OPERATIONS, OPERATION_NAMES, RETURN_CODES, SERVICE_NAMESPACE, SERVICE_NAME, SERVICE_PATH, AUTHENTICATION_FIELDS, soapActionOf,
  type DocumentedReturnCode, type OperationName, type ParamSpec, type ParamsOf, type XsdType,
} from './generated/operations.ts';
export {
  PROCESS_STATUS_BY_CODE, isFinished, parseMailUpDate, parseResult,
  type MailUpGroup, type MailUpList, type OperationResults, type ProcessDetails, type ProcessStatus, type StartedProcess,
} from './result-parser.ts';
export { SOAP_ENVELOPE_NS, type SoapVersion, type TextChunks } from './transport.ts';
export {
  FeedBuilder, buildFeed, streamFeed, highestField, FEED_OPEN, FEED_CLOSE,
  type FeedOptions, type FieldValue, type Subscriber,
} from './feed-builder.ts';
export { importSubscribers, findList, type ImportFlags, type ImportSubscribersOptions, type StartRetryOptions } from './importer.ts';
export {
  describeRemaining, ImportTimeoutError, DEFAULT_IMPORT_TIMEOUT_MS,
  type BatchReport, type FailedBatch, type ImportCounters, type ImportEvent, type ImportItem, type ImportOutcome,
  type ImportPhase, type ImportProgress, type ImportReport, type RemainingProcess,
} from './import-report.ts';
export {
  readCsvSubscribers, guessDelimiter, CsvInputError,
  type ColumnTarget, type CsvOptions, type CsvSubscriber, type CsvSubscriberSource,
} from './csv.ts';
export { readXmlFeed, FeedInputError, type RawSubscriber, type XmlFeedOptions } from './xml-feed.ts';
export { INPUT_ENCODINGS, InputEncodingError, normaliseEncoding, type InputEncoding } from './charset.ts';
export {
  MailUpRestClient, ImportWaitTimeoutError, resolveRestBase, formatRestDate, REST_BASE_PATH, TOKEN_PATH,
  type MailUpRestClientOptions, type RestCallOptions, type WaitForImportOptions,
} from './rest/rest-client.ts';
export type { RestTokens } from './rest/tokens.ts';
export { DEFAULT_RATE_LIMIT, type RateLimitPolicy } from './rest/http-support.ts';
export { filterEquals, filterContains, filterAll, walkPages, WALK_PAGE_SIZE, type PageQuery, type WalkQuery } from './rest/paging.ts';
export { parseRestDate } from './rest/read-answer.ts';
export {
  RECIPIENT_STATES,
  type BulkImportOptions, type ImportTarget, type NewGroup, type RecipientState, type RestDynamicField, type RestField, type RestGroup,
  type RestImportDetail, type RestImportStatus, type RestList, type RestPage, type RestRecipient, type RestRecipientDetail, type RestRecipientItem,
} from './rest/types.ts';
export { restRecipientOf, MAX_REST_FIELD_ID, MAX_REST_FIELD_LENGTH, type RecipientOutcome } from './rest/recipient-of.ts';
export { importSubscribersRest, DEFAULT_REST_BATCH_SIZE, type ImportSubscribersRestOptions } from './rest/rest-importer.ts';
export {
  RestImportTimeoutError, describeRemainingImport,
  type RejectedRow, type RemainingImport, type RestBatchReport, type RestImportCounters, type RestImportEvent, type RestImportPhase,
  type RestImportProgress, type RestImportReport,
} from './rest/rest-import-report.ts';
export { MailUpJsonApiClient, type MailUpJsonApiClientOptions } from './api/json-api-client.ts';
export type {
  CancelAnswer, DuplicateRow, FeedValidation, ImportDetails, ImportRun, ImportStateName, ImportSummary, JsonImportOptions, JsonPage, JsonRejectedRow,
  ListImportsQuery, PageQuery as JsonPageQuery, RejectsPage, RowValues, StartAnswer, ValidateCsvOptions, ValidateFeedOptions,
} from './api/types.ts';
