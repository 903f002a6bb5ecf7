/**
 * The HTTP side of the shutdown deadline (SHUTDOWN_TIMEOUT_SECONDS, docs/operations.md). On
 * SIGTERM the server stops accepting connections and lets requests in flight finish; a request
 * arriving meanwhile on an open connection is answered 503 (service-endpoint.ts). An upload can
 * take as long as its client keeps up the minimum rate, so at the deadline the server stops
 * waiting: `haltHttp` aborts the shutdown signal, and every web-service request still reading its
 * body, or waiting for an upload slot, fails with `shuttingDown()` (HTTP 503 with Retry-After),
 * its partial feed deleted as for any failed upload. A moment later every connection still open
 * is cut, whatever it was doing (a console request, a lingering close, a call stuck elsewhere).
 */
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProtocolError } from '../protocol/faults.ts';

/** The answer to a request the server will not finish because it is shutting down. */
export const shuttingDown = (): ProtocolError =>
  new ProtocolError('The server is shutting down; send the request again.', 'Server', 503, { 'retry-after': '1' });

/** Whether `promise` settles within `ms`: true once it resolved, false when the time ran out; its rejection is thrown. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([promise.then(() => true), sleep(ms, false, { signal: timer.signal })]);
  } finally {
    timer.abort();
  }
}

/** How long 503 answers get to reach their clients before the remaining connections are cut. */
export const HALT_GRACE_MS = 1000;

/**
 * At the deadline: aborts `shutdown` (requests reading a body get 503), waits until `closed`
 * resolves (every connection ended) or `graceMs` passed, then cuts every connection still open.
 */
export async function haltHttp(server: Server, closed: Promise<unknown>, shutdown: AbortController, graceMs = HALT_GRACE_MS): Promise<void> {
  shutdown.abort();
  await settlesWithin(closed, graceMs).catch(() => false);
  server.closeAllConnections();
}
