/**
 * Console sessions: the store keeps a hash of each cookie, never the cookie itself.
 */
import type { ConsoleUser } from '../model/records.ts';

export interface NewConsoleSession {
  /** Hex SHA-256 of the cookie value; the value itself is never stored. */
  readonly idHash: string;
  readonly userId: number;
  readonly accountId: number;
  readonly csrfToken: string;
  readonly expiresAt: Date;
  readonly ip: string;
  readonly userAgent: string;
}

export interface ConsoleSession extends NewConsoleSession {
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
}

export interface SessionStore {
  createConsoleSession(session: NewConsoleSession): Promise<void>;
  /** The session and its user, when the session exists, has not expired at `now` and its user is enabled. */
  findConsoleSession(idHash: string, now: Date): Promise<{ session: ConsoleSession; user: ConsoleUser } | null>;
  touchConsoleSession(idHash: string, expiresAt: Date, now: Date): Promise<void>;
  deleteConsoleSession(idHash: string): Promise<void>;
  /** Ends every session of the user (but the one whose hash is `except`); returns how many. */
  deleteConsoleSessionsOfUser(accountId: number, userId: number, options?: { readonly except?: string }): Promise<number>;
  /** Removes expired sessions; returns how many. */
  deleteExpiredConsoleSessions(now: Date): Promise<number>;

}
