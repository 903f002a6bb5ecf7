/**
 * CSV downloads, streamed: rows are read from the store one at a time and sent in chunks of about
 * 64 KB. The cells, lines, byte-order mark and chunks are the core's (src/core/csv.ts), shared
 * with the JSON API's reject report.
 */
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { csvChunks } from '../core/csv.ts';

export { BYTE_ORDER_MARK, csvCell, csvLine, type CsvValue } from '../core/csv.ts';

/**
 * Sends the lines as a CSV attachment. `lines` should open what it reads only when first read,
 * and release it in a `finally`: a client that goes away ends the generator early.
 */
export function sendCsv(reply: FastifyReply, filename: string, lines: AsyncIterable<string>): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`)
    .send(Readable.from(csvChunks(lines), { objectMode: false, encoding: 'utf8' }));
}
