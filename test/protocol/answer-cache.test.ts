/**
 * Repeated GetProcessDetails calls over HTTP and the answers the endpoint keeps for them
 * (src/http/answer-cache.ts): a repeat is answered from the kept answer only while nothing has
 * been written, by either of the service's threads or another process; never for another
 * address, other credentials or a failure; and a password changed by another process is refused
 * within twice LOOKUP_CACHE_MS. On PostgreSQL, shared with other servers and workers, nothing is
 * kept.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { loadConfig } from '../../src/config.ts';
import { hashPassword } from '../../src/operations/passwords.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import {
  callSoap, feedXml, resultFields, soapEnvelope, startTestService, waitForProcess, type SoapAuth, type TestAccount, type TestService,
} from '../helpers/service.ts';

const LOOKUP_CACHE_MS = 400;
let svc: TestService;
before(async () => {
  svc = await startTestService({ LOOKUP_CACHE_MS: String(LOOKUP_CACHE_MS) });
});
after(() => svc.close());

const keeps = (): boolean => svc.config.store === 'sqlite';

async function reusedSoFar(): Promise<number> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('mailup_ws_answers_reused_total{operation="GetProcessDetails"} '));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/**
 * GetProcessDetails as one exact SOAP 1.1 request, sent from `from`; resolves to the result
 * string. `prolog` goes before the envelope: a comment there makes bytes no kept answer matches.
 */
function poll(details: { idList: number; listGUID: string; idProcess: number }, auth: SoapAuth, from = '127.0.0.1', prolog = ''): Promise<string> {
  const body = prolog + soapEnvelope('GetProcessDetails', details, auth);
  return new Promise((resolve, reject) => {
    const req = request(svc.endpoint, {
      method: 'POST', localAddress: from, agent: false,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'http://ws.mailupnet.it/GetProcessDetails' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => {
        const result = /<GetProcessDetailsResult>([\s\S]*)<\/GetProcessDetailsResult>/.exec(text)?.[1];
        if (res.statusCode !== 200 || result === undefined) reject(new Error(`HTTP ${res.statusCode}: ${text}`));
        else resolve(result.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

let freshCalls = 0;
/** The same call in bytes never sent before, which no kept answer matches: what is stored now. */
function fresh(details: { idList: number; listGUID: string; idProcess: number }, auth: SoapAuth): Promise<string> {
  return poll(details, auth, '127.0.0.1', `<!-- fresh ${++freshCalls} -->`);
}

const returnCode = (result: string): number => Number(resultFields(result).ReturnCode);
const status = (result: string): number => Number(resultFields(result).StatusCode);

function importParams(a: TestAccount, subscribers: number): Record<string, string | number | boolean> {
  return {
    idList: a.list.id, listGUID: a.list.guid, idGroups: '', importType: 3, mobileInputType: 1,
    xmlDoc: feedXml(Array.from({ length: subscribers }, (_, i) => ({ email: `s${i}@answers.example` }))),
    asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
  };
}

async function newProcess(a: TestAccount, subscribers: number): Promise<{ idList: number; listGUID: string; idProcess: number }> {
  const auth = { User: a.user, Password: a.password };
  const created = await callSoap(svc.endpoint, 'NewImportProcess', importParams(a, subscribers), auth);
  assert.ok(created.returnCode! > 0, created.result ?? created.body);
  return { idList: a.list.id, listGUID: a.list.guid, idProcess: created.returnCode! };
}

test('a repeat is answered from the kept answer until a write, which the next answer shows', async () => {
  const a = await svc.addAccount();
  const auth = { User: a.user, Password: a.password };
  const details = await newProcess(a, 3);
  const reused = await reusedSoFar();
  const first = await poll(details, auth);
  assert.equal(status(first), 1);
  assert.equal(await poll(details, auth), first);
  assert.equal(await reusedSoFar(), reused + (keeps() ? 1 : 0));

  const started = await callSoap(svc.endpoint, 'StartProcess', details, auth);
  assert.equal(started.returnCode, 0, started.result ?? started.body);
  assert.notEqual(status(await poll(details, auth)), 1, 'StartProcess was written: the kept answer is stale');
  assert.equal(await reusedSoFar(), reused + (keeps() ? 1 : 0));
  await waitForProcess(svc.endpoint, auth, details.idList, details.listGUID, details.idProcess);
  assert.equal(await poll(details, auth), await fresh(details, auth));
});

test('the import thread\'s commits make a kept answer stale at once: a repeat never lags behind what is stored', async () => {
  const a = await svc.addAccount();
  const auth = { User: a.user, Password: a.password };
  const rows = 20_000;
  const details = await newProcess(a, rows);
  const reused = await reusedSoFar();
  assert.equal((await callSoap(svc.endpoint, 'StartProcess', details, auth)).returnCode, 0);
  const progress = (result: string): number => {
    const f = resultFields(result);
    return status(result) * 1e9 + Number(f.NewEmail) + Number(f.ExistingEmail) + Number(f.OptOutEmail);
  };
  let last = '';
  const seen = new Set<number>();
  for (let polls = 0; status(last) !== 3; polls++) {
    assert.ok(polls < 20_000, `the import did not finish: ${last}`);
    // What is stored now, then the repeat: the repeat was read later, so it cannot show less.
    const stored = await fresh(details, auth);
    last = await poll(details, auth);
    assert.ok(progress(last) >= progress(stored), `a repeat showed\n${last}\nafter the store had\n${stored}`);
    seen.add(progress(last));
  }
  assert.ok(seen.size >= 2, 'the polls saw the import in progress');
  assert.equal(last, await fresh(details, auth));
  if (keeps()) assert.ok(await reusedSoFar() > reused, 'between the import\'s commits, repeats were answered from kept answers');
  else assert.equal(await reusedSoFar(), reused);
});

test('a kept answer is never given to another address or for other credentials, and failures are not kept', async () => {
  const a = await svc.addAccount();
  const auth = { User: a.user, Password: a.password };
  const details = await newProcess(a, 1);
  await svc.service.store.updateAccount(a.account.id, { ipCheck: true, allowedIps: ['127.0.0.1'] });
  const reused = await reusedSoFar();
  assert.equal(returnCode(await poll(details, auth)), 0);
  assert.equal(returnCode(await poll(details, auth)), 0);
  assert.equal(returnCode(await poll(details, auth, '127.0.0.2')), -1011, 'the same bytes from another address meet the IP check');
  const wrong = { User: a.user, Password: `${a.password}x` };
  assert.equal(returnCode(await poll(details, wrong)), -1002);
  assert.equal(returnCode(await poll(details, wrong)), -1002);
  const unknown = { ...details, idProcess: details.idProcess + 1000 };
  assert.equal(returnCode(await poll(unknown, auth)), -501);
  assert.equal(returnCode(await poll(unknown, auth)), -501);
  assert.equal(await reusedSoFar(), reused + (keeps() ? 1 : 0), 'only the second good call was answered from a kept answer');
});

/** A new account's process, polled twice: with SQLite its answer is kept from then on. */
async function polledTwice(): Promise<{ a: TestAccount; auth: SoapAuth; details: { idList: number; listGUID: string; idProcess: number } }> {
  const a = await svc.addAccount();
  const auth = { User: a.user, Password: a.password };
  const details = await newProcess(a, 1);
  await poll(details, auth);
  await poll(details, auth);
  return { a, auth, details };
}

test('a password changed by this process refuses the same request at once', async () => {
  const { a, auth, details } = await polledTwice();
  await svc.service.store.updateAccount(a.account.id, { passwordHash: await hashPassword('An0ther-Passw0rd!') });
  assert.equal(returnCode(await poll(details, auth)), -1002);
});

/** `change` done through a store of the service's database opened apart, as the admin CLI opens it. */
async function asAnotherProcess(change: (store: Store) => Promise<unknown>): Promise<void> {
  const other = await openStore(loadConfig(svc.storeEnv));
  try {
    await change(other);
  } finally {
    await other.close();
  }
}

test('a process changed by another process (the admin CLI) shows in the very next answer', async () => {
  const { a, auth, details } = await polledTwice();
  const kept = await poll(details, auth);
  assert.equal(status(kept), 1);
  await asAnotherProcess((store) => store.startProcesses(a.account.id, [details.idProcess]));
  const next = await poll(details, auth);
  assert.notEqual(status(next), 1, `the kept answer was given after the process was started elsewhere:\n${next}`);
});

test('a password changed by another process (the admin CLI) refuses the same request within twice LOOKUP_CACHE_MS', async () => {
  const { a, auth, details } = await polledTwice();
  const passwordHash = await hashPassword('An0ther-Passw0rd!');
  await asAnotherProcess((store) => store.updateAccount(a.account.id, { passwordHash }));
  const changed = performance.now();
  let code = 0;
  while (code === 0) {
    code = returnCode(await poll(details, auth));
    // A call takes time of its own on a loaded machine: a second of slack beyond the promise.
    assert.ok(performance.now() - changed < 2 * LOOKUP_CACHE_MS + 1000, 'the old password still worked');
  }
  assert.equal(code, -1002);
});

test('ANSWER_CACHE_ENTRIES=0 keeps no answers', async () => {
  const other = await startTestService({ ANSWER_CACHE_ENTRIES: '0' });
  try {
    const a = await other.addAccount();
    const auth = { User: a.user, Password: a.password };
    const created = await callSoap(other.endpoint, 'NewImportProcess', importParams(a, 1), auth);
    const details = { idList: a.list.id, listGUID: a.list.guid, idProcess: created.returnCode! };
    for (let i = 0; i < 3; i++) assert.equal((await callSoap(other.endpoint, 'GetProcessDetails', details, auth)).returnCode, 0);
    const text = await (await fetch(`${other.url}/metrics`)).text();
    assert.doesNotMatch(text, /^mailup_ws_answers_reused_total\{/m);
  } finally {
    await other.close();
  }
});
