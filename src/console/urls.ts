/**
 * Links inside the console. Every link is built here from our own paths and encoded parameters,
 * never copied from data, so a link can only ever point into the console.
 */

export const CONSOLE_PREFIX = '/console';

export type QueryValue = string | number | boolean | null | undefined;

/** `/console/<path>?a=1&b=x`, leaving out empty parameters. */
export function consoleUrl(path: string, query: Readonly<Record<string, QueryValue>> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '' && v !== false) params.set(k, String(v));
  const search = params.toString();
  const base = `${CONSOLE_PREFIX}${path === '' || path.startsWith('/') ? path : `/${path}`}`;
  return search === '' ? base : `${base}?${search}`;
}

/**
 * Where to go after signing in: only a console path of this server (never `//host`, a scheme
 * or a backslash trick), else the start page.
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string') return consoleUrl('/imports');
  const ok = next.startsWith(`${CONSOLE_PREFIX}/`) && !next.startsWith('//') && !/[\\\s]/.test(next) && !next.includes('//');
  return ok && !next.startsWith(`${CONSOLE_PREFIX}/sign-`) ? next : consoleUrl('/imports');
}
