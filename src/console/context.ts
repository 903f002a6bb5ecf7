/**
 * What every console route module gets: the service context, the session manager, the sign-in
 * throttle, the Send Now runner and the clock; plus the signed-in user of each request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.ts';
import type { LoginThrottle } from '../operations/login-throttle.ts';
import type { DateFormatter } from './format.ts';
import type { Notice } from './layout.ts';
import type { SendNowRunner } from './send-now-runner.ts';
import type { ConsoleAuth, SessionManager } from './session.ts';
import { consoleUrl } from './urls.ts';

export interface ConsoleDeps {
  readonly ctx: AppContext;
  readonly sessions: SessionManager;
  /** Failed sign-ins slow further attempts per user and per address (src/operations/login-throttle.ts). */
  readonly throttle: LoginThrottle;
  readonly sends: SendNowRunner;
  /** Dates as the console shows them, in the service's time zone. */
  readonly formatTime: DateFormatter;
  readonly now: () => Date;
}

const signedIn = new WeakMap<FastifyRequest, ConsoleAuth>();

export function setAuth(request: FastifyRequest, auth: ConsoleAuth): void {
  signedIn.set(request, auth);
}

/** The signed-in user; every route but sign-in and the assets runs only when there is one. */
export function authOf(request: FastifyRequest): ConsoleAuth {
  const auth = signedIn.get(request);
  if (!auth) throw new Error('console route reached without a signed-in user');
  return auth;
}

export function maybeAuthOf(request: FastifyRequest): ConsoleAuth | null {
  return signedIn.get(request) ?? null;
}

/** The lists the user may see: null for every list of the account. */
export function visibleListIds(auth: ConsoleAuth): readonly number[] | null {
  return auth.user.listIds;
}

export function canSeeList(auth: ConsoleAuth, listId: number): boolean {
  return auth.user.listIds === null || auth.user.listIds.includes(listId);
}

/** A user limited to some lists may not change what concerns the whole account. */
export function isAccountWide(auth: ConsoleAuth): boolean {
  return auth.user.listIds === null;
}

// Form bodies and query strings

type Bag = Record<string, unknown>;

/** One text value of a form body or query string ('' when absent); repeated keys give the first. */
export function field(source: unknown, name: string): string {
  const value = source !== null && typeof source === 'object' ? (source as Bag)[name] : undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : '';
}

/** A positive whole number parameter, or null. */
export function idParam(source: unknown, name: string): number | null {
  const raw = field(source, name).trim();
  if (!/^\d{1,15}$/.test(raw)) return null;
  const n = Number(raw);
  return n > 0 ? n : null;
}

/** Post/redirect/get: back to a console page, with one of the fixed notices. */
export function redirectTo(reply: FastifyReply, path: string, query: Record<string, string | number | null | undefined> = {}): FastifyReply {
  return reply.code(303).header('location', consoleUrl(path, query)).send();
}

/** Notices a redirect can ask for by key: the text is ours, never taken from the URL. */
export const NOTICES = {
  'list-created': { tone: 'ok', text: 'The list was created.' },
  'list-renamed': { tone: 'ok', text: 'The list was renamed.' },
  'group-created': { tone: 'ok', text: 'The group was created.' },
  'group-exists': { tone: 'info', text: 'The list already has a group of that name; nothing was created.' },
  'group-renamed': { tone: 'ok', text: 'The group was renamed.' },
  'send-started': { tone: 'info', text: 'Send Now started: the confirmation requests are being delivered.' },
  'send-busy': { tone: 'warn', text: 'A Send Now is already running for this account; its progress is shown below.' },
  'password-changed': { tone: 'ok', text: 'The WS password was changed. The old one no longer works.' },
  'access-saved': { tone: 'ok', text: 'The web-service settings were saved.' },
  'signed-out': { tone: 'info', text: 'You have signed out.' },
  'session-ended': { tone: 'info', text: 'Your session has ended. Please sign in again.' },
} as const satisfies Record<string, Notice>;

export type NoticeKey = keyof typeof NOTICES;

export function noticeOf(request: FastifyRequest): Notice | null {
  const key = field(request.query, 'notice');
  return Object.hasOwn(NOTICES, key) ? NOTICES[key as NoticeKey] : null;
}

/** Answers with the console's 404 page: also for what exists but belongs to another account. */
export function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}
