/**
 * The web-service endpoint at /Services/WSMailUpImport.asmx, matched without regard to case as
 * IIS does: SOAP 1.1 and 1.2 on POST, the WSDL on `?WSDL`, the service page on GET, and the HTTP
 * GET/POST bindings at `…/asmx/<Operation>`. Bodies are read as raw streams (our own byte cap and
 * minimum rate, no buffering of feeds). Every failure is answered here as a fault or an HTTP
 * error.
 *
 * This endpoint is a node:http request handler that the server calls before fastify (app.ts);
 * fastify serves everything else (console, confirm pages, health, metrics). The web service is
 * the hot path: clients poll GetProcessDetails by the thousand, and fastify's routing, request
 * and reply objects and hooks cost about a third of such a call (docs/decisions.md). What fastify
 * gave these routes is kept: request ids from the same sequence, the `incoming request` and
 * `request completed` log lines, 503 while the server closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { escapeText } from '../xml/escape.ts';
import { convertValue, type RawArgs } from '../protocol/arguments.ts';
import { clientFault, ProtocolError, tooLarge } from '../protocol/faults.ts';
import { decodeForm } from '../protocol/form-request.ts';
import { isOperationName, OPERATION_NAMES, paramsOf, SERVICE_NAMESPACE, SERVICE_PATH, type OperationName } from '../protocol/operations.ts';
import { renderOutcome } from '../protocol/operation-results.ts';
import { decodeSoapRequest, type Credentials, type SoapVersion } from '../protocol/soap-request.ts';
import { basicCredentials } from '../protocol/basic-credentials.ts';
import { CONTENT_TYPE, soapFault, soapResult, stringDocument } from '../protocol/soap-response.ts';
import { renderWsdl } from '../protocol/wsdl.ts';
import { invoke, openFeed, type AuthenticatedFeed } from '../operations/invoke.ts';
import { feedLeaseMs } from '../import/abandoned-feeds.ts';
import type { AppContext } from './app-context.ts';
import { lingerAfterEarlyAnswer } from './lingering-close.ts';
import { shuttingDown } from './shutdown.ts';
import { atMinimumRate, readWholeAtMinimumRate } from './upload-rate.ts';

const STREAMED_PARAM = 'xmlDoc';
/**
 * Bodies announced at most this long are read whole and then decoded in one step; longer ones
 * (feeds) are decoded as they arrive. Polling calls are a few hundred bytes, and streaming them
 * chunk by chunk costs more than decoding them.
 */
const SHORT_BODY_BYTES = 64 * 1024;
const SERVICE_PATH_LOWER = SERVICE_PATH.toLowerCase();
const TEXT = 'text/plain; charset=utf-8';
const XML = 'text/xml; charset=utf-8';

export interface ServiceEndpoint {
  /** Whether `request` is for the web service: its path is the service path or one segment below it. */
  serves(request: IncomingMessage): boolean;
  handle(request: IncomingMessage, response: ServerResponse): void;
}

export interface EndpointOptions {
  /** The HTTP log; request lines carry `reqId` as fastify's do. */
  readonly log: Logger;
  /** The next request id, from the sequence fastify uses for its own requests. */
  readonly nextRequestId: () => string;
  /** True once the server has begun to close: new requests are answered 503. */
  readonly closing: () => boolean;
  /**
   * Aborted at the shutdown deadline (shutdown.ts): requests still reading their body or waiting
   * for an upload slot are answered 503, and their partial feeds deleted.
   */
  readonly shutdown?: AbortSignal;
}

/** One request as it goes through the endpoint, and what the metrics and the audit line say of it. */
interface Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly id: string;
  readonly ip: string;
  /** Set once the request is known to be a web-service call (the metrics and audit count those only). */
  call: { operation: string; user: string | null; returnCode: number | 'fault' } | null;
}

/** HTTP Basic credentials for the GET/POST bindings, which have no SOAP header. */
export { basicCredentials };

function soapVersionOf(contentType: string | undefined): SoapVersion | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'text/xml' ? '1.1' : type === 'application/soap+xml' ? '1.2' : null;
}

/** The operation a SOAPAction header (1.1) or `action` parameter (1.2) names; null when absent. */
function actionOf(request: IncomingMessage, version: SoapVersion): OperationName | null {
  const raw = version === '1.1'
    ? request.headers.soapaction
    : /;\s*action\s*=\s*"?([^";]*)"?/i.exec(request.headers['content-type'] ?? '')?.[1];
  const action = (Array.isArray(raw) ? raw[0] : raw)?.trim().replace(/^"(.*)"$/, '$1') ?? '';
  if (action === '') return null;
  const op = action.startsWith(SERVICE_NAMESPACE) ? action.slice(SERVICE_NAMESPACE.length) : '';
  if (!isOperationName(op)) throw clientFault(`Server did not recognize the value of HTTP Header SOAPAction: ${action}.`);
  return op;
}

/** The request's path (before any query), and its query string. */
function splitUrl(url: string | undefined): { path: string; query: string } {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? { path: u, query: '' } : { path: u.slice(0, q), query: u.slice(q + 1) };
}

function send(response: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

export function serviceEndpoint(ctx: AppContext, { log, nextRequestId, closing, shutdown }: EndpointOptions): ServiceEndpoint {
  const format = { formatDate: ctx.formatDate };
  const uploadRate = { bytesPerSecond: ctx.config.minUploadBytesPerSecond, windowMs: ctx.config.uploadRateWindowMs };
  /** Every body is read through the minimum upload rate; feeds also go through the upload gate (ctx.uploads). */
  const bodyOf = (request: IncomingMessage) => atMinimumRate(request as Readable, uploadRate, shutdown);
  /** A feed stored as the request streams in, under a lease that a server dying mid-upload lets run out. */
  const feedWriter = { leaseMs: feedLeaseMs(ctx.config) };
  const openUpload = (credentials: Credentials | null, x: Exchange): AuthenticatedFeed =>
    openFeed(ctx.operations, credentials, caller(x), feedWriter);
  const contentLength = (request: IncomingMessage): number | null => {
    const length = request.headers['content-length'];
    return length === undefined ? null : Number(length);
  };
  /** A body announced larger than the cap is refused before a byte of it is read. */
  const declaredTooLarge = (request: IncomingMessage): boolean => (contentLength(request) ?? 0) > ctx.config.bodyLimit;
  const caller = (x: Exchange) => ({ ip: x.ip });
  const called = (x: Exchange, operation: string, user: string | null | undefined, returnCode: number | 'fault'): void => {
    x.call = { operation, user: user ?? x.call?.user ?? null, returnCode };
  };

  /** The address clients should use, built from the request's own host. */
  const serviceUrl = (request: IncomingMessage): string =>
    `${'encrypted' in request.socket && request.socket.encrypted ? 'https' : 'http'}://${request.headers.host ?? 'localhost'}${SERVICE_PATH}`;

  /** Answers a failed request and closes the connection, after a lingering read of any unread body. */
  function refuse(x: Exchange, err: unknown, version: SoapVersion | null): void {
    const error = err instanceof ProtocolError ? err : null;
    if (!error) log.error({ reqId: x.id, err }, 'request failed');
    called(x, x.call?.operation ?? 'unknown', null, 'fault');
    if (x.response.headersSent) {
      x.response.destroy();
      return;
    }
    const fault = error ?? new ProtocolError('Server was unable to process the request.', 'Server', 500);
    lingerAfterEarlyAnswer(x.request);
    const headers = { ...fault.headers, connection: 'close' };
    if (version === null) send(x.response, fault.httpStatus, TEXT, `${fault.message}\n`, headers);
    else send(x.response, fault.httpStatus, CONTENT_TYPE[version], soapFault(version, fault), headers);
  }

  async function soapCall(x: Exchange): Promise<void> {
    const { request } = x;
    const version = soapVersionOf(request.headers['content-type']);
    called(x, 'unknown', null, 'fault');
    if (declaredTooLarge(request)) return refuse(x, tooLarge(ctx.config.bodyLimit), version);
    if (version === null) {
      return refuse(x, clientFault('Unsupported content type: use text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2).', 415), null);
    }
    let feed: AuthenticatedFeed | null = null;
    try {
      const action = actionOf(request, version);
      called(x, action ?? 'unknown', null, 'fault');
      const length = contentLength(request);
      const body = length !== null && length <= SHORT_BODY_BYTES
        ? await readWholeAtMinimumRate(request, uploadRate, ctx.config.bodyLimit, shutdown)
        : bodyOf(request);
      const decoded = await decodeSoapRequest(body, {
        version,
        action,
        contentType: request.headers['content-type'],
        bodyLimit: ctx.config.bodyLimit,
        openStream: (_op, credentials) => ctx.uploads.admit(feed = openUpload(credentials, x), x.response, shutdown),
      });
      const outcome = await invoke(ctx.operations, {
        operation: decoded.operation, args: decoded.args, credentials: decoded.credentials, caller: caller(x), feed,
      });
      called(x, decoded.operation, decoded.credentials?.User ?? null, outcome.ok ? 0 : outcome.code);
      send(x.response, 200, CONTENT_TYPE[version], soapResult(version, decoded.operation, renderOutcome(decoded.operation, outcome, format)));
    } catch (err) {
      await (feed as AuthenticatedFeed | null)?.release();
      refuse(x, err, version);
    }
  }

  /** The HTTP GET and POST bindings: parameters by name, credentials in HTTP Basic. */
  async function bindingCall(x: Exchange, name: string, query: string): Promise<void> {
    const { request } = x;
    const operation = OPERATION_NAMES.find((op) => op.toLowerCase() === name.toLowerCase());
    if (!operation) return send(x.response, 404, TEXT, `Unknown web method ${name}.\n`);
    const credentials = basicCredentials(request.headers.authorization);
    called(x, operation, credentials?.User, 'fault');
    if (declaredTooLarge(request)) return refuse(x, tooLarge(ctx.config.bodyLimit), null);
    let feed: AuthenticatedFeed | null = null;
    try {
      let fields: Map<string, string>;
      if (request.method === 'GET') {
        fields = new Map();
        for (const [k, v] of new URLSearchParams(query)) if (!fields.has(k)) fields.set(k, v);
      } else {
        const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/x-www-form-urlencoded') {
          throw clientFault('Unsupported content type: use application/x-www-form-urlencoded.', 415);
        }
        const streamed = paramsOf(operation).some((p) => p.streamed) ? STREAMED_PARAM : null;
        const form = await decodeForm(bodyOf(request), ctx.config.bodyLimit, streamed,
          () => ctx.uploads.admit(feed = openUpload(credentials, x), x.response, shutdown));
        fields = form.fields;
      }
      const args: RawArgs = {};
      for (const p of paramsOf(operation)) {
        const value = fields.get(p.name);
        if (p.streamed) {
          if (value !== undefined && feed === null) {
            // A GET request carries the feed in the query string.
            feed = openUpload(credentials, x);
            (feed as AuthenticatedFeed).write(value);
          }
        } else if (value !== undefined) args[p.name] = convertValue(p, value);
      }
      const outcome = await invoke(ctx.operations, { operation, args, credentials, caller: caller(x), feed });
      called(x, operation, credentials?.User, outcome.ok ? 0 : outcome.code);
      const unauthorized: Record<string, string> = credentials === null ? { 'www-authenticate': 'Basic realm="WSMailUpImport", charset="UTF-8"' } : {};
      send(x.response, credentials === null ? 401 : 200, XML, stringDocument(renderOutcome(operation, outcome, format)), unauthorized);
    } catch (err) {
      await (feed as AuthenticatedFeed | null)?.release();
      refuse(x, err, null);
    }
  }

  async function dispatch(x: Exchange): Promise<void> {
    const { request } = x;
    const { path, query } = splitUrl(request.url);
    const below = path.slice(SERVICE_PATH.length);
    const method = request.method ?? 'GET';
    if (closing()) {
      return refuse(x, shuttingDown(),
        below === '' && method === 'POST' ? soapVersionOf(request.headers['content-type']) : null);
    }
    if (below === '') {
      if (method === 'POST') return soapCall(x);
      if (method === 'GET' || method === 'HEAD') {
        const wantsWsdl = [...new URLSearchParams(query).keys()].some((k) => k.toLowerCase() === 'wsdl');
        return wantsWsdl ? send(x.response, 200, XML, renderWsdl(serviceUrl(request))) : send(x.response, 200, 'text/html; charset=utf-8', servicePage(serviceUrl(request)));
      }
    } else if (method === 'GET' || method === 'POST') {
      let name: string;
      try {
        name = decodeURIComponent(below.slice(1));
      } catch {
        name = below.slice(1);
      }
      if (!name.includes('/')) return bindingCall(x, name, query);
      return send(x.response, 404, TEXT, `Unknown web method ${name}.\n`);
    }
    return send(x.response, 405, TEXT, `Method ${method} is not allowed here.\n`, { allow: below === '' ? 'GET, HEAD, POST' : 'GET, POST' });
  }

  const requestLogging = (): boolean => log.isLevelEnabled('info');

  return {
    serves(request) {
      const path = splitUrl(request.url).path.toLowerCase();
      return path === SERVICE_PATH_LOWER || (path.startsWith(SERVICE_PATH_LOWER) && path.charCodeAt(SERVICE_PATH_LOWER.length) === 0x2f /* / */);
    },
    handle(request, response) {
      const started = performance.now();
      const x: Exchange = { request, response, id: nextRequestId(), ip: request.socket.remoteAddress ?? '', call: null };
      if (requestLogging()) {
        log.info({
          reqId: x.id,
          req: { method: request.method, url: request.url, host: request.headers.host, remoteAddress: x.ip, remotePort: request.socket.remotePort },
        }, 'incoming request');
      }
      response.once('close', () => {
        const seconds = (performance.now() - started) / 1000;
        if (x.call) ctx.metrics.recordCall({ ...x.call, ip: x.ip, reqId: x.id, seconds });
        if (requestLogging()) {
          log.info({ reqId: x.id, res: { statusCode: response.statusCode }, responseTime: seconds * 1000 },
            response.writableFinished ? 'request completed' : 'request aborted');
        }
      });
      dispatch(x).catch((err: unknown) => refuse(x, err, null));
    },
  };
}

/** The page ASMX shows a browser that opens the endpoint. */
function servicePage(url: string): string {
  const ops = OPERATION_NAMES.map((op) => `<li>${op}</li>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>WSMailUpImport</title></head><body>` +
    `<h1>WSMailUpImport</h1><p>MailUp WebService for subscribers import.</p>` +
    `<p>Service description: <a href="${escapeText(url)}?WSDL">${escapeText(url)}?WSDL</a></p><ul>${ops}</ul></body></html>`;
}
