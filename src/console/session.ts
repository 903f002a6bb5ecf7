/**
 * Console sessions (docs/console.md, "Security model").
 *
 * - The cookie holds 32 random bytes; the store keeps only their SHA-256, with the user, the
 *   account and a per-session CSRF token. A new id is issued at every sign-in (no fixation).
 * - The cookie is `HttpOnly; SameSite=Lax; Path=/console`, and `Secure` when the request came over
 *   HTTPS or CONSOLE_SECURE_COOKIES=1 says a TLS proxy sits in front.
 * - A session ends after IDLE_MS without a request, after ABSOLUTE_MS in any case, or at sign-out.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleSession } from '../store/sessions.ts';
import type { Store } from '../store/store.ts';
import type { Account, ConsoleUser } from '../model/records.ts';
import { CONSOLE_PREFIX } from './urls.ts';

export const SESSION_COOKIE = 'console_session';
/** Double-submit token of the sign-in form, which has no session yet. */
export const SIGN_IN_COOKIE = 'console_sign_in';

export const IDLE_MS = 12 * 3600_000;
export const ABSOLUTE_MS = 7 * 24 * 3600_000;
/** Moving the idle expiry costs a write; once a minute per session is enough. */
const TOUCH_EVERY_MS = 60_000;

/** Who is signed in, as every console page sees it. */
export interface ConsoleAuth {
  readonly user: ConsoleUser;
  readonly account: Account;
  readonly session: ConsoleSession;
}

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');
export const hashSessionId = (id: string): string => createHash('sha256').update(id).digest('hex');

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === '' || cookies.has(name)) continue;
    try {
      cookies.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A cookie that is not ours, badly encoded; ignore it.
    }
  }
  return cookies;
}

export interface CookieOptions {
  readonly path: string;
  readonly secure: boolean;
  /** Seconds; 0 deletes the cookie; absent makes a browser-session cookie. */
  readonly maxAge?: number;
}

export function setCookie(reply: FastifyReply, name: string, value: string, options: CookieOptions): void {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.maxAge !== undefined) parts.push(`Max-Age=${options.maxAge}`);
  if (options.secure) parts.push('Secure');
  // fastify adds to, rather than replaces, a set-cookie header already set.
  reply.header('set-cookie', parts.join('; '));
}

/** Constant-time comparison of two tokens. */
export function tokensMatch(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given === '') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class SessionManager {
  constructor(
    private readonly store: Store,
    private readonly secureCookies: boolean,
    private readonly now: () => Date = () => new Date(),
  ) {}

  isSecure(request: FastifyRequest): boolean {
    return this.secureCookies || request.protocol === 'https';
  }

  /** Starts a session for the user: a fresh id (the old session, if any, is ended), a fresh CSRF token. */
  async start(request: FastifyRequest, reply: FastifyReply, user: ConsoleUser): Promise<void> {
    const previous = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
    if (previous) await this.store.sessions.deleteConsoleSession(hashSessionId(previous));
    const id = randomToken();
    await this.store.sessions.createConsoleSession({
      idHash: hashSessionId(id), userId: user.id, accountId: user.accountId, csrfToken: randomToken(),
      expiresAt: new Date(this.now().getTime() + IDLE_MS), ip: request.ip, userAgent: String(request.headers['user-agent'] ?? ''),
    });
    setCookie(reply, SESSION_COOKIE, id, { path: CONSOLE_PREFIX, secure: this.isSecure(request) });
    // Expired sessions of anyone are swept now and then, at sign-in, rather than by a timer.
    await this.store.sessions.deleteExpiredConsoleSessions(this.now());
  }

  /** The signed-in user of the request, or null; keeps an active session alive. */
  async load(request: FastifyRequest): Promise<ConsoleAuth | null> {
    const id = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
    if (!id) return null;
    const now = this.now();
    const found = await this.store.sessions.findConsoleSession(hashSessionId(id), now);
    if (!found) return null;
    const { session, user } = found;
    if (now.getTime() - session.createdAt.getTime() > ABSOLUTE_MS) {
      await this.store.sessions.deleteConsoleSession(session.idHash);
      return null;
    }
    const account = await this.store.accounts.getAccount(session.accountId);
    if (!account) return null;
    if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
      await this.store.sessions.touchConsoleSession(session.idHash, new Date(now.getTime() + IDLE_MS), now);
    }
    return { user, account, session };
  }

  async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
    if (id) await this.store.sessions.deleteConsoleSession(hashSessionId(id));
    setCookie(reply, SESSION_COOKIE, '', { path: CONSOLE_PREFIX, secure: this.isSecure(request), maxAge: 0 });
  }
}
