/**
 * MailUp's error answer for the REST API (spec §2.3):
 *
 *   {"ErrorCode":"401","ErrorDescription":"Authorization error: Access token is expired","ErrorName":"Unauthorized","ErrorStack":null}
 *
 * `ErrorCode` is the HTTP status as a string; `ErrorName` the name .NET gives the status. A route
 * throws a RestError (or calls badRequest/notFound…), and the REST plugin's error handler
 * answers it in this shape (./rest-routes.ts).
 */

export interface MailUpErrorBody {
  readonly ErrorCode: string;
  readonly ErrorDescription: string;
  readonly ErrorName: string;
  readonly ErrorStack: null;
}

/** The names .NET's HttpStatusCode gives the statuses this API answers. */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 406: 'NotAcceptable',
  408: 'RequestTimeout', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType', 429: 'TooManyRequests',
  500: 'InternalServerError', 503: 'ServiceUnavailable',
};

export const statusName = (status: number): string => STATUS_NAMES[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequest');

export function errorBody(status: number, description: string): MailUpErrorBody {
  return { ErrorCode: String(status), ErrorDescription: description, ErrorName: statusName(status), ErrorStack: null };
}

/**
 * MailUp's wording of a call past its rate limit. MailUp answers 429 past its own limit, and
 * clients such as mailupy wait and retry on 429; this server answers the same only far beyond
 * what a well-behaved client sends (REST_MAX_CALLS_PER_SECOND, 100 by default), so it protects the
 * server without getting in the way. The count is kept in memory: with several API servers each
 * counts its own calls.
 */
export const tooManyRequestsMessage = (max: number, actual: number): string => `Too many requests. Max:${max} calls per second , actual:${actual}.`;

/** A refused REST call: answered with `status`, MailUp's error body carrying `message`, and `headers`. */
export class RestError extends Error {
  override readonly name = 'RestError';
  constructor(readonly status: number, message: string, readonly headers: Readonly<Record<string, string>> = {}) {
    super(message);
  }
}

/** 400: the request is malformed or breaks a rule; the message names what is wrong. */
export const badRequest = (message: string): RestError => new RestError(400, message);

/** 404: no such resource, or not one of this account's (never told apart, so nothing is revealed). */
export const notFound = (message: string): RestError => new RestError(404, message);
