/**
 * Admin commands for an account's import processes: list them with their state, rows and
 * counters; cancel one (with the waiting processes of its run) or start one that waits for its
 * start. The rules are the core's (src/core/import-control.ts), the same as the console's.
 *
 * The CLI has no import worker to wake: the server's worker finds a started process at its next
 * poll (on PostgreSQL at once, woken through the database), and a cancelled one stops at its
 * next batch, whose lease check fails.
 */
import type { Command } from 'commander';
import { cancelImport, CONTROL_REFUSAL_TEXT, startWaitingImport } from '../../core/import-control.ts';
import type { ImportContext } from '../../core/imports.ts';
import { PROCESS_STATE_NAMES, WAITING_FOR_TEXT, waitingFor } from '../../core/process-states.ts';
import { timeFormat, type TimeFormat } from '../../core/time-format.ts';
import { rowsMergedOf, type ImportProcess } from '../../model/records.ts';
import type { CliDeps } from '../cli-deps.ts';
import { CliError, details, nonEmptyName, positiveInteger, table } from '../output.ts';

export function register(program: Command, deps: CliDeps): void {
  const imports = program.command('import').description("an account's import processes: list, cancel, start");
  const context = async (): Promise<ImportContext> => ({ store: await deps.store(), wakeWorkers: () => undefined });

  imports.command('ls').alias('list')
    .description("show an account's import processes, newest first: state, list, rows merged, counters, reason")
    .argument('<wsUser>', 'the account, such as a1001')
    .option('--limit <n>', 'at most this many processes (default 50)', positiveInteger)
    .action(async (wsUser: string, options: { limit?: number }) => {
      const account = await deps.account(wsUser);
      const processes = await (await deps.store()).processes.listProcesses(account.id, { limit: options.limit ?? 50 });
      const time = timeFormat(deps.config().timeZone);
      deps.output.result(processes.map((p) => processJson(p, time)), () => table(
        ['process', 'run', 'list', 'status', 'rows', 'new e-mail/SMS', 'existing e-mail/SMS', 'opted out e-mail/SMS', 'rejected', 'reason'],
        processes.map((p) => [
          p.id, p.runId, p.listId, stateText(p), `${rowsMergedOf(p)}/${p.totalContacts}`,
          `${p.counters.newEmail}/${p.counters.newMobile}`, `${p.counters.existingEmail}/${p.counters.existingMobile}`,
          `${p.counters.optOutEmail}/${p.counters.optOutMobile}`, p.rejected, p.failureReason,
        ]),
        `Account ${account.wsUser} has no import processes.`,
      ));
    });

  imports.command('cancel')
    .description('cancel a waiting or running import: rows merged so far stay; the waiting imports of its run are cancelled too; it ends in status 4, "cancelled by <name>"')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<idProcess>', 'the import process id', positiveInteger)
    .option('--by <name>', 'who cancels, for the reason the process reports (default "administrator")', nonEmptyName)
    .action(async (wsUser: string, processId: number, options: { by?: string }) => {
      const account = await deps.account(wsUser);
      const outcome = await cancelImport(await context(), account.id, processId, options.by ?? 'administrator');
      if (!outcome.ok) throw new CliError(`import ${processId} of ${account.wsUser}: ${CONTROL_REFUSAL_TEXT[outcome.reason]}`);
      const p = outcome.process;
      const others = outcome.cancelled.filter((id) => id !== p.id);
      deps.output.result({ wsUser: account.wsUser, ...processJson(p, timeFormat(deps.config().timeZone)), cancelled: outcome.cancelled }, () => [
        `Import ${p.id} cancelled.`,
        details([
          ['rows merged', `${rowsMergedOf(p)} of ${p.totalContacts}`], ['reason', p.failureReason],
          ['also cancelled', others.length === 0 ? 'none' : others.join(', ')],
        ]),
      ].join('\n'));
    });

  imports.command('start')
    .description('start an import that waits for its start (prepared and never started); when the account runs another import, it waits its turn behind it')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<idProcess>', 'the import process id', positiveInteger)
    .action(async (wsUser: string, processId: number) => {
      const account = await deps.account(wsUser);
      const outcome = await startWaitingImport(await context(), account.id, processId);
      if (!outcome.ok) throw new CliError(`import ${processId} of ${account.wsUser}: ${CONTROL_REFUSAL_TEXT[outcome.reason]}`);
      const p = outcome.process;
      deps.output.result({ wsUser: account.wsUser, ...processJson(p, timeFormat(deps.config().timeZone)), queued: outcome.queued }, () => outcome.queued
        ? `Import ${p.id} started: it waits its turn behind the running import on list ${outcome.behindListId ?? '?'}.`
        : `Import ${p.id} started: it runs now.`);
    });
}

function stateText(p: ImportProcess): string {
  const waiting = waitingFor(p);
  return waiting === null ? PROCESS_STATE_NAMES[p.status] : `${PROCESS_STATE_NAMES[p.status]} (${WAITING_FOR_TEXT[waiting]})`;
}

function processJson(p: ImportProcess, time: TimeFormat): Record<string, unknown> {
  const iso = (d: Date | null): string | null => (d === null ? null : time.iso(d));
  return {
    id: p.id, runId: p.runId, listId: p.listId, status: p.status, state: PROCESS_STATE_NAMES[p.status], waitingFor: waitingFor(p),
    totalContacts: p.totalContacts, rowsMerged: rowsMergedOf(p), counters: p.counters, rejected: p.rejected,
    failureReason: p.failureReason, createdAt: iso(p.createdAt), startDate: iso(p.startDate), endDate: iso(p.endDate),
  };
}
