/**
 * The console as a browser uses it, over real HTTP: keeps the cookies, reads the CSRF token of the
 * last page and sends it with the next form, and does not follow redirects (tests read them).
 */

/** A browser over real HTTP: keeps the cookies, reads the CSRF token of the last page. */
export class ConsoleBrowser {
  constructor(private readonly baseUrl: string) {}

  private readonly cookies = new Map<string, string>();
  private token: string | null = null;

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<{ status: number; body: string; location: string | null }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method, redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]!;
      const name = pair.slice(0, pair.indexOf('='));
      if (/Max-Age=0/.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(pair.indexOf('=') + 1));
    }
    const body = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    if (token !== undefined) this.token = token;
    return { status: res.status, body, location: res.headers.get('location') };
  }

  get = (path: string) => this.request('GET', path);
  post = (path: string, form: Record<string, string> = {}) => this.request('POST', path, { _csrf: this.token ?? '', ...form });

  async signIn(account: string, username: string, password: string): Promise<void> {
    await this.get('/console/sign-in');
    const res = await this.post('/console/sign-in', { account, username, password, next: '/console/imports' });
    if (res.status !== 303) throw new Error(`sign-in failed (${res.status}): ${res.body}`);
  }
}
