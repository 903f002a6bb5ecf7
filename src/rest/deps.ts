/**
 * What the REST API's route modules get: the parts of the service they use (the service's
 * AppContext has them all) and how a module plugs into the REST plugin (./rest-routes.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import type { ConfirmationDeps } from '../mail/confirmation-setup.ts';
import type { OperationContext } from '../operations/operation-context.ts';
import type { Store } from '../store/store.ts';

export interface RestContext {
  readonly config: Config;
  readonly store: Store;
  /** The core's access checks (credential cache, login throttle) and what imports need (waking the workers). */
  readonly operations: OperationContext;
  /** Double opt-in: the mailer, the confirm-link secret and how links are built. */
  readonly mail: ConfirmationDeps;
}

export interface RestDeps {
  readonly ctx: RestContext;
  /**
   * How a route that streams a large body (the bulk import) reads it under the same limits as the
   * SOAP feeds; given by the HTTP layer (src/http/rest-uploads.ts), which owns those limits.
   */
  readonly uploads?: RestUploads;
}

/**
 * Reading an upload's body: the concurrent-upload gate, the minimum upload rate and the shutdown
 * deadline of the SOAP feeds (src/http/upload-gate.ts, upload-rate.ts, shutdown.ts). Both throw a
 * ProtocolError carrying the HTTP status to answer (503 with Retry-After, 408).
 */
export interface RestUploads {
  /**
   * Waits for an upload slot (MAX_CONCURRENT_UPLOADS), held until `response` closes; 503 when
   * none comes within UPLOAD_QUEUE_SECONDS, or at the shutdown deadline.
   */
  admit(response: ServerResponse): Promise<void>;
  /** The body's chunks as they arrive; 408 below MIN_UPLOAD_BYTES_PER_SECOND, 503 at the shutdown deadline. */
  read(body: Readable): AsyncIterable<Buffer>;
}

/**
 * A module of REST resources: registers its routes on `app`, whose prefix is the console base
 * (`/API/v1.1/Rest/ConsoleService.svc/Console`), so paths are written as `/List/:idList/Groups`.
 * Every route is behind the bearer check and the rate limit; read the caller with restAuth().
 */
export type RestRouteModule = (app: FastifyInstance, deps: RestDeps) => void;
