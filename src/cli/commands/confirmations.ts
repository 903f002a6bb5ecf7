/**
 * Admin commands for double opt-in (docs/double-opt-in.md):
 *
 * - `send-now <wsUser> [--process ID] [--retry-failed]`: MailUp's "Send Now", the same function
 *   the HTTP endpoint calls, delivering over SMTP_URL or into the outbox;
 * - `confirmations <wsUser> [--process ID]`: the requests of each ConfirmEmail process (queued,
 *   sent, failed…) and the failures with the server's answer;
 * - `outbox <wsUser> [--limit N]`: the messages written to the outbox when no SMTP is configured;
 * - `confirmation-message add|ls|set-default`: the account's confirmation messages (idConfirmNL).
 *
 * Exit code 1 when Send Now leaves messages undelivered, after printing what it did.
 */
import { createConfirmationMessage, setDefaultConfirmationMessage } from '../../core/confirmations.ts';
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { Config } from '../../config.ts';
import { createMailContext } from '../../mail/confirmation-setup.ts';
import { sendConfirmations, type SendNowReport } from '../../core/send-now.ts';
import type { ConfirmationMessage, ConfirmationSummary } from '../../store/confirmations.ts';
import type { Store } from '../../store/store.ts';
import type { Account, ProcessStatus } from '../../model/records.ts';
import { PROCESS_STATE_NAMES } from '../../core/process-states.ts';
import { timeFormat, type TimeFormat } from '../../core/time-format.ts';
import type { CliDeps } from '../cli-deps.ts';
import { CliError, details, nonEmptyName, positiveInteger, table, UsageError } from '../output.ts';

export function register(program: Command, deps: CliDeps): void {
  registerSendNow(program, deps);
  registerStatus(program, deps);
  registerOutbox(program, deps);
  registerMessages(program.command('confirmation-message').description('confirmation messages of an account (idConfirmNL picks one; 0 = the default)'), deps);
}

/** A process of the account that asked for ConfirmEmail, or a CliError saying why not. */
async function confirmProcess(store: Store, account: Account, processId: number | undefined): Promise<number | null> {
  if (processId === undefined) return null;
  const process = await store.processes.getProcess(account.id, processId);
  if (process === null) throw new CliError(`import process ${processId} does not exist in account ${account.wsUser}`);
  if (!process.options.ConfirmEmail) throw new CliError(`import process ${processId} did not ask for ConfirmEmail: it has no confirmation requests`);
  return processId;
}

/** Where links point when PUBLIC_URL is not set: the server's own address, from the same HOST and PORT. */
function serverUrl(config: Config): string {
  return `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
}

function registerSendNow(program: Command, deps: CliDeps): void {
  const { output } = deps;
  program.command('send-now')
    .description('send the queued confirmation requests (MailUp\'s Email > Send Status > Send Now), over SMTP_URL or into the outbox')
    .argument('<wsUser>', 'the account, such as a1001')
    .option('--process <id>', 'only this import process (default: everything the account has queued)', positiveInteger)
    .option('--retry-failed', 'also try again the requests that failed permanently')
    .action(async (wsUser: string, options: { process?: number; retryFailed?: boolean }) => {
      const account = await deps.account(wsUser);
      const store = await deps.store();
      const processId = await confirmProcess(store, account, options.process);
      const config = deps.config();
      if (config.publicUrl === null) output.warn(`PUBLIC_URL is not set: confirm links point at ${serverUrl(config)}`);
      const mail = await createMailContext(config, store, { listenUrl: () => serverUrl(config) });
      let report: SendNowReport;
      try {
        report = await sendConfirmations(mail, account.id, processId, { retryFailed: options.retryFailed === true });
      } finally {
        await mail.mailer.close();
      }
      output.result(report, () => sendNowText(account, report, timeFormat(deps.config().timeZone)));
      if (report.failed > 0) throw new CliError(`${report.failed} message(s) not delivered; see "confirmations ${account.wsUser}"`);
    });
}

function sendNowText(account: Account, r: SendNowReport, time: TimeFormat): string {
  const scope = r.processId === null ? 'every queued request' : `import process ${r.processId}`;
  const lines = [
    `Send Now for ${account.wsUser}, ${scope}, ${r.channel === 'smtp' ? 'over SMTP' : 'into the outbox (no SMTP_URL)'}:`,
    details([
      ['messages due', r.queued], ['sent', r.sent], ['written to outbox', r.written_to_outbox], ['not delivered', r.failed],
      ['requests handled', r.requests], ['requests cancelled', r.cancelled],
      ['ConfirmationSent now True', r.confirmationSent.length > 0 ? r.confirmationSent.join(', ') : null],
      ['requests another Send Now is delivering', r.claimedElsewhere > 0 ? r.claimedElsewhere : null],
    ]),
  ];
  if (r.failures.length > 0) {
    lines.push('', table(['process', 'email', 'attempts', 'retry', 'error'], r.failures.map((f) =>
      [f.processId, f.email, f.attempts, f.permanent || f.nextAttemptAt === null ? 'no (permanent)' : time.text(new Date(f.nextAttemptAt)), f.error]), ''));
  }
  return lines.join('\n');
}

function summaryJson(s: ConfirmationSummary, time: TimeFormat): Record<string, unknown> {
  return { ...s, confirmationSentAt: s.confirmationSentAt === null ? null : time.iso(s.confirmationSentAt), confirmationSent: s.confirmationSentAt !== null };
}

/** The state of an import process by its name (src/core/process-states.ts). */
const stateName = (status: number): string => PROCESS_STATE_NAMES[status as ProcessStatus] ?? String(status);

function registerStatus(program: Command, deps: CliDeps): void {
  program.command('confirmations')
    .description('confirmation requests per ConfirmEmail import process (queued, sent, failed, confirmed) and the failures')
    .argument('<wsUser>', 'the account, such as a1001')
    .option('--process <id>', 'only this import process', positiveInteger)
    .option('--recipients', 'list the requests one by one instead: who awaits (or got) a request, on which list')
    .option('--limit <n>', 'at most this many processes, newest first, or requests, oldest first (default 50)', positiveInteger)
    .action(async (wsUser: string, options: { process?: number; limit?: number; recipients?: boolean }) => {
      const account = await deps.account(wsUser);
      const store = await deps.store();
      const processId = await confirmProcess(store, account, options.process);
      const time = timeFormat(deps.config().timeZone);
      if (options.recipients) {
        const requests = await store.confirmations.listConfirmationRequests(account.id, processId, { limit: options.limit ?? 50 });
        const iso = (d: Date | null): string | null => (d === null ? null : time.iso(d));
        const text = (d: Date | null): string | null => (d === null ? null : time.text(d));
        deps.output.result(
          requests.map((r) => ({ ...r, nextAttemptAt: iso(r.nextAttemptAt), createdAt: iso(r.createdAt), sentAt: iso(r.sentAt), confirmedAt: iso(r.confirmedAt) })),
          () => table(
            ['request', 'process', 'list', 'email', 'status', 'attempts', 'sent', 'confirmed', 'error'],
            requests.map((r) => [r.requestId, r.processId, r.listId, r.email, r.status, r.attempts, text(r.sentAt), text(r.confirmedAt), r.lastError]),
            `No confirmation requests${processId === null ? '' : ` in process ${processId}`}.`,
          ),
        );
        return;
      }
      const [processes, failures] = await Promise.all([
        store.confirmations.confirmationSummary(account.id, processId, { limit: options.limit ?? 50 }),
        store.confirmations.confirmationFailures(account.id, processId, { limit: 200 }),
      ]);
      deps.output.result({
        wsUser: account.wsUser,
        processes: processes.map((s) => summaryJson(s, time)),
        failures: failures.map((f) => ({ ...f, nextAttemptAt: f.nextAttemptAt === null ? null : time.iso(f.nextAttemptAt) })),
      }, () => {
        const text = [table(
          ['process', 'list', 'import', 'requests', 'queued', 'sent', 'retrying', 'failed', 'cancelled', 'confirmed', 'ConfirmationSent'],
          processes.map((p) => [p.processId, p.listId, stateName(p.processStatus), p.requests, p.queued + p.sending, p.sent, p.retrying, p.failed,
            p.cancelled, p.confirmed, p.confirmationSentAt !== null ? 'True' : 'False']),
          `Account ${account.wsUser} has no import process with ConfirmEmail.`,
        )];
        if (failures.length > 0) {
          text.push('', 'Failures:', table(['process', 'email', 'attempts', 'retry', 'error'], failures.map((f) =>
            [f.processId, f.email, f.attempts, f.permanent ? 'no (permanent; send-now --retry-failed)' : time.text(f.nextAttemptAt!), f.error]), ''));
        }
        return text.join('\n');
      });
    });
}

function registerOutbox(program: Command, deps: CliDeps): void {
  program.command('outbox')
    .description('the confirmation messages written to the outbox (when SMTP_URL is not set), newest first')
    .argument('<wsUser>', 'the account, such as a1001')
    .option('--limit <n>', 'at most this many messages (default 20)', positiveInteger)
    .action(async (wsUser: string, options: { limit?: number }) => {
      const account = await deps.account(wsUser);
      const messages = await (await deps.store()).confirmations.listOutbox(account.id, { limit: options.limit ?? 20 });
      const time = timeFormat(deps.config().timeZone);
      deps.output.result(
        messages.map((m) => ({ ...m, createdAt: time.iso(m.createdAt) })),
        () => messages.length === 0
          ? `The outbox of ${account.wsUser} is empty.`
          : messages.map((m) => [
            `#${m.id}  ${time.text(m.createdAt)}  request ${m.requestId ?? '-'}`,
            `From: ${m.sender}`, `To: ${m.recipient}`, `Subject: ${m.subject}`, '', m.text.trimEnd(),
          ].map(printable).join('\n')).join('\n\n----\n\n'),
      );
    });
}

/** Recipient fields end up in messages: their control characters must not drive the operator's terminal. */
function printable(line: string): string {
  return line.replace(/\r\n/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f\x9b]/g, '\uFFFD');
}

function messageJson(m: ConfirmationMessage, time: TimeFormat): Record<string, unknown> {
  return { ...m, createdAt: time.iso(m.createdAt) };
}

/** A body from `--html`/`--text` or from the file named by `--html-file`/`--text-file`. */
function body(inline: string | undefined, file: string | undefined, what: string): string {
  if (inline !== undefined) return inline;
  if (file === undefined) throw new UsageError(`give the ${what} part with --${what} or --${what}-file`);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function registerMessages(group: Command, deps: CliDeps): void {
  const { output } = deps;
  group.command('add')
    .description('add a confirmation message; placeholders: [confirm_link] (required in both parts), [email], [campoN]')
    .argument('<wsUser>', 'the account, such as a1001')
    .requiredOption('--subject <subject>', 'the subject', nonEmptyName)
    .requiredOption('--sender <address>', 'the From address, such as "Lists <lists@example.com>"', nonEmptyName)
    .addOption(new Option('--html <html>', 'the HTML part').conflicts('htmlFile'))
    .option('--html-file <path>', 'read the HTML part from this file')
    .addOption(new Option('--text <text>', 'the plain-text part').conflicts('textFile'))
    .option('--text-file <path>', 'read the plain-text part from this file')
    .option('--default', 'make it the default message (idConfirmNL 0)')
    .action(async (wsUser: string, options: {
      subject: string; sender: string; html?: string; htmlFile?: string; text?: string; textFile?: string; default?: boolean;
    }) => {
      const html = body(options.html, options.htmlFile, 'html');
      const text = body(options.text, options.textFile, 'text');
      const account = await deps.account(wsUser);
      const outcome = await createConfirmationMessage(await deps.store(), account.id, {
        sender: options.sender, subject: options.subject, html, text, isDefault: options.default === true,
      });
      if (!outcome.ok) {
        const part = outcome.part === 'html' ? 'HTML part' : outcome.part === 'text' ? 'text part' : outcome.part;
        throw new UsageError(outcome.reason === 'no-link' ? `the ${part} has no [confirm_link]: recipients could not confirm`
          : `the ${part} holds a control character${outcome.part === 'sender' || outcome.part === 'subject' ? ' (a header is one line)' : ''}`);
      }
      const created = outcome.message;
      const id = created.id;
      output.result({ wsUser: account.wsUser, ...messageJson(created, timeFormat(deps.config().timeZone)) }, () =>
        `Confirmation message ${id} created${created.isDefault ? ' as the default' : ''}; imports choose it with idConfirmNL=${id}.`);
    });

  group.command('ls').alias('list')
    .description("list an account's confirmation messages")
    .argument('<wsUser>', 'the account, such as a1001')
    .action(async (wsUser: string) => {
      const account = await deps.account(wsUser);
      const messages = await (await deps.store()).confirmations.listConfirmationMessages(account.id);
      const time = timeFormat(deps.config().timeZone);
      output.result(messages.map((m) => messageJson(m, time)), () => table(
        ['idConfirmNL', 'default', 'sender', 'subject'],
        messages.map((m) => [m.id, m.isDefault, m.sender, m.subject]),
        `Account ${account.wsUser} has no confirmation messages.`,
      ));
    });

  group.command('set-default')
    .description('make a message the default one, used by imports with idConfirmNL 0')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<id>', 'the message id', positiveInteger)
    .action(async (wsUser: string, id: number) => {
      const account = await deps.account(wsUser);
      if (!(await setDefaultConfirmationMessage(await deps.store(), account.id, id))) {
        throw new CliError(`confirmation message ${id} does not exist in account ${account.wsUser}`);
      }
      output.result({ wsUser: account.wsUser, defaultMessage: id }, () => `Confirmation message ${id} is now the default of ${account.wsUser}.`);
    });
}
