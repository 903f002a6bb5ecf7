/**
 * The frame of every console page: header with the account and sign-out, the section
 * navigation, a notice line, the content. Pages hand their content in; nothing else writes
 * `<html>`.
 */
import type { FastifyReply } from 'fastify';
import { html, type Html, type HtmlValue } from './html.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';

export type Section = 'imports' | 'lists' | 'recipients' | 'send' | 'settings' | 'users';

const SECTIONS: readonly { readonly id: Section; readonly label: string; readonly path: string }[] = [
  { id: 'imports', label: 'Import status', path: '/imports' },
  { id: 'lists', label: 'Lists & groups', path: '/lists' },
  { id: 'recipients', label: 'Recipients', path: '/recipients' },
  { id: 'send', label: 'Send status', path: '/send' },
  { id: 'settings', label: 'Web services', path: '/settings' },
  { id: 'users', label: 'Users', path: '/users' },
];

export interface Notice {
  readonly tone: 'ok' | 'info' | 'warn' | 'bad';
  readonly text: string;
}

export interface PageOptions {
  readonly title: string;
  readonly section?: Section;
  /** null on the sign-in and error pages of a visitor who is not signed in. */
  readonly auth: ConsoleAuth | null;
  readonly notice?: Notice | null;
  readonly body: HtmlValue;
}

function document(title: string, bodyAttributes: Html, content: HtmlValue): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0}'>
<title>${title} · MailUp Import console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${consoleUrl('/assets/console.css')}">
<script src="${consoleUrl('/assets/htmx.min.js')}" defer></script>
<script src="${consoleUrl('/assets/console.js')}" defer></script>
</head>
<body ${bodyAttributes}>
<a class="skip" href="#main">Skip to content</a>
${content}
</body>
</html>
`;
}

export function noticeBox(notice: Notice | null | undefined): Html {
  if (!notice) return html``;
  return html`<div class="notice notice-${notice.tone}" role="${notice.tone === 'bad' ? 'alert' : 'status'}">${notice.text}</div>`;
}

export function page(options: PageOptions): Html {
  const { auth } = options;
  // htmx sends the session's CSRF token with every request it makes.
  const bodyAttributes = auth ? html`hx-headers="${JSON.stringify({ 'X-CSRF-Token': auth.session.csrfToken })}"` : html``;
  const header = auth
    ? html`<header class="top">
  <a class="brand" href="${consoleUrl('/imports')}">MailUp Import <span>console</span></a>
  <nav class="sections" aria-label="Sections">
    <ul>${SECTIONS.map((s) => html`<li><a href="${consoleUrl(s.path)}"${s.id === options.section ? html` aria-current="page"` : ''}>${s.label}</a></li>`)}</ul>
  </nav>
  <div class="who">
    <span class="account" title="WS user (account)">${auth.account.wsUser}</span>
    <span class="user">${auth.user.username}</span>
    <form method="post" action="${consoleUrl('/sign-out')}">
      <input type="hidden" name="_csrf" value="${auth.session.csrfToken}">
      <button type="submit" class="link">Sign out</button>
    </form>
  </div>
</header>`
    : html`<header class="top"><span class="brand">MailUp Import <span>console</span></span></header>`;
  return document(options.title, bodyAttributes, html`${header}
<main id="main" tabindex="-1">
${noticeBox(options.notice)}
${options.body}
</main>`);
}

export function sendHtml(reply: FastifyReply, markup: Html, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(markup.toString());
}

/** A form's hidden CSRF field. */
export function csrfField(auth: ConsoleAuth): Html {
  return html`<input type="hidden" name="_csrf" value="${auth.session.csrfToken}">`;
}

/** ← Newer / Older → style links; either may be absent. */
export function pager(previous: string | null, next: string | null, labels: readonly [string, string] = ['Previous', 'Next']): Html {
  if (previous === null && next === null) return html``;
  return html`<nav class="pager" aria-label="Pages">
  ${previous === null ? html`<span class="disabled">← ${labels[0]}</span>` : html`<a href="${previous}" rel="prev">← ${labels[0]}</a>`}
  ${next === null ? html`<span class="disabled">${labels[1]} →</span>` : html`<a href="${next}" rel="next">${labels[1]} →</a>`}
</nav>`;
}

export function badge(label: string, tone: string): Html {
  return html`<span class="badge badge-${tone}">${label}</span>`;
}

export function progressBar(percent: number, label: string): Html {
  const p = Math.max(0, Math.min(100, Math.floor(percent)));
  return html`<progress class="bar" max="100" value="${p}" aria-label="${label}">${p} %</progress>`;
}
