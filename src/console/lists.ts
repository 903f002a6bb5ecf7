/**
 * Lists and groups: create and rename them; per list, its recipients by channel and status, and
 * per group the same counts for the group's members. The CSV export of a list streams.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createGroup, MAX_GROUP_NAME, renameGroup } from '../core/groups.ts';
import { createList, MAX_LIST_NAME, renameList, setListCountry } from '../core/lists.ts';
import { timeFormat } from '../core/time-format.ts';
import type { ChannelCounts, ListStats } from '../store/queries.ts';
import type { ListWithGroups } from '../model/records.ts';
import type { Channel } from '../model/subscription.ts';
import type { ConsoleDeps } from './deps.ts';
import { authOf, canSeeList, field, idParam, isAccountWide, noticeOf, notFound, redirectTo, visibleListIds } from './request.ts';
import { csvLine, sendCsv, type CsvValue } from './csv.ts';
import { formatCount } from './format.ts';
import { html, type Html } from './html.ts';
import { csrfField, page, sendHtml } from './layout.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';


const CHANNELS: readonly { readonly id: Channel; readonly label: string }[] = [
  { id: 'email', label: 'E-mail' },
  { id: 'sms', label: 'SMS' },
];

/** What the form says when the core refuses a name (a group name is cut, never too long). */
function nameError(reason: string, what: 'list' | 'group'): string {
  if (reason === 'name-too-long') return `The name of a ${what} can have at most ${MAX_LIST_NAME} characters.`;
  if (reason === 'control-character') return `The name of a ${what} cannot hold control characters.`;
  return `Enter a name for the ${what}.`;
}
function countCells(counts: ChannelCounts, channel: Channel): Html {
  const c = counts[channel];
  return html`<td class="num">${formatCount(c.subscribed)}</td><td class="num">${formatCount(c.pending)}</td><td class="num">${formatCount(c.unsubscribed)}</td>`;
}

/** Two header rows: the leading columns span both; each channel spans its three statuses. */
function countHeaders(leading: Html, trailing: Html = html``): Html {
  return html`<tr>${leading}${CHANNELS.map((ch) => html`<th class="group" scope="colgroup" colspan="3">${ch.label}</th>`)}${trailing}</tr>
<tr>${CHANNELS.map(() => html`<th class="num sub" scope="col">subscribed</th><th class="num sub" scope="col">pending</th><th class="num sub" scope="col">unsubscribed</th>`)}</tr>`;
}

function createListForm(auth: ConsoleAuth, value = '', error: string | null = null): Html {
  return html`<section class="card" aria-labelledby="new-list-title">
  <h2 id="new-list-title">New list</h2>
  <form class="form-inline" method="post" action="${consoleUrl('/lists')}">
    ${csrfField(auth)}
    <div class="field">
      <label for="new-list-name">Name</label>
      <input type="text" id="new-list-name" name="name" value="${value}" maxlength="${MAX_LIST_NAME}" required${error ? html` aria-invalid="true" aria-describedby="new-list-error"` : ''}>
      ${error ? html`<span class="error" id="new-list-error">${error}</span>` : ''}
    </div>
    <button type="submit">Create list</button>
  </form>
</section>`;
}

/**
 * Counting a list of a million recipients takes a moment, so pages come first and their counts
 * follow: an htmx request on load fills them in. Without scripts, `?counts=1` counts at once.
 */
const countsNow = (request: FastifyRequest): boolean => field(request.query, 'counts') === '1';

function listRow(l: ListWithGroups, stats: ListStats | null): Html {
  const loading = stats === null;
  return html`<tr${loading ? html` hx-get="${consoleUrl(`/lists/${l.id}/row`)}" hx-trigger="load" hx-swap="outerHTML"` : ''}>
    <td><a href="${consoleUrl(`/lists/${l.id}`)}">${l.name}</a></td>
    <td class="num">${l.id}</td><td class="mono small">${l.guid}</td><td class="num">${l.groups.length}</td>
    ${loading
      ? html`<td class="num muted" colspan="7"><a href="${consoleUrl('/lists', { counts: 1 })}">counting…</a></td>`
      : html`<td class="num">${formatCount(stats.recipients)}</td>${CHANNELS.map((ch) => countCells(stats.counts, ch.id))}`}
  </tr>`;
}

async function listsPage(deps: ConsoleDeps, request: FastifyRequest, reply: FastifyReply, form: { value: string; error: string } | null): Promise<FastifyReply> {
  const auth = authOf(request);
  const lists = await deps.ctx.store.lists.listLists(auth.account.id, visibleListIds(auth));
  const stats = countsNow(request)
    ? new Map((await deps.ctx.store.queries.listStats(auth.account.id, lists.map((l) => l.id), { groups: false })).map((s) => [s.listId, s]))
    : new Map<number, ListStats>();
  return sendHtml(reply, page({
    title: 'Lists & groups', section: 'lists', auth, notice: noticeOf(request),
    body: html`<div class="page-head"><div><h1>Lists &amp; groups</h1>
<p class="lead">The account's lists, as GetNlLists returns them, with their recipients by channel and status.</p></div></div>
<div class="table-wrap"><table>
  <thead>${countHeaders(html`<th scope="col" rowspan="2">List</th><th class="num" scope="col" rowspan="2">idList</th><th scope="col" rowspan="2">listGUID</th>
    <th class="num" scope="col" rowspan="2">Groups</th><th class="num" scope="col" rowspan="2">Recipients</th>`)}</thead>
  <tbody>${lists.length === 0 ? html`<tr><td colspan="11" class="empty">No lists yet.</td></tr>` : lists.map((l) => listRow(l, stats.get(l.id) ?? null))}</tbody>
</table></div>
${isAccountWide(auth) ? createListForm(auth, form?.value ?? '', form?.error ?? null) : ''}`,
  }), form ? 400 : 200);
}

interface ListPageForms {
  readonly rename?: { value: string; error: string };
  readonly newGroup?: { value: string; error: string };
  readonly renameGroup?: { groupId: number; value: string; error: string };
  readonly country?: { value: string; error: string };
}

/** The list's default country, which reads mobile numbers given without + or 00 (docs/behaviour.md, "Mobile numbers"). */
function countrySection(auth: ConsoleAuth, list: ListWithGroups, form: ListPageForms['country']): Html {
  const { country } = list;
  return html`<section class="card" aria-labelledby="country-title">
  <h2 id="country-title">Mobile numbers</h2>
  <p class="muted">${country === null
    ? 'No default country: a mobile number without + or 00 is rejected.'
    : html`A mobile number without + or 00 is read as a number of <strong id="list-country">${country}</strong>; leave the code empty for none.`}</p>
  <form class="form-inline" method="post" action="${consoleUrl(`/lists/${list.id}/country`)}">
    ${csrfField(auth)}
    <div class="field">
      <label for="list-country-code">Country (ISO code, such as IT)</label>
      <input type="text" id="list-country-code" name="country" value="${form?.value ?? country ?? ''}" maxlength="2" size="4" autocomplete="off"${form ? html` aria-invalid="true" aria-describedby="list-country-error"` : ''}>
      ${form ? html`<span class="error" id="list-country-error">${form.error}</span>` : ''}
    </div>
    <button type="submit">Save</button>
  </form>
</section>`;
}

/** The list's counts and its groups (with their counts and rename forms); a placeholder that loads them when `stats` is null. */
function statsSection(auth: ConsoleAuth, list: ListWithGroups, stats: ListStats | null, forms: ListPageForms): Html {
  if (stats === null) {
    return html`<div id="list-stats" hx-get="${consoleUrl(`/lists/${list.id}/stats`)}" hx-trigger="load" hx-swap="outerHTML">
  <section class="card"><h2>Recipients</h2><p class="muted">Counting the recipients of the list and of its
  ${formatCount(list.groups.length)} groups… <a href="${consoleUrl(`/lists/${list.id}`, { counts: 1 })}">Show the page with the counts</a></p></section>
</div>`;
  }
  const groupStats = new Map(stats.groups.map((g) => [g.groupId, g]));
  const base = `/lists/${list.id}`;
  return html`<div id="list-stats">
<section class="card" aria-labelledby="counts-title">
  <h2 id="counts-title">Recipients</h2>
  <div class="stats">
    <div class="stat"><span class="n">${formatCount(stats.recipients)}</span><span class="l">recipients in the list</span></div>
    ${CHANNELS.map((ch) => html`
    <div class="stat"><span class="n">${formatCount(stats.counts[ch.id].subscribed)}</span><span class="l">${ch.label} subscribed</span></div>
    <div class="stat"><span class="n">${formatCount(stats.counts[ch.id].pending)}</span><span class="l">${ch.label} pending</span></div>
    <div class="stat"><span class="n">${formatCount(stats.counts[ch.id].unsubscribed)}</span><span class="l">${ch.label} unsubscribed</span></div>`)}
  </div>
</section>
<section class="card" aria-labelledby="groups-title">
  <h2 id="groups-title">Groups</h2>
  <div class="table-wrap"><table>
    <thead>${countHeaders(
      html`<th scope="col" rowspan="2">Group</th><th class="num" scope="col" rowspan="2">idGroup</th><th class="num" scope="col" rowspan="2">Members</th>`,
      html`<th scope="col" rowspan="2"><span class="visually-hidden">Actions</span></th>`)}</thead>
    <tbody>${list.groups.length === 0 ? html`<tr><td colspan="10" class="empty">The list has no groups yet.</td></tr>` : list.groups.map((g) => {
      const gs = groupStats.get(g.id);
      const editing = forms.renameGroup?.groupId === g.id ? forms.renameGroup : null;
      return html`<tr>
      <td><a href="${consoleUrl('/recipients', { list: list.id, group: g.id })}">${g.name}</a></td>
      <td class="num">${g.id}</td>
      <td class="num">${gs ? formatCount(gs.members) : '—'}</td>
      ${gs ? CHANNELS.map((ch) => countCells(gs.counts, ch.id)) : html`<td colspan="6"></td>`}
      <td><details${editing ? html` open` : ''}><summary>Rename<span class="visually-hidden"> ${g.name}</span></summary>
        <form class="form-inline" method="post" action="${consoleUrl(`${base}/groups/${g.id}/rename`)}">
          ${csrfField(auth)}
          <div class="field"><label for="group-${g.id}-name">New name</label>
            <input type="text" id="group-${g.id}-name" name="name" value="${editing ? editing.value : g.name}" maxlength="${MAX_GROUP_NAME}" required${editing ? html` aria-invalid="true" aria-describedby="group-${g.id}-error"` : ''}>
            ${editing ? html`<span class="error" id="group-${g.id}-error">${editing.error}</span>` : ''}</div>
          <button type="submit" class="small">Save</button>
        </form></details></td>
    </tr>`;
    })}</tbody>
  </table></div>
  <form class="form-inline" method="post" action="${consoleUrl(`${base}/groups`)}">
    ${csrfField(auth)}
    <div class="field">
      <label for="new-group-name">New group</label>
      <input type="text" id="new-group-name" name="name" value="${forms.newGroup?.value ?? ''}" maxlength="${MAX_GROUP_NAME}" required${forms.newGroup ? html` aria-invalid="true" aria-describedby="new-group-error"` : ''}>
      ${forms.newGroup ? html`<span class="error" id="new-group-error">${forms.newGroup.error}</span>` : ''}
    </div>
    <button type="submit">Create group</button>
  </form>
</section>
</div>`;
}

async function listPage(
  deps: ConsoleDeps, request: FastifyRequest, reply: FastifyReply, list: ListWithGroups, forms: ListPageForms = {}, status = 200,
): Promise<FastifyReply> {
  const auth = authOf(request);
  // A form sent back with an error shows its groups at once; otherwise the counts load after the page.
  const now = countsNow(request) || forms.newGroup !== undefined || forms.renameGroup !== undefined;
  const stats = now ? (await deps.ctx.store.queries.listStats(auth.account.id, [list.id]))[0] ?? null : null;
  const base = `/lists/${list.id}`;
  return sendHtml(reply, page({
    title: list.name, section: 'lists', auth, notice: noticeOf(request),
    body: html`<div class="page-head"><div>
  <p class="small"><a href="${consoleUrl('/lists')}">← Lists &amp; groups</a></p>
  <h1>${list.name}</h1>
  <p class="lead">idList <strong>${list.id}</strong> · listGUID <code>${list.guid}</code></p></div>
  <div class="actions">
    <a class="button secondary" href="${consoleUrl('/recipients', { list: list.id })}">Recipients</a>
    <a class="button secondary" href="${consoleUrl(`${base}/export.csv`)}" download>Export CSV</a>
  </div>
</div>
${statsSection(auth, list, stats, forms)}
<section class="card" aria-labelledby="rename-title">
  <h2 id="rename-title">Rename the list</h2>
  <form class="form-inline" method="post" action="${consoleUrl(`${base}/rename`)}">
    ${csrfField(auth)}
    <div class="field">
      <label for="list-name">Name</label>
      <input type="text" id="list-name" name="name" value="${forms.rename?.value ?? list.name}" maxlength="${MAX_LIST_NAME}" required${forms.rename ? html` aria-invalid="true" aria-describedby="list-name-error"` : ''}>
      ${forms.rename ? html`<span class="error" id="list-name-error">${forms.rename.error}</span>` : ''}
    </div>
    <button type="submit">Rename</button>
  </form>
</section>
${countrySection(auth, list, forms.country)}`,
  }), status);
}

export function registerListRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store } = deps.ctx;

  /** The list of the URL, when the user may see it. */
  async function findList(request: FastifyRequest): Promise<ListWithGroups | null> {
    const auth = authOf(request);
    const id = idParam(request.params, 'id');
    if (id === null || !canSeeList(auth, id)) return null;
    return (await store.lists.listLists(auth.account.id, [id]))[0] ?? null;
  }

  app.get('/lists', async (request, reply) => listsPage(deps, request, reply, null));

  app.post('/lists', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return notFound(reply);
    const created = await createList(store, auth.account.id, field(request.body, 'name'));
    if (!created.ok) return listsPage(deps, request, reply, { value: field(request.body, 'name'), error: nameError(created.reason, 'list') });
    const { list } = created;
    request.log.info({ accountId: auth.account.id, listId: list.id, user: auth.user.username }, 'list created from the console');
    return redirectTo(reply, `/lists/${list.id}`, { notice: 'list-created' });
  });

  app.get('/lists/:id', async (request, reply) => {
    const list = await findList(request);
    return list ? listPage(deps, request, reply, list) : notFound(reply);
  });

  app.get('/lists/:id/stats', async (request, reply) => {
    const auth = authOf(request);
    const list = await findList(request);
    if (!list) return notFound(reply);
    const stats = (await store.queries.listStats(auth.account.id, [list.id]))[0] ?? null;
    return sendHtml(reply, stats ? statsSection(auth, list, stats, {}) : html``);
  });

  app.get('/lists/:id/row', async (request, reply) => {
    const auth = authOf(request);
    const list = await findList(request);
    if (!list) return notFound(reply);
    const stats = (await store.queries.listStats(auth.account.id, [list.id], { groups: false }))[0] ?? null;
    return sendHtml(reply, stats ? listRow(list, stats) : html``);
  });

  app.post('/lists/:id/rename', async (request, reply) => {
    const auth = authOf(request);
    const list = await findList(request);
    if (!list) return notFound(reply);
    const renamed = await renameList(store, auth.account.id, list.id, field(request.body, 'name'));
    if (!renamed.ok) {
      if (renamed.reason === 'not-found') return notFound(reply);
      return listPage(deps, request, reply, list, { rename: { value: field(request.body, 'name'), error: nameError(renamed.reason, 'list') } }, 400);
    }
    return redirectTo(reply, `/lists/${list.id}`, { notice: 'list-renamed' });
  });

  app.post('/lists/:id/country', async (request, reply) => {
    const auth = authOf(request);
    const list = await findList(request);
    if (!list) return notFound(reply);
    const raw = field(request.body, 'country');
    const set = await setListCountry(store, auth.account.id, list.id, raw);
    if (!set.ok && set.reason === 'not-found') return notFound(reply);
    if (!set.ok) return listPage(deps, request, reply, list, { country: { value: raw, error: 'Enter an ISO 3166 country code of two letters, such as IT or DE, or nothing for none.' } }, 400);
    request.log.info({ accountId: auth.account.id, listId: list.id, country: set.country, user: auth.user.username }, 'list country set from the console');
    return redirectTo(reply, `/lists/${list.id}`, { notice: 'list-country-set' });
  });

  app.post('/lists/:id/groups', async (request, reply) => {
    const list = await findList(request);
    if (!list) return notFound(reply);
    const outcome = await createGroup(store, list.id, field(request.body, 'name'));
    if (!outcome.ok) return listPage(deps, request, reply, list, { newGroup: { value: field(request.body, 'name'), error: nameError(outcome.reason, 'group') } }, 400);
    const notice = !outcome.created ? 'group-exists' : outcome.cut ? 'group-created-cut' : 'group-created';
    return redirectTo(reply, `/lists/${list.id}`, { notice });
  });

  app.post('/lists/:id/groups/:groupId/rename', async (request, reply) => {
    const auth = authOf(request);
    const list = await findList(request);
    const groupId = idParam(request.params, 'groupId');
    if (!list || groupId === null || !list.groups.some((g) => g.id === groupId)) return notFound(reply);
    const raw = field(request.body, 'name');
    const renamed = await renameGroup(store, auth.account.id, groupId, raw);
    if (!renamed.ok && renamed.reason === 'not-found') return notFound(reply);
    if (!renamed.ok && renamed.reason !== 'duplicate') {
      return listPage(deps, request, reply, list, { renameGroup: { groupId, value: raw, error: nameError(renamed.reason, 'group') } }, 400);
    }
    if (!renamed.ok) {
      return listPage(deps, request, reply, list, { renameGroup: { groupId, value: raw, error: 'The list already has a group of that name.' } }, 409);
    }
    return redirectTo(reply, `/lists/${list.id}`, { notice: 'group-renamed' });
  });

  app.get('/lists/:id/export.csv', async (request, reply) => {
    const auth = authOf(request);
    const list = await findList(request);
    if (!list) return notFound(reply);
    // Times as ISO 8601 with the offset of TIME_ZONE (src/core/time-format.ts).
    const time = timeFormat(deps.ctx.config.timeZone);
    // The export is opened only when the response starts streaming, and closed however it ends.
    async function* lines(): AsyncGenerator<string> {
      const exported = await store.queries.exportList(auth.account.id, list!.id);
      if (exported === null) return;
      try {
        const fields = exported.fieldNumbers;
        yield csvLine(['email', 'mobile', 'name', 'email_status', 'sms_status', ...fields.map((n) => `campo${n}`), 'created', 'updated']);
        for await (const r of exported.rows) {
          const values: CsvValue[] = [r.email, r.mobile, r.name, r.emailStatus, r.smsStatus, ...fields.map((n) => r.fields[n] ?? ''),
            time.iso(r.createdAt), time.iso(r.updatedAt)];
          yield csvLine(values);
        }
      } finally {
        exported.close();
      }
    }
    return sendCsv(reply, `list-${list.id}.csv`, lines());
  });
}
