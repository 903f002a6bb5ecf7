/**
 * Recipients: search by e-mail or mobile (the beginning of either), filter by list, group,
 * channel and status, a page at a time with keyset cursors (so the thousandth page of a list of a
 * million costs what the first does); and a recipient's page: fields, subscriptions per list and
 * channel, groups, and history (imports that changed it, confirmation requests).
 */
import type { FastifyInstance } from 'fastify';
import type { SubscriptionStatus } from '../model/subscription.ts';
import type { RecipientFilter, RecipientSummary } from '../store/queries.ts';
import type { ListWithGroups } from '../model/records.ts';
import type { Channel } from '../model/subscription.ts';
import type { ConsoleDeps } from './deps.ts';
import { authOf, canSeeList, field, idParam, noticeOf, notFound, visibleListIds } from './request.ts';
import { formatCount, PROCESS_STATUS, SUBSCRIPTION_STATUS } from './format.ts';
import { html, type Html } from './html.ts';
import { badge, page, pager, sendHtml } from './layout.ts';
import { consoleUrl } from './urls.ts';

const PAGE_SIZE = 50;
const CHANNEL_LABEL: Record<Channel, string> = { email: 'e-mail', sms: 'SMS' };
const STATUSES: readonly SubscriptionStatus[] = ['subscribed', 'pending', 'unsubscribed'];

/**
 * What the search box means: digits (with +, spaces, dots, dashes, brackets) are the beginning
 * of a mobile number, written as the store keeps it (`+` and the country code; a leading 00
 * means +); anything else is the beginning of an e-mail address.
 */
export function interpretSearch(text: string): Pick<RecipientFilter, 'emailPrefix' | 'mobilePrefix'> {
  const q = text.trim();
  if (q === '') return {};
  if (/^\+?[\d\s().\-/]+$/.test(q) && /\d/.test(q)) {
    let digits = q.replace(/[\s().\-/]/g, '');
    if (digits.startsWith('+')) digits = digits.slice(1);
    else if (digits.startsWith('00')) digits = digits.slice(2);
    return { mobilePrefix: `+${digits.replace(/^0+/, '')}` };
  }
  return { emailPrefix: q.toLowerCase() };
}

interface SearchForm {
  readonly q: string;
  readonly list: number | null;
  readonly group: number | null;
  readonly channel: Channel | null;
  readonly status: SubscriptionStatus | null;
}

function readForm(query: unknown): SearchForm {
  const channel = field(query, 'channel');
  const status = field(query, 'status');
  return {
    q: field(query, 'q').slice(0, 200),
    list: idParam(query, 'list'),
    group: idParam(query, 'group'),
    channel: channel === 'email' || channel === 'sms' ? channel : null,
    status: (STATUSES as readonly string[]).includes(status) ? (status as SubscriptionStatus) : null,
  };
}

const formQuery = (f: SearchForm): Record<string, string | number | null> => ({
  q: f.q, list: f.list, group: f.group, channel: f.channel, status: f.status,
});

function searchForm(form: SearchForm, lists: readonly ListWithGroups[]): Html {
  const option = (value: string | number, label: string, selected: boolean): Html =>
    html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
  return html`<form class="card form-inline" method="get" action="${consoleUrl('/recipients')}" role="search" aria-label="Find recipients">
  <div class="field"><label for="q">E-mail or mobile</label>
    <input type="search" id="q" name="q" value="${form.q}" placeholder="name@example.com or +39 333" autocomplete="off" spellcheck="false" aria-describedby="q-hint">
    <span class="hint" id="q-hint">Matches the beginning of the address or number.</span></div>
  <div class="field"><label for="list">List</label>
    <select id="list" name="list"><option value="">Any list</option>${lists.map((l) => option(l.id, l.name, form.list === l.id))}</select></div>
  <div class="field"><label for="group">Group</label>
    <select id="group" name="group"><option value="">Any group</option>${lists.filter((l) => l.groups.length > 0).map((l) =>
      html`<optgroup label="${l.name}">${l.groups.map((g) => option(g.id, g.name, form.group === g.id))}</optgroup>`)}</select></div>
  <div class="field"><label for="channel">Channel</label>
    <select id="channel" name="channel"><option value="">Any</option>${option('email', 'E-mail', form.channel === 'email')}${option('sms', 'SMS', form.channel === 'sms')}</select></div>
  <div class="field"><label for="status">Status</label>
    <select id="status" name="status"><option value="">Any</option>${STATUSES.map((s) => option(s, SUBSCRIPTION_STATUS[s].label, form.status === s))}</select></div>
  <div><button type="submit">Search</button> <a class="button secondary" href="${consoleUrl('/recipients')}">Clear</a></div>
</form>`;
}

function subscriptionBadges(r: RecipientSummary, lists: ReadonlyMap<number, ListWithGroups>): Html {
  const shown = r.subscriptions.filter((s) => lists.has(s.listId));
  if (shown.length === 0) return html`<span class="muted">none</span>`;
  return html`${shown.map((s) => html`<div class="small">${lists.get(s.listId)!.name} · ${CHANNEL_LABEL[s.channel]} ${badge(SUBSCRIPTION_STATUS[s.status].label, SUBSCRIPTION_STATUS[s.status].tone)}</div>`)}`;
}

export function registerRecipientRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store } = deps.ctx;

  app.get('/recipients', async (request, reply) => {
    const auth = authOf(request);
    const lists = await store.lists.listLists(auth.account.id, visibleListIds(auth));
    const listsById = new Map(lists.map((l) => [l.id, l]));
    let form = readForm(request.query);
    // A user limited to some lists searches one of them at a time.
    if (visibleListIds(auth) !== null && form.list === null && form.group === null) form = { ...form, list: lists[0]?.id ?? null };
    const groupList = form.group === null ? null : lists.find((l) => l.groups.some((g) => g.id === form.group)) ?? null;
    const allowed = (form.list === null || listsById.has(form.list)) && (form.group === null || groupList !== null)
      && (visibleListIds(auth) === null || form.list !== null || groupList !== null);
    const filter: RecipientFilter = {
      ...interpretSearch(form.q),
      ...(form.list !== null ? { listId: form.list } : {}),
      ...(form.group !== null ? { groupId: form.group } : {}),
      ...(form.channel !== null ? { channel: form.channel } : {}),
      ...(form.status !== null ? { status: form.status } : {}),
    };
    const after = field(request.query, 'after');
    const before = field(request.query, 'before');
    const result = allowed
      ? await store.queries.searchRecipients(auth.account.id, filter, {
        limit: PAGE_SIZE, ...(after !== '' ? { after } : before !== '' ? { before } : {}),
      })
      : { items: [], hasNext: false, hasPrevious: false };
    const items = result.items;
    const searching = form.q !== '' || form.list !== null || form.group !== null || form.channel !== null || form.status !== null;
    return sendHtml(reply, page({
      title: 'Recipients', section: 'recipients', auth, notice: noticeOf(request),
      body: html`<div class="page-head"><div><h1>Recipients</h1>
<p class="lead">Find a recipient by e-mail or mobile number, or browse a list, a group, a channel or a status.</p></div></div>
${searchForm(form, lists)}
<div class="table-wrap"><table>
  <caption>${searching ? 'Matching recipients' : 'All recipients'}${form.q !== '' ? html`, ordered by ${filter.emailPrefix !== undefined ? 'e-mail' : 'mobile'}` : ''}</caption>
  <thead><tr><th scope="col">E-mail</th><th scope="col">Mobile</th><th scope="col">Name</th><th scope="col">Subscriptions</th></tr></thead>
  <tbody>${items.length === 0 ? html`<tr><td colspan="4" class="empty">No recipient matches.</td></tr>` : items.map((r) => html`<tr>
    <td class="wrap"><a href="${consoleUrl(`/recipients/${r.id}`)}">${r.email ?? html`<span class="muted">(no e-mail)</span>`}</a></td>
    <td class="mono">${r.mobile ?? ''}</td>
    <td>${r.name ?? ''}</td>
    <td>${subscriptionBadges(r, listsById)}</td>
  </tr>`)}</tbody>
</table></div>
${pager(
  result.hasPrevious && items.length > 0 ? consoleUrl('/recipients', { ...formQuery(form), before: items[0]!.cursor }) : null,
  result.hasNext && items.length > 0 ? consoleUrl('/recipients', { ...formQuery(form), after: items.at(-1)!.cursor }) : null,
)}`,
    }));
  });

  app.get('/recipients/:id', async (request, reply) => {
    const auth = authOf(request);
    const id = idParam(request.params, 'id');
    const r = id === null ? null : await store.queries.recipientDetail(auth.account.id, id);
    const lists = new Map((await store.lists.listLists(auth.account.id, visibleListIds(auth))).map((l) => [l.id, l]));
    const subscriptions = r?.subscriptions.filter((s) => canSeeList(auth, s.listId)) ?? [];
    // A user limited to some lists sees only recipients of those lists.
    if (r === null || (visibleListIds(auth) !== null && subscriptions.length === 0)) return notFound(reply);
    const listName = (listId: number): Html => html`<a href="${consoleUrl(`/lists/${listId}`)}">${lists.get(listId)?.name ?? `list ${listId}`}</a>`;
    const groups = r.groups.filter((g) => canSeeList(auth, g.listId));
    const imports = r.imports.filter((p) => canSeeList(auth, p.listId));
    const confirmations = r.confirmations.filter((c) => canSeeList(auth, c.listId));
    const fieldNumbers = Object.keys(r.fields).map(Number).sort((a, b) => a - b);
    const title = r.email ?? r.mobile ?? `Recipient ${r.id}`;
    return sendHtml(reply, page({
      title, section: 'recipients', auth,
      body: html`<div class="page-head"><div>
  <p class="small"><a href="${consoleUrl('/recipients')}">← Recipients</a></p>
  <h1 class="wrap">${title}</h1>
  <p class="lead">Recipient ${r.id} · created ${deps.formatTime(r.createdAt)} · last changed ${deps.formatTime(r.updatedAt)}</p></div></div>
<div class="grid">
  <section class="card" aria-labelledby="fields-title">
    <h2 id="fields-title">Fields</h2>
    <dl class="kv">
      <dt>E-mail</dt><dd>${r.email ?? html`<span class="muted">none</span>`}</dd>
      <dt>Mobile</dt><dd class="mono">${r.mobile ?? html`<span class="muted">none</span>`}</dd>
      <dt>Name</dt><dd>${r.name ?? html`<span class="muted">none</span>`}</dd>
      ${fieldNumbers.map((n) => html`<dt>campo${n}</dt><dd>${r.fields[n]}</dd>`)}
    </dl>
  </section>
  <section class="card" aria-labelledby="groups-title">
    <h2 id="groups-title">Groups</h2>
    ${groups.length === 0 ? html`<p class="muted">In no group.</p>` : html`<ul>${groups.map((g) => html`<li>${g.name} <span class="muted small">(${lists.get(g.listId)?.name ?? `list ${g.listId}`})</span></li>`)}</ul>`}
  </section>
</div>
<section class="card" aria-labelledby="subs-title">
  <h2 id="subs-title">Subscriptions</h2>
  <div class="table-wrap"><table>
    <thead><tr><th scope="col">List</th><th scope="col">Channel</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Since</th><th scope="col">Confirmed</th><th scope="col">Last changed by</th></tr></thead>
    <tbody>${subscriptions.length === 0 ? html`<tr><td colspan="7" class="empty">No subscriptions.</td></tr>` : subscriptions.map((s) => html`<tr>
      <td>${listName(s.listId)}</td><td>${CHANNEL_LABEL[s.channel]}</td>
      <td>${badge(SUBSCRIPTION_STATUS[s.status].label, SUBSCRIPTION_STATUS[s.status].tone)}</td>
      <td>${s.reason ?? ''}</td><td class="small">${deps.formatTime(s.updatedAt)}</td><td class="small">${deps.formatTime(s.confirmedAt)}</td>
      <td>${s.processId === null ? html`<span class="muted">—</span>` : html`<a href="${consoleUrl(`/imports/${s.processId}`)}">import #${s.processId}</a>`}</td>
    </tr>`)}</tbody>
  </table></div>
</section>
<section class="card" aria-labelledby="history-title">
  <h2 id="history-title">History</h2>
  <h3>Imports</h3>
  <p class="small muted">Imports that changed a subscription of this recipient (the last one per list and channel) or asked it to confirm.</p>
  <div class="table-wrap"><table>
    <thead><tr><th scope="col">Process</th><th scope="col">List</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Ended</th></tr></thead>
    <tbody>${imports.length === 0 ? html`<tr><td colspan="5" class="empty">None recorded.</td></tr>` : imports.map((p) => html`<tr>
      <td><a href="${consoleUrl(`/imports/${p.processId}`)}">#${p.processId}</a></td><td>${listName(p.listId)}</td>
      <td>${badge(PROCESS_STATUS[p.status].label, PROCESS_STATUS[p.status].tone)}</td>
      <td class="small">${deps.formatTime(p.createdAt)}</td><td class="small">${deps.formatTime(p.endDate)}</td>
    </tr>`)}</tbody>
  </table></div>
  <h3>Confirmation requests</h3>
  <div class="table-wrap"><table>
    <thead><tr><th scope="col">Request</th><th scope="col">Import</th><th scope="col">List</th><th scope="col">State</th><th class="num" scope="col">Attempts</th><th scope="col">Queued</th><th scope="col">Sent</th><th scope="col">Confirmed</th></tr></thead>
    <tbody>${confirmations.length === 0 ? html`<tr><td colspan="8" class="empty">None.</td></tr>` : confirmations.map((c) => html`<tr>
      <td class="num">${c.requestId}</td><td>${c.processId === 0 ? html`<span class="muted">a single subscribe</span>` : html`<a href="${consoleUrl(`/imports/${c.processId}`)}">#${c.processId}</a>`}</td><td>${listName(c.listId)}</td>
      <td>${c.status}${c.lastError ? html`<div class="small muted">${c.lastError}</div>` : ''}</td><td class="num">${formatCount(c.attempts)}</td>
      <td class="small">${deps.formatTime(c.createdAt)}</td><td class="small">${deps.formatTime(c.sentAt)}</td><td class="small">${deps.formatTime(c.confirmedAt)}</td>
    </tr>`)}</tbody>
  </table></div>
</section>`,
    }));
  });
}


