/**
 * Answers to polled calls (GetProcessDetails), kept while nothing has been written.
 *
 * Shops and plugins poll an import by sending the very same request every second or so, and
 * most of those polls find nothing changed. Working out such an answer (decoding the envelope,
 * authenticating, reading the list and the process, writing the result) costs about two thirds
 * of the server's time for the call; sending back the answer it gave a moment ago costs a hash
 * of the request.
 *
 * An answer is reused only for a request with the same bytes (envelope, content type and
 * SOAPAction) from the same address, so the same credentials and the same IP check; only when it
 * was a success (ReturnCode 0: a failure is worked out anew, and a wrong password meets the login
 * throttle every time); and only while the store's data version is the one read before the call
 * first read anything (`Store.dataVersion`): any write committed since, by the HTTP thread, the
 * import thread or another process (the admin CLI), makes every kept answer stale. An answer lives
 * at most `ttlMs` (LOOKUP_CACHE_MS) all the same, as long as the account and list rows it may have
 * been built from (src/store/lookup-cache.ts). A store that cannot tell (PostgreSQL, shared with
 * other servers and workers) keeps nothing.
 *
 * Keys are SHA-256 digests, so the passwords inside the requests are not kept.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { OperationName } from '../protocol/operations.ts';
import { ExpiringMap } from '../store/expiring-map.ts';

/** A web-service answer as sent, and what the metrics and the audit line say of it. */
export interface Answer {
  readonly operation: OperationName;
  readonly user: string | null;
  readonly returnCode: number;
  readonly contentType: string;
  readonly body: string;
}

interface Kept {
  readonly answer: Answer;
  readonly dataVersion: number;
}

export class AnswerCache {
  private readonly kept: ExpiringMap<Kept> | null;

  /**
   * @param dataVersion the store's data version (`Store.dataVersion`); answers are kept only when it is a number.
   * @param ttlMs how long an answer may be reused at most; 0 keeps none.
   * @param maxEntries how many answers are kept at most; 0 keeps none.
   */
  constructor(private readonly dataVersion: () => number | null, ttlMs: number, maxEntries: number) {
    this.kept = ttlMs > 0 && maxEntries > 0 && dataVersion() !== null ? new ExpiringMap(ttlMs, maxEntries) : null;
  }

  /** The key of a request read whole; null when no answers are kept. */
  keyOf(ip: string, headers: IncomingHttpHeaders, body: Buffer): string | null {
    if (this.kept === null) return null;
    // Header values cannot hold a line feed, so these lines cannot run into each other.
    return createHash('sha256')
      .update(`${ip}\n${headers['content-type'] ?? ''}\n${String(headers.soapaction ?? '')}\n`)
      .update(body)
      .digest('base64');
  }

  /** The answer kept for `key`, if nothing has been written since it was worked out. */
  get(key: string): Answer | undefined {
    const kept = this.kept?.get(key);
    return kept !== undefined && kept.dataVersion === this.dataVersion() ? kept.answer : undefined;
  }

  /** The data version to keep an answer under: read it before the call reads anything. */
  version(): number | null {
    return this.kept === null ? null : this.dataVersion();
  }

  /** Keeps `answer` for `key`, worked out from what was stored at data version `version` (none kept for null). */
  keep(key: string, version: number | null, answer: Answer): void {
    if (this.kept !== null && version !== null && answer.returnCode === 0) this.kept.set(key, { answer, dataVersion: version });
  }
}
