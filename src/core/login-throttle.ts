/**
 * Slows down password guessing: after a few failed logins for a user, or from a source address,
 * each further attempt waits longer (doubling up to a cap) before the password is even checked.
 * Keyed separately by user and by address, so other users and other addresses are unaffected;
 * nobody is locked out: the right password gets in after its delay. A success clears that user's
 * record only: an address guessing other users' passwords cannot reset its own record by logging
 * in to an account it owns.
 *
 * Parallel attempts cannot walk past it: every door asks `admit(user, ip)` for a turn before it
 * checks a password, and settles the ticket it gets with the outcome. At most one attempt per user
 * and one per address is between its turn and its outcome; the others wait in line, and each one's
 * delay is worked out when its turn comes, from the outcomes of all the attempts before it. An
 * attempt is counted as a failure when its turn comes, before its password is checked, so a
 * client that goes away during the check is still counted; a success takes that count back.
 *
 * An attempt takes its address's turn first, then its user's: one address has at most one
 * attempt in a user's line, and no two attempts can wait for each other. Lines are short and
 * bounded: at most `maxWaiting` attempts wait per key and none waits longer than `maxWaitMs`;
 * beyond that an attempt is refused at once, without its password being checked or counted. In a
 * line, attempts whose other key has fewer failures go first (a user's line is ordered by the
 * waiting addresses' failures, an address's line by the waiting users'), so the right password
 * from an address that has not been guessing is not kept waiting behind addresses that have.
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
  /** Attempts that may wait for their turn per user and per address, besides the one being checked. */
  readonly maxWaiting: number;
  /** How long an attempt may wait for its turns (its own delay not included) before it is refused. */
  readonly maxWaitMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  freeAttempts: 5, baseDelayMs: 250, maxDelayMs: 10_000, forgetAfterMs: 15 * 60_000, maxKeys: 100_000,
  maxWaiting: 64, maxWaitMs: 30_000,
};

/** Runs `run` after `ms` unless the returned function is called first. */
export type Timer = (run: () => void, ms: number) => () => void;

/** Real timers that do not keep the process alive on their own. */
const realTimer: Timer = (run, ms) => {
  const handle = setTimeout(run, ms);
  handle.unref();
  return () => clearTimeout(handle);
};

/** One attempt's turn: settle it once with the outcome of the password check. */
export interface LoginTicket {
  /** Records the outcome and gives the user's and the address's turn to the next attempt. Later calls do nothing. */
  settle(success: boolean): void;
}

interface Record_ {
  failures: number;
  last: number;
}

interface Waiter {
  /** Failures of the attempt's other key: fewer go first. */
  readonly priority: number;
  /** Ends the wait: true when the turn is given, false when the attempt is refused. */
  readonly end: (granted: boolean) => void;
}

/** Ends the waits of one attempt when it runs out of time or its client goes away. */
class Cancel {
  cancelled = false;
  private listener: (() => void) | null = null;

  fire(): void {
    this.cancelled = true;
    this.listener?.();
  }

  on(listener: (() => void) | null): void {
    this.listener = listener;
  }
}

export class LoginThrottle {
  private readonly policy: ThrottlePolicy;
  private readonly records = new Map<string, Record_>();
  /** Keys whose turn is taken, with the attempts waiting for it in order. Empty when nobody is trying. */
  private readonly lines = new Map<string, Waiter[]>();

  constructor(policy: Partial<ThrottlePolicy> = DEFAULT_THROTTLE, private readonly now: () => number = Date.now, private readonly timer: Timer = realTimer) {
    this.policy = { ...DEFAULT_THROTTLE, ...policy };
  }

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

  /** How long the next attempt for this user from this address will wait once its turn comes. */
  delayFor(user: string, ip: string): number {
    return Math.max(this.delayOf(this.failures(`u:${user}`)), this.delayOf(this.failures(`a:${ip}`)));
  }

  /** Keys whose turn is taken, and attempts waiting for one (for tests and metrics). */
  get load(): { readonly keys: number; readonly waiting: number } {
    let waiting = 0;
    for (const line of this.lines.values()) waiting += line.length;
    return { keys: this.lines.size, waiting };
  }

  /**
   * Waits for this attempt's turn (the address's, then the user's), then for its delay, and
   * counts it as a failure. Resolves to the ticket to settle once the password is checked, or to
   * null when the attempt is refused without being checked: its lines are full, it waited longer
   * than `maxWaitMs`, or `signal` was aborted (its client went away). A refused attempt is not
   * counted.
   */
  async admit(user: string, ip: string, signal?: AbortSignal): Promise<LoginTicket | null> {
    const userKey = `u:${user}`;
    const addressKey = `a:${ip}`;
    if (signal?.aborted) return null;
    const cancel = new Cancel();
    const onAbort = (): void => cancel.fire();
    signal?.addEventListener('abort', onAbort);
    const stopClock = this.timer(() => cancel.fire(), this.policy.maxWaitMs);
    try {
      if (!(await this.take(addressKey, this.failures(userKey), cancel))) return null;
      if (!(await this.take(userKey, this.failures(addressKey), cancel))) {
        this.release(addressKey);
        return null;
      }
    } finally {
      stopClock();
      cancel.on(null);
      signal?.removeEventListener('abort', onAbort);
    }
    // Both turns are held: every attempt before this one has been settled.
    const delay = this.delayFor(user, ip);
    if (delay > 0 && !(await this.sleep(delay, signal))) {
      this.release(userKey);
      this.release(addressKey);
      return null;
    }
    // Counted before the password is checked; a success takes the address's count back.
    const addressBefore = this.failures(addressKey) > 0 ? this.records.get(addressKey) : undefined;
    this.recordFailure(userKey, addressKey);
    let settled = false;
    return {
      settle: (success: boolean): void => {
        if (settled) return;
        settled = true;
        if (success) {
          this.records.delete(userKey);
          this.records.delete(addressKey);
          if (addressBefore !== undefined) this.records.set(addressKey, addressBefore);
        }
        this.release(userKey);
        this.release(addressKey);
      },
    };
  }

  /** Waits `ms`; false when `signal` is aborted first. */
  private sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        stop();
        resolve(false);
      };
      const stop = this.timer(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Takes a key's turn: at once when nobody holds it, else after waiting in its line; false when refused. */
  private take(key: string, priority: number, cancel: Cancel): Promise<boolean> {
    if (cancel.cancelled) return Promise.resolve(false);
    const line = this.lines.get(key);
    if (line === undefined) {
      this.lines.set(key, []);
      return Promise.resolve(true);
    }
    if (line.length >= this.policy.maxWaiting) {
      // A full line makes room only for an attempt that would go before its last one.
      const last = line.at(-1);
      if (last === undefined || last.priority <= priority) return Promise.resolve(false);
      line.pop();
      last.end(false);
    }
    return new Promise<boolean>((resolve) => {
      let waiting = true;
      const waiter: Waiter = {
        priority,
        end: (granted) => {
          if (!waiting) return;
          waiting = false;
          resolve(granted);
        },
      };
      const at = line.findIndex((w) => w.priority > priority);
      line.splice(at < 0 ? line.length : at, 0, waiter);
      cancel.on(() => {
        const i = line.indexOf(waiter);
        if (i >= 0) line.splice(i, 1);
        waiter.end(false);
      });
    });
  }

  /** Gives a key's turn to the first attempt in its line, or frees it. */
  private release(key: string): void {
    const line = this.lines.get(key);
    if (line === undefined) return;
    const next = line.shift();
    if (next === undefined) this.lines.delete(key);
    else next.end(true);
  }

  private recordFailure(...keys: string[]): void {
    for (const key of keys) {
      const failures = this.failures(key) + 1;
      this.records.delete(key); // re-insert to keep the map in least-recently-failed order
      this.records.set(key, { failures, last: this.now() });
    }
    while (this.records.size > this.policy.maxKeys) this.records.delete(this.records.keys().next().value!);
  }
}
