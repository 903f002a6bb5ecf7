/**
 * The REST API's rate limit: calls per account per second, counted in whole-second windows on
 * this server. MailUp answers 429 past its own limit ("Too many requests. Max:5 calls per second ,
 * actual:10."), and clients such as mailupy wait and retry on 429; this server answers the same
 * only far beyond what a well-behaved client sends (REST_MAX_CALLS_PER_SECOND, 100 by default),
 * so it protects the server without getting in the way. Kept in memory: with several API servers
 * each counts its own calls.
 */

export interface RateVerdict {
  readonly allowed: boolean;
  /** Calls of the account in the current second, this one included. */
  readonly count: number;
}

export class RateLimiter {
  private readonly windows = new Map<number, { second: number; count: number }>();

  /** @param maxPerSecond calls allowed per account per second; 0 for no limit. */
  constructor(readonly maxPerSecond: number, private readonly clock: () => number = Date.now) {}

  /** Counts a call of the account and says whether it may go on. */
  take(accountId: number): RateVerdict {
    if (this.maxPerSecond <= 0) return { allowed: true, count: 0 };
    const second = Math.floor(this.clock() / 1000);
    let window = this.windows.get(accountId);
    if (window === undefined || window.second !== second) {
      // Forget the accounts that were quiet for a while, so the map stays as small as the busy set.
      if (this.windows.size > 10_000) for (const [id, w] of this.windows) if (w.second < second - 1) this.windows.delete(id);
      window = { second, count: 0 };
      this.windows.set(accountId, window);
    }
    window.count++;
    return { allowed: window.count <= this.maxPerSecond, count: window.count };
  }
}

/** MailUp's wording of the refusal. */
export const tooManyRequestsMessage = (max: number, actual: number): string => `Too many requests. Max:${max} calls per second , actual:${actual}.`;
