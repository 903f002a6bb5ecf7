/**
 * Import status (MailUp's console "Import status", spec §14): the account's processes, newest
 * first, a page at a time; the running one updates live (an htmx poll of a fragment every
 * second: rows merged, rows/s, percent, time left). A process page shows every GetProcessDetails
 * field, the options the import ran with, the failure reason, and the reject report as a table
 * and as a CSV download.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RESULT_BUILDERS } from '../protocol/operation-results.ts';
import type { ProcessStatusFilter } from '../store/queries.ts';
import type { ImportProcess, ListWithGroups, ProcessWithQueue } from '../model/records.ts';
import type { ConsoleDeps } from './deps.ts';
import { authOf, canSeeList, field, idParam, noticeOf, notFound, visibleListIds } from './request.ts';
import { fieldNumbersOf, readRejectedRow } from '../import/rejected-row.ts';
import { sendCsv } from './csv.ts';
import { formatCount, formatDuration, IMPORT_TYPES, PROCESS_STATUS, waitingNote } from './format.ts';
import { html, type Html } from './html.ts';
import { badge, page, pager, progressBar, sendHtml } from './layout.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';
import { controlLinks, registerImportControlRoutes } from './import-control.ts';
import { wasCancelled } from '../core/import-control.ts';
import { processProgress } from '../core/progress.ts';
import { listRuns, runIdOf, runOfProcess } from '../core/runs.ts';
import { liveRun, runList } from './runs.ts';
import { REJECT_COLUMNS, rejectReportCsvLines, rejectValues } from '../core/reject-report.ts';

const PAGE_SIZE = 25;
const REJECTS_PER_PAGE = 100;
const RUNS_PER_PAGE = 10;

const FILTERS: readonly { readonly id: ProcessStatusFilter; readonly label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'waiting', label: 'Waiting' },
  { id: 'running', label: 'Running' },
  { id: 'completed', label: 'Completed' },
  { id: 'failed', label: 'Failed' },
];

type ListNames = ReadonlyMap<number, ListWithGroups>;

async function listsOf(deps: ConsoleDeps, auth: ConsoleAuth): Promise<ListNames> {
  return new Map((await deps.ctx.store.lists.listLists(auth.account.id, visibleListIds(auth))).map((l) => [l.id, l]));
}

const listName = (lists: ListNames, id: number): string => lists.get(id)?.name ?? `list ${id}`;

/** The state's badge; a waiting process says what it waits for (its start, or its turn). */
function statusBadge(p: ImportProcess): Html {
  const s = PROCESS_STATUS[p.status];
  const note = waitingNote(p);
  return html`${badge(s.label, s.tone)}${note === '' ? '' : html` <span class="small muted waiting-for">${note}</span>`}`;
}

/** The confirmation column: nothing asked, still queued, or sent (ConfirmationSent). */
function confirmationCell(p: ProcessWithQueue): Html {
  if (!p.options.ConfirmEmail) return html`<span class="muted">—</span>`;
  if (p.confirmationSentAt !== null) return badge('Sent', 'ok');
  return p.confirmationsPending > 0 ? badge(`${formatCount(p.confirmationsPending)} queued`, 'warn') : badge('Not sent', 'neutral');
}

function processRow(deps: ConsoleDeps, lists: ListNames, p: ProcessWithQueue): Html {
  const progress = processProgress(p, deps.now());
  const c = p.counters;
  return html`<tr>
  <td><a href="${consoleUrl(`/imports/${p.id}`)}">#${p.id}</a></td>
  <td>${listName(lists, p.listId)}</td>
  <td>${statusBadge(p)} ${controlLinks(p, { small: true })}</td>
  <td class="num">${formatCount(p.totalContacts)}</td>
  <td><div class="progress-cell">${progressBar(progress.percent, `Import ${p.id}`)}<span class="small muted">${progress.percent} %</span></div></td>
  <td class="num">${formatCount(c.newEmail)}</td><td class="num">${formatCount(c.existingEmail)}</td><td class="num">${formatCount(c.optOutEmail)}</td>
  <td class="num">${formatCount(c.newMobile)}</td><td class="num">${formatCount(c.existingMobile)}</td><td class="num">${formatCount(c.optOutMobile)}</td>
  <td class="num">${p.rejected > 0 ? html`<a href="${consoleUrl(`/imports/${p.id}/rejects`)}">${formatCount(p.rejected)}</a>` : '0'}</td>
  <td>${confirmationCell(p)}</td>
  <td class="small when">${p.endDate !== null
    ? html`<span class="muted">ended</span> ${deps.formatTime(p.endDate)}`
    : p.startDate !== null ? html`<span class="muted">started</span> ${deps.formatTime(p.startDate)}` : html`<span class="muted">created</span> ${deps.formatTime(p.createdAt)}`}</td>
</tr>`;
}

function processTable(deps: ConsoleDeps, lists: ListNames, processes: readonly ProcessWithQueue[], empty: string): Html {
  // The six counters of GetProcessDetails, each in its column: e-mail and SMS are never added up.
  const counterHeads = html`<th class="num sub" scope="col">new</th><th class="num sub" scope="col">existing</th><th class="num sub" scope="col">opted out</th>`;
  return html`<div class="table-wrap"><table class="processes">
  <thead><tr>
    <th scope="col" rowspan="2">Process</th><th scope="col" rowspan="2">List</th><th scope="col" rowspan="2">Status</th><th class="num" scope="col" rowspan="2">Rows</th>
    <th scope="col" rowspan="2">Progress</th><th class="group" scope="colgroup" colspan="3">E-mail</th><th class="group" scope="colgroup" colspan="3">SMS</th>
    <th class="num" scope="col" rowspan="2">Rejected</th><th scope="col" rowspan="2">Confirmation</th><th scope="col" rowspan="2">When</th>
  </tr>
  <tr>${counterHeads}${counterHeads}</tr></thead>
  <tbody>${processes.length === 0 ? html`<tr><td colspan="14" class="empty">${empty}</td></tr>` : processes.map((p) => processRow(deps, lists, p))}</tbody>
</table></div>`;
}

function stat(value: string, label: string, id?: string): Html {
  return html`<div class="stat"><span class="n"${id ? html` id="${id}"` : ''}>${value}</span><span class="l">${label}</span></div>`;
}

/** Rows merged, rate, time left and the six counters of a process. */
function progressDetails(deps: ConsoleDeps, p: ImportProcess): Html {
  const progress = processProgress(p, deps.now());
  const c = p.counters;
  const rate = progress.rowsPerSecond === null ? '—' : formatCount(Math.round(progress.rowsPerSecond));
  const left = progress.remainingMs === null ? '—' : formatDuration(progress.remainingMs);
  return html`${progressBar(progress.percent, `Import ${p.id} progress`)}
<div class="stats">
  ${stat(`${formatCount(progress.rowsMerged)} / ${formatCount(progress.totalRows)}`, 'rows merged')}
  ${stat(rate, 'rows per second')}
  ${stat(p.status === 2 ? left : '—', 'time left (estimate)')}
  ${stat(progress.elapsedMs === null ? '—' : formatDuration(progress.elapsedMs), 'elapsed')}
  ${stat(formatCount(p.rejected), 'rejected rows')}
</div>
<div class="stats">
  ${stat(formatCount(c.newEmail), 'new e-mail')}
  ${stat(formatCount(c.existingEmail), 'existing e-mail')}
  ${stat(formatCount(c.optOutEmail), 'opted out e-mail')}
  ${stat(formatCount(c.newMobile), 'new SMS')}
  ${stat(formatCount(c.existingMobile), 'existing SMS')}
  ${stat(formatCount(c.optOutMobile), 'opted out SMS')}
</div>`;
}

/**
 * The live panel of the status page: the run of the running process, or of the last one that
 * finished; a run of several processes shows its totals (src/console/runs.ts), a run of one the
 * process as before. It polls itself; when what it shows changes (a process started or finished)
 * it tells the page, whose run list and process table then reload themselves.
 */
async function livePanel(deps: ConsoleDeps, auth: ConsoleAuth, lists: ListNames): Promise<{ markup: Html; state: string }> {
  const { store } = deps.ctx;
  const listIds = visibleListIds(auth);
  const running = (await store.queries.consoleProcesses(auth.account.id, { status: 'running', listIds, limit: 1 })).items[0] ?? null;
  const waitingItems = (await store.queries.consoleProcesses(auth.account.id, { status: 'waiting', listIds, limit: 100 })).items;
  const recent = running ? [] : (await store.queries.consoleProcesses(auth.account.id, { status: 'all', listIds, limit: 10 })).items;
  const last = recent.find((p) => p.status === 3 || p.status === 4) ?? null;
  const shown = running ?? last;
  const run = shown === null ? null : await runOfProcess(store, auth.account.id, shown, { listIds, now: deps.now() });
  const manyRun = run !== null && run.processes.length > 1 ? run : null;
  // The run's own waiting processes are told inside the run; this line counts the others.
  const others = waitingItems.filter((p) => manyRun === null || runIdOf(p) !== manyRun.id);
  const waiting = others.length;
  const inLine = others.filter((p) => p.queued).length;
  const state = `${running?.id ?? 0}.${last?.id ?? 0}.${waitingItems.length}`;
  const waitingParts = [inLine > 0 ? `${formatCount(inLine)} in line after ${manyRun ? 'this run' : 'the running import'}` : '', waiting > inLine ? `${formatCount(waiting - inLine)} not started` : '']
    .filter((part) => part !== '');
  const waitingLine = waiting === 0 ? '' : html`<p class="small muted">${waitingItems.length === 100 ? '100 or more' : formatCount(waiting)} ${manyRun ? 'other imports ' : ''}waiting: ${waitingParts.join(', ')}.</p>`;
  let content: Html;
  if (shown === null) {
    content = html`<h2>No import is running</h2><p class="muted">Imports started over the web service appear here while they run.</p>`;
  } else {
    const title = running ? 'Running now' : PROCESS_STATUS[shown.status].label;
    const percent = manyRun ? manyRun.percent : processProgress(shown, deps.now()).percent;
    const ended = manyRun ? manyRun.endDate : shown.endDate;
    content = html`<div class="live-head">
  <h2>${title}: ${manyRun
    ? html`run #${manyRun.id} · ${formatCount(manyRun.processes.length)} imports`
    : html`<a href="${consoleUrl(`/imports/${shown.id}`)}">import #${shown.id}</a> · ${listName(lists, shown.listId)}`}</h2>
  <span class="percent" data-testid="live-percent">${percent} %</span>
</div>
${running ? '' : html`<p class="small muted">Ended ${deps.formatTime(ended ?? shown.endDate)}. No import is running.</p>`}
${manyRun ? liveRun(deps, lists, manyRun, running) : progressDetails(deps, shown)}
${running ? html`<div class="actions live-actions">${controlLinks(running)}</div>` : ''}`;
  }
  const markup = html`<section class="card live" id="live" hx-get="${consoleUrl('/imports/live', { state })}" hx-trigger="every 1s" hx-swap="outerHTML">
${content}
${waitingLine}
</section>`;
  return { markup, state };
}

function pageLinks(filter: ProcessStatusFilter, items: readonly ImportProcess[], hasPrevious: boolean, hasNext: boolean): Html {
  const status = filter === 'all' ? null : filter;
  return pager(
    hasPrevious && items.length > 0 ? consoleUrl('/imports', { status, newer: items[0]!.id }) : null,
    hasNext && items.length > 0 ? consoleUrl('/imports', { status, older: items.at(-1)!.id }) : null,
    ['Newer', 'Older'],
  );
}

/** Newer and older runs; plain links (rel="prev"/"next" belong to the process table's pages). */
function runPager(offset: number, hasOlder: boolean): Html {
  if (offset === 0 && !hasOlder) return html``;
  return html`<nav class="pager" aria-label="Runs">
  ${offset > 0 ? html`<a href="${consoleUrl('/imports', { runs: offset > RUNS_PER_PAGE ? offset - RUNS_PER_PAGE : null })}">← Newer runs</a>` : html`<span class="disabled">← Newer runs</span>`}
  ${hasOlder ? html`<a href="${consoleUrl('/imports', { runs: offset + RUNS_PER_PAGE })}">Older runs →</a>` : html`<span class="disabled">Older runs →</span>`}
</nav>`;
}

async function findProcess(deps: ConsoleDeps, request: FastifyRequest): Promise<ProcessWithQueue | null> {
  const auth = authOf(request);
  const id = idParam(request.params, 'id');
  const p = id === null ? null : await deps.ctx.store.processes.getProcess(auth.account.id, id);
  if (p === null || !canSeeList(auth, p.listId)) return null;
  return { ...p, confirmationsPending: await deps.ctx.store.confirmations.pendingConfirmations(auth.account.id, p.id) };
}


/** GetProcessDetails exactly as the web service answers it, and its fields as name/value pairs. */
function processDetailsResult(deps: ConsoleDeps, p: ImportProcess): { document: string; fields: [string, string][] } {
  const document = RESULT_BUILDERS.GetProcessDetails({ process: p }, { formatDate: deps.ctx.formatDate });
  const body = /<ImportProcess[^>]*>([\s\S]*)<\/ImportProcess>/.exec(document)?.[1] ?? '';
  const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return { document, fields: [...body.matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map((m) => [m[1]!, unescape(m[2]!)]) };
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

function optionsCard(p: ImportProcess, lists: ListNames): Html {
  const o = p.options;
  const list = lists.get(p.listId);
  const groupName = (id: number): string => list?.groups.find((g) => g.id === id)?.name ?? `group ${id}`;
  return html`<section class="card" aria-labelledby="options-title">
  <h2 id="options-title">Options it ran with</h2>
  <dl class="kv">
    <dt>List</dt><dd><a href="${consoleUrl(`/lists/${p.listId}`)}">${listName(lists, p.listId)}</a> <span class="muted">(idList ${p.listId})</span></dd>
    <dt>Groups</dt><dd>${o.groupIds.length === 0 ? html`<span class="muted">none</span>` : o.groupIds.map((id, i) => html`${i > 0 ? ', ' : ''}${groupName(id)} <span class="muted">(${id})</span>`)}</dd>
    <dt>importType</dt><dd>${o.importType} <span class="muted">— ${IMPORT_TYPES[o.importType] ?? 'unknown'}</span></dd>
    <dt>mobileInputType</dt><dd>${o.mobileInputType} <span class="muted">— ${o.mobileInputType === 2 ? 'country code in Prefix' : 'country code inside Number'}</span></dd>
    <dt>asPending</dt><dd>${yesNo(o.asPending)}</dd>
    <dt>ConfirmEmail</dt><dd>${yesNo(o.ConfirmEmail)}</dd>
    <dt>asOptOut</dt><dd>${yesNo(o.asOptOut)}</dd>
    <dt>forceOptIn</dt><dd>${yesNo(o.forceOptIn)}</dd>
    <dt>replaceGroups</dt><dd>${yesNo(o.replaceGroups)}</dd>
    <dt>idConfirmNL</dt><dd>${o.idConfirmNL}${o.idConfirmNL === 0 ? html` <span class="muted">— the account's default confirmation message</span>` : ''}</dd>
  </dl>
</section>`;
}

/** The columns of a rejected row as the feed sent it: the subscriber's attributes, then its campoN. */

/** Rejected rows with their number, the reason, and the row as sent in its columns. */
function rejectTable(rows: readonly { row: number; reason: string; raw: string }[]): Html {
  const read = rows.map((r) => ({ ...r, values: readRejectedRow(r.raw) }));
  const fieldNumbers = fieldNumbersOf(read.map((r) => r.values));
  const columns = 2 + REJECT_COLUMNS.length + fieldNumbers.length;
  return html`<div class="table-wrap"><table>
  <thead><tr><th class="num" scope="col">Row</th><th scope="col">Reason</th>${REJECT_COLUMNS.map((c) => html`<th scope="col">${c}</th>`)}${
    fieldNumbers.map((n) => html`<th scope="col">campo${n}</th>`)}</tr></thead>
  <tbody>${read.length === 0
    ? html`<tr><td colspan="${columns}" class="empty">No rows were rejected.</td></tr>`
    : read.map((r) => html`<tr><td class="num">${r.row}</td><td>${r.reason}</td>${
      rejectValues(r.values, fieldNumbers).map((v) => html`<td class="wrap mono">${v}</td>`)}</tr>`)}</tbody>
</table></div>`;
}

/** The progress part of a process page; it polls itself while the process runs and reloads the page when it ends. */
function progressSection(deps: ConsoleDeps, p: ImportProcess): Html {
  const polling = p.status === 1 || p.status === 2;
  const progress = processProgress(p, deps.now());
  return html`<section class="card live" id="progress"${polling
    ? html` hx-get="${consoleUrl(`/imports/${p.id}/progress`, { was: p.status })}" hx-trigger="every 1s" hx-swap="outerHTML"`
    : ''}>
  <div class="live-head"><h2>Progress</h2><span class="percent" data-testid="process-percent">${progress.percent} %</span></div>
  ${progressDetails(deps, p)}
</section>`;
}

export function registerImportRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store } = deps.ctx;
  registerImportControlRoutes(app, deps);

  app.get('/imports', async (request, reply) => {
    const auth = authOf(request);
    const requested = field(request.query, 'status');
    const filter = FILTERS.find((f) => f.id === requested)?.id ?? 'all';
    const older = idParam(request.query, 'older');
    const newer = older === null ? idParam(request.query, 'newer') : null;
    const lists = await listsOf(deps, auth);
    const result = await store.queries.consoleProcesses(auth.account.id, {
      status: filter, listIds: visibleListIds(auth), limit: PAGE_SIZE,
      ...(older !== null ? { olderThan: older } : {}), ...(newer !== null ? { newerThan: newer } : {}),
    });
    const live = await livePanel(deps, auth, lists);
    const runsOffset = Math.min(idParam(request.query, 'runs') ?? 0, 100_000);
    const runs = await listRuns(store, auth.account.id, { limit: RUNS_PER_PAGE + 1, offset: runsOffset }, { listIds: visibleListIds(auth), now: deps.now() });
    return sendHtml(reply, page({
      title: 'Import status', section: 'imports', auth, notice: noticeOf(request),
      body: html`<div class="page-head"><div><h1>Import status</h1>
<p class="lead">Imports waiting, running and completed, newest first. The running import updates live.</p></div></div>
${live.markup}
<section class="card" id="runs" hx-get="${request.url}" hx-select="#runs" hx-trigger="imports-changed from:body" hx-swap="outerHTML" aria-labelledby="runs-title">
  <h2 id="runs-title">Runs</h2>
  <p class="small muted">The imports one start set going together, as one line each: open a run for its imports.</p>
  ${runList(deps, lists, runs.slice(0, RUNS_PER_PAGE), 'No imports yet.')}
  ${runPager(runsOffset, runs.length > RUNS_PER_PAGE)}
</section>
<section id="processes" hx-get="${request.url}" hx-select="#processes" hx-trigger="imports-changed from:body" hx-swap="outerHTML" aria-labelledby="processes-title">
  <h2 id="processes-title" class="visually-hidden">Processes</h2>
  <ul class="tabs" aria-label="Filter by status">${FILTERS.map((f) => html`<li><a href="${consoleUrl('/imports', { status: f.id === 'all' ? null : f.id })}"${f.id === filter ? html` aria-current="page"` : ''}>${f.label}</a></li>`)}</ul>
  ${processTable(deps, lists, result.items, filter === 'all' ? 'No imports yet. Start one over the web service (NewImportProcess, StartImportProcesses).' : 'No imports in this state.')}
  ${pageLinks(filter, result.items, result.hasPrevious, result.hasNext)}
</section>`,
    }));
  });

  app.get('/imports/live', async (request, reply) => {
    const auth = authOf(request);
    const live = await livePanel(deps, auth, await listsOf(deps, auth));
    if (field(request.query, 'state') !== live.state) reply.header('hx-trigger', 'imports-changed');
    return sendHtml(reply, live.markup);
  });

  app.get('/imports/:id', async (request, reply) => {
    const auth = authOf(request);
    const p = await findProcess(deps, request);
    if (!p) return notFound(reply);
    const lists = await listsOf(deps, auth);
    const details = processDetailsResult(deps, p);
    const rejects = await store.queries.rejectReportPage(auth.account.id, p.id, { limit: 20 });
    return sendHtml(reply, page({
      title: `Import #${p.id}`, section: 'imports', auth, notice: noticeOf(request),
      body: html`<div class="page-head"><div>
  <p class="small"><a href="${consoleUrl('/imports')}">← Import status</a></p>
  <h1>Import #${p.id} ${statusBadge(p)}</h1>
  <p class="lead">On list ${listName(lists, p.listId)}; created ${deps.formatTime(p.createdAt)}.</p>
</div>${controlLinks(p)}</div>
${p.status === 4 ? html`<div class="notice notice-bad" role="alert"><strong>${wasCancelled(p) ? 'The import was cancelled:' : 'The import failed:'}</strong> ${p.failureReason ?? 'no reason was recorded'}</div>` : ''}
${progressSection(deps, p)}
<div class="grid">
  <section class="card" aria-labelledby="gpd-title">
    <h2 id="gpd-title">GetProcessDetails</h2>
    <dl class="kv" data-testid="process-details">${details.fields.map(([k, v]) => html`<dt>${k}</dt><dd>${v === '' ? html`<span class="muted">(empty)</span>` : v}</dd>`)}</dl>
    <details><summary>As the web service returns it</summary><pre class="code">${details.document}</pre></details>
  </section>
  ${optionsCard(p, lists)}
</div>
<section class="card" aria-labelledby="more-title">
  <h2 id="more-title">Run</h2>
  <dl class="kv">
    <dt>Created</dt><dd>${deps.formatTime(p.createdAt)}</dd>
    <dt>Started</dt><dd>${deps.formatTime(p.startDate)}</dd>
    <dt>Ended</dt><dd>${deps.formatTime(p.endDate)}</dd>
    <dt>Rows merged (checkpoint)</dt><dd>${formatCount(p.checkpoint)} of ${formatCount(p.totalContacts)}</dd>
    <dt>Rejected rows</dt><dd>${formatCount(p.rejected)}</dd>
    ${p.options.ConfirmEmail ? html`<dt>Confirmation requests</dt><dd>${p.confirmationSentAt !== null
      ? html`all sent ${deps.formatTime(p.confirmationSentAt)}`
      : html`${formatCount(p.confirmationsPending)} not sent yet — <a href="${consoleUrl('/send')}">Send status</a>`}</dd>` : ''}
    ${p.status === 4 ? html`<dt>Failure reason</dt><dd>${p.failureReason ?? '—'}</dd>` : ''}
  </dl>
</section>
<section class="card" aria-labelledby="rejects-title">
  <div class="page-head"><h2 id="rejects-title">Reject report</h2>
    <div class="actions">
      ${rejects.hasNext ? html`<a class="button secondary small" href="${consoleUrl(`/imports/${p.id}/rejects`)}">All rejected rows</a>` : ''}
      <a class="button secondary small" href="${consoleUrl(`/imports/${p.id}/rejects.csv`)}" download>Download CSV</a>
    </div></div>
  ${rejectTable(rejects.items)}
  ${rejects.hasNext ? html`<p class="small muted">The first ${rejects.items.length} of ${formatCount(p.rejected)} rejected rows.</p>` : ''}
</section>`,
    }));
  });

  app.get('/imports/:id/progress', async (request, reply) => {
    const p = await findProcess(deps, request);
    if (!p) return notFound(reply);
    // It has just ended: reload the whole page, whose details, options and rejects are now final.
    if (String(p.status) !== field(request.query, 'was') && (p.status === 3 || p.status === 4)) reply.header('hx-refresh', 'true');
    return sendHtml(reply, progressSection(deps, p));
  });

  app.get('/imports/:id/rejects', async (request, reply) => {
    const auth = authOf(request);
    const p = await findProcess(deps, request);
    if (!p) return notFound(reply);
    const after = idParam(request.query, 'after') ?? 0;
    const rejects = await store.queries.rejectReportPage(auth.account.id, p.id, { afterRow: after, limit: REJECTS_PER_PAGE });
    return sendHtml(reply, page({
      title: `Rejected rows of import #${p.id}`, section: 'imports', auth,
      body: html`<div class="page-head"><div>
  <p class="small"><a href="${consoleUrl(`/imports/${p.id}`)}">← Import #${p.id}</a></p>
  <h1>Rejected rows of import #${p.id}</h1>
  <p class="lead">${formatCount(p.rejected)} rows were not imported; each with the reason.</p></div>
  <div class="actions"><a class="button secondary" href="${consoleUrl(`/imports/${p.id}/rejects.csv`)}" download>Download CSV</a></div>
</div>
${rejectTable(rejects.items)}
${pager(
  rejects.hasPrevious ? consoleUrl(`/imports/${p.id}/rejects`) : null,
  rejects.hasNext ? consoleUrl(`/imports/${p.id}/rejects`, { after: rejects.items.at(-1)!.row }) : null,
  ['First rows', 'Next rows'],
)}`,
    }));
  });

  app.get('/imports/:id/rejects.csv', async (request, reply) => {
    const auth = authOf(request);
    const p = await findProcess(deps, request);
    if (!p) return notFound(reply);
    return sendCsv(reply, `import-${p.id}-rejects.csv`, rejectReportCsvLines(store, auth.account.id, p.id));
  });
}
