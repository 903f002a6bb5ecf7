/**
 * The REST bulk import's body under the SOAP feeds' limits (src/rest/deps.ts RestUploads): a slot
 * of the concurrent-upload gate (upload-gate.ts), the minimum upload rate (upload-rate.ts) and the
 * shutdown deadline (shutdown.ts), the same objects and settings the web-service endpoint uses.
 */
import type { Readable } from 'node:stream';
import type { RestUploads } from '../rest/deps.ts';
import type { AppContext } from './app-context.ts';
import { atMinimumRate } from './upload-rate.ts';

export function restUploads(ctx: Pick<AppContext, 'config' | 'uploads'>, shutdown?: AbortSignal): RestUploads {
  const rate = { bytesPerSecond: ctx.config.minUploadBytesPerSecond, windowMs: ctx.config.uploadRateWindowMs };
  return {
    admit: (response) => ctx.uploads.hold(response, shutdown),
    read: (body: Readable) => atMinimumRate(body, rate, shutdown),
  };
}
