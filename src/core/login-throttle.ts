/**
 * Slows down password guessing: after a few failed logins for a user, or from a source address,
 * each further attempt waits longer (doubling up to a cap) before the password is even checked.
 * Keyed separately by user and by address, so other users and other addresses are unaffected;
 * nobody is ever locked out. A success clears that user's record only: an address guessing other
 * users' passwords cannot reset its own record by logging in to an account it owns.
 */

export interface ThrottlePolicy {
  /** Failures allowed before delays start. */
  readonly freeAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A record is forgotten after this long without failures. */
  readonly forgetAfterMs: number;
  /** Bound on remembered keys; the oldest are dropped first. */
  readonly maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  freeAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000, forgetAfterMs: 15 * 60_000, maxKeys: 100_000,
};

interface Record_ {
  failures: number;
  last: number;
}

export class LoginThrottle {
  private readonly records = new Map<string, Record_>();

  constructor(private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE, private readonly now: () => number = Date.now) {}

  private failures(key: string): number {
    const r = this.records.get(key);
    if (!r) return 0;
    if (this.now() - r.last > this.policy.forgetAfterMs) {
      this.records.delete(key);
      return 0;
    }
    return r.failures;
  }

  private delayOf(failures: number): number {
    const over = failures - this.policy.freeAttempts;
    return over < 0 ? 0 : Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** over);
  }

  /** How long to wait before checking this attempt's password. */
  delayFor(user: string, ip: string): number {
    return Math.max(this.delayOf(this.failures(`u:${user}`)), this.delayOf(this.failures(`a:${ip}`)));
  }

  recordFailure(user: string, ip: string): void {
    for (const key of [`u:${user}`, `a:${ip}`]) {
      const failures = this.failures(key) + 1;
      this.records.delete(key); // re-insert to keep the map in least-recently-failed order
      this.records.set(key, { failures, last: this.now() });
    }
    while (this.records.size > this.policy.maxKeys) this.records.delete(this.records.keys().next().value!);
  }

  recordSuccess(user: string): void {
    this.records.delete(`u:${user}`);
  }
}
