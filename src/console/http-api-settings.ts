/**
 * The console's part of the HTTP subscribe API settings (on the Web services page): who may call
 * `/frontend/xmlSubscribe.aspx` and its siblings for the account's lists, addresses and CIDR
 * ranges, and the form that replaces them. The rules are the core's (src/core/http-api-access.ts).
 */
import type { FastifyRequest } from 'fastify';
import { MAX_HTTP_API_ENTRIES, parseHttpApiAllowList } from '../core/http-api-access.ts';
import { html, type Html } from './html.ts';
import { csrfField } from './layout.ts';
import type { ConsoleAuth } from './session.ts';
import { consoleUrl } from './urls.ts';

/** The form as typed, with what was wrong with it. */
export interface HttpApiForm {
  readonly error: string;
  readonly entries: string;
}

/** The entries typed in the form: separated by lines, commas or spaces, checked by the core. */
export function parseHttpApiForm(text: string): { ok: true; entries: string[] } | { ok: false; error: string } {
  const parsed = parseHttpApiAllowList(text.split(/[\s,;]+/));
  if (parsed.ok) return parsed;
  if (parsed.reason === 'too-many') return { ok: false, error: `At most ${MAX_HTTP_API_ENTRIES} entries; use CIDR ranges to cover more addresses.` };
  return { ok: false, error: `Not an IPv4 or IPv6 address or CIDR range: ${parsed.invalid.slice(0, 5).join(', ')}.` };
}

export function httpApiCard(auth: ConsoleAuth, request: FastifyRequest, form?: HttpApiForm): Html {
  const allowed = auth.account.httpApiIps;
  const entries = form?.entries ?? allowed.join('\n');
  const example = `${request.protocol}://${request.host}/frontend/xmlSubscribe.aspx`;
  return html`<section class="card" aria-labelledby="http-api-title">
  <h2 id="http-api-title">HTTP subscribe API</h2>
  <p class="small muted">Shop and CMS plugins subscribe visitors one at a time at <code>${example}</code> and its sibling pages.
Only the addresses below may call them for this account's lists; any other caller gets <code>-1011</code>.
Currently: ${allowed.length === 0 ? 'nobody' : allowed.join(', ')}.</p>
  <form class="form" method="post" action="${consoleUrl('/settings/http-api')}">
    ${csrfField(auth)}
    ${form?.error ? html`<div class="notice notice-bad" role="alert" id="http-api-error">${form.error}</div>` : ''}
    <div class="field">
      <label for="http-api-ips">Allowed addresses and ranges</label>
      <textarea id="http-api-ips" name="httpApiIps" rows="3" spellcheck="false" aria-describedby="http-api-hint"${form?.error ? html` aria-invalid="true"` : ''}>${entries}</textarea>
      <span class="hint" id="http-api-hint">One IPv4 or IPv6 address or CIDR range (<code>198.51.100.0/24</code>) per line; empty allows nobody. This server sees you at <code>${request.ip}</code>.</span>
    </div>
    <div><button type="submit">Save</button></div>
  </form>
</section>`;
}
