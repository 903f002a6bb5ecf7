/**
 * mailup-import-client: a typed client for MailUp's WSMailUpImport SOAP web service (MailUp's
 * consoles or any compatible server), a subscriber-feed builder, CSV and XML-feed readers, and
 * a batching importer. The `mailup-import` command line tool is built on the same exports.
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
