/**
 * The web console, one fastify plugin registered under /console (docs/console.md).
 *
 * In this plugin's scope only: urlencoded form bodies (@fastify/formbody; the SOAP routes keep
 * their raw streams), the session check before every route but sign-in and the assets, the CSRF
 * check on every state-changing request, security headers, and HTML error pages.
 */
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ConsoleContext } from './deps.ts';
import type { ConsoleDeps } from './deps.ts';
import { authOf, field, maybeAuthOf, setAuth } from './request.ts';
import { makeConsoleDateFormatter } from './format.ts';
import { html } from './html.ts';
import { registerImportRoutes } from './imports.ts';
import { page, sendHtml } from './layout.ts';
import { registerListRoutes } from './lists.ts';
import { registerRecipientRoutes } from './recipients.ts';
import { registerSendRoutes } from './send-status.ts';
import { SendNowRunner } from './send-now-runner.ts';
import { SessionManager, tokensMatch } from './session.ts';
import { registerRestClientRoutes } from './rest-clients.ts';
import { registerWebhookRoutes } from './webhooks.ts';
import { registerSettingsRoutes } from './settings.ts';
import type { LoginThrottle } from '../core/login-throttle.ts';
import { registerSignInRoutes } from './sign-in.ts';
import { registerUserRoutes } from './users.ts';
import { consoleUrl } from './urls.ts';

export interface ConsoleOptions {
  readonly ctx: ConsoleContext;
  /** Mark cookies Secure even on plain HTTP: the console is served behind a TLS proxy (CONSOLE_SECURE_COOKIES=1). */
  readonly secureCookies?: boolean;
  /** The clock of sessions; tests move it on. */
  readonly now?: () => Date;
  /**
   * Slows down password guessing at the sign-in form; by default the service's own login
   * throttle, so failures over SOAP and at the form from one address count together.
   */
  readonly throttle?: LoginThrottle;
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** The stylesheet, our script and htmx, read once at start-up. */
function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const files: [string, string, string][] = [
    ['console.css', new URL('./assets/console.css', import.meta.url).pathname, 'text/css; charset=utf-8'],
    ['console.js', new URL('./assets/console.js', import.meta.url).pathname, 'text/javascript; charset=utf-8'],
    ['htmx.min.js', require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'],
  ];
  return new Map(files.map(([name, path, type]) => {
    const body = readFileSync(path);
    return [name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }];
  }));
}

const isHtmx = (request: FastifyRequest): boolean => request.headers['hx-request'] === 'true';
const isPublic = (request: FastifyRequest): boolean => (request.routeOptions.config as { public?: boolean } | undefined)?.public === true;

/**
 * A state-changing request must come from a console page: a browser names the page's origin in
 * Origin (and Sec-Fetch-Site); one from another site is refused before its token is even read.
 */
function fromThisSite(request: FastifyRequest): boolean {
  if (request.headers['sec-fetch-site'] === 'cross-site') return false;
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return origin === undefined;
  try {
    // Compared as URLs, so that a default port written in one and left out of the other still matches.
    return new URL(origin).host === new URL(`${request.protocol}://${request.host}`).host;
  } catch {
    return false;
  }
}

export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const { ctx } = options;
  await app.register(formbody, { bodyLimit: 1024 * 1024 });
  const now = options.now ?? (() => new Date());
  const deps: ConsoleDeps = {
    ctx,
    sessions: new SessionManager(ctx.store, options.secureCookies === true, now),
    throttle: options.throttle ?? ctx.operations.throttle,
    sends: new SendNowRunner(ctx.mail, app.log),
    formatTime: makeConsoleDateFormatter(ctx.config.timeZone),
    now,
  };
  app.addHook('onClose', async () => deps.sends.drain());

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (isPublic(request)) return;
    const auth = await deps.sessions.load(request);
    if (auth) {
      setAuth(request, auth);
      return;
    }
    const signIn = consoleUrl('/sign-in', { next: request.method === 'GET' && !isHtmx(request) ? request.url : null });
    // htmx follows HX-Redirect with a full page load; a plain redirect would be swapped into the page.
    if (isHtmx(request)) return reply.code(401).header('hx-redirect', consoleUrl('/sign-in', { notice: 'session-ended' })).send();
    return reply.code(303).header('location', request.method === 'GET' ? signIn : consoleUrl('/sign-in', { notice: 'session-ended' })).send();
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD' || isPublic(request)) return;
    const auth = authOf(request);
    const token = request.headers['x-csrf-token'] ?? field(request.body, '_csrf');
    if (fromThisSite(request) && tokensMatch(auth.session.csrfToken, token)) return;
    request.log.warn({ url: request.url }, 'console request refused: missing or wrong CSRF token');
    return sendHtml(reply, page({
      title: 'Request refused', auth, notice: null,
      body: html`<div class="card"><h1>Request refused</h1>
<p>The form had expired or did not come from this console, so nothing was changed.
Go back, reload the page and try again.</p></div>`,
    }), 403);
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'console request failed');
    const message = status === 500 ? 'Something went wrong on the server; the error was logged. Please try again.' : err.message;
    return errorPage(reply, request, status, status === 500 ? 'Server error' : 'Request not accepted', message);
  });

  app.setNotFoundHandler(async (request, reply) => errorPage(reply, request, 404, 'Not found',
    'There is no such page, or it belongs to another account.'));

  const assets = loadAssets();
  app.get('/assets/:name', { config: { public: true } }, async (request, reply) => {
    const asset = assets.get((request.params as { name: string }).name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('Not found\n');
    reply.header('cache-control', 'public, max-age=300').header('etag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  });

  registerSignInRoutes(app, deps);
  registerImportRoutes(app, deps);
  registerListRoutes(app, deps);
  registerRecipientRoutes(app, deps);
  registerSendRoutes(app, deps);
  registerSettingsRoutes(app, deps);
  registerRestClientRoutes(app, deps);
  registerWebhookRoutes(app, deps);
  registerUserRoutes(app, deps);
}

/** Answers an error as a page, or as a short fragment when htmx asked for a part of a page. */
export function errorPage(reply: FastifyReply, request: FastifyRequest, status: number, title: string, message: string): FastifyReply {
  if (isHtmx(request)) return sendHtml(reply, html`<div class="notice notice-bad" role="alert">${message}</div>`, status);
  return sendHtml(reply, page({
    title, auth: maybeAuthOf(request), notice: null,
    body: html`<div class="card"><h1>${title}</h1><p>${message}</p><p><a href="${consoleUrl('/imports')}">Go to the import status</a></p></div>`,
  }), status);
}
