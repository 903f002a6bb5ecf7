/**
 * Scenario 3, SIGKILL during Send Now: an import with ConfirmEmail leaves every recipient pending
 * with a queued confirmation request (no SMTP_URL: messages go to the outbox). Send Now is killed
 * when about a third of the messages are written, then run again:
 *
 * - `send-now-http`: Send Now through the HTTP API (POST /api/confirmations/send-now); the server
 *   is killed and restarted, and Send Now is asked again of the new server;
 * - `send-now-cli`: Send Now with the admin CLI (`mailup-import-admin send-now`); the CLI process
 *   is killed while the server keeps running, and the CLI is run again.
 *
 * Every pending recipient must have got exactly one message (outbox rows against requests), every
 * request must be sent, and GetProcessDetails must say ConfirmationSent True.
 */
import { runAdminProcess } from '../test/helpers/admin-process.ts';
import { startChildServer, stopChildServer, storeOf, waitForProcessRow } from '../test/helpers/child-server.ts';
import {
  addresses, checkExact, kill, processDetails, secs, since, spawnScript, startStreamedImport, target, waitFor,
  type Target,
  type Scenario, type ScenarioContext, type ScenarioOutcome,
} from './lib.ts';

/** Longest a Send Now may take after the restart (the second one). */
const RESEND_BOUND_MS = 120_000;

/** Send Now over HTTP on `server`; resolves to the HTTP status and body (or the connection error). */
function sendNowHttp(server: Target): Promise<{ status: number; body: string }> {
  const { auth } = server;
  return fetch(`${server.url}/api/confirmations/send-now`, {
    method: 'POST', body: '{}', signal: AbortSignal.timeout(RESEND_BOUND_MS),
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${auth.User}:${auth.Password}`).toString('base64')}` },
  }).then(async (r) => ({ status: r.status, body: await r.text() }), (err: Error) => ({ status: 0, body: err.message }));
}

interface Delivery {
  readonly requests: number;
  readonly unsent: number;
  /** The unsent requests by status, e.g. `sending 32`. */
  readonly unsentBy: string;
  readonly outbox: number;
  /** Pending recipients with no message, and with more than one. */
  readonly none: number;
  readonly several: number;
}

async function delivery(dir: string): Promise<Delivery> {
  const db = await storeOf(dir);
  const [r] = await db.query<Record<string, number>>(`SELECT
      (SELECT count(*) FROM confirmation_request) AS requests,
      (SELECT count(*) FROM confirmation_request WHERE status <> 'sent') AS unsent,
      (SELECT count(*) FROM outbox) AS outbox,
      (SELECT count(*) FROM confirmation_request c JOIN recipient r ON r.id = c.recipient_id
        WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.recipient = r.email)) AS none,
      (SELECT count(*) FROM (SELECT recipient FROM outbox GROUP BY recipient HAVING count(*) > 1) d) AS several`);
  const by = await db.query<{ status: string; n: number }>(
    "SELECT status, count(*) AS n FROM confirmation_request WHERE status <> 'sent' GROUP BY status ORDER BY status");
  return {
    unsentBy: by.map((b) => `${b.status} ${b.n}`).join(', '),
    requests: Number(r!.requests), unsent: Number(r!.unsent), outbox: Number(r!.outbox), none: Number(r!.none), several: Number(r!.several),
  };
}

/** Messages written, and requests claimed by a Send Now but not yet delivered. */
async function progress(dir: string): Promise<{ outbox: number; sending: number }> {
  const [r] = await (await storeOf(dir)).query<{ outbox: number; sending: number }>(
    "SELECT (SELECT count(*) FROM outbox) AS outbox, (SELECT count(*) FROM confirmation_request WHERE status = 'sending') AS sending");
  return { outbox: Number(r!.outbox), sending: Number(r!.sending) };
}

function sendNow(via: 'http' | 'cli'): Scenario['run'] {
  return async ({ sizes, store, tracker, note }: ScenarioContext): Promise<ScenarioOutcome> => {
    const expected = 'each pending recipient exactly 1 outbox message, all requests sent, ConfirmationSent True';
    const rows = store === 'postgres' ? sizes.sendNowRowsPostgres : sizes.sendNowRows;
    const dir = tracker.tmpDir(`send-now-${via}`);
    const first = tracker.track(await startChildServer(dir));
    let server = first;
    const id = await startStreamedImport(target(first), rows, { ConfirmEmail: true });
    await waitForProcessRow(dir, id, (p) => p.status !== 2, 300_000);
    const db = await storeOf(dir);
    const env = { ...db.env };
    const user = target(first).auth.User!;

    // The first Send Now, killed (the server, or the CLI) once about a third of the messages are
    // written, while it holds claimed requests it has not delivered yet (Send Now claims a page of
    // requests at a time): preferably many, so that the kill lands before the page is done.
    const killAt = Math.ceil(rows / 3);
    let answered = false;
    let victim = server.child;
    if (via === 'http') {
      // Only an answer counts: the kill makes the request fail.
      void sendNowHttp(target(first)).then((a) => (answered = a.status !== 0));
    } else {
      const cli = spawnScript(tracker, ['bin/admin.js', 'send-now', user], env);
      cli.child.on('exit', () => (answered = true));
      victim = cli.child;
    }
    const reached = await waitFor(async () => {
      if (answered) return true;
      const p = await progress(dir);
      return p.outbox >= killAt && (p.sending >= 25 || (p.outbox >= rows / 2 && p.sending > 0));
    }, 120_000, 5);
    const killed = reached !== null && !answered;
    if (killed) await kill(victim);
    const atKill = await delivery(dir);
    if (!killed || atKill.outbox >= rows) {
      return { expected, happened: `Send Now finished before the kill (raise --send-now-rows above ${rows})`, resumeSeconds: null, exact: 'n/a', pass: false };
    }
    note(`killed with ${atKill.outbox} of ${rows} messages written`);

    const t0 = performance.now();
    let second: string;
    if (via === 'http') {
      server = tracker.track(await startChildServer(dir));
      const answer = await sendNowHttp(target(server, first));
      second = answer.status === 200 ? `HTTP 200 ${summary(answer.body)}` : `HTTP ${answer.status} ${answer.body.slice(0, 200)}`;
    } else {
      const again = await runAdminProcess(['--json', 'send-now', user], env);
      second = `exit ${again.code} ${summary(again.stdout)}`;
    }
    const resendSeconds = since(t0);
    const after = await delivery(dir);
    const details = await processDetails(target(server, first), id);
    const exact = await checkExact(target(server, first), dir, [{ listId: target(first).list.id, addresses: addresses(1, rows), groups: [1] }]);
    await stopChildServer(server, 'SIGTERM');
    const ok = after.requests === rows && after.unsent === 0 && after.outbox === rows && after.none === 0 && after.several === 0;
    const happened = `${via === 'http' ? 'server' : 'CLI'} killed at ${atKill.outbox}/${rows} written (${atKill.unsentBy.replace(/queued \d+(, )?/, '') || 'none claimed'}); Send Now again (${second}) ` +
      `in ${secs(resendSeconds)}: ${after.outbox} outbox rows for ${after.requests} requests, ${after.unsent} unsent${after.unsent ? ` (${after.unsentBy})` : ''}, ` +
      `${after.none} recipients without a message, ${after.several} with several; ConfirmationSent ${details.ConfirmationSent ?? '?'}`;
    return { expected, happened, resumeSeconds: resendSeconds, exact, pass: ok && details.ConfirmationSent === 'True' && exact === 'exact' };
  };
}

/** The counts of a Send Now report (JSON), in a few words. */
function summary(json: string): string {
  try {
    const r = JSON.parse(json) as Record<string, unknown>;
    return `(${r.written_to_outbox ?? r.sent} written, ${r.failed} failed)`;
  } catch {
    return json.slice(0, 120);
  }
}

export const scenarios: Scenario[] = [
  { name: 'send-now-http', kind: 'send-now', stores: ['sqlite', 'postgres'], budgetMs: { full: 300_000, short: 90_000 }, run: sendNow('http') },
  { name: 'send-now-cli', kind: 'send-now', stores: ['sqlite', 'postgres'], budgetMs: { full: 300_000, short: 90_000 }, run: sendNow('cli') },
];
