/**
 * `POST /api/feeds/validate`: a feed checked with the reader and row rules of an import, nothing
 * stored (src/core/feed-validation.ts). The body is either
 *
 * - the feed as NewImportProcess's `xmlDoc` carries it (`<subscribers><subscriber email="…" …>
 *   …</subscriber>…</subscribers>`), sent as `application/xml` or `text/xml`, UTF-8; or
 * - a CSV with a header row (`text/csv`), read by the CSV reader of the `mailup-import` CLI
 *   (client/src/csv.ts: columns `email`, `prefix`, `number` or `mobile`, `name`, `campoN`) and
 *   written as the feed that CLI's import would send (client/src/feed-builder.ts). The server
 *   imports no CSV of its own: a CSV becomes an import only through a client, and this is the
 *   reader of ours, so a CSV that validates clean here imports clean with `mailup-import`.
 *   The charset parameter may name windows-1252 or latin1 (UTF-8 by default), `delimiter` the
 *   separator (guessed from the header otherwise).
 *
 * Either is read as it streams in. The query names the list (its default country reads national
 * mobile numbers) and the import options that decide the row rules (importType: which channels;
 * mobileInputType: where the country code is).
 */
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { CsvInputError, readCsvSubscribers, type SkippedRecord } from '../../client/src/csv.ts';
import { normaliseEncoding } from '../../client/src/charset.ts';
import { streamFeed } from '../../client/src/feed-builder.ts';
import { MAX_LISTED_ROWS, validateFeed } from '../core/feed-validation.ts';
import { apiAccount, ApiError, type ApiDeps } from './deps.ts';
import { AUTH_ERRORS, errors, rejectedRowSchema } from './schemas.ts';

const FEED_TYPES = ['application/xml', 'text/xml'];
const CSV_TYPE = 'text/csv';
const BODY_TYPES = [...FEED_TYPES, CSV_TYPE];

const listed = `at most ${MAX_LISTED_ROWS}, in row order; the count covers the whole feed`;

const validationSchema = {
  type: 'object',
  required: ['rows', 'validRows', 'rejectedRows', 'rejected', 'duplicateRows', 'duplicates', 'channels', 'importType', 'mobileInputType', 'listId', 'country', 'skippedRecords'],
  properties: {
    rows: { type: 'integer', description: 'Subscriber rows in the feed (of a CSV: its data rows that could be read; row N is the N-th of them).' },
    validRows: { type: 'integer' },
    rejectedRows: { type: 'integer' },
    rejected: { type: 'array', items: rejectedRowSchema, description: `Rows the import would reject (${listed}).` },
    duplicateRows: { type: 'integer' },
    duplicates: {
      type: 'array',
      description: `Valid rows whose recipient (same e-mail, or same mobile without e-mail) an earlier row already has (${listed}).`,
      items: {
        type: 'object',
        required: ['row', 'firstRow', 'email', 'mobile'],
        properties: { row: { type: 'integer' }, firstRow: { type: 'integer' }, email: { type: ['string', 'null'] }, mobile: { type: ['string', 'null'] } },
      },
    },
    channels: {
      type: 'object',
      description: 'Valid rows with an e-mail address, and with a mobile number.',
      required: ['email', 'sms'],
      properties: { email: { type: 'integer' }, sms: { type: 'integer' } },
    },
    importType: { type: 'integer' },
    mobileInputType: { type: 'integer' },
    listId: { type: ['integer', 'null'] },
    country: { type: ['string', 'null'], description: 'The list\'s default country, which reads national mobile numbers.' },
    skippedRecords: {
      type: 'array',
      description: 'CSV records that could not be read (bad quoting…) and were left out, as an import by mailup-import leaves them out; always empty for an XML feed.',
      items: { type: 'object', required: ['line', 'reason'], properties: { line: { type: ['integer', 'null'] }, reason: { type: 'string' } } },
    },
  },
} as const;

export function registerFeedRoutes(app: FastifyInstance, { ctx }: ApiDeps): void {
  // The feed is read as it streams in (never held whole), in this scope only.
  app.addContentTypeParser(BODY_TYPES, (_request, payload, done) => done(null, payload));

  app.post('/feeds/validate', {
    schema: {
      summary: 'Check a feed as an import would, without importing it: nothing is stored',
      tags: ['feeds'],
      querystring: {
        type: 'object',
        properties: {
          list: { type: 'integer', minimum: 1, description: 'The list the feed is for: its default country reads national mobile numbers.' },
          importType: { type: 'integer', minimum: 0, maximum: 6, default: 0, description: 'As in an import: 1/4 e-mail, 2/5 SMS, 3/6 both; 0 the default 3.' },
          mobileInputType: { type: 'integer', minimum: 0, maximum: 2, default: 0, description: 'As in an import: 1 country code in Number, 2 in Prefix; 0 the default 1.' },
          delimiter: { type: 'string', minLength: 1, maxLength: 1, description: 'A CSV body\'s field separator; guessed from its header (`,` `;` tab `|`) when omitted.' },
        },
        additionalProperties: false,
      },
      body: {
        description: 'The feed as NewImportProcess\'s xmlDoc carries it (UTF-8), or a CSV with a header row as mailup-import reads it.',
        // No `type`: fastify checks the body with these schemas, and the body is the stream being read.
        content: {
          ...Object.fromEntries(FEED_TYPES.map((t) => [t, { schema: { description: '<subscribers><subscriber email="…" Prefix="…" Number="…" Name="…"><campo1>…</campo1></subscriber>…</subscribers>' } }])),
          [CSV_TYPE]: { schema: { description: 'A header row naming the columns (email or e-mail, prefix, number or mobile, name, campo1…campoN; others are ignored), then one row per subscriber. charset=utf-8 (default), windows-1252 or latin1.' } },
        },
      },
      response: { 200: validationSchema, ...errors(400, ...AUTH_ERRORS, 404, 415) },
    },
  }, async (request) => {
    const owner = apiAccount(request);
    const query = request.query as { list?: number; importType: number; mobileInputType: number; delimiter?: string };
    const [mediaType = '', ...parameters] = (request.headers['content-type'] ?? '').split(';').map((p) => p.trim());
    const type = mediaType.toLowerCase();
    if (type !== '' && !BODY_TYPES.includes(type)) throw new ApiError(415, `Send the feed as ${FEED_TYPES.join(' or ')}, or a CSV as ${CSV_TYPE}, not ${type}.`);
    const body = request.body as Readable | undefined;
    if (body === undefined || body === null || typeof (body as Readable).pipe !== 'function') {
      throw new ApiError(400, `The body must be the feed, sent as ${FEED_TYPES.join(' or ')}, or a CSV sent as ${CSV_TYPE}.`);
    }
    let feed: AsyncIterable<string> = decoded(body);
    let skippedRecords: readonly SkippedRecord[] = [];
    if (type === CSV_TYPE) {
      const csv = await readCsv(body, parameters, query.delimiter);
      feed = streamFeed(csv, { mobileInputType: query.mobileInputType === 2 ? 2 : 1, fieldCount: csv.fieldCount });
      skippedRecords = csv.skipped;
    }
    const result = await validateFeed(ctx.store, owner.id, feed, {
      listId: query.list ?? null, importType: query.importType, mobileInputType: query.mobileInputType,
    }).catch((err: unknown) => {
      if (err instanceof CsvInputError) throw new ApiError(400, `The CSV cannot be read: ${err.message}.`);
      throw err;
    });
    // `skipped` fills while the rows are read: complete once validateFeed has read them all.
    if (result.ok) return { ...result.report, skippedRecords };
    // Drain what is left of a refused body so the answer reaches the client.
    body.resume();
    switch (result.reason) {
      case 'unknown-list': throw new ApiError(404, `List ${query.list} does not exist in this account.`);
      case 'invalid-option': throw new ApiError(400, 'importType must be 0–6 and mobileInputType 0–2.');
      case 'empty': throw new ApiError(400, 'The feed is empty.');
      case 'malformed': throw new ApiError(400, `The feed cannot be read: ${result.message}.`);
    }
  });
}

/** The CSV's subscribers, read as `mailup-import` reads a CSV file; 400 for a header it cannot use. */
async function readCsv(body: Readable, contentTypeParameters: readonly string[], delimiter: string | undefined): Promise<Awaited<ReturnType<typeof readCsvSubscribers>>> {
  const charset = contentTypeParameters.map((p) => /^charset\s*=\s*"?([^";]+)"?$/i.exec(p)?.[1]).find((c) => c !== undefined);
  const encoding = charset === undefined ? 'utf-8' : normaliseEncoding(charset);
  if (encoding === undefined) {
    body.resume();
    throw new ApiError(400, `A CSV can be sent as UTF-8, windows-1252 or latin1, not ${charset}.`);
  }
  try {
    return await readCsvSubscribers(body as AsyncIterable<Uint8Array>, { encoding, ...(delimiter === undefined ? {} : { delimiter }) });
  } catch (err) {
    body.resume();
    if (err instanceof CsvInputError) throw new ApiError(400, `The CSV cannot be read: ${err.message}.`);
    throw err;
  }
}

/** The body's text, decoded as UTF-8 piece by piece (a character split between pieces is kept whole). */
async function* decoded(body: Readable): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body) yield decoder.decode(chunk as Uint8Array, { stream: true });
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}
