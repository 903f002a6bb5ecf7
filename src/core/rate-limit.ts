/**
 * A token bucket per key (the HTTP subscribe API keys it by the caller's address): each key may
 * make `burst` calls at once, then `perSecond` calls a second, refilled continuously. Unlike the
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
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** `perSecond` 0: no limit. */
  constructor(private readonly policy: RatePolicy, private readonly clock: () => number = () => performance.now()) {}

  /** Takes one call for `key`: allowed, or refused with how long to wait (whole seconds, at least 1). */
  take(key: string): { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number } {
    if (this.policy.perSecond <= 0) return { ok: true };
    const now = this.clock();
    const seen = this.buckets.get(key);
    const bucket = seen ?? { tokens: this.policy.burst, at: now };
    bucket.tokens = Math.min(this.policy.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.policy.perSecond);
    bucket.at = now;
    // Re-inserting keeps the map in least-recently-used order.
    if (seen) this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.policy.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.policy.perSecond)) };
  }
}
