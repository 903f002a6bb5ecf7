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

  constructor(private readonly ttlMs = 60_000, private readonly maxEntries = 10_000) {}

  private tag(password: string): Buffer {
    return createHmac('sha256', this.key).update(password).digest();
  }

  /** True when this user's password was verified against this very hash within the TTL. */
  matches(user: string, password: string, passwordHash: string): boolean {
    const entry = this.entries.get(user);
    if (!entry || entry.expires < Date.now() || entry.passwordHash !== passwordHash) return false;
    return timingSafeEqual(entry.tag, this.tag(password));
  }

  remember(user: string, password: string, passwordHash: string): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(user, { tag: this.tag(password), passwordHash, expires: Date.now() + this.ttlMs });
  }
}
