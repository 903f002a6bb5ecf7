/**
 * Helpers of every console request: the signed-in user and what it may see, form and query
 * values, redirects with a notice, and the 404 page.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Notice } from './layout.ts';
import { NOTICES, type NoticeKey } from './notices.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';

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

/** Answers with the console's 404 page: also for what exists but belongs to another account. */
export function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

export function noticeOf(request: FastifyRequest): Notice | null {
  const key = field(request.query, 'notice');
  return Object.hasOwn(NOTICES, key) ? NOTICES[key as NoticeKey] : null;
}
