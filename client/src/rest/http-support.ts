/**
 * What the REST transport and the token keeper share: how long a refused call waits before it is
 * sent again (429 Too Many Requests, 503 with Retry-After) and how far that is allowed to go.
 */

/** How the client waits out "too many requests". */
export interface RateLimitPolicy {
  /** Times a call answered 429 (or 503 with Retry-After) is sent again (default 5). */
  readonly retries: number;
  /**
   * The longest Retry-After waited for, in milliseconds (default 30 s): a longer one is not
   * waited out, the call fails with the answer (its `retryAfterMs` says how long to wait).
   */
  readonly maxWaitMs: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitPolicy = { retries: 5, maxWaitMs: 30_000 };

/**
 * A Retry-After header in milliseconds: delay-seconds (`1`, `2.5`) or an HTTP date; null when
 * absent or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
