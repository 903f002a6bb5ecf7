/**
 * Request bodies of the REST API: JSON, whatever the Content-Type says (clients send
 * application/json, some text/plain or nothing), read with a cap. A body over the cap is answered
 * 413 before it is read further; one that is not JSON gets 400 naming where it breaks. A route
 * that streams its body itself (a bulk import) says so with `config: { rawBody: true }`: its
 * handler gets the request stream as `request.body`, unread, and applies its own limits.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { badRequest, RestError } from './errors.ts';

/** The largest JSON body of an ordinary REST call (a group, a recipient): far above any real one. */
export const JSON_BODY_LIMIT = 1024 * 1024;

/** Route config: the handler reads `request.body` as the raw request stream. */
export interface RestRouteConfig {
  readonly rawBody?: boolean;
}

const wantsRawBody = (request: FastifyRequest): boolean => (request.routeOptions.config as RestRouteConfig | undefined)?.rawBody === true;

const tooLarge = (): RestError => new RestError(413, `The request body is larger than ${JSON_BODY_LIMIT / 1024} KB, the limit of this call.`);

/**
 * Reads at most `limit` bytes of the stream as UTF-8; rejects with 413 past it. Not fastify's own
 * `parseAs: 'string'` with `bodyLimit`: a content-type parser is chosen by content type, not by
 * route, and a bulk import sends the same `application/json` but needs its stream unread; a
 * parser given `parseAs` never sees the stream.
 */
function readCapped(stream: Readable, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        stream.off('data', onData);
        stream.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}

/** The JSON text as a value; 400 naming where it breaks. An empty body is `undefined`. */
export function parseJsonText(text: string): unknown {
  const trimmed = text.replace(/^\uFEFF/, '');
  if (trimmed.trim() === '') return undefined;
  try {
    return JSON.parse(trimmed);
  } catch (err) {
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}.`);
  }
}

/** Installs the REST body parser in `app`'s scope, for every content type. */
export function useJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request: FastifyRequest, payload: Readable, done: (err: Error | null, body?: unknown) => void) => {
    if (wantsRawBody(request)) {
      done(null, payload);
      return;
    }
    const type = String(request.headers['content-type'] ?? '').toLowerCase();
    if (/\b(xml)\b/.test(type.split(';')[0]!)) {
      done(new RestError(415, 'This server takes JSON request bodies only (Content-Type: application/json), not XML.'));
      return;
    }
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > JSON_BODY_LIMIT) {
      done(tooLarge());
      return;
    }
    readCapped(payload, JSON_BODY_LIMIT).then(
      (text) => {
        try {
          done(null, parseJsonText(text));
        } catch (err) {
          done(err as Error);
        }
      },
      (err: Error) => done(err),
    );
  });
}
