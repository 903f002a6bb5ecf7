/**
 * The web-service endpoint at /Services/WSMailUpImport.asmx, matched without regard to case as
 * IIS does: SOAP 1.1 and 1.2 on POST, the WSDL on `?WSDL`, and the HTTP GET/POST bindings at
 * `…/asmx/<Operation>`. Bodies arrive as raw streams (our own byte cap, no buffering). Every
 * failure is answered here as a fault or an HTTP error; nothing escapes to fastify's handler.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { escapeText } from '../xml/escape.ts';
import { convertValue, type RawArgs } from '../protocol/arguments.ts';
import { clientFault, ProtocolError, tooLarge } from '../protocol/faults.ts';
import { readWhole } from '../protocol/body-text.ts';
import { decodeForm } from '../protocol/form-request.ts';
import { isOperationName, OPERATION_NAMES, paramsOf, SERVICE_NAMESPACE, SERVICE_PATH, type OperationName } from '../protocol/operations.ts';
import { renderOutcome } from '../protocol/results.ts';
import { decodeSoapRequest, type Credentials, type SoapVersion } from '../protocol/soap-request.ts';
import { CONTENT_TYPE, soapFault, soapResult, stringDocument } from '../protocol/soap-response.ts';
import { renderWsdl } from '../protocol/wsdl.ts';
import { invoke, openFeed, type AuthenticatedFeed } from '../operations/invoke.ts';
import type { WsCall } from '../observability/service-metrics.ts';
import type { AppContext } from './context.ts';
import { lingerAfterEarlyAnswer } from './lingering-close.ts';
import { atMinimumRate } from './upload-rate.ts';

const STREAMED_PARAM = 'xmlDoc';
/**
 * Bodies announced at most this long are read whole and then decoded in one step; longer ones
 * (feeds) are decoded as they arrive. Polling calls are a few hundred bytes, and streaming them
 * chunk by chunk costs more than decoding them.
 */
const SHORT_BODY_BYTES = 64 * 1024;

/** The address clients should use, built from the request's own host. */
function serviceUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${SERVICE_PATH}`;
}

function soapVersionOf(contentType: string | undefined): SoapVersion | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'text/xml' ? '1.1' : type === 'application/soap+xml' ? '1.2' : null;
}

/** The operation a SOAPAction header (1.1) or `action` parameter (1.2) names; null when absent. */
function actionOf(request: FastifyRequest, version: SoapVersion): OperationName | null {
  const raw = version === '1.1'
    ? request.headers.soapaction
    : /;\s*action\s*=\s*"?([^";]*)"?/i.exec(request.headers['content-type'] ?? '')?.[1];
  const action = (Array.isArray(raw) ? raw[0] : raw)?.trim().replace(/^"(.*)"$/, '$1') ?? '';
  if (action === '') return null;
  const op = action.startsWith(SERVICE_NAMESPACE) ? action.slice(SERVICE_NAMESPACE.length) : '';
  if (!isOperationName(op)) throw clientFault(`Server did not recognize the value of HTTP Header SOAPAction: ${action}.`);
  return op;
}

/** HTTP Basic credentials for the GET/POST bindings, which have no SOAP header. */
export function basicCredentials(request: FastifyRequest): Credentials | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(request.headers.authorization ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { User: decoded.slice(0, colon), Password: decoded.slice(colon + 1), encType: null };
}

export async function serviceRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  // Hand every body to the route as the raw stream; the decoders count and cap the bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const format = { formatDate: ctx.formatDate };
  const caller = (request: FastifyRequest) => ({ ip: request.ip });

  /** Every body is read through the minimum upload rate; feeds go through the upload gate (ctx.uploads). */
  const uploadRate = { bytesPerSecond: ctx.config.minUploadBytesPerSecond, windowMs: ctx.config.uploadRateWindowMs };
  const bodyOf = (request: FastifyRequest) => atMinimumRate(request.body as Readable, uploadRate);
  const isShort = (request: FastifyRequest): boolean => {
    const length = request.headers['content-length'];
    return length !== undefined && Number(length) <= SHORT_BODY_BYTES;
  };

  /** A body announced larger than the cap is refused before a byte of it is read. */
  const declaredTooLarge = (request: FastifyRequest): boolean => Number(request.headers['content-length'] ?? 0) > ctx.config.bodyLimit;

  // What each web-service request was, for the metrics and the audit line written once it is answered.
  const calls = new WeakMap<FastifyRequest, Omit<WsCall, 'ip' | 'reqId' | 'seconds'>>();
  const called = (request: FastifyRequest, operation: string, credentials: Credentials | null, returnCode: number | 'fault'): void => {
    calls.set(request, { operation, user: credentials?.User ?? null, returnCode });
  };
  app.addHook('onResponse', async (request, reply) => {
    const call = calls.get(request);
    if (call) ctx.metrics.recordCall({ ...call, ip: request.ip, reqId: String(request.id), seconds: reply.elapsedTime / 1000 });
  });

  /** Answers a failed request and closes the connection, after a lingering read of any unread body. */
  function refuse(request: FastifyRequest, reply: FastifyReply, err: unknown, version: SoapVersion | null): FastifyReply {
    const error = err instanceof ProtocolError ? err : null;
    if (!error) request.log.error({ err }, 'request failed');
    called(request, calls.get(request)?.operation ?? 'unknown', null, 'fault');
    const fault = error ?? new ProtocolError('Server was unable to process the request.', 'Server', 500);
    reply.header('connection', 'close').headers(fault.headers).code(fault.httpStatus);
    lingerAfterEarlyAnswer(request.raw);
    if (version === null) return reply.type('text/plain; charset=utf-8').send(`${fault.message}\n`);
    return reply.type(CONTENT_TYPE[version]).send(soapFault(version, fault));
  }

  app.get(SERVICE_PATH, async (request, reply) => {
    const query = request.query as Record<string, string>;
    if (Object.keys(query).some((k) => k.toLowerCase() === 'wsdl')) {
      return reply.type('text/xml; charset=utf-8').send(renderWsdl(serviceUrl(request)));
    }
    return reply.type('text/html; charset=utf-8').send(servicePage(serviceUrl(request)));
  });

  app.post(SERVICE_PATH, async (request, reply) => {
    const version = soapVersionOf(request.headers['content-type']);
    if (declaredTooLarge(request)) return refuse(request, reply, tooLarge(ctx.config.bodyLimit), version);
    if (version === null) {
      return refuse(request, reply, clientFault('Unsupported content type: use text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2).', 415), null);
    }
    let feed: AuthenticatedFeed | null = null;
    try {
      const action = actionOf(request, version);
      called(request, action ?? 'unknown', null, 'fault');
      const body = isShort(request) ? await readWhole(bodyOf(request), ctx.config.bodyLimit) : bodyOf(request);
      const decoded = await decodeSoapRequest(body, {
        version,
        action,
        contentType: request.headers['content-type'],
        bodyLimit: ctx.config.bodyLimit,
        openStream: (_op, credentials) => ctx.uploads.admit(feed = openFeed(ctx.operations, credentials, caller(request)), reply.raw),
      });
      const outcome = await invoke(ctx.operations, {
        operation: decoded.operation, args: decoded.args, credentials: decoded.credentials, caller: caller(request), feed,
      });
      called(request, decoded.operation, decoded.credentials, outcome.ok ? 0 : outcome.code);
      return reply.type(CONTENT_TYPE[version]).send(soapResult(version, decoded.operation, renderOutcome(decoded.operation, outcome, format)));
    } catch (err) {
      await (feed as AuthenticatedFeed | null)?.release();
      return refuse(request, reply, err, version);
    }
  });

  // HTTP GET and POST bindings: one route each for every operation, parameters by name.
  const bindingPath = `${SERVICE_PATH}/:operation`;
  const bindingHandler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const name = (request.params as { operation: string }).operation;
    const operation = OPERATION_NAMES.find((op) => op.toLowerCase() === name.toLowerCase());
    if (!operation) return reply.code(404).type('text/plain; charset=utf-8').send(`Unknown web method ${name}.\n`);
    const credentials = basicCredentials(request);
    called(request, operation, credentials, 'fault');
    if (declaredTooLarge(request)) return refuse(request, reply, tooLarge(ctx.config.bodyLimit), null);
    let feed: AuthenticatedFeed | null = null;
    try {
      let fields: Map<string, string>;
      if (request.method === 'GET') {
        fields = new Map(Object.entries(request.query as Record<string, string>).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
      } else {
        const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/x-www-form-urlencoded') {
          throw clientFault('Unsupported content type: use application/x-www-form-urlencoded.', 415);
        }
        const streamed = paramsOf(operation).some((p) => p.streamed) ? STREAMED_PARAM : null;
        const form = await decodeForm(bodyOf(request), ctx.config.bodyLimit, streamed,
          () => ctx.uploads.admit(feed = openFeed(ctx.operations, credentials, caller(request)), reply.raw));
        fields = form.fields;
      }
      const args: RawArgs = {};
      for (const p of paramsOf(operation)) {
        const value = fields.get(p.name);
        if (p.streamed) {
          if (value !== undefined && feed === null) {
            // A GET request carries the feed in the query string.
            feed = openFeed(ctx.operations, credentials, caller(request));
            (feed as AuthenticatedFeed).write(value);
          }
        } else if (value !== undefined) args[p.name] = convertValue(p, value);
      }
      const outcome = await invoke(ctx.operations, { operation, args, credentials, caller: caller(request), feed });
      if (credentials === null) reply.code(401).header('www-authenticate', 'Basic realm="WSMailUpImport", charset="UTF-8"');
      called(request, operation, credentials, outcome.ok ? 0 : outcome.code);
      return reply.type('text/xml; charset=utf-8').send(stringDocument(renderOutcome(operation, outcome, format)));
    } catch (err) {
      await (feed as AuthenticatedFeed | null)?.release();
      return refuse(request, reply, err, null);
    }
  };
  app.get(bindingPath, bindingHandler);
  app.post(bindingPath, bindingHandler);
}

/** The page ASMX shows a browser that opens the endpoint. */
function servicePage(url: string): string {
  const ops = OPERATION_NAMES.map((op) => `<li>${op}</li>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>WSMailUpImport</title></head><body>` +
    `<h1>WSMailUpImport</h1><p>MailUp WebService for subscribers import.</p>` +
    `<p>Service description: <a href="${escapeText(url)}?WSDL">${escapeText(url)}?WSDL</a></p><ul>${ops}</ul></body></html>`;
}
