/**
 * The account's webhook endpoints (docs/webhooks.md): a page listing them with their delivery
 * counts and a form to add one (its signing secret is shown once, on the page that answers the
 * form); each endpoint's page shows its recent deliveries (event, import, status, attempts,
 * response) with a button to send one again; removing an endpoint asks for confirmation first.
 *
 * Like the REST clients, endpoints concern the whole account: only users who see every list may
 * open these pages. The rules are the core's (src/core/webhooks.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  addWebhook, listWebhooks, MAX_WEBHOOK_ENDPOINTS, MAX_WEBHOOK_URL_LENGTH, removeWebhook, resendWebhookDelivery, webhookDeliveries,
  type AddedWebhook,
} from '../core/webhooks.ts';
import { WEBHOOK_EVENTS, type DeliveryStatus } from '../model/webhook.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../store/webhooks.ts';
import type { ConsoleDeps } from './deps.ts';
import { html, type Html } from './html.ts';
import { badge, csrfField, page, sendHtml } from './layout.ts';
import { authOf, field, idParam, isAccountWide, notFound, noticeOf, redirectTo } from './request.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';

const EVENT_NOTES: Record<(typeof WEBHOOK_EVENTS)[number], string> = {
  'import.completed': 'an import ended with all its rows read',
  'import.failed': 'an import failed',
  'import.cancelled': 'an import was cancelled',
  'confirmations.sent': "an import's confirmation requests were all sent",
};

const STATUS_BADGES: Record<DeliveryStatus, { label: string; tone: string }> = {
  pending: { label: 'Pending', tone: 'info' },
  delivered: { label: 'Delivered', tone: 'ok' },
  given_up: { label: 'Given up', tone: 'bad' },
};

interface AddForm {
  readonly added?: AddedWebhook;
  readonly error?: string;
  readonly url?: string;
  readonly events?: readonly string[];
}

function restricted(reply: FastifyReply, auth: ConsoleAuth): FastifyReply {
  return sendHtml(reply, page({
    title: 'Webhooks', section: 'settings', auth,
    body: html`<div class="card"><h1>Webhooks</h1><p>Webhooks concern the whole account.
Only console users who may see every list of the account can open them.</p></div>`,
  }), 403);
}

/** The events of a form body: the ticked checkboxes (one value, several, or none). */
function formEvents(body: unknown): string[] {
  const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).events : undefined;
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

async function endpointsPage(deps: ConsoleDeps, request: FastifyRequest, reply: FastifyReply, auth: ConsoleAuth, form: AddForm = {}, status = 200): Promise<FastifyReply> {
  const endpoints = await listWebhooks(deps.ctx.store, auth.account.id);
  const chosen = form.events ?? [];
  return sendHtml(reply, page({
    title: 'Webhooks', section: 'settings', auth, notice: noticeOf(request),
    body: html`<div class="page-head"><div><p class="small"><a href="${consoleUrl('/settings')}">← Web services</a></p>
<h1>Webhooks</h1>
<p class="lead">The service POSTs a signed JSON message to these URLs when an import ends and when its confirmation requests have been sent
(<a href="https://www.standardwebhooks.com/">Standard Webhooks</a>: headers <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>).
Failed deliveries are retried, with growing pauses, for 24 hours by default.</p></div></div>
${form.added ? html`<section class="card" aria-labelledby="added-title">
  <div class="notice notice-ok" role="status" id="added-title">The endpoint was added. Copy its signing secret now: it is shown only this once.</div>
  <dl class="kv">
    <dt>URL</dt><dd><code>${form.added.endpoint.url}</code></dd>
    <dt>Signing secret</dt><dd><span class="copyable"><code id="new-webhook-secret">${form.added.secret}</code><button type="button" class="secondary small" data-copy="#new-webhook-secret">Copy</button></span></dd>
  </dl>
</section>` : ''}
<section class="card" aria-labelledby="endpoints-title">
  <h2 id="endpoints-title">Endpoints</h2>
  <div class="table-wrap"><table>
    <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Pending</th><th scope="col">Delivered</th><th scope="col">Given up</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${endpoints.length === 0 ? html`<tr><td colspan="6" class="empty">No webhook endpoints yet.</td></tr>` : endpoints.map((e) => html`<tr>
      <td class="wrap"><a href="${consoleUrl(`/webhooks/${e.id}`)}">${e.url}</a></td>
      <td>${e.events.join(', ')}</td>
      <td>${e.deliveries.pending}</td><td>${e.deliveries.delivered}</td><td>${e.deliveries.given_up}</td>
      <td><span class="actions"><a class="button secondary small" href="${consoleUrl(`/webhooks/${e.id}`)}">Deliveries<span class="visually-hidden"> of ${e.url}</span></a>
        <a class="button secondary small" href="${consoleUrl(`/webhooks/${e.id}/remove`)}">Remove…<span class="visually-hidden"> ${e.url}</span></a></span></td>
    </tr>`)}</tbody>
  </table></div>
  ${endpoints.length >= MAX_WEBHOOK_ENDPOINTS ? html`<p class="small muted">The account has ${MAX_WEBHOOK_ENDPOINTS} endpoints, the most it can have; remove one to add another.</p>` : html`<form class="form" method="post" action="${consoleUrl('/webhooks/add')}">
    ${csrfField(auth)}
    <div class="field">
      <label for="webhook-url">URL</label>
      <input type="text" inputmode="url" id="webhook-url" name="url" value="${form.url ?? ''}" maxlength="${MAX_WEBHOOK_URL_LENGTH}" placeholder="https://example.com/webhooks/mailup" required${form.error ? html` aria-invalid="true" aria-describedby="webhook-error"` : ''}>
      <span class="hint">https:// on any host; http:// only on this machine (127.0.0.1, ::1, localhost).</span>
      ${form.error ? html`<span class="error" id="webhook-error">${form.error}</span>` : ''}
    </div>
    <fieldset>
      <legend>Events <span class="muted small">(none ticked: all of them)</span></legend>
      ${WEBHOOK_EVENTS.map((e) => html`<div class="check"><input type="checkbox" id="event-${e.replace('.', '-')}" name="events" value="${e}"${chosen.includes(e) ? html` checked` : ''}>
        <label for="event-${e.replace('.', '-')}"><code>${e}</code> <span class="muted small">— ${EVENT_NOTES[e]}</span></label></div>`)}
    </fieldset>
    <div><button type="submit">Add an endpoint</button></div>
  </form>`}
</section>`,
  }), status);
}

function deliveryRow(auth: ConsoleAuth, endpoint: WebhookEndpoint, d: WebhookDelivery, formatTime: ConsoleDeps['formatTime']): Html {
  const s = STATUS_BADGES[d.status];
  const response = d.responseCode !== null ? String(d.responseCode) : d.lastError ?? '';
  return html`<tr>
    <td><code>${d.event}</code></td>
    <td>${d.processId === null ? '' : html`<a href="${consoleUrl(`/imports/${d.processId}`)}">#${d.processId}</a>`}</td>
    <td>${badge(s.label, s.tone)}</td>
    <td>${d.attempts}</td>
    <td class="wrap">${response}</td>
    <td>${formatTime(d.lastAttemptAt ?? d.createdAt)}${d.status === 'pending' && d.attempts > 0 ? html`<br><span class="small muted">next ${formatTime(d.nextAttemptAt)}</span>` : ''}</td>
    <td><form method="post" action="${consoleUrl(`/webhooks/${endpoint.id}/deliveries/${d.id}/resend`)}">${csrfField(auth)}
      <button type="submit" class="secondary small">Resend<span class="visually-hidden"> delivery ${d.id}</span></button></form></td>
  </tr>`;
}

export function registerWebhookRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store } = deps.ctx;

  app.get('/webhooks', async (request, reply) => {
    const auth = authOf(request);
    return isAccountWide(auth) ? endpointsPage(deps, request, reply, auth) : restricted(reply, auth);
  });

  app.post('/webhooks/add', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const url = field(request.body, 'url');
    const events = formEvents(request.body);
    const outcome = await addWebhook(store, auth.account.id, url, events);
    if (!outcome.ok) return endpointsPage(deps, request, reply, auth, { error: `${outcome.message[0]!.toUpperCase()}${outcome.message.slice(1)}.`, url, events }, 400);
    request.log.info({ accountId: auth.account.id, user: auth.user.username, endpointId: outcome.endpoint.id }, 'webhook endpoint added from the console');
    // The secret exists only in this answer: shown here rather than after a redirect.
    return endpointsPage(deps, request, reply, auth, { added: outcome });
  });

  app.get('/webhooks/:id', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const id = idParam(request.params, 'id');
    const found = id === null ? null : await webhookDeliveries(store, auth.account.id, id);
    if (found === null) return notFound(reply);
    const { endpoint, deliveries } = found;
    return sendHtml(reply, page({
      title: `Webhook ${endpoint.url}`, section: 'settings', auth, notice: noticeOf(request),
      body: html`<div class="page-head"><div><p class="small"><a href="${consoleUrl('/webhooks')}">← Webhooks</a></p>
<h1>Webhook deliveries</h1>
<dl class="kv"><dt>URL</dt><dd><code>${endpoint.url}</code></dd><dt>Events</dt><dd>${endpoint.events.join(', ')}</dd><dt>Added</dt><dd>${deps.formatTime(endpoint.createdAt)}</dd></dl></div>
<div class="actions"><a class="button secondary" href="${consoleUrl(`/webhooks/${endpoint.id}/remove`)}">Remove…</a></div></div>
<section class="card" aria-labelledby="deliveries-title">
  <h2 id="deliveries-title">Recent deliveries</h2>
  <div class="table-wrap"><table>
    <thead><tr><th scope="col">Event</th><th scope="col">Import</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Response</th><th scope="col">Time</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${deliveries.length === 0 ? html`<tr><td colspan="7" class="empty">No deliveries yet.</td></tr>` : deliveries.map((d) => deliveryRow(auth, endpoint, d, deps.formatTime))}</tbody>
  </table></div>
  <p class="small muted">Resend sends a delivery again with the same <code>webhook-id</code> and body; its retries start over.</p>
</section>`,
    }));
  });

  app.post('/webhooks/:id/deliveries/:deliveryId/resend', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const id = idParam(request.params, 'id');
    const deliveryId = idParam(request.params, 'deliveryId');
    const endpoint = id === null ? null : await store.webhooks.getEndpoint(auth.account.id, id);
    if (endpoint === null || deliveryId === null) return notFound(reply);
    const resent = await resendWebhookDelivery(store, auth.account.id, deliveryId);
    if (resent) request.log.info({ accountId: auth.account.id, user: auth.user.username, deliveryId }, 'webhook delivery resent from the console');
    return redirectTo(reply, `/webhooks/${endpoint.id}`, { notice: resent ? 'webhook-resent' : 'webhook-resend-refused' });
  });

  app.get('/webhooks/:id/remove', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const id = idParam(request.params, 'id');
    const endpoint = id === null ? null : await store.webhooks.getEndpoint(auth.account.id, id);
    if (endpoint === null) return notFound(reply);
    return sendHtml(reply, page({
      title: 'Remove a webhook endpoint', section: 'settings', auth,
      body: html`<div class="page-head"><div><p class="small"><a href="${consoleUrl('/webhooks')}">← Webhooks</a></p>
<h1>Remove a webhook endpoint</h1></div></div>
<section class="card">
  <p>Remove the endpoint <code class="wrap">${endpoint.url}</code>? Its deliveries are removed with it: those still pending are not sent. This cannot be undone.</p>
  <form method="post" action="${consoleUrl(`/webhooks/${endpoint.id}/remove`)}">${csrfField(auth)}
    <button type="submit" class="danger">Remove the endpoint</button>
    <a class="button secondary" href="${consoleUrl('/webhooks')}">Back</a></form>
</section>`,
    }));
  });

  app.post('/webhooks/:id/remove', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const id = idParam(request.params, 'id');
    if (id === null || !await removeWebhook(store, auth.account.id, id)) return redirectTo(reply, '/webhooks', { notice: 'webhook-unknown' });
    request.log.info({ accountId: auth.account.id, user: auth.user.username, endpointId: id }, 'webhook endpoint removed from the console');
    return redirectTo(reply, '/webhooks', { notice: 'webhook-removed' });
  });
}
