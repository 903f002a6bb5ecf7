/**
 * /healthz, /readyz and /metrics over HTTP, the audit line of every WS call, and credentials
 * never reaching the logs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { callSoap, feedXml, postSoap, startTestService, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';

const lines: string[] = [];
const sink = new Writable({ write(chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });

let svc: TestService;
let a: TestAccount;
before(async () => {
  svc = await startTestService({}, { logger: pino({ level: 'trace' }, sink) });
  a = await svc.addAccount({ password: 'Very-Secret-Passw0rd' });
});
after(() => svc.close());

const metric = (text: string, line: string): number | null => {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? null : Number(found.slice(line.length + 1));
};

test('/healthz and /readyz answer', async () => {
  const health = await fetch(`${svc.url}/healthz`);
  assert.equal(health.status, 200);
  const ready = await fetch(`${svc.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(await ready.text(), 'ready\n');
});

test('/metrics counts calls by operation and ReturnCode, faults, imports and rows', async () => {
  const auth = { User: a.user, Password: a.password };
  await callSoap(svc.endpoint, 'GetNlLists', {}, auth);
  await callSoap(svc.endpoint, 'GetNlLists', {}, { User: a.user, Password: 'wrong' });
  await postSoap(svc.endpoint, '<not-xml', { 'content-type': 'text/xml', soapaction: 'http://ws.mailupnet.it/GetNlLists' });
  const start = await callSoap(svc.endpoint, 'StartImportProcesses', {
    listsIDs: a.list.id, listsGUIDs: a.list.guid, xmlDoc: feedXml([{ email: 'm1@x.it' }, { email: 'm2@x.it' }]), groupsIDs: '',
    importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
  }, auth);
  await waitForProcess(svc.endpoint, auth, a.list.id, a.list.guid, Number(/<processID>(\d+)/.exec(start.result!)![1]));
  const res = await fetch(`${svc.url}/metrics`);
  assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.equal(metric(text, 'mailup_ws_calls_total{operation="GetNlLists",return_code="0"}'), 1);
  assert.equal(metric(text, 'mailup_ws_calls_total{operation="GetNlLists",return_code="-1002"}'), 1);
  assert.equal(metric(text, 'mailup_ws_calls_total{operation="GetNlLists",return_code="fault"}'), 1);
  assert.ok(metric(text, 'mailup_ws_call_duration_seconds_count{operation="GetProcessDetails"}')! >= 1);
  assert.equal(metric(text, 'mailup_rows_merged_total'), 2);
  assert.equal(metric(text, 'mailup_imports_finished_total{status="3"}'), 1);
  assert.equal(metric(text, 'mailup_import_processes{status="3"}'), 1);
  assert.equal(metric(text, 'mailup_import_queue_depth'), 0);
  assert.ok(metric(text, 'mailup_process_memory_bytes{kind="rss"}')! > 0);
  const loopDelayMax = metric(text, 'mailup_event_loop_delay_seconds{quantile="1"}')!;
  assert.ok(loopDelayMax > 0 && loopDelayMax < 60, `event-loop delay ${loopDelayMax} s`);
});

test('every WS call leaves an audit line; no password ever reaches the logs', async () => {
  await callSoap(svc.endpoint, 'GetIdWsUser', {}, { User: a.user, Password: a.password });
  await fetch(`${svc.url}/Services/WSMailUpImport.asmx/GetNlLists`, {
    headers: { authorization: `Basic ${Buffer.from(`${a.user}:${a.password}`).toString('base64')}` },
  });
  await new Promise((r) => setTimeout(r, 100));
  const audit = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.component === 'audit');
  const last = audit.filter((l) => l.operation === 'GetIdWsUser').at(-1)!;
  assert.equal(last.user, a.user);
  assert.equal(last.returnCode, 0);
  assert.equal(last.ip, '127.0.0.1');
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(typeof last.reqId === 'string' && last.reqId !== '');
  assert.ok(logged.some((l) => l.component !== 'audit' && l.reqId === last.reqId && l.msg === 'request completed'),
    'the audit line carries the request id of the call\'s own request log lines');
  assert.ok(audit.some((l) => l.operation === 'GetNlLists' && l.returnCode === 0));
  assert.ok(lines.length > 10);
  for (const line of lines) assert.ok(!line.includes('Very-Secret-Passw0rd'), `a password leaked: ${line}`);
});
