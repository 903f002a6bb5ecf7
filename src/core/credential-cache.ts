/**
 * Remembers recently verified WS credentials so that a client polling GetProcessDetails does not
 * pay a full scrypt verification on every call. Entries hold an HMAC of the password under a
 * random per-process key (never the password), are tied to the stored hash (a password change
 * invalidates them) and expire after a short time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

interface Entry {
  readonly tag: Buffer;
  readonly passwordHash: string;
  readonly expires: number;
}

export class CredentialCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, Entry>();
  /** Verifications under way, so that many concurrent requests with one password cost one turn of the login throttle and one scrypt. */
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(private readonly ttlMs = 60_000, private readonly maxEntries = 10_000) {}

  private tag(password: string): Buffer {
    return createHmac('sha256', this.key).update(password).digest();
  }

  /**
   * True when this user's password was verified against this very hash within the TTL. A hit
   * extends the entry, so a client that keeps polling never falls back to scrypt.
   */
  matches(user: string, password: string, passwordHash: string): boolean {
    const entry = this.entries.get(user);
    if (!entry || entry.expires < Date.now() || entry.passwordHash !== passwordHash) return false;
    if (!timingSafeEqual(entry.tag, this.tag(password))) return false;
    this.entries.set(user, { ...entry, expires: Date.now() + this.ttlMs });
    return true;
  }

  /**
   * Runs `verify` once for all concurrent attempts with the same user, password and hash: a
   * burst of polling clients whose entry just expired would otherwise each pay a full scrypt (and
   * each wait its own turn at the login throttle, which `verify` includes). Sharing gives nothing
   * away: the attempts that join get the answer the first one gets, when it gets it, and the same
   * guess sent many times at once is checked and counted once.
   */
  verifyOnce<T>(user: string, password: string, passwordHash: string, verify: () => Promise<T>): Promise<T> {
    const key = `${user}\0${this.tag(password).toString('base64')}\0${passwordHash}`;
    let running = this.pending.get(key) as Promise<T> | undefined;
    if (!running) {
      running = verify().finally(() => this.pending.delete(key));
      this.pending.set(key, running);
    }
    return running;
  }

  remember(user: string, password: string, passwordHash: string): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(user, { tag: this.tag(password), passwordHash, expires: Date.now() + this.ttlMs });
  }
}
