/**
 * Send status (MailUp's Email > Send status > Send Now, spec §14): the confirmation requests that
 * imports with ConfirmEmail queued, per process, with a Send Now button; while a Send Now runs
 * the page follows it live (sent, failed, progress). Without an SMTP server the messages go to
 * the outbox, which is shown here too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ConfirmationSummary } from '../store/confirmations.ts';
import type { ImportProcess } from '../model/records.ts';
import type { ConsoleDeps } from './deps.ts';
import { authOf, canSeeList, idParam, isAccountWide, noticeOf, notFound, redirectTo, visibleListIds } from './request.ts';
import { formatCount, formatDuration, PROCESS_STATUS } from './format.ts';
import { html, type Html } from './html.ts';
import { badge, csrfField, page, pager, progressBar, sendHtml } from './layout.ts';
import type { SendRun } from './send-now-runner.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';

const PROCESSES_SHOWN = 100;
const OUTBOX_PAGE = 25;

/** Requests that a Send Now would still deliver. */
const unsent = (s: ConfirmationSummary): number => s.queued + s.sending + s.retrying;

function runReport(deps: ConsoleDeps, run: SendRun | null, running: boolean): Html {
  if (run === null) return html``;
  const target = run.processId === null ? 'everything queued' : html`import <a href="${consoleUrl(`/imports/${run.processId}`)}">#${run.processId}</a>`;
  if (running) {
    return html`<div class="notice notice-info" role="status">Send Now is running for ${target} (started ${deps.formatTime(run.startedAt)}, ${formatDuration(deps.now().getTime() - run.startedAt.getTime())} ago)…</div>`;
  }
  if (run.error !== null) return html`<div class="notice notice-bad" role="alert">The last Send Now (${target}) stopped with an error: ${run.error}</div>`;
  const r = run.report!;
  const delivered = r.channel === 'smtp' ? `${formatCount(r.sent)} sent by SMTP` : `${formatCount(r.written_to_outbox)} written to the outbox`;
  return html`<div class="notice ${r.failed > 0 ? 'notice-warn' : 'notice-ok'}" role="status" data-testid="send-report">
  Last Send Now (${target}), finished ${deps.formatTime(run.finishedAt)}: ${formatCount(r.queued)} messages due, ${delivered},
  ${formatCount(r.failed)} failed, ${formatCount(r.cancelled)} requests cancelled${r.confirmationSent.length > 0
    ? html`; ConfirmationSent is now True for import ${r.confirmationSent.map((id, i) => html`${i > 0 ? ', ' : ''}#${id}`)}` : ''}.${r.claimedElsewhere > 0
    ? html` ${formatCount(r.claimedElsewhere)} requests are being delivered by another Send Now.` : ''}
</div>`;
}

function processRow(auth: ConsoleAuth, s: ConfirmationSummary, listName: string, busy: boolean): Html {
  const done = s.sent + s.failed + s.cancelled;
  const percent = s.requests === 0 ? 100 : (done * 100) / s.requests;
  const status = PROCESS_STATUS[s.processStatus as ImportProcess['status']] ?? PROCESS_STATUS[1];
  const sendable = unsent(s) > 0 && (s.processStatus === 3 || s.processStatus === 4);
  return html`<tr>
  <td><a href="${consoleUrl(`/imports/${s.processId}`)}">#${s.processId}</a></td>
  <td>${listName}</td>
  <td>${badge(status.label, status.tone)}</td>
  <td class="num">${formatCount(s.requests)}</td>
  <td class="num">${formatCount(s.queued + s.sending)}</td>
  <td class="num">${formatCount(s.sent)}</td>
  <td class="num">${formatCount(s.retrying)}</td>
  <td class="num">${formatCount(s.failed)}</td>
  <td class="num">${formatCount(s.cancelled)}</td>
  <td class="num">${formatCount(s.confirmed)}</td>
  <td>${progressBar(percent, `Requests of import ${s.processId} handled`)}</td>
  <td data-testid="confirmation-sent-${s.processId}">${s.confirmationSentAt !== null ? badge('True', 'ok') : badge('False', 'warn')}</td>
  <td>${sendable
    ? html`<form method="post" action="${consoleUrl(`/send/${s.processId}`)}">${csrfField(auth)}<button type="submit" class="small"${busy ? html` disabled` : ''}>Send Now<span class="visually-hidden"> for import ${s.processId}</span></button></form>`
    : s.processStatus === 1 || s.processStatus === 2 ? html`<span class="small muted">after the import</span>` : ''}</td>
</tr>`;
}

async function sendPanel(deps: ConsoleDeps, auth: ConsoleAuth): Promise<Html> {
  const { store } = deps.ctx;
  const accountId = auth.account.id;
  // The outbox holds every list's messages: only for users who see the whole account.
  const outbox = deps.ctx.mail.mailer.channel === 'outbox' && isAccountWide(auth) ? await store.queries.outboxPage(accountId, { limit: 10 }) : null;
  const lists = new Map((await store.lists.listLists(accountId, visibleListIds(auth))).map((l) => [l.id, l.name]));
  const summaries = (await store.confirmations.confirmationSummary(accountId, null, { limit: PROCESSES_SHOWN })).filter((s) => canSeeList(auth, s.listId));
  const failures = (await store.confirmations.confirmationFailures(accountId, null, { limit: 20 })).filter((f) => canSeeList(auth, f.listId));
  const current = deps.sends.current(accountId);
  const busy = current !== null;
  const live = busy || summaries.some((s) => s.sending > 0);
  const anything = summaries.some((s) => unsent(s) > 0 && (s.processStatus === 3 || s.processStatus === 4));
  return html`<section id="send-live"${live ? html` hx-get="${consoleUrl('/send/live')}" hx-trigger="every 1s" hx-swap="outerHTML"` : ''}>
${runReport(deps, current ?? deps.sends.lastRun(accountId), busy)}
<div class="page-head"><h2>Confirmation requests per import</h2>
  ${isAccountWide(auth) && anything ? html`<form method="post" action="${consoleUrl('/send')}">${csrfField(auth)}<button type="submit"${busy ? html` disabled` : ''}>Send Now: everything queued</button></form>` : ''}
</div>
<div class="table-wrap"><table>
  <thead><tr><th scope="col">Import</th><th scope="col">List</th><th scope="col">Import status</th><th class="num" scope="col">Requests</th>
    <th class="num" scope="col">Queued</th><th class="num" scope="col">Sent</th><th class="num" scope="col">Retrying</th><th class="num" scope="col">Failed</th>
    <th class="num" scope="col">Cancelled</th><th class="num" scope="col">Confirmed</th><th scope="col">Progress</th><th scope="col">ConfirmationSent</th>
    <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>${summaries.length === 0
    ? html`<tr><td colspan="13" class="empty">No import asked for confirmation yet (ConfirmEmail).</td></tr>`
    : summaries.map((s) => processRow(auth, s, lists.get(s.listId) ?? `list ${s.listId}`, busy))}</tbody>
</table></div>
${failures.length === 0 ? '' : html`<h3>Failed deliveries</h3>
<div class="table-wrap"><table>
  <thead><tr><th scope="col">Import</th><th scope="col">Recipient</th><th class="num" scope="col">Attempts</th><th scope="col">Error</th><th scope="col">Next attempt</th></tr></thead>
  <tbody>${failures.map((f) => html`<tr>
    <td>${f.processId === 0 ? 'a single subscribe' : html`<a href="${consoleUrl(`/imports/${f.processId}`)}">#${f.processId}</a>`}</td><td class="wrap">${f.email ?? ''}</td>
    <td class="num">${f.attempts}</td><td class="wrap">${f.error}</td>
    <td class="small">${f.permanent ? 'none (permanent failure)' : deps.formatTime(f.nextAttemptAt)}</td>
  </tr>`)}</tbody>
</table></div>`}
${outbox === null ? '' : html`<section class="card" aria-labelledby="outbox-title">
  <div class="page-head"><h2 id="outbox-title">Outbox</h2><a class="button secondary small" href="${consoleUrl('/send/outbox')}">All messages</a></div>
  ${outboxTable(deps, outbox.items)}
</section>`}
</section>`;
}

function outboxTable(deps: ConsoleDeps, messages: readonly { id: number; recipient: string; subject: string; createdAt: Date }[]): Html {
  return html`<div class="table-wrap"><table>
  <thead><tr><th scope="col">Written</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead>
  <tbody>${messages.length === 0 ? html`<tr><td colspan="3" class="empty">The outbox is empty.</td></tr>` : messages.map((m) => html`<tr>
    <td class="small">${deps.formatTime(m.createdAt)}</td>
    <td class="wrap"><a href="${consoleUrl(`/send/outbox/${m.id}`)}">${m.recipient}</a></td>
    <td>${m.subject}</td></tr>`)}</tbody>
</table></div>`;
}

export function registerSendRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store } = deps.ctx;
  const channel = deps.ctx.mail.mailer.channel;

  app.get('/send', async (request, reply) => {
    const auth = authOf(request);
    return sendHtml(reply, page({
      title: 'Send status', section: 'send', auth, notice: noticeOf(request),
      body: html`<div class="page-head"><div><h1>Send status</h1>
<p class="lead">An import with ConfirmEmail queues a confirmation request for each recipient it makes pending; nothing is
sent until you press Send Now. GetProcessDetails answers ConfirmationSent True once all of an import's requests are sent.</p></div></div>
<div class="card"><dl class="kv">
  <dt>Delivery</dt><dd>${channel === 'smtp'
    ? 'By SMTP (SMTP_URL).'
    : html`To the outbox: no SMTP server is configured (SMTP_URL), so every message is kept below instead of being sent.`}</dd>
</dl></div>
${await sendPanel(deps, auth)}`,
    }));
  });

  app.get('/send/live', async (request, reply) => sendHtml(reply, await sendPanel(deps, authOf(request))));

  async function start(request: FastifyRequest, processId: number | null): Promise<'started' | 'busy'> {
    const auth = authOf(request);
    const outcome = deps.sends.start(auth.account.id, processId);
    request.log.info({ accountId: auth.account.id, processId, user: auth.user.username, outcome }, 'Send Now from the console');
    return outcome;
  }

  app.post('/send', async (request, reply) => {
    if (!isAccountWide(authOf(request))) return notFound(reply);
    const outcome = await start(request, null);
    return redirectTo(reply, '/send', { notice: outcome === 'started' ? 'send-started' : 'send-busy' });
  });

  app.post('/send/:id', async (request, reply) => {
    const auth = authOf(request);
    const id = idParam(request.params, 'id');
    const p = id === null ? null : await store.processes.getProcess(auth.account.id, id);
    if (p === null || !canSeeList(auth, p.listId) || !p.options.ConfirmEmail) return notFound(reply);
    const outcome = await start(request, p.id);
    return redirectTo(reply, '/send', { notice: outcome === 'started' ? 'send-started' : 'send-busy' });
  });

  app.get('/send/outbox', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return notFound(reply);
    const older = idParam(request.query, 'older');
    const newer = older === null ? idParam(request.query, 'newer') : null;
    const result = await store.queries.outboxPage(auth.account.id, {
      limit: OUTBOX_PAGE, ...(older !== null ? { olderThan: older } : {}), ...(newer !== null ? { newerThan: newer } : {}),
    });
    return sendHtml(reply, page({
      title: 'Outbox', section: 'send', auth,
      body: html`<div class="page-head"><div><p class="small"><a href="${consoleUrl('/send')}">← Send status</a></p><h1>Outbox</h1>
<p class="lead">Messages Send Now wrote instead of sending them, newest first.${channel === 'smtp' ? ' (SMTP is configured now; these were written before.)' : ''}</p></div></div>
${outboxTable(deps, result.items)}
${pager(
  result.hasPrevious && result.items.length > 0 ? consoleUrl('/send/outbox', { newer: result.items[0]!.id }) : null,
  result.hasNext && result.items.length > 0 ? consoleUrl('/send/outbox', { older: result.items.at(-1)!.id }) : null,
  ['Newer', 'Older'],
)}`,
    }));
  });

  app.get('/send/outbox/:id', async (request, reply) => {
    const auth = authOf(request);
    const id = idParam(request.params, 'id');
    const m = id === null || !isAccountWide(auth) ? null : await store.queries.getOutboxMessage(auth.account.id, id);
    if (!m) return notFound(reply);
    return sendHtml(reply, page({
      title: m.subject, section: 'send', auth,
      body: html`<div class="page-head"><div><p class="small"><a href="${consoleUrl('/send/outbox')}">← Outbox</a></p><h1>${m.subject}</h1></div></div>
<section class="card"><dl class="kv">
  <dt>From</dt><dd>${m.sender}</dd><dt>To</dt><dd>${m.recipient}</dd><dt>Written</dt><dd>${deps.formatTime(m.createdAt)}</dd>
  <dt>Request</dt><dd>${m.requestId ?? '—'}</dd>
</dl></section>
<section class="card" aria-labelledby="text-title"><h2 id="text-title">Text</h2><pre class="code">${m.text}</pre></section>
<section class="card" aria-labelledby="html-title"><h2 id="html-title">HTML</h2>
  <p class="small muted">The HTML part, as source: it is not rendered here.</p><pre class="code">${m.html}</pre></section>`,
    }));
  });
}
