/**
 * Runs in the console: the processes one start set going together (src/core/runs.ts), shown as
 * one line with the totals over all of them (rows, rows merged, percent, rate, time left) that
 * opens, as a <details> element (no script needed), to the processes themselves. A client that
 * splits a file into processes of 5,000 rows sees the file's progress as a whole here; the
 * process pages stay one process each.
 */
import { wasCancelled } from '../core/import-control.ts';
import { processProgress } from '../core/progress.ts';
import type { RunState, RunSummary } from '../core/runs.ts';
import type { ImportProcess, ListWithGroups, ProcessStatus } from '../model/records.ts';
import type { ConsoleDeps } from './deps.ts';
import { formatCount, formatDuration, PROCESS_STATUS, waitingNote } from './format.ts';
import { html, type Html } from './html.ts';
import { badge, progressBar } from './layout.ts';
import { consoleUrl } from './urls.ts';

export type ListNames = ReadonlyMap<number, ListWithGroups>;

const listName = (lists: ListNames, id: number): string => lists.get(id)?.name ?? `list ${id}`;

const STATE_STATUS: Readonly<Record<RunState, ProcessStatus>> = { waiting: 1, running: 2, completed: 3, failed: 4 };

/** The run's state as a badge; a failed run whose processes were cancelled says so. */
function runBadge(run: RunSummary): Html {
  const s = PROCESS_STATUS[STATE_STATUS[run.state]];
  const cancelled = run.state === 'failed' && run.processes.some(wasCancelled);
  return html`${badge(s.label, s.tone)}${cancelled ? html` <span class="small muted">cancelled</span>` : ''}`;
}

/** `12,345 rows/s`, or an em dash before there is a rate. */
export function rateText(rowsPerSecond: number | null): string {
  return rowsPerSecond === null ? '—' : formatCount(Math.round(rowsPerSecond));
}

/** The time left while the run is under way; an em dash otherwise (0 s once completed reads as done). */
export function timeLeftText(run: RunSummary): string {
  return (run.state === 'running' || run.state === 'waiting') && run.remainingMs !== null ? formatDuration(run.remainingMs) : '—';
}

/** What a run is called: "import #7" for a run of one process, "run #7 · 40 imports" for more. */
export function runTitle(run: RunSummary): string {
  return run.processes.length === 1 ? `import #${run.id}` : `run #${run.id} · ${formatCount(run.processes.length)} imports`;
}

/** The lists a run imports into, by name. */
function runLists(lists: ListNames, run: RunSummary): string {
  return run.listIds.map((id) => listName(lists, id)).join(', ');
}

/** The run's one line: what, where, state, rows merged of rows, percent, rate and time left. */
function runLine(deps: ConsoleDeps, lists: ListNames, run: RunSummary): Html {
  const when = run.endDate ?? run.startDate ?? run.createdAt;
  const verb = run.endDate !== null ? 'ended' : run.startDate !== null ? 'started' : 'created';
  return html`<span class="run-what"><strong>${runTitle(run)}</strong> <span class="muted">· ${runLists(lists, run)}</span></span>
<span class="run-state">${runBadge(run)}</span>
<span class="run-rows" data-testid="run-rows">${formatCount(run.rowsMerged)} / ${formatCount(run.totalRows)} rows</span>
<span class="progress-cell">${progressBar(run.percent, `Run ${run.id}`)}<span class="small" data-testid="run-percent">${run.percent} %</span></span>
<span class="small muted run-rate">${rateText(run.rowsPerSecond)} rows/s · ${run.state === 'running' || run.state === 'waiting'
    ? `${timeLeftText(run)} left` : `took ${run.elapsedMs === null ? '—' : formatDuration(run.elapsedMs)}`}</span>
<span class="small muted">${verb} ${deps.formatTime(when)}</span>`;
}

/** The processes of a run, each with its list, state and progress, linked to its page. */
export function runProcessTable(deps: ConsoleDeps, lists: ListNames, processes: readonly ImportProcess[]): Html {
  return html`<div class="table-wrap"><table class="run-processes">
  <thead><tr><th scope="col">Import</th><th scope="col">List</th><th scope="col">Status</th><th class="num" scope="col">Rows</th><th scope="col">Progress</th></tr></thead>
  <tbody>${processes.map((p) => {
    const progress = processProgress(p, deps.now());
    const note = waitingNote(p);
    return html`<tr>
    <td><a href="${consoleUrl(`/imports/${p.id}`)}">#${p.id}</a></td>
    <td>${listName(lists, p.listId)}</td>
    <td>${badge(PROCESS_STATUS[p.status].label, PROCESS_STATUS[p.status].tone)}${note === '' ? '' : html` <span class="small muted">${note}</span>`}</td>
    <td class="num">${formatCount(progress.rowsMerged)} / ${formatCount(progress.totalRows)}</td>
    <td><div class="progress-cell">${progressBar(progress.percent, `Import ${p.id}`)}<span class="small muted">${progress.percent} %</span></div></td>
  </tr>`;
  })}</tbody>
</table></div>`;
}

/**
 * One run as a line; a run of several processes opens to them. `open` keeps it open across the
 * live panel's polls (console.js re-opens what was open before the swap, by id).
 */
export function runItem(deps: ConsoleDeps, lists: ListNames, run: RunSummary, idPrefix: string): Html {
  if (run.processes.length === 1) {
    return html`<li class="run" data-testid="run-${run.id}"><a class="run-line" href="${consoleUrl(`/imports/${run.id}`)}">${runLine(deps, lists, run)}</a></li>`;
  }
  return html`<li class="run" data-testid="run-${run.id}"><details id="${idPrefix}-${run.id}">
  <summary class="run-line">${runLine(deps, lists, run)}</summary>
  ${runProcessTable(deps, lists, run.processes)}
</details></li>`;
}

/** The account's runs, newest first, one line each, with links to newer and older runs. */
export function runList(deps: ConsoleDeps, lists: ListNames, runs: readonly RunSummary[], empty: string): Html {
  return html`<ul class="runs">${runs.length === 0 ? html`<li class="empty muted">${empty}</li>` : runs.map((r) => runItem(deps, lists, r, 'run'))}</ul>`;
}

function stat(value: string, label: string): Html {
  return html`<div class="stat"><span class="n">${value}</span><span class="l">${label}</span></div>`;
}

/**
 * The live panel's view of a run of several processes: the totals over all of them, the process
 * merging now, and the processes behind a <details>.
 */
export function liveRun(deps: ConsoleDeps, lists: ListNames, run: RunSummary, running: ImportProcess | null): Html {
  const position = running === null ? -1 : run.processes.findIndex((p) => p.id === running.id);
  const waitingTurn = run.processes.filter((p) => p.status === 1).length;
  return html`${running === null || position < 0 ? '' : html`<p class="small">Merging now: <a href="${consoleUrl(`/imports/${running.id}`)}">import #${running.id}</a>
  (${formatCount(position + 1)} of ${formatCount(run.processes.length)}) on ${listName(lists, running.listId)}${waitingTurn > 0 ? html`; ${formatCount(waitingTurn)} of the run wait their turn` : ''}.</p>`}
${progressBar(run.percent, `Run ${run.id} progress`)}
<div class="stats" data-testid="live-run">
  ${stat(`${formatCount(run.rowsMerged)} / ${formatCount(run.totalRows)}`, 'rows merged, whole run')}
  ${stat(rateText(run.rowsPerSecond), 'rows per second')}
  ${stat(timeLeftText(run), 'time left (estimate)')}
  ${stat(run.elapsedMs === null ? '—' : formatDuration(run.elapsedMs), 'elapsed')}
  ${stat(formatCount(run.rejected), 'rejected rows')}
</div>
<details id="live-run-${run.id}"><summary>The ${formatCount(run.processes.length)} imports of this run (${runLists(lists, run)})</summary>
${runProcessTable(deps, lists, run.processes)}
</details>`;
}
