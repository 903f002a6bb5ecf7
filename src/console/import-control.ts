/**
 * Cancelling and starting imports from the console. The process page and the imports list link
 * to a confirmation page (GET), whose form (POST, CSRF-checked like every console form) does it
 * through the core (src/core/import-control.ts) and goes back to the process page with a notice.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { cancelImport, CONTROL_REFUSAL_TEXT, startWaitingImport } from '../core/import-control.ts';
import type { ImportContext } from '../core/imports.ts';
import { rowsMergedOf, type ImportProcess } from '../model/records.ts';
import type { ConsoleDeps } from './deps.ts';
import { formatCount } from './format.ts';
import { html, type Html } from './html.ts';
import { csrfField, page, sendHtml } from './layout.ts';
import { authOf, canSeeList, idParam, notFound, redirectTo } from './request.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';

type Action = 'cancel' | 'start';

/** What a process can be asked to do now: cancelled while it waits or runs, started while it waits for its start. */
export function actionsOf(p: Pick<ImportProcess, 'status' | 'queued'>): Action[] {
  const actions: Action[] = [];
  if (p.status === 1 && !p.queued) actions.push('start');
  if (p.status === 1 || p.status === 2) actions.push('cancel');
  return actions;
}

const LABELS: Record<Action, string> = { cancel: 'Cancel…', start: 'Start…' };

/** Links to the confirmation pages of what the process can be asked to do; empty when nothing. */
export function controlLinks(p: ImportProcess, options: { small?: boolean } = {}): Html {
  const actions = actionsOf(p);
  if (actions.length === 0) return html``;
  const size = options.small ? ' small' : '';
  return html`<span class="actions import-actions">${actions.map((a) => html`<a class="button secondary${size}" href="${consoleUrl(`/imports/${p.id}/${a}`)}">${LABELS[a]}</a>`)}</span>`;
}

function confirmText(p: ImportProcess, action: Action): Html {
  if (action === 'start') {
    return html`<p>Start import #${p.id} of ${formatCount(p.totalContacts)} rows? When the account runs another import, it waits its turn behind it.</p>`;
  }
  return html`<p>Cancel import #${p.id}? ${p.status === 2
    ? html`The rows merged so far (${formatCount(rowsMergedOf(p))} of ${formatCount(p.totalContacts)}) stay merged; the rest are not imported.`
    : 'None of its rows are imported.'} The imports started with it that still wait are cancelled too. It ends as failed (status 4), with the reason “cancelled by” and your user name. This cannot be undone.</p>`;
}

function confirmPage(reply: FastifyReply, auth: ConsoleAuth, p: ImportProcess, action: Action, problem: string | null, status = 200): FastifyReply {
  const verb = action === 'cancel' ? 'Cancel' : 'Start';
  return sendHtml(reply, page({
    title: `${verb} import #${p.id}`, section: 'imports', auth,
    notice: problem === null ? null : { tone: 'bad', text: problem },
    body: html`<div class="page-head"><div>
  <p class="small"><a href="${consoleUrl(`/imports/${p.id}`)}">← Import #${p.id}</a></p>
  <h1>${verb} import #${p.id}</h1></div></div>
<section class="card">
  ${problem === null ? confirmText(p, action) : ''}
  ${problem === null && actionsOf(p).includes(action) ? html`<form method="post" action="${consoleUrl(`/imports/${p.id}/${action}`)}">${csrfField(auth)}
    <button type="submit"${action === 'cancel' ? html` class="danger"` : ''}>${verb} import #${p.id}</button>
    <a class="button secondary" href="${consoleUrl(`/imports/${p.id}`)}">Back</a></form>` : html`<p><a href="${consoleUrl(`/imports/${p.id}`)}">Back to import #${p.id}</a></p>`}
</section>`,
  }), status);
}

export function registerImportControlRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const control: ImportContext = { store: deps.ctx.store, wakeWorkers: () => deps.ctx.operations.wakeWorkers() };

  /** The process the URL names, when the signed-in user may see its list. */
  async function target(auth: ConsoleAuth, params: unknown): Promise<ImportProcess | null> {
    const id = idParam(params, 'id');
    const p = id === null ? null : await deps.ctx.store.processes.getProcess(auth.account.id, id);
    return p !== null && canSeeList(auth, p.listId) ? p : null;
  }

  for (const action of ['cancel', 'start'] as const) {
    app.get(`/imports/:id/${action}`, async (request, reply) => {
      const auth = authOf(request);
      const p = await target(auth, request.params);
      if (!p) return notFound(reply);
      const problem = actionsOf(p).includes(action) ? null
        : action === 'cancel' ? CONTROL_REFUSAL_TEXT.finished
        : p.queued ? CONTROL_REFUSAL_TEXT['already-queued'] : CONTROL_REFUSAL_TEXT['not-waiting'];
      return confirmPage(reply, auth, p, action, problem);
    });
  }

  app.post('/imports/:id/cancel', async (request, reply) => {
    const auth = authOf(request);
    const p = await target(auth, request.params);
    if (!p) return notFound(reply);
    const outcome = await cancelImport(control, auth.account.id, p.id, auth.user.username);
    if (!outcome.ok) {
      if (outcome.reason === 'not-found') return notFound(reply);
      return confirmPage(reply, auth, p, 'cancel', CONTROL_REFUSAL_TEXT[outcome.reason], 409);
    }
    request.log.info({ accountId: auth.account.id, user: auth.user.username, cancelled: outcome.cancelled }, 'import cancelled from the console');
    return redirectTo(reply, `/imports/${p.id}`, { notice: outcome.cancelled.length > 1 ? 'import-run-cancelled' : 'import-cancelled' });
  });

  app.post('/imports/:id/start', async (request, reply) => {
    const auth = authOf(request);
    const p = await target(auth, request.params);
    if (!p) return notFound(reply);
    const outcome = await startWaitingImport(control, auth.account.id, p.id);
    if (!outcome.ok) {
      if (outcome.reason === 'not-found') return notFound(reply);
      return confirmPage(reply, auth, p, 'start', CONTROL_REFUSAL_TEXT[outcome.reason], 409);
    }
    request.log.info({ accountId: auth.account.id, user: auth.user.username, started: p.id, queued: outcome.queued }, 'import started from the console');
    return redirectTo(reply, `/imports/${p.id}`, { notice: outcome.queued ? 'import-queued' : 'import-started' });
  });
}
