/**
 * Lingering close: how a connection ends after the server has answered before reading the whole
 * request body (413 from Content-Length, a malformed envelope, an upload refused as too slow or
 * the server busy), while the client is still sending.
 *
 * Closing the socket at once, as Node does after a `Connection: close` answer, discards the bytes
 * still arriving, and the kernel answers them with a TCP reset, which can destroy the answer in
 * the client's buffers before the client reads it: the client sees ECONNRESET or EPIPE instead
 * of the 413. So, as RFC 9112 §9.6 describes, the server half-closes (its answer, then FIN),
 * keeps reading and discarding the body, without decoding or storing any of it, and closes once
 * the body has ended, the client has closed, or a budget of time and bytes is spent.
 */
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';

export interface LingerBudget {
  /** Longest time to keep reading after the answer. */
  readonly ms: number;
  /** Most body bytes to read and discard after the answer. */
  readonly bytes: number;
}

/** Enough for a client to read its answer; a body that goes on longer is cut off with a reset. */
export const LINGER_BUDGET: LingerBudget = { ms: 5_000, bytes: 64 * 1024 * 1024 };

/**
 * Arranges a lingering close for `request`, to be called when it is answered with its body not
 * yet read to the end (the answer must say `Connection: close`). Nothing happens when the body
 * has already been read or the connection is gone.
 */
export function lingerAfterEarlyAnswer(request: IncomingMessage, budget: LingerBudget = LINGER_BUDGET): void {
  const socket: Socket | null = request.socket;
  if (request.complete || request.destroyed || !socket || socket.destroyed) return;
  let answered = false;
  let bodyEnded = false;
  let drained = 0;
  const closeNow = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(closeNow, budget.ms).unref();
  socket.once('close', () => clearTimeout(timer));
  // Node ends a `Connection: close` answer with destroySoon(), which resets the connection as
  // soon as the answer is written. Instead: send the answer and FIN, and close once nothing more
  // is coming.
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    answered = true;
    if (this.writable) this.end();
    if (bodyEnded) Socket.prototype.destroySoon.call(this);
  };
  request.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > budget.bytes) closeNow();
  });
  request.once('end', () => {
    bodyEnded = true;
    // The whole body has been read: closing now resets nothing.
    if (answered) Socket.prototype.destroySoon.call(socket);
  });
  request.resume();
}
