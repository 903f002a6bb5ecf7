/**
 * The confirm link of double opt-in, `GET /confirm/:token`: the link in a confirmation message.
 * Moves the recipient from pending to subscribed and answers a tiny page that says plainly what
 * happened (or why nothing did). Send Now and the confirmation status are JSON API routes
 * (src/api/confirmations.ts).
 */
import type { FastifyInstance } from 'fastify';
import { openConfirmLink, type ConfirmLinkAnswer, type ConfirmLinkResult } from '../core/confirm-link.ts';
import { escapeHtml } from '../xml/escape.ts';
import { timeFormat } from '../core/time-format.ts';
import type { AppContext } from './app-context.ts';

const PAGE_HEADERS = {
  'cache-control': 'no-store',
  // The token is in the URL: never hand it on to another site.
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'x-content-type-options': 'nosniff',
};

export async function confirmRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  app.setErrorHandler((err: { statusCode?: number; message: string }, request, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'confirmation request failed');
    return reply.code(status).type('application/json; charset=utf-8')
      .send({ error: status >= 500 ? 'The server could not complete the request.' : err.message });
  });

  // Link checkers and mail scanners send HEAD: only a GET, a person opening the link, confirms.
  app.get('/confirm/:token', { exposeHeadRoute: false }, async (request, reply) => {
    const { token } = request.params as { token: string };
    const answer = await openConfirmLink(ctx.mail, token);
    // Times for people, with their zone (src/core/time-format.ts), not the result strings' format.
    const page = confirmPage(answer, timeFormat(ctx.config.timeZone).text);
    return reply.code(page.status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(page.html);
  });
}

const PAGES: Record<ConfirmLinkResult, { status: number; title: string; text: (a: ConfirmLinkAnswer, when: string) => string }> = {
  'confirmed': {
    status: 200, title: 'Subscription confirmed',
    text: (a) => `${a.email} is now subscribed to ${a.listName}. Thank you.`,
  },
  'already-confirmed': {
    status: 200, title: 'Already confirmed',
    text: (a, when) => `This link was already used: the subscription of ${a.email} to ${a.listName} was confirmed on ${when}. Nothing was changed.`,
  },
  'already-subscribed': {
    status: 200, title: 'Already subscribed',
    text: (a) => `${a.email} is already subscribed to ${a.listName}. Nothing was changed.`,
  },
  'unsubscribed': {
    status: 409, title: 'Not confirmed: unsubscribed',
    text: (a) => `${a.email} was unsubscribed from ${a.listName} after this confirmation request was sent. The unsubscribe stands: nothing was changed.`,
  },
  'not-found': {
    status: 404, title: 'Confirmation request not found',
    text: () => 'This confirmation request no longer exists, or the address is no longer in the list. Nothing was changed.',
  },
  'invalid': {
    status: 400, title: 'Invalid confirmation link',
    text: () => 'This link is not valid: it was changed or cut short. Nothing was changed. Open the whole link exactly as it is in the e-mail.',
  },
  'expired': {
    status: 400, title: 'Expired confirmation link',
    text: (_a, when) => `This link expired on ${when}. Nothing was changed. Ask for a new confirmation e-mail.`,
  },
};

function confirmPage(answer: ConfirmLinkAnswer, formatDate: (d: Date) => string): { status: number; html: string } {
  const page = PAGES[answer.result];
  const text = page.text(answer, answer.at ? formatDate(answer.at) : '');
  const html = '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">' +
    `<title>${escapeHtml(page.title)}</title>` +
    '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#222}</style></head>' +
    `<body><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
  return { status: page.status, html };
}
