/**
 * A token bucket per key (the HTTP subscribe API keys it by the caller's address, the REST API by
 * account): each key may make `burst` calls at once, then `perSecond` calls a second, refilled
 * continuously. Unlike the
 * login throttle (./login-throttle.ts), which delays failed password checks, every call counts
 * here: the subscribe pages check no password, so what they need bounding is their rate.
 *
 * Memory is bounded: at most `maxKeys` buckets are kept, the least recently used dropped first,
 * and a dropped bucket is simply full again, which errs on the side of the caller.
 */

export interface RatePolicy {
  /** Calls a key may make at once. */
  readonly burst: number;
  /** Calls a key may make per second, once its burst is spent. */
  readonly perSecond: number;
  readonly maxKeys: number;
}

/** Buckets kept at most (the least recently used go first). */
export const MAX_RATE_KEYS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
  /** The whole second of the clock `calls` counts in. */
  second: number;
  calls: number;
}

/** Whether a call may go on; `callsThisSecond` counts the key's calls in the clock's current whole second, this one included (MailUp's REST refusal quotes it). */
export type RateVerdict =
  | { readonly ok: true; readonly callsThisSecond: number }
  | { readonly ok: false; readonly retryAfterSeconds: number; readonly callsThisSecond: number };

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** `perSecond` 0: no limit. */
  constructor(private readonly policy: RatePolicy, private readonly clock: () => number = () => performance.now()) {}

  /** Takes one call for `key`: allowed, or refused with how long to wait (whole seconds, at least 1). */
  take(key: string): RateVerdict {
    if (this.policy.perSecond <= 0) return { ok: true, callsThisSecond: 0 };
    const now = this.clock();
    const second = Math.floor(now / 1000);
    const seen = this.buckets.get(key);
    const bucket = seen ?? { tokens: this.policy.burst, at: now, second, calls: 0 };
    if (bucket.second !== second) {
      bucket.second = second;
      bucket.calls = 0;
    }
    bucket.calls++;
    bucket.tokens = Math.min(this.policy.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.policy.perSecond);
    bucket.at = now;
    // Re-inserting keeps the map in least-recently-used order.
    if (seen) this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.policy.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true, callsThisSecond: bucket.calls };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.policy.perSecond)), callsThisSecond: bucket.calls };
  }
}
