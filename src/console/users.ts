/**
 * Console users (MailUp's Settings > Account settings > Users): the account's users with their
 * lists and state; adding one, a new password, disabling and enabling, the lists a user sees,
 * deleting. A password is generated and shown once, on the page that answers the form; only its
 * hash is kept.
 *
 * Like the web-service settings this concerns the whole account: only users who see every list
 * may open it. The rules are the core's (src/core/console-users.ts): the account's last enabled
 * user who sees every list cannot be disabled, limited to some lists or deleted.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createConsoleUser, generatePassword } from '../core/accounts.ts';
import {
  deleteConsoleUser, isAdministrator, listConsoleUsers, resetConsoleUserPassword, setConsoleUserEnabled, setConsoleUserLists,
} from '../core/console-users.ts';
import type { ConsoleUser, ListWithGroups } from '../model/records.ts';
import type { ConsoleDeps } from './deps.ts';
import { html, type Html } from './html.ts';
import { badge, csrfField, page, sendHtml, type Notice } from './layout.ts';
import { authOf, field, idParam, isAccountWide, noticeOf, notFound, redirectTo } from './request.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';

const LAST_ADMINISTRATOR = 'is the account\'s last enabled user who sees every list: the account would have nobody left to manage it. '
  + 'Enable another user who sees every list, or add one, first.';

function restricted(reply: FastifyReply, auth: ConsoleAuth): FastifyReply {
  return sendHtml(reply, page({
    title: 'Console users', section: 'users', auth,
    body: html`<div class="card"><h1>Console users</h1><p>Console users concern the whole account.
Only console users who may see every list of the account can manage them.</p></div>`,
  }), 403);
}

/** The lists a form chose: `lists=all`, or the `list` boxes ticked (none ticked: no list). */
function chosenLists(body: unknown): number[] | null {
  if (field(body, 'lists') !== 'some') return null;
  const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).list : undefined;
  const ticked = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  return [...new Set(ticked.filter((v) => /^\d{1,15}$/.test(v)).map(Number))];
}

function listsText(user: ConsoleUser, lists: readonly ListWithGroups[]): string {
  if (user.listIds === null) return 'Every list';
  if (user.listIds.length === 0) return 'No list';
  return user.listIds.map((id) => lists.find((l) => l.id === id)?.name ?? `list ${id}`).join(', ');
}

/** Every list, or some: a radio pair and a box per list of the account. */
function listsFieldset(idPrefix: string, lists: readonly ListWithGroups[], chosen: readonly number[] | null): Html {
  return html`<fieldset>
  <legend>Lists the user sees</legend>
  <div class="check"><input type="radio" id="${idPrefix}-all" name="lists" value="all"${chosen === null ? html` checked` : ''}>
    <label for="${idPrefix}-all">Every list <span class="muted small">— and what concerns the whole account (settings, users, the outbox)</span></label></div>
  <div class="check"><input type="radio" id="${idPrefix}-some" name="lists" value="some"${chosen !== null ? html` checked` : ''}>
    <label for="${idPrefix}-some">Only the lists ticked below</label></div>
  <div class="choices">${lists.map((l) => html`<div class="check"><input type="checkbox" id="${idPrefix}-list-${l.id}" name="list" value="${l.id}"${chosen?.includes(l.id) ? html` checked` : ''}>
    <label for="${idPrefix}-list-${l.id}">${l.name} <span class="muted small">(${l.id})</span></label></div>`)}</div>
</fieldset>`;
}

/** The page that shows a password once. */
function passwordCard(user: ConsoleUser, password: string, what: string): Html {
  return html`<section class="card" aria-labelledby="password-title">
  <div class="notice notice-ok" role="status" id="password-title">${what} Copy the password now: it is shown only this once.</div>
  <dl class="kv">
    <dt>User name</dt><dd><code>${user.username}</code></dd>
    <dt>Password</dt><dd><span class="copyable"><code id="new-password" data-testid="new-password">${password}</code><button type="button" class="secondary small" data-copy="#new-password">Copy</button></span></dd>
  </dl>
</section>`;
}

interface UsersForms {
  readonly created?: { readonly user: ConsoleUser; readonly password: string };
  readonly error?: string;
  readonly username?: string;
  readonly lists?: readonly number[] | null;
}

async function usersPage(deps: ConsoleDeps, request: FastifyRequest, reply: FastifyReply, auth: ConsoleAuth, forms: UsersForms = {}, status = 200): Promise<FastifyReply> {
  const { store } = deps.ctx;
  const [users, lists] = [await listConsoleUsers(store, auth.account.id), await store.lists.listLists(auth.account.id)];
  return sendHtml(reply, page({
    title: 'Console users', section: 'users', auth, notice: noticeOf(request),
    body: html`<div class="page-head"><div><h1>Console users</h1>
<p class="lead">People who sign in to this console for account <code>${auth.account.wsUser}</code>. They are separate from the WS user.</p></div></div>
${forms.created ? passwordCard(forms.created.user, forms.created.password, 'The user was added.') : ''}
<div class="table-wrap"><table>
  <thead><tr><th scope="col">User</th><th scope="col">Lists</th><th scope="col">State</th><th scope="col">Added</th></tr></thead>
  <tbody>${users.map((u) => html`<tr>
    <td><a href="${consoleUrl(`/users/${u.id}`)}">${u.username}</a>${u.id === auth.user.id ? html` <span class="small muted">(you)</span>` : ''}</td>
    <td class="wrap">${listsText(u, lists)}</td>
    <td>${u.enabled ? badge('Enabled', 'ok') : badge('Disabled', 'bad')}</td>
    <td class="small">${deps.formatTime(u.createdAt)}</td>
  </tr>`)}</tbody>
</table></div>
<section class="card" aria-labelledby="new-user-title">
  <h2 id="new-user-title">Add a user</h2>
  <form class="form" method="post" action="${consoleUrl('/users')}">
    ${csrfField(auth)}
    ${forms.error ? html`<div class="notice notice-bad" role="alert" id="new-user-error">${forms.error}</div>` : ''}
    <div class="field"><label for="new-username">User name</label>
      <input type="text" id="new-username" name="username" value="${forms.username ?? ''}" autocomplete="off" autocapitalize="none" spellcheck="false" required${forms.error ? html` aria-invalid="true" aria-describedby="new-user-error"` : ''}></div>
    ${listsFieldset('new', lists, forms.lists ?? null)}
    <div><button type="submit">Add the user</button></div>
    <p class="small muted">A password is generated and shown once.</p>
  </form>
</section>`,
  }), status);
}

interface UserForms {
  readonly password?: string;
  readonly problem?: Notice;
  readonly lists?: readonly number[] | null;
}

async function userPage(deps: ConsoleDeps, request: FastifyRequest, reply: FastifyReply, auth: ConsoleAuth, user: ConsoleUser, forms: UserForms = {}, status = 200): Promise<FastifyReply> {
  const lists = await deps.ctx.store.lists.listLists(auth.account.id);
  const base = `/users/${user.id}`;
  const you = user.id === auth.user.id;
  return sendHtml(reply, page({
    title: user.username, section: 'users', auth, notice: forms.problem ?? noticeOf(request),
    body: html`<div class="page-head"><div><p class="small"><a href="${consoleUrl('/users')}">← Console users</a></p>
<h1 class="wrap">${user.username} ${user.enabled ? badge('Enabled', 'ok') : badge('Disabled', 'bad')}</h1>
<p class="lead">Console user ${user.id} of <code>${auth.account.wsUser}</code>${you ? ' (you)' : ''} · added ${deps.formatTime(user.createdAt)}</p></div></div>
${forms.password ? passwordCard(user, forms.password, 'The password was reset; the user\'s other sessions have ended.') : ''}
<div class="grid">
<section class="card" aria-labelledby="lists-title">
  <h2 id="lists-title">Lists</h2>
  <p>${listsText(user, lists)}${isAdministrator(user) ? html` <span class="small muted">— an administrator of the account</span>` : ''}</p>
  <form class="form" method="post" action="${consoleUrl(`${base}/lists`)}">
    ${csrfField(auth)}
    ${listsFieldset('user', lists, forms.lists === undefined ? user.listIds : forms.lists)}
    <div><button type="submit">Save the lists</button></div>
  </form>
</section>
<section class="card" aria-labelledby="access-title">
  <h2 id="access-title">Access</h2>
  <div class="stack">
  <form method="post" action="${consoleUrl(`${base}/reset`)}">${csrfField(auth)}
    <button type="submit" class="secondary">Reset the password</button>
    <p class="small muted">A new password is generated and shown once; the user's sessions end${you ? ' (but this one)' : ''}.</p></form>
  <form method="post" action="${consoleUrl(`${base}/${user.enabled ? 'disable' : 'enable'}`)}">${csrfField(auth)}
    <button type="submit" class="secondary">${user.enabled ? 'Disable the user' : 'Enable the user'}</button>
    <p class="small muted">${user.enabled ? 'A disabled user cannot sign in; its sessions end at once.' : 'The user can sign in again with its password.'}</p></form>
  <details><summary>Delete the user…</summary>
    <form method="post" action="${consoleUrl(`${base}/delete`)}">${csrfField(auth)}
      <p>Delete <strong>${user.username}</strong>? This cannot be undone.</p>
      <button type="submit" class="danger">Delete ${user.username}</button></form></details>
  </div>
</section>
</div>`,
  }), status);
}

export function registerUserRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store } = deps.ctx;

  /** The user the URL names, in the signed-in user's account; null when there is none. */
  async function target(request: FastifyRequest): Promise<ConsoleUser | null> {
    const id = idParam(request.params, 'id');
    return id === null ? null : store.accounts.getConsoleUser(authOf(request).account.id, id);
  }

  const lastAdministrator = (user: ConsoleUser): Notice => ({ tone: 'bad', text: `${user.username} ${LAST_ADMINISTRATOR}` });

  /** After a change that ends the signed-in user's own session, the sign-in page. */
  const endedOwnSession = (reply: FastifyReply): FastifyReply => redirectTo(reply, '/sign-in', { notice: 'session-ended' });

  app.get('/users', async (request, reply) => {
    const auth = authOf(request);
    return isAccountWide(auth) ? usersPage(deps, request, reply, auth) : restricted(reply, auth);
  });

  app.post('/users', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const username = field(request.body, 'username');
    const lists = chosenLists(request.body);
    const password = generatePassword();
    const outcome = await createConsoleUser(store, auth.account.id, { username, password, listIds: lists });
    if (!outcome.ok) {
      const error = outcome.reason === 'name-taken' ? 'The account already has a user of that name.'
        : outcome.reason === 'invalid-name' ? 'A user name cannot hold control characters.'
        : outcome.reason === 'unknown-list' ? `List ${outcome.listId} is not a list of this account.`
        : 'Enter a user name.';
      return usersPage(deps, request, reply, auth, { error, username, lists }, outcome.reason === 'name-taken' ? 409 : 400);
    }
    request.log.info({ accountId: auth.account.id, user: auth.user.username, created: outcome.user.username }, 'console user added from the console');
    // The password exists only in this answer: shown here rather than after a redirect.
    return usersPage(deps, request, reply, auth, { created: { user: outcome.user, password } });
  });

  app.get('/users/:id', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const user = await target(request);
    return user ? userPage(deps, request, reply, auth, user) : notFound(reply);
  });

  app.post('/users/:id/reset', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const user = await target(request);
    if (!user) return notFound(reply);
    const outcome = await resetConsoleUserPassword(store, auth.account.id, user.id, { keepSession: auth.session.idHash });
    if (!outcome.ok) return notFound(reply);
    request.log.info({ accountId: auth.account.id, user: auth.user.username, reset: user.username }, 'console user password reset from the console');
    return userPage(deps, request, reply, auth, outcome.user, { password: outcome.password });
  });

  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    app.post(`/users/:id/${action}`, async (request, reply) => {
      const auth = authOf(request);
      if (!isAccountWide(auth)) return restricted(reply, auth);
      const user = await target(request);
      if (!user) return notFound(reply);
      const outcome = await setConsoleUserEnabled(store, auth.account.id, user.id, enabled);
      if (!outcome.ok) {
        return outcome.reason === 'not-found' ? notFound(reply) : userPage(deps, request, reply, auth, user, { problem: lastAdministrator(user) }, 409);
      }
      request.log.info({ accountId: auth.account.id, user: auth.user.username, target: user.username, enabled }, 'console user enabled or disabled from the console');
      if (!enabled && user.id === auth.user.id) return endedOwnSession(reply);
      return redirectTo(reply, `/users/${user.id}`, { notice: enabled ? 'user-enabled' : 'user-disabled' });
    });
  }

  app.post('/users/:id/lists', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const user = await target(request);
    if (!user) return notFound(reply);
    const lists = chosenLists(request.body);
    const outcome = await setConsoleUserLists(store, auth.account.id, user.id, lists);
    if (!outcome.ok) {
      if (outcome.reason === 'not-found') return notFound(reply);
      const problem: Notice = outcome.reason === 'unknown-list'
        ? { tone: 'bad', text: `List ${outcome.listId} is not a list of this account; nothing was changed.` }
        : lastAdministrator(user);
      return userPage(deps, request, reply, auth, user, { problem, lists }, outcome.reason === 'unknown-list' ? 400 : 409);
    }
    request.log.info({ accountId: auth.account.id, user: auth.user.username, target: user.username, listIds: lists }, 'console user lists changed from the console');
    return redirectTo(reply, `/users/${user.id}`, { notice: 'user-lists-saved' });
  });

  app.post('/users/:id/delete', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const user = await target(request);
    if (!user) return notFound(reply);
    const outcome = await deleteConsoleUser(store, auth.account.id, user.id);
    if (!outcome.ok) {
      return outcome.reason === 'not-found' ? notFound(reply) : userPage(deps, request, reply, auth, user, { problem: lastAdministrator(user) }, 409);
    }
    request.log.info({ accountId: auth.account.id, user: auth.user.username, deleted: user.username }, 'console user deleted from the console');
    if (user.id === auth.user.id) return endedOwnSession(reply);
    return redirectTo(reply, '/users', { notice: 'user-deleted' });
  });
}
