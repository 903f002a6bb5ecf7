/**
 * The account's REST API clients (MailUp's Settings > Developer's corner > API keys): the REST
 * base and token URLs, the clients with their ids, a form to add one (its secret is shown once,
 * on the page that answers the form) and a button to remove one (its tokens stop working).
 *
 * Like the web-service settings, this concerns the whole account: only users who see every list
 * may open it. The rules are the core's (src/core/rest-clients.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isGuid } from '../core/lists.ts';
import { addRestClient, listRestClients, MAX_REST_CLIENT_NAME, removeRestClient, type NewClient } from '../core/rest-clients.ts';
import type { ConsoleDeps } from './deps.ts';
import { html } from './html.ts';
import { csrfField, page, sendHtml } from './layout.ts';
import { authOf, field, isAccountWide, noticeOf, redirectTo } from './request.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';

/** Where the REST API and its token endpoint answer on this server (src/rest/ serves them). */
const REST_API_PATH = '/API/v1.1/Rest/ConsoleService.svc';
const OAUTH_TOKEN_PATH = '/Authorization/OAuth/Token';

interface RestClientForms {
  /** A client just added, with its secret: shown once. */
  readonly added?: NewClient;
  readonly error?: string;
  readonly name?: string;
}

function restricted(reply: FastifyReply, auth: ConsoleAuth): FastifyReply {
  return sendHtml(reply, page({
    title: 'REST API clients', section: 'settings', auth,
    body: html`<div class="card"><h1>REST API clients</h1><p>REST API clients concern the whole account.
Only console users who may see every list of the account can open them.</p></div>`,
  }), 403);
}

async function clientsPage(deps: ConsoleDeps, request: FastifyRequest, reply: FastifyReply, auth: ConsoleAuth, forms: RestClientForms = {}, status = 200): Promise<FastifyReply> {
  const clients = await listRestClients(deps.ctx.store, auth.account.id);
  const base = `${request.protocol}://${request.host}`;
  const formatTime = deps.formatTime;
  return sendHtml(reply, page({
    title: 'REST API clients', section: 'settings', auth, notice: noticeOf(request),
    body: html`<div class="page-head"><div><p class="small"><a href="${consoleUrl('/settings')}">← Web services</a></p>
<h1>REST API clients</h1>
<p class="lead">Programs calling MailUp's REST API name themselves with a client id and secret, then log in with the WS user <code>${auth.account.wsUser}</code> and its password.</p></div></div>
<section class="card"><dl class="kv">
  <dt>REST API</dt><dd><span class="copyable"><code id="rest-base">${base}${REST_API_PATH}</code><button type="button" class="secondary small" data-copy="#rest-base">Copy</button></span></dd>
  <dt>OAuth token</dt><dd><span class="copyable"><code id="rest-token">${base}${OAUTH_TOKEN_PATH}</code><button type="button" class="secondary small" data-copy="#rest-token">Copy</button></span></dd>
</dl></section>
${forms.added ? html`<section class="card" aria-labelledby="added-title">
  <div class="notice notice-ok" role="status" id="added-title">The REST client was added. Copy its secret now: it is shown only this once.</div>
  <dl class="kv">
    <dt>Client id</dt><dd><span class="copyable"><code id="new-client-id">${forms.added.client.clientId}</code><button type="button" class="secondary small" data-copy="#new-client-id">Copy</button></span></dd>
    <dt>Client secret</dt><dd><span class="copyable"><code id="new-client-secret">${forms.added.secret}</code><button type="button" class="secondary small" data-copy="#new-client-secret">Copy</button></span></dd>
  </dl>
</section>` : ''}
<section class="card" aria-labelledby="clients-title">
  <h2 id="clients-title">Clients</h2>
  <div class="table-wrap"><table>
    <thead><tr><th scope="col">Name</th><th scope="col">Client id</th><th scope="col">Added</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${clients.length === 0 ? html`<tr><td colspan="4" class="empty">No REST clients yet.</td></tr>` : clients.map((c) => html`<tr>
      <td>${c.name === '' ? html`<span class="muted">—</span>` : c.name}</td>
      <td><code>${c.clientId}</code></td>
      <td>${formatTime(c.createdAt)}</td>
      <td><form method="post" action="${consoleUrl('/settings/rest/remove')}">${csrfField(auth)}
        <input type="hidden" name="clientId" value="${c.clientId}">
        <button type="submit" class="secondary small">Remove<span class="visually-hidden"> ${c.clientId}</span></button></form></td>
    </tr>`)}</tbody>
  </table></div>
  <form class="form-inline" method="post" action="${consoleUrl('/settings/rest/add')}">
    ${csrfField(auth)}
    <div class="field">
      <label for="client-name">New client's name <span class="muted small">(optional)</span></label>
      <input type="text" id="client-name" name="name" value="${forms.name ?? ''}" maxlength="${MAX_REST_CLIENT_NAME}"${forms.error ? html` aria-invalid="true" aria-describedby="client-error"` : ''}>
      ${forms.error ? html`<span class="error" id="client-error">${forms.error}</span>` : ''}
    </div>
    <button type="submit">Add a REST client</button>
  </form>
  <p class="small muted">Removing a client ends the tokens it was given at once. Changing the WS password or disabling the account ends every token of the account.</p>
</section>`,
  }), status);
}

export function registerRestClientRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store } = deps.ctx;

  app.get('/settings/rest', async (request, reply) => {
    const auth = authOf(request);
    return isAccountWide(auth) ? clientsPage(deps, request, reply, auth) : restricted(reply, auth);
  });

  app.post('/settings/rest/add', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const name = field(request.body, 'name');
    const outcome = await addRestClient(store, auth.account.id, name);
    if (!outcome.ok) {
      const error = outcome.reason === 'name-too-long' ? `A name can have at most ${MAX_REST_CLIENT_NAME} characters.` : 'A name cannot hold control characters.';
      return clientsPage(deps, request, reply, auth, { error, name }, 400);
    }
    request.log.info({ accountId: auth.account.id, user: auth.user.username, clientId: outcome.client.clientId }, 'REST client added from the console');
    // The secret exists only in this answer: shown here rather than after a redirect.
    return clientsPage(deps, request, reply, auth, { added: outcome });
  });

  app.post('/settings/rest/remove', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const clientId = field(request.body, 'clientId');
    const outcome = isGuid(clientId) ? await removeRestClient(store, auth.account.id, clientId) : { ok: false as const };
    if (!outcome.ok) return redirectTo(reply, '/settings/rest', { notice: 'rest-client-unknown' });
    request.log.info({ accountId: auth.account.id, user: auth.user.username, clientId }, 'REST client removed from the console');
    return redirectTo(reply, '/settings/rest', { notice: 'rest-client-removed' });
  });
}
