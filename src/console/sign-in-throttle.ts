/**
 * Slows down password guessing at the sign-in form: after a few failed attempts for one
 * account, user name and client address, each further attempt must wait, twice as long each
 * time (1 s, 2 s, 4 s … up to MAX_DELAY_MS). A success clears the count; so does an hour
 * without failures. Kept in memory: it resets when the server restarts, which is acceptable for
 * a delay whose purpose is to make guessing slow, not impossible to retry.
 */

const FREE_ATTEMPTS = 3;
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 5 * 60_000;
const FORGET_AFTER_MS = 3600_000;

interface Entry {
  failures: number;
  blockedUntil: number;
  lastFailure: number;
}

export class SignInThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now, private readonly maxEntries = 10_000) {}

  static key(wsUser: string, username: string, ip: string): string {
    return `${wsUser.trim().toLowerCase()}\n${username.trim()}\n${ip}`;
  }

  /** Milliseconds before another attempt is accepted; 0 when it may go ahead now. */
  retryAfter(key: string): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    const now = this.now();
    if (now - entry.lastFailure > FORGET_AFTER_MS) {
      this.entries.delete(key);
      return 0;
    }
    return Math.max(0, entry.blockedUntil - now);
  }

  failed(key: string): void {
    const now = this.now();
    const entry = this.entries.get(key) ?? { failures: 0, blockedUntil: 0, lastFailure: now };
    entry.failures++;
    entry.lastFailure = now;
    const over = entry.failures - FREE_ATTEMPTS;
    entry.blockedUntil = over < 0 ? 0 : now + Math.min(FIRST_DELAY_MS * 2 ** over, MAX_DELAY_MS);
    this.entries.delete(key);
    // Oldest first out: a flood of made-up names cannot grow the map without bound.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, entry);
  }

  succeeded(key: string): void {
    this.entries.delete(key);
  }
}
