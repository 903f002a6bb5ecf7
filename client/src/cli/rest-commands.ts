/**
 * The commands with `--api rest`: the same commands, answers and exit codes as over SOAP, made
 * with the REST client. `import` sends the file as bulk imports of `--batch-size` rows
 * (../rest/rest-importer.ts explains why batches) and follows them with `GET Import/{id}`;
 * `lists`, `groups` and `status` answer in the SOAP commands' JSON shapes, so a script reads
 * either; `status` takes an import id.
 */
import type { Command } from 'commander';
import type { ImportOutcome } from '../import-report.ts';
import type { MailUpRestClient } from '../rest/rest-client.ts';
import { RestApiError } from '../errors.ts';
import { timeFormat } from '../generated/time-format.ts';
import { DEFAULT_REST_BATCH_SIZE, importSubscribersRest } from '../rest/rest-importer.ts';
import { RestImportTimeoutError, describeRemainingImport, type RestImportReport } from '../rest/rest-import-report.ts';
import type { RestImportDetail, RestImportStatus } from '../rest/types.ts';
import { ConfigError } from './config.ts';
import type { OpenedInput } from './input.ts';
import { EXIT_CODES, describeError, table, type ExitCode, type Output } from './output.ts';
import type { ProgressDisplay } from './progress.ts';

/**
 * The SOAP import options that have no REST equivalent, refused when given on the command line
 * (`--import-type` is read separately: 3 and 6 map onto the REST parameters).
 */
const SOAP_ONLY_OPTIONS: ReadonlyArray<readonly [string, string]> = [
  ['confirmMessage', '--confirm-message (the REST import sends the list\'s own confirmation request)'],
  ['forceOptIn', '--force-opt-in'],
  ['asPending', '--as-pending'],
  ['mobileInputType', '--mobile-input-type (REST sends the prefix and the number in their own members)'],
  ['startAttempts', '--start-attempts (REST imports queue on the server: nothing to start)'],
];

/** The REST bulk-import flags the import command's options ask for; a ConfigError for what REST cannot do. */
export function restImportFlags(command: Command, opts: Record<string, unknown>) {
  const given = SOAP_ONLY_OPTIONS.filter(([key]) => command.getOptionValueSource(key) === 'cli').map(([, flag]) => flag);
  if (given.length > 0) throw new ConfigError(`over REST there is no ${given.join(', no ')}: leave ${given.length === 1 ? 'it' : 'them'} out or use --api soap`);
  const importType = String(opts.importType ?? '3');
  if (importType !== '3' && importType !== '6') {
    throw new ConfigError(`--import-type ${importType} picks a channel, which the REST bulk import has no parameter for: use 3 (empty fields keep stored values) or 6 (empty fields clear them)`);
  }
  const groups = (opts.group as number[] | undefined) ?? [];
  if (groups.length > 1) throw new ConfigError('over REST an import goes into one group (POST Group/{id}/Recipients): give one --group, or run one import per group');
  if (opts.replaceGroups === true && groups.length === 0) throw new ConfigError('--replace-groups needs --group: over REST it applies to imports into a group (removeFromPrevGroups)');
  return {
    idGroup: groups[0],
    ConfirmEmail: opts.confirm === true,
    asOptOut: opts.optOut === true,
    clearMissingOrEmptyFields: importType === '6',
    removeFromPrevGroups: opts.replaceGroups === true,
  };
}

/** Runs `import <file> --api rest`; answers the exit code. */
export async function restImport(
  rest: MailUpRestClient, out: Output, input: OpenedInput, opts: Record<string, unknown>, command: Command, display: ProgressDisplay | null,
): Promise<ExitCode> {
  const flags = restImportFlags(command, opts);
  const poll = Number(opts.poll);
  if (!(poll > 0)) throw new ConfigError('--poll must be a positive number of seconds');
  let report: RestImportReport;
  try {
    report = await importSubscribersRest(rest, input.items, {
      idList: opts.list as number,
      ...(flags.idGroup !== undefined ? { idGroup: flags.idGroup } : {}),
      ConfirmEmail: flags.ConfirmEmail, asOptOut: flags.asOptOut,
      clearMissingOrEmptyFields: flags.clearMissingOrEmptyFields, removeFromPrevGroups: flags.removeFromPrevGroups,
      batchSize: (opts.batchSize as number | undefined) ?? DEFAULT_REST_BATCH_SIZE,
      wait: opts.wait !== false,
      pollIntervalMs: poll * 1000,
      timeoutMs: opts.deadline as number,
      onProgress: (p) => display?.update(p),
    });
  } finally {
    display?.stop();
  }
  const skipped = input.skipped;
  const outcome: ImportOutcome = report.outcome === 'completed' && skipped.length > 0 ? 'partial' : report.outcome;
  const lines = restReportLines({ ...report, outcome });
  for (const s of skipped) lines.push(`  unreadable CSV record${s.line === null ? '' : ` at line ${s.line}`}: ${s.reason}`);
  out.result(lines, { ...report, outcome, skippedRecords: skipped });
  if (report.timedOut) return EXIT_CODES.partial;
  return outcome === 'completed' ? EXIT_CODES.success : outcome === 'partial' ? EXIT_CODES.partial : EXIT_CODES.error;
}

export function restReportLines(report: RestImportReport): string[] {
  const c = report.counters;
  const imports = report.imports.length;
  const target = report.idGroup === null ? `list ${report.idList}` : `group ${report.idGroup} of list ${report.idList}`;
  const lines = [
    `import ${report.outcome}: ${report.rowsRead} rows read, ${report.rowsSent} sent in ${imports} REST import${imports === 1 ? '' : 's'} to ${target}` +
      (report.rowsFailed > 0 ? `, ${report.rowsFailed} in refused batches` : '') +
      (report.rowsRejected > 0 ? `, ${report.rowsRejected} not sent` : ''),
    `  created ${c.created} | updated ${c.updated} | valid ${c.valid} | not valid ${c.notValid} | imported ${c.imported}`,
  ];
  for (const b of report.failedBatches) lines.push(`  refused: batch ${b.batch}, rows ${b.fromRow}-${b.toRow}: ${describeError(b.error)}`);
  for (const r of report.rejectedRows) lines.push(`  not sent: row ${r.row}: ${r.reason}`);
  for (const b of report.batches) {
    if (b.detail?.StatusCode === 4) lines.push(`  failed: import ${b.idImport} (rows ${b.fromRow}-${b.toRow})`);
  }
  if (report.inputError) lines.push(`  the input stopped early: ${describeError(report.inputError)}`);
  if (report.error instanceof RestImportTimeoutError) lines.push(`  ${report.error.summary} (they go on on the server):`);
  else if (report.error) lines.push(`  ${describeError(report.error)}`);
  for (const r of report.remaining) lines.push(`  left: import ${describeRemainingImport(r)}, batch ${r.batch} (rows ${r.fromRow}-${r.toRow})`);
  return lines;
}

/** `lists` over REST, in the SOAP command's JSON shape (idList, listGUID, listName, groups). */
export async function restLists(rest: MailUpRestClient, out: Output): Promise<ExitCode> {
  const lists = await Promise.all((await rest.getAllLists()).map(async (l) => ({
    idList: l.idList, listGUID: l.listGuid, listName: l.Name,
    groups: (await rest.getAllGroups(l.idList)).map((g) => ({ idGroup: g.idGroup, groupName: g.Name })),
  })));
  out.result(table(['ID', 'GUID', 'NAME', 'GROUPS'], lists.map((l) => [
    String(l.idList), l.listGUID, l.listName, l.groups.map((g) => `${g.idGroup} ${g.groupName}`).join(', '),
  ])), lists);
  return EXIT_CODES.success;
}

export async function restGroupsList(rest: MailUpRestClient, out: Output, idList: number): Promise<ExitCode> {
  const groups = (await rest.getAllGroups(idList)).map((g) => ({ idGroup: g.idGroup, groupName: g.Name }));
  out.result(table(['ID', 'NAME'], groups.map((g) => [String(g.idGroup), g.groupName])), groups);
  return EXIT_CODES.success;
}

export async function restGroupsCreate(rest: MailUpRestClient, out: Output, idList: number, name: string): Promise<ExitCode> {
  const group = await rest.createGroup(idList, { Name: name });
  out.result(`${group.idGroup}`, { idGroup: group.idGroup, groupName: group.Name, idList: group.idList });
  return EXIT_CODES.success;
}

/** `whoami` over REST: a log-in with the password grant says the credentials and the client work. */
export async function restWhoami(rest: MailUpRestClient, out: Output): Promise<ExitCode> {
  const tokens = await rest.logIn();
  const seconds = Math.round((tokens.expiresAt.getTime() - Date.now()) / 1000);
  out.result(`${rest.username} (client ${rest.clientId}) at ${rest.baseUrl} over REST; the access token lasts ${seconds} s`, {
    user: rest.username, clientId: rest.clientId, endpoint: rest.baseUrl, tokenUrl: rest.tokenUrl, api: 'rest',
  });
  return EXIT_CODES.success;
}

/** `2026-12-07 14:05:09 CET`: the time in the zone the API's dates were read in, named as the server names it. */
const formatDate = (date: Date | null, timeZone: string): string => (date === null ? '-' : timeFormat(timeZone).text(date));

function statusLines(s: RestImportStatus, detail: RestImportDetail | null, timeZone: string): string[] {
  const state = !s.Completed ? 'not completed' : detail?.StatusCode === 4 ? 'failed' : 'completed';
  const lines = [
    `import ${s.idImport}: ${state}${detail ? ` (list ${detail.IdList}, StatusCode ${detail.StatusCode})` : ''}`,
    `  created ${s.CreatedRecipients} | updated ${s.UpdatedRecipients} | valid ${s.ValidRecipients} | not valid ${s.NotValidRecipients} | imported ${s.ImportedRecipients}`,
  ];
  if (detail) lines.splice(1, 0, `  start ${formatDate(detail.StartDate, timeZone)}  end ${formatDate(detail.EndDate, timeZone)}`);
  return lines;
}

/** `status <idImport>` over REST, with `--watch` polling until the import completes. */
export async function restStatus(rest: MailUpRestClient, out: Output, idImport: number, watch: boolean, intervalSeconds: number, notes: boolean): Promise<ExitCode> {
  const status = watch
    ? await rest.waitForImport(idImport, {
      intervalMs: intervalSeconds * 1000,
      deadlineMs: Infinity,
      onProgress: (s) => {
        if (notes && !s.Completed) out.note(`import ${idImport}: not completed, ${s.ValidRecipients + s.NotValidRecipients} rows done`);
      },
    })
    : await rest.getImport(idImport);
  let detail: RestImportDetail | null = null;
  try {
    detail = await rest.getImportDetail(idImport);
  } catch (err) {
    if (!(err instanceof RestApiError && err.httpStatus === 404)) throw err;
  }
  out.result(statusLines(status, detail, rest.timeZone), { ...status, detail });
  return watch && detail?.StatusCode === 4 ? EXIT_CODES.partial : EXIT_CODES.success;
}
