/**
 * Web-service settings (MailUp's Settings > Developer's corner > Web services, spec §3.2, §14):
 * the WS user name, a new WS password, enabled or not, the IP check and its allowed addresses;
 * and a page with the endpoint and WSDL URLs and a SOAP request to copy for this account.
 *
 * These concern the whole account, so only users who see every list may open them. A new WS
 * password works at once and the old one is refused from the next call: the credential cache
 * is tied to the stored hash.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { changeAccess, locksOut, MAX_WS_PASSWORD, parseAllowList, setWsPassword } from '../core/accounts.ts';
import { setHttpApiIps } from '../core/http-api-access.ts';
import { verifyPassword } from '../core/passwords.ts';
import { SERVICE_NAMESPACE, SERVICE_PATH } from '../protocol/operations.ts';
import type { ConsoleDeps } from './deps.ts';
import { httpApiCard, parseHttpApiForm, type HttpApiForm } from './http-api-settings.ts';
import { authOf, field, isAccountWide, noticeOf, redirectTo } from './request.ts';
import { html, type Html } from './html.ts';
import { badge, csrfField, page, sendHtml } from './layout.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';

/**
 * A password chosen in the console's form must be this long: a person typing one should choose a
 * strong one. (The admin CLI may set any password the core accepts, such as the one an existing
 * MailUp client already holds.)
 */
export const MIN_WS_PASSWORD = 8;

/** The allow-list typed in the form: addresses separated by lines, commas or spaces, checked by the core. */
export function parseAddressList(text: string): { ok: true; addresses: string[] } | { ok: false; error: string } {
  const parsed = parseAllowList(text.split(/[\s,;]+/));
  if (parsed.ok) return parsed;
  const ranges = parsed.invalid.some((e) => e.includes('/')) ? ' Address ranges are not supported; list each address.' : '';
  return { ok: false, error: `Not an IPv4 or IPv6 address: ${parsed.invalid.slice(0, 5).join(', ')}.${ranges}` };
}

interface SettingsForms {
  readonly password?: string;
  readonly access?: { readonly error: string; readonly enabled: boolean; readonly ipCheck: boolean; readonly allowedIps: string };
  readonly httpApi?: HttpApiForm;
}

function restricted(reply: FastifyReply, auth: ConsoleAuth): FastifyReply {
  return sendHtml(reply, page({
    title: 'Web services', section: 'settings', auth,
    body: html`<div class="card"><h1>Web services</h1><p>The web-service settings concern the whole account.
Only console users who may see every list of the account can open them.</p></div>`,
  }), 403);
}

function settingsPage(reply: FastifyReply, request: FastifyRequest, auth: ConsoleAuth, forms: SettingsForms = {}, status = 200): FastifyReply {
  const a = auth.account;
  const access = forms.access ?? { error: '', enabled: a.wsEnabled, ipCheck: a.ipCheck, allowedIps: a.allowedIps.join('\n') };
  return sendHtml(reply, page({
    title: 'Web services', section: 'settings', auth, notice: noticeOf(request),
    body: html`<div class="page-head"><div><h1>Web services</h1>
<p class="lead">The account's WS user calls WSMailUpImport; it is separate from console users.</p></div>
<div class="actions"><a class="button secondary" href="${consoleUrl('/settings/endpoint')}">Endpoint, WSDL and a SOAP example</a>
<a class="button secondary" href="${consoleUrl('/settings/rest')}">REST API clients</a>
<a class="button secondary" href="${consoleUrl('/webhooks')}">Webhooks</a></div></div>
<section class="card" aria-labelledby="user-title">
  <h2 id="user-title">WSMailUpImport</h2>
  <dl class="kv">
    <dt>WS user name</dt><dd><span class="copyable"><code id="ws-user">${a.wsUser}</code><button type="button" class="secondary small" data-copy="#ws-user">Copy</button></span></dd>
    <dt>State</dt><dd>${a.wsEnabled ? badge('Enabled', 'ok') : badge('Disabled', 'bad')}</dd>
    <dt>IP address check</dt><dd>${a.ipCheck ? badge('On', 'info') : badge('Off', 'neutral')}${a.ipCheck ? html` <span class="small muted">${a.allowedIps.length === 0 ? 'no address allowed' : a.allowedIps.join(', ')}</span>` : ''}</dd>
  </dl>
</section>
<div class="grid">
<section class="card" aria-labelledby="access-title">
  <h2 id="access-title">Access</h2>
  <form class="form" method="post" action="${consoleUrl('/settings/access')}">
    ${csrfField(auth)}
    ${access.error ? html`<div class="notice notice-bad" role="alert" id="access-error">${access.error}</div>` : ''}
    <div class="check"><input type="checkbox" id="enabled" name="enabled" value="1"${access.enabled ? html` checked` : ''}>
      <label for="enabled">Enabled <span class="muted small">— when off, every call is refused with ReturnCode -1006</span></label></div>
    <div class="check"><input type="checkbox" id="ip-check" name="ipCheck" value="1"${access.ipCheck ? html` checked` : ''}>
      <label for="ip-check">IP address check enabled <span class="muted small">— when on, calls from other addresses get -1011</span></label></div>
    <div class="field">
      <label for="allowed-ips">Allowed IP addresses</label>
      <textarea id="allowed-ips" name="allowedIps" rows="4" spellcheck="false" aria-describedby="ips-hint"${access.error ? html` aria-invalid="true"` : ''}>${access.allowedIps}</textarea>
      <span class="hint" id="ips-hint">One IPv4 or IPv6 address per line. This server sees you at <code>${request.ip}</code>.</span>
    </div>
    <div><button type="submit">Save</button></div>
  </form>
</section>
<section class="card" aria-labelledby="password-title">
  <h2 id="password-title">Change the WS password</h2>
  <form class="form" method="post" action="${consoleUrl('/settings/password')}" autocomplete="off">
    ${csrfField(auth)}
    ${forms.password ? html`<div class="notice notice-bad" role="alert">${forms.password}</div>` : ''}
    <input type="text" name="username" value="${a.wsUser}" autocomplete="username" hidden>
    <div class="field"><label for="new-password">New WS password</label>
      <input type="password" id="new-password" name="newPassword" autocomplete="new-password" minlength="${MIN_WS_PASSWORD}" maxlength="${MAX_WS_PASSWORD}" required aria-describedby="new-password-hint">
      <span class="hint" id="new-password-hint">At least ${MIN_WS_PASSWORD} characters. Clients using the old password are refused (-1002) from their next call.</span></div>
    <div class="field"><label for="confirm-password">New WS password again</label>
      <input type="password" id="confirm-password" name="confirmPassword" autocomplete="new-password" required></div>
    <div class="field"><label for="current-password">Your console password</label>
      <input type="password" id="current-password" name="currentPassword" autocomplete="current-password" required aria-describedby="current-hint">
      <span class="hint" id="current-hint">To confirm that it is you (${auth.user.username}).</span></div>
    <div><button type="submit">Change the WS password</button></div>
  </form>
</section>
</div>
${httpApiCard(auth, request, forms.httpApi)}`,
  }), status);
}

const xmlText = (s: string | number): string => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A SOAP 1.1 GetNlLists request for this account, ready to paste into a SOAP client or post with curl. */
function soapExample(wsUser: string): string {
  return `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ws="${SERVICE_NAMESPACE}">
  <soapenv:Header>
    <ws:Authentication>
      <ws:User>${xmlText(wsUser)}</ws:User>
      <ws:Password>YOUR-WS-PASSWORD</ws:Password>
      <ws:encType>UTF-8</ws:encType>
    </ws:Authentication>
  </soapenv:Header>
  <soapenv:Body>
    <ws:GetNlLists/>
  </soapenv:Body>
</soapenv:Envelope>`;
}

function copyBlock(id: string, label: string, text: string): Html {
  return html`<div class="code-block"><pre class="code" id="${id}" aria-label="${label}">${text}</pre>
<button type="button" class="secondary small copy" data-copy="#${id}">Copy</button></div>`;
}

export function registerSettingsRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store } = deps.ctx;

  app.get('/settings', async (request, reply) => {
    const auth = authOf(request);
    return isAccountWide(auth) ? settingsPage(reply, request, auth) : restricted(reply, auth);
  });

  app.post('/settings/access', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const body = request.body;
    const form = { enabled: field(body, 'enabled') === '1', ipCheck: field(body, 'ipCheck') === '1', allowedIps: field(body, 'allowedIps') };
    const parsed = parseAddressList(form.allowedIps);
    if (!parsed.ok) return settingsPage(reply, request, auth, { access: { ...form, error: parsed.error } }, 400);
    if (locksOut({ ipCheck: form.ipCheck, allowedIps: parsed.addresses })) {
      return settingsPage(reply, request, auth, {
        access: { ...form, error: 'With the IP check on and no address allowed, every call would be refused. Add at least one address.' },
      }, 400);
    }
    await changeAccess(store, auth.account.id, { wsEnabled: form.enabled, ipCheck: form.ipCheck, allowedIps: parsed.addresses });
    request.log.info({ accountId: auth.account.id, user: auth.user.username, ...form, allowedIps: parsed.addresses }, 'web-service access changed from the console');
    return redirectTo(reply, '/settings', { notice: 'access-saved' });
  });

  app.post('/settings/http-api', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const entries = field(request.body, 'httpApiIps');
    const parsed = parseHttpApiForm(entries);
    if (!parsed.ok) return settingsPage(reply, request, auth, { httpApi: { error: parsed.error, entries } }, 400);
    await setHttpApiIps(store, auth.account.id, parsed.entries);
    request.log.info({ accountId: auth.account.id, user: auth.user.username, httpApiIps: parsed.entries }, 'HTTP subscribe API allow-list changed from the console');
    return redirectTo(reply, '/settings', { notice: 'http-api-saved' });
  });

  app.post('/settings/password', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const body = request.body;
    const password = field(body, 'newPassword');
    const refuse = (message: string): FastifyReply => settingsPage(reply, request, auth, { password: message }, 400);
    if (password.length < MIN_WS_PASSWORD || password.length > MAX_WS_PASSWORD) {
      return refuse(`The WS password must have ${MIN_WS_PASSWORD} to ${MAX_WS_PASSWORD} characters.`);
    }
    if (password !== field(body, 'confirmPassword')) return refuse('The two new passwords are not the same.');
    if (!(await verifyPassword(field(body, 'currentPassword'), auth.user.passwordHash))) {
      return refuse('Your console password is not right; the WS password was not changed.');
    }
    const changed = await setWsPassword(store, auth.account.id, password);
    if (!changed.ok) return refuse(`The WS password must have ${MIN_WS_PASSWORD} to ${MAX_WS_PASSWORD} characters.`);
    request.log.info({ accountId: auth.account.id, user: auth.user.username }, 'WS password changed from the console');
    return redirectTo(reply, '/settings', { notice: 'password-changed' });
  });

  app.get('/settings/endpoint', async (request, reply) => {
    const auth = authOf(request);
    if (!isAccountWide(auth)) return restricted(reply, auth);
    const endpoint = `${request.protocol}://${request.host}${SERVICE_PATH}`;
    const lists = await store.lists.listLists(auth.account.id);
    const first = lists[0] ?? null;
    const soap = soapExample(auth.account.wsUser);
    const curl = `curl -s ${endpoint} \\
  -H 'Content-Type: text/xml; charset=utf-8' \\
  -H 'SOAPAction: "${SERVICE_NAMESPACE}GetNlLists"' \\
  --data-binary @request.xml`;
    return sendHtml(reply, page({
      title: 'Endpoint and WSDL', section: 'settings', auth,
      body: html`<div class="page-head"><div><p class="small"><a href="${consoleUrl('/settings')}">← Web services</a></p>
<h1>Endpoint and WSDL</h1><p class="lead">Point MailUp clients (SOAP 1.1 or 1.2) at this server instead of a MailUp console.</p></div></div>
<section class="card"><dl class="kv">
  <dt>Endpoint</dt><dd><span class="copyable"><code id="endpoint">${endpoint}</code><button type="button" class="secondary small" data-copy="#endpoint">Copy</button></span></dd>
  <dt>WSDL</dt><dd><span class="copyable"><code id="wsdl">${endpoint}?WSDL</code><button type="button" class="secondary small" data-copy="#wsdl">Copy</button>
    <a class="small" href="${SERVICE_PATH}?WSDL">Open</a></span></dd>
  <dt>WS user</dt><dd><code>${auth.account.wsUser}</code> <span class="muted small">(the password is never shown; set it on the previous page)</span></dd>
  <dt>HTTP GET/POST</dt><dd><code>${endpoint}/&lt;Operation&gt;</code> <span class="muted small">with HTTP Basic authentication</span></dd>
  ${first === null ? '' : html`<dt>First list</dt><dd>idList <code>${first.id}</code>, listGUID <code>${first.guid}</code></dd>`}
</dl></section>
<section class="card" aria-labelledby="soap-title">
  <h2 id="soap-title">A SOAP 1.1 request for this account</h2>
  <p class="small muted">GetNlLists, the account's lists and groups. Save it as <code>request.xml</code>, put the WS password in it, and post it:</p>
  ${copyBlock('soap-example', 'SOAP request', soap)}
  ${copyBlock('curl-example', 'curl command', curl)}
</section>`,
    }));
  });
}
