/**
 * The admin CLI's double opt-in commands against a running service's store: Send Now over
 * a real SMTP listener and into the outbox, the status of the requests with their failures, the
 * outbox, and the confirmation messages. Most lines run through `runAdmin` in this process; one
 * runs as operators run it, a child process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAdmin } from '../../src/cli/admin.ts';
import { runAdminProcess, type ProcessRun as Run } from '../helpers/admin-process.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { confirmLinkOf, openLink, processDetails, runImport, subscriptionOf } from './flow-helpers.ts';

let svc: TestService;
let sink: SmtpSink;
let filesDir: string;
before(async () => {
  sink = await startSmtpSink((rcpt) => (rcpt === 'gone@example.com' ? 550 : null));
  svc = await startTestService();
  filesDir = mkdtempSync(join(tmpdir(), 'confirm-cli-'));
});
after(async () => {
  await svc.close();
  await sink.close();
  rmSync(filesDir, { recursive: true, force: true });
});

async function admin(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runAdmin(args, {
    stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s),
    env: { ...svc.storeEnv, PUBLIC_URL: svc.url, ...env }, readStdin: async () => '',
  });
  return { code, stdout, stderr };
}

const json = <T>(r: Run): T => {
  assert.doesNotThrow(() => JSON.parse(r.stdout), `stdout is JSON: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

const confirmationSent = async (acc: Parameters<typeof processDetails>[1], id: number) =>
  (await processDetails(svc, acc, id)).find(([name]) => name === 'ConfirmationSent')?.[1];

test('send-now over SMTP reports a permanent failure with exit 1; confirmations shows it; the links work', async () => {
  const acc = await svc.addAccount();
  const id = await runImport(svc, acc, [{ email: 'here@example.com' }, { email: 'gone@example.com' }], { ConfirmEmail: true });

  const before = json<{ processes: { processId: number; queued: number; confirmationSent: boolean }[] }>(await admin(['confirmations', acc.user, '--json']));
  assert.deepEqual(before.processes.map((p) => [p.processId, p.queued, p.confirmationSent]), [[id, 2, false]]);

  const run = await admin(['send-now', acc.user, '--process', String(id), '--json'], { SMTP_URL: sink.url });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /1 message\(s\) not delivered/);
  const report = json<{ queued: number; sent: number; failed: number; failures: { email: string; permanent: boolean; error: string }[] }>(run);
  assert.deepEqual([report.queued, report.sent, report.failed], [2, 1, 1]);
  assert.deepEqual(report.failures.map((f) => [f.email, f.permanent]), [['gone@example.com', true]]);
  assert.equal(await confirmationSent(acc, id), 'False');

  const status = await admin(['confirmations', acc.user, '--process', String(id)]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Failures:/);
  assert.match(status.stdout, /gone@example\.com\s+1\s+no \(permanent; send-now --retry-failed\)\s+550 /);
  const requests = json<{ email: string; status: string; attempts: number; lastError: string | null }[]>(
    await admin(['confirmations', acc.user, '--process', String(id), '--recipients', '--json']));
  assert.deepEqual(requests.map((r) => [r.email, r.status, r.attempts]), [['here@example.com', 'sent', 1], ['gone@example.com', 'failed', 1]]);
  assert.match(requests[1]!.lastError ?? '', /^550 /);

  // The link the CLI sent points at PUBLIC_URL, the running service, and is signed with its secret.
  const [received] = sink.received.filter((m) => m.envelopeTo.includes('here@example.com'));
  assert.ok(received);
  const link = confirmLinkOf(received);
  assert.ok(link.startsWith(`${svc.url}/confirm/`));
  assert.equal((await openLink(link)).status, 200);
  assert.equal((await subscriptionOf(svc, 'here@example.com', acc.list.id))?.status, 'subscribed');
});

test('send-now without SMTP_URL fills the outbox, which the outbox command shows, links included', async () => {
  const acc = await svc.addAccount();
  const id = await runImport(svc, acc, [{ email: 'box@example.com', fields: ['Boxer'] }], { ConfirmEmail: true });
  const run = await admin(['send-now', acc.user]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /into the outbox \(no SMTP_URL\)/);
  assert.match(run.stdout, /written to outbox:\s+1/);
  assert.match(run.stdout, new RegExp(`ConfirmationSent now True:\\s+${id}`));
  assert.equal(await confirmationSent(acc, id), 'True');

  const box = await admin(['outbox', acc.user]);
  assert.equal(box.code, 0, box.stderr);
  assert.match(box.stdout, /To: box@example\.com/);
  assert.match(box.stdout, /Subject: Please confirm your subscription/);
  const link = new RegExp(`(${svc.url.replace(/[.]/g, '\\.')}/confirm/\\S+)`).exec(box.stdout)?.[1];
  assert.ok(link, box.stdout);
  assert.equal((await openLink(link)).status, 200);

  const entries = json<{ recipient: string; html: string }[]>(await admin(['outbox', acc.user, '--limit', '1', '--json']));
  assert.equal(entries.length, 1);
  assert.equal(entries[0]!.recipient, 'box@example.com');
  assert.ok(entries[0]!.html.includes(`href="${link}"`));
  assert.match((await admin(['outbox', (await svc.addAccount()).user])).stdout, /is empty/);
});

test('confirmation messages: added from files, chosen with idConfirmNL or made the default; bad input refused', async () => {
  const acc = await svc.addAccount();
  const html = join(filesDir, 'm.html');
  const text = join(filesDir, 'm.txt');
  writeFileSync(html, '<p>Hi [campo1]</p><a href="[confirm_link]">yes</a>');
  writeFileSync(text, 'Hi [campo1], confirm: [confirm_link]');

  const noLink = await admin(['confirmation-message', 'add', acc.user, '--subject', 'S', '--sender', 'a@example.com', '--html', '<p>x</p>', '--text', '[confirm_link]']);
  assert.equal(noLink.code, 2);
  assert.match(noLink.stderr, /HTML part has no \[confirm_link\]/);
  const missing = await admin(['confirmation-message', 'add', acc.user, '--subject', 'S', '--sender', 'a@example.com', '--html-file', join(filesDir, 'none.html'), '--text-file', text]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read the html file/);

  const added = json<{ id: number; isDefault: boolean }>(await admin([
    'confirmation-message', 'add', acc.user, '--subject', 'Hello [campo1]', '--sender', 'Team <team@example.com>',
    '--html-file', html, '--text-file', text, '--default', '--json',
  ]));
  assert.equal(added.isDefault, true);
  const listed = json<{ id: number; isDefault: boolean }[]>(await admin(['confirmation-message', 'ls', acc.user, '--json']));
  assert.deepEqual(listed.filter((m) => m.isDefault).map((m) => m.id), [added.id], 'exactly one default');
  assert.equal((await admin(['confirmation-message', 'set-default', acc.user, '999999'])).code, 1);

  // idConfirmNL 0 now uses the new default.
  await runImport(svc, acc, [{ email: 'msg@example.com', fields: ['Mia'] }], { ConfirmEmail: true });
  assert.equal((await admin(['send-now', acc.user])).code, 0);
  const entries = json<{ subject: string; sender: string; text: string }[]>(await admin(['outbox', acc.user, '--json']));
  assert.deepEqual([entries[0]!.subject, entries[0]!.sender], ['Hello Mia', 'Team <team@example.com>']);
  assert.match(entries[0]!.text, /^Hi Mia, confirm: http/);
});

test('send-now and confirmations refuse unknown processes and accounts clearly', async () => {
  const acc = await svc.addAccount();
  const plain = await runImport(svc, acc, [{ email: 'p@example.com' }]);
  const unknown = await admin(['send-now', acc.user, '--process', '999999']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /import process 999999 does not exist/);
  const notConfirm = await admin(['confirmations', acc.user, '--process', String(plain)]);
  assert.equal(notConfirm.code, 1);
  assert.match(notConfirm.stderr, /did not ask for ConfirmEmail/);
  assert.equal((await admin(['send-now', 'bob'])).code, 2);
  assert.equal((await admin(['send-now', acc.user, '--process', 'x'])).code, 2);
  assert.equal((await admin(['send-now', 'a999999'])).code, 1);
  assert.equal((await admin(['send-now', acc.user], { SMTP_URL: 'http://nope' })).code, 2, 'a bad SMTP_URL is a configuration error');
});

test('send-now as a process, the way operators run it', async () => {
  const acc = await svc.addAccount();
  const id = await runImport(svc, acc, [{ email: 'proc@example.com' }], { ConfirmEmail: true });
  const run = await runAdminProcess(['send-now', acc.user, '--process', String(id)], { ...svc.storeEnv, SMTP_URL: sink.url, PUBLIC_URL: svc.url });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /over SMTP/);
  assert.match(run.stdout, /sent:\s+1/);
  await sink.waitFor(1);
  assert.ok(sink.received.some((m) => m.envelopeTo.includes('proc@example.com')));
  assert.equal(await confirmationSent(acc, id), 'True');
});
