/**
 * The console as a browser reaches it: real HTTP to a running service, cookies kept between
 * requests, and each form posted with the CSRF token of the last page that had one.
 */

export interface PageResponse {
  readonly status: number;
  readonly location: string | null;
  readonly body: string;
}

export class ConsoleBrowser {
  private readonly cookies = new Map<string, string>();
  private token: string | null = null;

  /** `baseUrl`: the service's address, such as http://127.0.0.1:8080. */
  constructor(private readonly baseUrl: string) {}

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<PageResponse> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      redirect: 'manual',
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0]!;
      const name = pair.slice(0, pair.indexOf('='));
      if (/Max-Age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(pair.indexOf('=') + 1));
    }
    const body = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    if (token !== undefined) this.token = token;
    return { status: res.status, location: res.headers.get('location'), body };
  }

  get(path: string): Promise<PageResponse> {
    return this.request('GET', path);
  }

  /** Posts a form with the CSRF token of the last page that had one. */
  post(path: string, form: Record<string, string> = {}): Promise<PageResponse> {
    if (this.token === null) throw new Error('no page with a CSRF token yet');
    return this.request('POST', path, { _csrf: this.token, ...form });
  }

  /** Signs in and fails unless the console lets the user in. */
  async signIn(account: string, username: string, password: string): Promise<void> {
    await this.get('/console/sign-in');
    const res = await this.post('/console/sign-in', { account, username, password, next: '/console/lists' });
    if (res.status !== 303 || res.location?.includes('sign-in')) throw new Error(`sign-in refused (${res.status}): ${res.body.slice(0, 300)}`);
  }
}
