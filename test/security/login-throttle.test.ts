/**
 * Password guessing over SOAP and at the console's sign-in is slowed per user and per source
 * address, without locking anybody out: the right password still works, and other users from
 * other addresses are not delayed. Parallel guessing gets no more answers than guessing one
 * attempt at a time. Clients use distinct loopback addresses (127.0.0.x) as their source.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { request } from 'node:http';
import { createConsoleUser } from '../../src/core/accounts.ts';
import { DEFAULT_THROTTLE } from '../../src/core/login-throttle.ts';
import { soapEnvelope, startTestService, type TestService } from '../helpers/service.ts';

let svc: TestService;
before(async () => {
  svc = await startTestService({ HOST: '0.0.0.0', LOGIN_FREE_ATTEMPTS: '2' });
});
after(() => svc.close());

/** GetIdWsUser from a given source address; resolves to [ReturnCode, milliseconds]. */
function call(from: string, User: string, Password: string): Promise<[number, number]> {
  const body = soapEnvelope('GetIdWsUser', {}, { User, Password });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${svc.url}/Services/WSMailUpImport.asmx`, {
      method: 'POST', localAddress: from, agent: false,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/GetIdWsUser' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () =>
        resolve([Number(/ReturnCode&gt;(-?\d+)/.exec(text)![1]), performance.now() - started]));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('failed logins are delayed more and more, per user and per address, and nobody is locked out', async () => {
  const victim = await svc.addAccount();
  const other = await svc.addAccount();
  // Two free failures, then each attempt waits: 500 ms, 1 s, 2 s … (the user's and the address's count, whichever is more)
  for (let i = 0; i < 3; i++) assert.equal((await call('127.0.0.2', victim.user, 'wrong'))[0], -1002);
  const [code, slow] = await call('127.0.0.2', victim.user, 'wrong');
  assert.equal(code, -1002);
  assert.ok(slow >= 500, `the fourth failure waited ${Math.round(slow)} ms`);
  // The right password still works (after its delay): no lockout.
  const [ok, waited] = await call('127.0.0.3', victim.user, victim.password);
  assert.equal(ok, 0);
  assert.ok(waited >= 1000, `the victim's own login from elsewhere is delayed too (${Math.round(waited)} ms)`);
  // Another user from the guessing address is delayed; from another address it is not.
  const [otherFromBad, delayed] = await call('127.0.0.2', other.user, other.password);
  assert.equal(otherFromBad, 0);
  assert.ok(delayed >= 1000, `the guessing address is slowed for every user (${Math.round(delayed)} ms)`);
  const third = await svc.addAccount();
  const [fine, quick] = await call('127.0.0.4', third.user, third.password);
  assert.equal(fine, 0);
  assert.ok(quick < delayed, 'an unrelated user from another address waits for no throttle');
});

/** One HTTP request from a given source address: status, body and milliseconds; a signal abandons it. */
function send(from: string, path: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${svc.url}${path}`, { method: 'POST', localAddress: from, agent: false, headers, ...(signal ? { signal } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () =>
        resolve({ status: res.statusCode!, body: text, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** GetNlLists from a given source address: ReturnCode and milliseconds. */
/** GetNlLists: its ReturnCode, or 'waiting' for the 503 fault that says attempts wait their turn; and how long it took. */
async function getNlLists(from: string, User: string, Password: string, signal?: AbortSignal): Promise<[number | 'waiting', number]> {
  const res = await send(from, '/Services/WSMailUpImport.asmx',
    { 'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/GetNlLists' },
    soapEnvelope('GetNlLists', {}, { User, Password }), signal);
  if (res.status === 503 && res.body.includes('waiting their turn')) return ['waiting', res.ms];
  return [Number(/ReturnCode&gt;(-?\d+)/.exec(res.body)![1]), res.ms];
}

const WINDOW_MS = 3000;
const PARALLEL = 50;

/**
 * The most attempts one key can have answered within `ms` when they are checked one at a time:
 * each waits its delay (0 for the free ones, then doubling from the base) after the one before
 * has its answer; the checks themselves take time too, so this is an upper bound.
 */
function mostAnsweredWithin(ms: number): number {
  const { baseDelayMs, maxDelayMs } = DEFAULT_THROTTLE;
  const free = svc.config.loginFreeAttempts;
  let elapsed = 0;
  let n = 0;
  for (;;) {
    const over = n - free;
    elapsed += over < 0 ? 0 : Math.min(maxDelayMs, baseDelayMs * 2 ** over);
    if (elapsed > ms) return n;
    n++;
  }
}

/**
 * Runs `attempt` from `workers` clients at once, each sending its next attempt as soon as the last
 * is answered, for `ms`; counts the answers that came within that time, then abandons the rest.
 */
async function flood<T>(workers: number, ms: number, attempt: (n: number, signal: AbortSignal) => Promise<T>): Promise<{ answered: T[] }> {
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per request in flight
  const answered: T[] = [];
  let n = 0;
  const started = performance.now();
  const timer = setTimeout(() => stop.abort(), ms);
  await Promise.all(Array.from({ length: workers }, async () => {
    while (!stop.signal.aborted) {
      try {
        const result = await attempt(n++, stop.signal);
        if (performance.now() - started <= ms) answered.push(result);
      } catch (e) {
        if (!stop.signal.aborted) throw e;
      }
    }
  }));
  clearTimeout(timer);
  return { answered };
}

test('parallel guessing over SOAP gets no more answers than guessing one attempt at a time; others are not held up', async (t) => {
  const victim = await svc.addAccount();
  const control = await svc.addAccount();
  const bystander = await svc.addAccount();
  const neighbour = await svc.addAccount();
  const most = mostAnsweredWithin(WINDOW_MS);
  // 50 clients guess the victim's password from one address; meanwhile one client guesses the
  // control account's from another, one attempt at a time; and a third user calls from a third address.
  const bystanderCall = new Promise((resolve) => setTimeout(resolve, WINDOW_MS / 2))
    .then(() => getNlLists('127.0.0.22', bystander.user, bystander.password));
  const [parallel, sequential, [bystanderCode, bystanderMs]] = await Promise.all([
    flood(PARALLEL, WINDOW_MS, (n, signal) => getNlLists('127.0.0.20', victim.user, `wrong-${n}`, signal)),
    flood(1, WINDOW_MS, (n, signal) => getNlLists('127.0.0.21', control.user, `wrong-${n}`, signal)),
    bystanderCall,
  ]);
  t.diagnostic(`answered in ${WINDOW_MS} ms: ${parallel.answered.length} to ${PARALLEL} parallel clients, ${sequential.answered.length} one at a time (at most ${most} by the policy)`);
  assert.ok(parallel.answered.every(([code]) => code === -1002));
  assert.ok(sequential.answered.length >= 2, 'the free attempts are answered');
  assert.ok(parallel.answered.length <= most, `${parallel.answered.length} parallel guesses answered, at most ${most} expected`);
  assert.equal(bystanderCode, 0);
  assert.ok(bystanderMs < 2000, `another user from another address answered in ${Math.round(bystanderMs)} ms during the attack`);

  // The guesses still waiting at the first address were abandoned. The right password gets in
  // from elsewhere, and another user from the guessing address gets in too: each waits for the
  // attempt being checked and its own delay, not for the abandoned line.
  const bound = 2 * DEFAULT_THROTTLE.maxDelayMs + 2000;
  const [[victimCode, victimMs], [neighbourCode, neighbourMs]] = await Promise.all([
    getNlLists('127.0.0.23', victim.user, victim.password),
    getNlLists('127.0.0.20', neighbour.user, neighbour.password),
  ]);
  t.diagnostic(`afterwards: the right password got in after ${Math.round(victimMs)} ms, another user from the guessing address after ${Math.round(neighbourMs)} ms`);
  assert.equal(victimCode, 0, 'the right password still gets in');
  assert.ok(victimMs < bound, `the right password waited ${Math.round(victimMs)} ms`);
  assert.equal(neighbourCode, 0, 'another user from the guessing address still gets in');
  assert.ok(neighbourMs < bound, `another user from the guessing address waited ${Math.round(neighbourMs)} ms`);
  // The success cleared the victim's count: from a fresh address the right password is quick again.
  const [again, againMs] = await getNlLists('127.0.0.24', victim.user, victim.password);
  assert.equal(again, 0);
  assert.ok(againMs < 2000, `the victim from a fresh address answered in ${Math.round(againMs)} ms`);
});

test('parallel guessing at the console sign-in gets no more answers than one attempt at a time; nobody is locked out', async (t) => {
  const victim = await svc.addAccount();
  const control = await svc.addAccount();
  const bystander = await svc.addAccount();
  const neighbour = await svc.addAccount();
  const PASSWORD = 'console-throttle-secret-1';
  for (const a of [victim, control, bystander, neighbour]) assert.equal((await createConsoleUser(svc.service.store, a.account.id, { username: 'owner', password: PASSWORD })).ok, true);
  // The sign-in form's double-submit token: any page's cookie and field, reused by every post.
  const form = await new Promise<{ token: string }>((resolve, reject) => {
    request(`${svc.url}/console/sign-in`, { localAddress: '127.0.0.39', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ token: /name="_csrf" value="([^"]+)"/.exec(text)![1]! }));
    }).on('error', reject).end();
  });
  const signIn = (from: string, account: string, password: string, signal?: AbortSignal) =>
    send(from, '/console/sign-in', { 'content-type': 'application/x-www-form-urlencoded', cookie: `console_sign_in=${form.token}` },
      new URLSearchParams({ _csrf: form.token, account, username: 'owner', password, next: '/console/imports' }).toString(), signal);
  const most = mostAnsweredWithin(WINDOW_MS);
  const bystanderCall = new Promise((resolve) => setTimeout(resolve, WINDOW_MS / 2)).then(() => signIn('127.0.0.32', bystander.user, PASSWORD));
  const [parallel, sequential, bystanderRes] = await Promise.all([
    flood(PARALLEL, WINDOW_MS, (n, signal) => signIn('127.0.0.30', victim.user, `wrong-${n}`, signal)),
    flood(1, WINDOW_MS, (n, signal) => signIn('127.0.0.31', control.user, `wrong-${n}`, signal)),
    bystanderCall,
  ]);
  t.diagnostic(`answered in ${WINDOW_MS} ms: ${parallel.answered.length} to ${PARALLEL} parallel clients, ${sequential.answered.length} one at a time (at most ${most} by the policy)`);
  assert.ok(parallel.answered.every((r) => r.status === 401 && r.body.includes('The account, user name or password is not right.')));
  assert.ok(sequential.answered.length >= 2, 'the free attempts are answered');
  assert.ok(parallel.answered.length <= most, `${parallel.answered.length} parallel guesses answered, at most ${most} expected`);
  assert.equal(bystanderRes.status, 303, 'another user from another address signs in');
  assert.ok(bystanderRes.ms < 2000, `another user from another address signed in in ${Math.round(bystanderRes.ms)} ms during the attack`);

  const bound = 2 * DEFAULT_THROTTLE.maxDelayMs + 2000;
  const [right, next] = await Promise.all([
    signIn('127.0.0.33', victim.user, PASSWORD),
    signIn('127.0.0.30', neighbour.user, PASSWORD),
  ]);
  t.diagnostic(`afterwards: the right password signed in after ${Math.round(right.ms)} ms, another user from the guessing address after ${Math.round(next.ms)} ms`);
  assert.equal(right.status, 303, 'the right password still signs in');
  assert.ok(right.ms < bound, `the right password waited ${Math.round(right.ms)} ms`);
  assert.equal(next.status, 303, 'another user from the guessing address still signs in');
  assert.ok(next.ms < bound, `another user from the guessing address waited ${Math.round(next.ms)} ms`);
});

test('attempts beyond a full line are answered at once, unchecked: a 503 fault to retry over SOAP, 429 at the console', async () => {
  const victim = await svc.addAccount();
  const PASSWORD = 'console-throttle-secret-2';
  assert.equal((await createConsoleUser(svc.service.store, victim.account.id, { username: 'owner', password: PASSWORD })).ok, true);
  // One attempt in its turn and maxWaiting waiting: the rest cannot even wait (but for those
  // that find a place freed by an attempt answered before all have arrived: at most as many as
  // the policy answers in a second).
  const beyond = 10;
  const mayFindPlace = mostAnsweredWithin(1000);
  const workers = 1 + DEFAULT_THROTTLE.maxWaiting + beyond;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const collect = async <T>(calls: Promise<T>[]): Promise<T[]> => {
    const answered: T[] = [];
    for (const call of calls) call.then((r) => answered.push(r), () => {});
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return answered;
  };
  // The victim's client has just used its password: it is in the credential cache.
  assert.equal((await getNlLists('127.0.0.43', victim.user, victim.password))[0], 0);
  try {
    const wrong = await collect(Array.from({ length: workers }, (_, n) => getNlLists('127.0.0.40', victim.user, `wrong-${n}`, stop.signal)));
    assert.ok(wrong.length >= beyond, `${wrong.length} answered within a second`);
    assert.ok(wrong.length <= beyond + mayFindPlace, `${wrong.length} answered within a second`);
    // Refused at once: told to try again, never that the password is wrong. The few answered in
    // their turn within the second are wrong passwords, checked.
    assert.ok(wrong.filter(([code]) => code === 'waiting').length >= beyond - mayFindPlace, JSON.stringify(wrong.map(([code]) => code)));
    assert.ok(wrong.every(([code]) => code === 'waiting' || code === -1002));
    // While the guesses wait, the password verified a moment ago passes at once, without a turn;
    // a wrong password from the same address waits its turn and its delay like any other.
    const [[cachedCode, cachedMs], [wrongCode, wrongMs]] = await Promise.all([
      getNlLists('127.0.0.43', victim.user, victim.password),
      getNlLists('127.0.0.43', victim.user, 'wrong-again'),
    ]);
    assert.equal(cachedCode, 0);
    assert.equal(wrongCode, -1002);
    assert.ok(cachedMs < 2000 && cachedMs < wrongMs, `the cached password answered in ${Math.round(cachedMs)} ms, a wrong one in ${Math.round(wrongMs)} ms`);
    const unknown = await collect(Array.from({ length: workers }, (_, n) => getNlLists('127.0.0.41', 'a99999999', `wrong-${n}`, stop.signal)));
    assert.ok(unknown.length >= beyond);
    assert.ok(unknown.filter(([code]) => code === 'waiting').length >= beyond - mayFindPlace, JSON.stringify(unknown.map(([code]) => code)));
    assert.ok(unknown.every(([code]) => code === 'waiting' || code === -1001));
    // The console: its usual page with 429.
    const form = await new Promise<string>((resolve, reject) => {
      request(`${svc.url}/console/sign-in`, { localAddress: '127.0.0.42', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(/name="_csrf" value="([^"]+)"/.exec(text)![1]!));
      }).on('error', reject).end();
    });
    const pages = await collect(Array.from({ length: workers }, (_, n) => send('127.0.0.42', '/console/sign-in',
      { 'content-type': 'application/x-www-form-urlencoded', cookie: `console_sign_in=${form}` },
      new URLSearchParams({ _csrf: form, account: victim.user, username: 'owner', password: `wrong-${n}` }).toString(), stop.signal)));
    const refused = pages.filter((p) => p.status === 429);
    assert.ok(refused.length >= beyond - mayFindPlace, `${refused.length} refused at once`);
    assert.ok(refused.every((p) => p.body.includes('The account, user name or password is not right.')));
    assert.ok(pages.every((p) => p.status === 429 || p.status === 401));
  } finally {
    stop.abort();
  }
});
