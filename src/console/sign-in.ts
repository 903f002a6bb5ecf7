/**
 * Signing in and out. Console users belong to an account, as in MailUp, and are separate from
 * the account's WS user: the form asks for the account (its WS user name, such as a1001), the
 * console user name and the password. Users are created with the admin CLI
 * (`console-user create a1001 alice`); the demo set-up prints one.
 *
 * The form has no session yet, so its CSRF protection is a double-submit token: a random value
 * in a cookie scoped to the sign-in path and in a hidden field, which must match.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { maySignIn } from '../core/console-users.ts';
import { verifyPassword } from '../core/passwords.ts';
import type { ConsoleUser } from '../model/records.ts';
import type { ConsoleDeps } from './deps.ts';
import { field, maybeAuthOf, noticeOf, redirectTo } from './request.ts';
import { html } from './html.ts';
import { page, sendHtml, type Notice } from './layout.ts';
import { parseCookies, randomToken, setCookie, SIGN_IN_COOKIE, tokensMatch } from './session.ts';
import { consoleUrl, safeNextPath } from './urls.ts';

const SIGN_IN_PATH = consoleUrl('/sign-in');
const WRONG_SIGN_IN = 'The account, user name or password is not right.';

interface SignInForm {
  readonly account: string;
  readonly username: string;
  readonly next: string;
}

function signInPage(reply: FastifyReply, request: FastifyRequest, deps: ConsoleDeps, form: SignInForm, notice: Notice | null, status = 200): FastifyReply {
  const token = randomToken(16);
  setCookie(reply, SIGN_IN_COOKIE, token, { path: SIGN_IN_PATH, secure: deps.sessions.isSecure(request) });
  const invalid = notice?.tone === 'bad';
  return sendHtml(reply, page({
    title: 'Sign in',
    auth: null,
    notice,
    body: html`<div class="sign-in card">
  <h1>Sign in</h1>
  <p class="lead">Console users are separate from the account's WS user. Ask your administrator for one
  (<code>mailup-import-admin console-user create</code>).</p>
  <form class="form" method="post" action="${SIGN_IN_PATH}">
    <input type="hidden" name="_csrf" value="${token}">
    <input type="hidden" name="next" value="${form.next}">
    <div class="field">
      <label for="account">Account (WS user)</label>
      <input type="text" id="account" name="account" value="${form.account}" placeholder="a1001" autocomplete="organization"
        autocapitalize="none" spellcheck="false" required aria-describedby="account-hint"${invalid ? html` aria-invalid="true"` : ''}${form.account === '' ? html` autofocus` : ''}>
      <span class="hint" id="account-hint">The account's WS user name: "a" and the account number.</span>
    </div>
    <div class="field">
      <label for="username">User name</label>
      <input type="text" id="username" name="username" value="${form.username}" autocomplete="username" autocapitalize="none"
        spellcheck="false" required${invalid ? html` aria-invalid="true"` : ''}${form.account !== '' && form.username === '' ? html` autofocus` : ''}>
    </div>
    <div class="field">
      <label for="password">Password</label>
      <input type="password" id="password" name="password" autocomplete="current-password" required${invalid ? html` aria-invalid="true"` : ''}${form.account !== '' && form.username !== '' ? html` autofocus` : ''}>
    </div>
    <div><button type="submit">Sign in</button></div>
  </form>
</div>`,
  }), status);
}

export function registerSignInRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store } = deps.ctx;
  const publicRoute = { config: { public: true } };

  app.get('/sign-in', publicRoute, async (request, reply) => {
    const next = safeNextPath(field(request.query, 'next'));
    if (await deps.sessions.load(request)) return reply.code(303).header('location', next).send();
    return signInPage(reply, request, deps, { account: '', username: '', next }, noticeOf(request));
  });

  app.post('/sign-in', publicRoute, async (request, reply) => {
    const body = request.body;
    const form: SignInForm = {
      account: field(body, 'account').trim().toLowerCase(),
      username: field(body, 'username').trim(),
      next: safeNextPath(field(body, 'next')),
    };
    const password = field(body, 'password');
    const cookie = parseCookies(request.headers.cookie).get(SIGN_IN_COOKIE);
    if (cookie === undefined || !tokensMatch(cookie, field(body, '_csrf'))) {
      return signInPage(reply, request, deps, form, {
        tone: 'bad', text: 'The sign-in form had expired or did not come from this console (are cookies enabled?). Please try again.',
      }, 403);
    }
    if (form.account === '' || form.username === '' || password === '') {
      return signInPage(reply, request, deps, form, { tone: 'bad', text: 'Enter the account, your user name and your password.' }, 400);
    }
    // Per console user (account and user name) and per address, as for WS logins: one attempt at
    // a time for each, and each attempt past the free ones waits longer before its password is
    // checked. An attempt that cannot even wait its turn (too many already waiting) gets the
    // usual answer with 429, its password unchecked.
    const throttleKey = `console:${form.account.trim().toLowerCase()}:${form.username.trim()}`;
    const gone = new AbortController();
    const onClose = (): void => {
      if (!reply.raw.writableEnded) gone.abort();
    };
    reply.raw.once('close', onClose);
    const ticket = await deps.throttle.admit(throttleKey, request.ip, gone.signal).finally(() => reply.raw.off('close', onClose));
    if (ticket === null) {
      request.log.info({ account: form.account, username: form.username }, 'console sign-in refused: too many attempts waiting');
      reply.header('retry-after', '10');
      return signInPage(reply, request, deps, form, { tone: 'bad', text: WRONG_SIGN_IN }, 429);
    }
    let consoleUser: ConsoleUser | null = null;
    let valid = false;
    try {
      const account = /^a\d{1,15}$/.test(form.account) ? await store.accounts.findAccountByWsUser(form.account) : null;
      consoleUser = account ? await store.accounts.findConsoleUser(account.id, form.username) : null;
      // Verified even when the account or user does not exist, so timing tells nothing.
      valid = (await verifyPassword(password, consoleUser?.passwordHash ?? null)) && consoleUser !== null;
    } finally {
      ticket.settle(valid);
    }
    if (!valid || consoleUser === null) {
      request.log.info({ account: form.account, username: form.username }, 'console sign-in failed');
      return signInPage(reply, request, deps, form, { tone: 'bad', text: WRONG_SIGN_IN }, 401);
    }
    // Told only to whoever knows the password: a disabled user is not a wrong password.
    if (!maySignIn(consoleUser)) {
      request.log.info({ account: form.account, username: form.username }, 'console sign-in refused: the user is disabled');
      return signInPage(reply, request, deps, form, {
        tone: 'bad', text: 'This console user is disabled. Ask an administrator of the account to enable it.',
      }, 403);
    }
    await deps.sessions.start(request, reply, consoleUser);
    setCookie(reply, SIGN_IN_COOKIE, '', { path: SIGN_IN_PATH, secure: deps.sessions.isSecure(request), maxAge: 0 });
    request.log.info({ account: form.account, username: form.username }, 'console sign-in');
    return reply.code(303).header('location', form.next).send();
  });

  app.post('/sign-out', async (request, reply) => {
    await deps.sessions.end(request, reply);
    return redirectTo(reply, '/sign-in', { notice: 'signed-out' });
  });

  app.get('/', async (request, reply) => {
    return reply.code(303).header('location', maybeAuthOf(request) ? consoleUrl('/imports') : SIGN_IN_PATH).send();
  });
}
