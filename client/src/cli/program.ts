/**
 * The `mailup-import` command line: a thin layer over the SDK. Each command resolves the
 * connection (flags, environment, config file), makes its calls and prints a result as text or,
 * with `--json`, as one JSON document on stdout. Progress and warnings go to stderr.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { MailUpImportClient } from '../client.ts';
import { INPUT_ENCODINGS, normaliseEncoding, type InputEncoding } from '../charset.ts';
import type { ColumnTarget } from '../csv.ts';
import { MailUpReturnCodeError } from '../errors.ts';
import { ImportTimeoutError, describeRemaining, type ImportReport } from '../import-report.ts';
import { findList, importSubscribers } from '../importer.ts';
import { timeFormat } from '../generated/time-format.ts';
import { isFinished, type MailUpList, type ProcessDetails } from '../result-parser.ts';
import type { MailUpRestClient } from '../rest/rest-client.ts';
import { ConfigError, ENVIRONMENT, createClient, createRestClient, defaultConfigPath, resolveConnection, type ApiKind, type GlobalFlags } from './config.ts';
import { countRows, openInput, type InputFormat } from './input.ts';
import { EXIT_CODES, createOutput, describeError, errorToJson, table, type ExitCode, type Output } from './output.ts';
import { barProgress, lineProgress, type ProgressDisplay } from './progress.ts';
import { restGroupsCreate, restGroupsList, restImport, restLists, restStatus, restWhoami } from './rest-commands.ts';
import type { MailUpJsonApiClient } from '../api/json-api-client.ts';
import { collectRejects, createJsonApiClient, feedOfInput, rejectLines, validationLines, type RejectedRowsReport } from './json-api-commands.ts';

/** What a command body gets: the API chosen, its client (made when read), the output, the options. */
interface CommandContext {
  readonly api: ApiKind;
  /** The SOAP client. */
  readonly client: MailUpImportClient;
  /** The REST client (`--api rest`). */
  readonly rest: MailUpRestClient;
  /** The client of a compatible server's JSON API (/api/…), with the SOAP credentials. */
  readonly jsonApi: MailUpJsonApiClient;
  readonly out: Output;
  readonly globals: GlobalFlags;
  readonly command: Command;
}

/** What the program reads and writes; the real process in cli.ts, pipes in tests. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal (progress bar) or not (progress lines). */
  readonly isTTY: boolean;
}

const positiveInt = (what: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive whole number`);
  return n;
};

/** `--group 3 4`, `--group 3,4` and repeated `--group` all collect. */
const collectIds = (value: string, previous: number[] | undefined): number[] => {
  const ids = value.split(',').map((v) => v.trim()).filter((v) => v !== '').map((v) => positiveInt('a group id')(v));
  return [...(previous ?? []), ...ids];
};

const collectColumns = (value: string, previous: Record<string, ColumnTarget> | undefined): Record<string, ColumnTarget> => {
  const eq = value.lastIndexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${value}" is not column=target (target: email, prefix, number, name, ignore or a campo number)`);
  const column = value.slice(0, eq).trim();
  const raw = value.slice(eq + 1).trim().toLowerCase();
  const campo = /^(?:campo)?([1-9][0-9]*)$/.exec(raw);
  const target: ColumnTarget | null = campo ? Number(campo[1]) : ['email', 'prefix', 'number', 'name', 'ignore'].includes(raw) ? (raw as ColumnTarget) : null;
  if (target === null) throw new InvalidArgumentError(`"${raw}" is not a target: use email, prefix, number, name, ignore or a campo number`);
  return { ...previous, [column]: target };
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `45m`, `6h`, `1h30m`, `500ms`, `1d`; a bare number is seconds. In milliseconds. */
export function parseDuration(value: string): number {
  const text = value.trim().toLowerCase();
  let ms = 0;
  if (/^\d+(?:\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else if (/^(?:\d+(?:\.\d+)?(?:ms|s|min|m|h|d))+$/.test(text)) {
    for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|min|m|h|d)/g)) ms += Number(n) * DURATION_UNITS[unit!]!;
  } else {
    throw new InvalidArgumentError('use a duration such as 90s, 45m, 6h or 1h30m (a bare number is seconds)');
  }
  if (!(ms >= 1)) throw new InvalidArgumentError('the duration must be more than 0');
  return Math.round(ms);
}

const parseEncoding = (value: string): InputEncoding => {
  const encoding = normaliseEncoding(value);
  if (!encoding) throw new InvalidArgumentError(`use one of ${INPUT_ENCODINGS.join(', ')}`);
  return encoding;
};

/** `2026-12-07 14:05:09 CET`: the time in the endpoint's zone (the one its dates were read in), named as the server names it. */
const formatDate = (date: Date | null, timeZone: string): string => (date === null ? '-' : timeFormat(timeZone).text(date));

function processLines(p: ProcessDetails, idList: number, timeZone: string): string[] {
  const confirmation = !p.confirmationEmail ? 'not requested' : p.confirmationSent ? 'requested, sent' : 'requested, not sent yet';
  return [
    `process ${p.idProcess} (list ${idList}): ${p.status} (StatusCode ${p.statusCode})`,
    `  start ${formatDate(p.startDate, timeZone)}  end ${formatDate(p.endDate, timeZone)}`,
    `  rows ${p.totalContacts} | new ${p.newEmail} email, ${p.newMobile} mobile | existing ${p.existingEmail} email, ${p.existingMobile} mobile | opted out ${p.optOutEmail} email, ${p.optOutMobile} mobile`,
    `  confirmation e-mail: ${confirmation}`,
  ];
}

function reportLines(report: ImportReport): string[] {
  const c = report.counters;
  const processes = report.batches.filter((b) => b.idProcess !== null).length;
  const lines = [
    `import ${report.outcome}: ${report.rowsRead} rows read, ${report.rowsSent} sent in ${processes} process${processes === 1 ? '' : 'es'} to list ${report.idList}` +
      (report.rowsFailed > 0 ? `, ${report.rowsFailed} in refused batches` : ''),
    `  new ${c.newEmail} email, ${c.newMobile} mobile | existing ${c.existingEmail} email, ${c.existingMobile} mobile | opted out ${c.optOutEmail} email, ${c.optOutMobile} mobile`,
  ];
  for (const b of report.failedBatches) lines.push(`  refused: batch ${b.batch}, rows ${b.fromRow}-${b.toRow}: ${describeError(b.error)}`);
  for (const b of report.batches) {
    if (b.details?.status === 'failed') lines.push(`  failed: process ${b.idProcess} (rows ${b.fromRow}-${b.toRow})`);
  }
  if (report.inputError) lines.push(`  the input stopped early: ${describeError(report.inputError)}`);
  if (report.error instanceof ImportTimeoutError) lines.push(`  ${report.error.summary} (the started ones go on on the server):`);
  else if (report.error) lines.push(`  ${describeError(report.error)}`);
  for (const r of report.remaining) {
    lines.push(`  left: process ${describeRemaining(r)}, batch ${r.batch} (rows ${r.fromRow}-${r.toRow})` +
      `${r.statusCode === null ? '' : `, StatusCode ${r.statusCode}`}${r.error ? `: ${describeError(r.error)}` : ''}`);
  }
  return lines;
}

/** Finds the list a process belongs to by asking each list in turn (MailUp needs the list). */
async function findProcess(client: MailUpImportClient, idProcess: number, idList: number | undefined): Promise<{ list: MailUpList; details: ProcessDetails }> {
  const lists = idList === undefined ? await client.getNlLists() : [await findList(client, idList)];
  for (const list of lists) {
    try {
      return { list, details: await client.getProcessDetails({ idList: list.idList, listGUID: list.listGUID, idProcess }) };
    } catch (err) {
      if (!(err instanceof MailUpReturnCodeError && err.returnCode === -501) || idList !== undefined) throw err;
    }
  }
  throw new Error(`no list of the account has process ${idProcess}`);
}

const HELP_AFTER = `
Connection settings come from the flags, then the environment (${Object.values(ENVIRONMENT).join(', ')}),
then a JSON config file (--config, ${ENVIRONMENT.config}, or ${'$XDG_CONFIG_HOME/mailup-import/config.json'}):
  { "endpoint": "http://abcd.emailsp.net/Services/WSMailUpImport.asmx", "user": "a1234", "password": "…" }
Prefer the environment or the config file for the password: flags are visible to other users in ps.

--api rest (${ENVIRONMENT.api}=rest, "api": "rest") uses MailUp's REST API v1.1 instead of SOAP, with
OAuth2: the REST client's id and secret (--client-id, ${ENVIRONMENT.clientId}, ${ENVIRONMENT.clientSecret})
and the same user and password. The REST base is --rest-url (${ENVIRONMENT.restUrl}), else the endpoint's
origin; MailUp itself serves it at https://services.mailup.com. The token URL (--token-url,
${ENVIRONMENT.tokenUrl}) defaults to the REST base's origin + /Authorization/OAuth/Token.

Exit codes:
  0  success
  1  error: nothing was done (ReturnCode, SOAP Fault, network, unreadable input)
  2  usage: wrong command line or missing settings
  3  partial failure: some batches or processes failed, the input broke off, or the import's
     --deadline passed with processes left (listed, with their last status); for validate,
     rows that would be rejected

Examples:
  $ export MAILUP_ENDPOINT=http://abcd.emailsp.net MAILUP_USER=a1234 MAILUP_PASSWORD=secret
  $ mailup-import whoami
  $ mailup-import lists
  $ mailup-import groups create "Newsletter 2025" --list 1
  $ mailup-import import contacts.csv --list 1 --group 3 --group 4 --confirm
  $ mailup-import import feed.xml --list 1 --import-type 4 --json > report.json
  $ mailup-import validate contacts.csv --list 1
  $ mailup-import status 17 --watch
  $ MAILUP_CLIENT_ID=… MAILUP_CLIENT_SECRET=… mailup-import import contacts.csv --list 1 --api rest
`;

const IMPORT_HELP = `
The CSV needs a header row. Columns named email (or e-mail), prefix, number (or mobile), name
and campo1, campo2, … are recognised; map others with --map "First name=1" --map "Mail=email".
The delimiter (, ; tab |) is guessed from the header; a byte-order mark is fine.
An XML file must be a subscribers feed (<subscribers><subscriber email="…" …>…</subscriber>…).

The input is sent in NewImportProcess batches (--batch-size, default 5000), then started with
StartImportProcesses; while the account runs another import (-601/-602) the start is retried
with a growing delay. Another program importing into the account may start some of the
batches (StartImportProcesses starts every prepared process): that counts, and any batch still
waiting is started again. Then each process is followed until it finishes (unless --no-wait).
After --deadline (default 6h) the command stops waiting and exits 3, listing the processes
left and their last status; those started go on on the server. (--timeout, a global option, is
the time allowed for each request.)

With --api rest each batch (--batch-size, default 20000) is one bulk import, POST
List/{id}/Recipients (or Group/{id}/Recipients with one --group), its body streamed; the imports
queue on the server and are followed with GET Import/{id} to the end. --confirm is ConfirmEmail,
--opt-out importType=asOptout, --import-type 6 clearMissingOrEmptyFields, --replace-groups
removeFromPrevGroups; the other SOAP-only options are refused. A row with a field the REST API
cannot take (over 200 characters, campo40 and up) is not sent and is listed. --deadline, the
progress, the report and the exit codes are the same.

Examples:
  $ mailup-import import contacts.csv --list 1
  $ mailup-import import contacts.csv --list 1 --group 3,4 --replace-groups --map "First name=1" --map "Last name=2"
  $ mailup-import import export.csv --list 2 --encoding windows-1252 --delimiter ";"
  $ mailup-import import unsubscribed.csv --list 1 --opt-out
  $ mailup-import import feed.xml --list 1 --mobile-input-type 2 --no-wait --json
  $ mailup-import import contacts.csv --list 1 --group 3 --api rest --json
`;

const VALIDATE_HELP = `
The file is read as import reads it (the same options) and sent whole to the server's
POST /api/feeds/validate, which checks every row with the reader and rules of an import;
nothing is stored. It prints the rows, the rows that would be rejected (row number and
reason; row N is the N-th subscriber of the file, for a CSV the N-th data row after the
header), the rows that repeat an earlier row's recipient, and the channels found; --json
lists them all (up to 1000 of each kind).

Only a server with the JSON API can validate (MailUp itself has none): otherwise exit 1.
Exit codes: 0 the file would import clean, 3 some rows would be rejected (or a CSV record
could not be read), 1 error, 2 usage.

Examples:
  $ mailup-import validate contacts.csv --list 1
  $ mailup-import validate feed.xml --json > check.json
`;

export function buildProgram(io: CliIo, setExit: (code: ExitCode) => void): Command {
  const program = new Command('mailup-import')
    .description('Import subscribers into MailUp lists and inspect imports, over the WSMailUpImport SOAP API or the REST API v1.1 (--api rest), on MailUp or a compatible server.')
    .version('0.1.0')
    .option('--endpoint <url>', `service URL, e.g. http://host/Services/WSMailUpImport.asmx (env ${ENVIRONMENT.endpoint})`)
    .option('--user <user>', `web-service user, e.g. a1234 (env ${ENVIRONMENT.user})`)
    .option('--password <password>', `password (prefer env ${ENVIRONMENT.password} or the config file)`)
    .option('--config <file>', `JSON config file (env ${ENVIRONMENT.config}; default ${defaultConfigPath({ ...io.env, XDG_CONFIG_HOME: '$XDG_CONFIG_HOME' })})`)
    .addOption(new Option('--soap-version <version>', `SOAP version (env ${ENVIRONMENT.soapVersion})`).choices(['1.1', '1.2']))
    .option('--time-zone <zone>', `IANA time zone of the endpoint's dates (default Europe/Rome; env ${ENVIRONMENT.timeZone})`)
    .option('--timeout <seconds>', `time allowed per request (default 60; env ${ENVIRONMENT.timeout})`)
    .option('--json', 'print the result as JSON on stdout')
    .option('--no-progress', 'no progress display on stderr')
    .addOption(new Option('--api <api>', `the API to use (default soap; env ${ENVIRONMENT.api})`).choices(['soap', 'rest']))
    .option('--rest-url <url>', `REST API base, e.g. https://services.mailup.com (default: the endpoint's origin; env ${ENVIRONMENT.restUrl})`)
    .option('--token-url <url>', `OAuth2 token URL (default: the REST base's origin + /Authorization/OAuth/Token; env ${ENVIRONMENT.tokenUrl})`)
    .option('--client-id <id>', `REST client id (env ${ENVIRONMENT.clientId})`)
    .option('--client-secret <secret>', `REST client secret (prefer env ${ENVIRONMENT.clientSecret} or the config file)`)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', HELP_AFTER)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();

  /**
   * Runs a command body with the client of the chosen API and the output, turning failures into
   * exit codes. `client` (SOAP) and `rest` are made when first read, so a command reads only the
   * one `api` names.
   */
  const action = <A extends unknown[]>(body: (ctx: CommandContext, ...args: A) => Promise<ExitCode>) =>
    async (...args: [...A, Command]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const globals = command.optsWithGlobals<GlobalFlags>();
      const out = createOutput(globals.json === true, io.stdout, io.stderr);
      try {
        const connection = resolveConnection(globals, io.env, (m) => out.warn(m));
        let soap: MailUpImportClient | null = null;
        let rest: MailUpRestClient | null = null;
        let jsonApi: MailUpJsonApiClient | null = null;
        const ctx: CommandContext = {
          api: connection.api, out, globals, command,
          get client() {
            return (soap ??= createClient(connection));
          },
          get rest() {
            return (rest ??= createRestClient(connection));
          },
          get jsonApi() {
            return (jsonApi ??= createJsonApiClient(connection));
          },
        };
        setExit(await body(ctx, ...(args.slice(0, -1) as A)));
      } catch (err) {
        const usage = err instanceof ConfigError;
        if (out.json) io.stdout.write(`${JSON.stringify({ error: errorToJson(err) }, null, 2)}\n`);
        io.stderr.write(`error: ${describeError(err)}\n`);
        setExit(usage ? EXIT_CODES.usage : EXIT_CODES.error);
      }
    };

  program.command('import')
    .description('import a CSV or XML subscribers file into a list, in batches, and wait for it to finish')
    .argument('<file>', 'a .csv or .xml file')
    .requiredOption('--list <id>', 'the list to import into', positiveInt('--list'))
    .option('--group <id...>', 'add the subscribers to these groups of the list (repeat or separate with commas)', collectIds)
    .option('--confirm', 'double opt-in: subscribers become pending and get a confirmation e-mail (ConfirmEmail)')
    .option('--confirm-message <id>', 'the confirmation message to use (idConfirmNL; default: the account\'s)', positiveInt('--confirm-message'))
    .option('--opt-out', 'import the subscribers as unsubscribed (asOptOut)')
    .option('--force-opt-in', 'subscribe again those who had unsubscribed (forceOptIn)')
    .option('--as-pending', 'also change recipients who are pending (asPending)')
    .option('--replace-groups', 'remove the subscribers from the list\'s other groups (replaceGroups)')
    .addOption(new Option('--import-type <n>', 'channels and empty fields: 1 email, 2 SMS, 3 both; 4-6 the same but empty fields clear stored values')
      .choices(['1', '2', '3', '4', '5', '6']).default('3'))
    .addOption(new Option('--mobile-input-type <n>', 'mobile numbers: 1 whole number in Number, 2 prefix in Prefix').choices(['1', '2']).default('1'))
    .addOption(new Option('--format <format>', 'the file format, when its extension does not tell').choices(['csv', 'xml']))
    .option('--delimiter <char>', 'CSV field delimiter (default: guessed from the header)')
    .option('--encoding <encoding>', `file encoding: ${INPUT_ENCODINGS.join(', ')} (default utf-8; XML: its declaration)`, parseEncoding)
    .option('--map <column=target...>', 'map a CSV column to email, prefix, number, name, ignore or a campo number', collectColumns)
    .option('--batch-size <n>', 'subscribers per NewImportProcess (default 5000), or per REST bulk import (default 20000)', positiveInt('--batch-size'))
    .option('--no-wait', 'return once the processes are started, without following them')
    .option('--poll <seconds>', 'delay between status checks while waiting', '1')
    .option('--start-attempts <n>', 'attempts to start while the account is busy (-601/-602) with none of the batches started', positiveInt('--start-attempts'), 40)
    .addOption(new Option('--deadline <duration>', 'stop starting and waiting after this long, e.g. 90m, 6h, 1h30m (a bare number is seconds); then exit 3')
      .argParser(parseDuration).default(parseDuration('6h'), '6h'))
    .addHelpText('after', IMPORT_HELP)
    .action(action(async (ctx, file: string, opts: Record<string, unknown>) => {
      const { out, globals } = ctx;
      const format = opts.format as InputFormat | undefined;
      const input = await openInput(file, {
        format, delimiter: opts.delimiter as string | undefined, encoding: opts.encoding as InputEncoding | undefined,
        columns: opts.map as Record<string, ColumnTarget> | undefined,
      });
      if (input.ignoredColumns.length > 0) out.warn(`these columns are not imported: ${input.ignoredColumns.join(', ')} (map them with --map)`);
      let display: ProgressDisplay | null = null;
      if (globals.progress !== false) {
        const total = await countRows(file, input.format);
        display = io.isTTY ? barProgress(io.stderr, total) : lineProgress(io.stderr, total);
      }
      if (ctx.api === 'rest') return restImport(ctx.rest, out, input, opts, ctx.command, display);
      const poll = Number(opts.poll);
      if (!(poll > 0)) throw new ConfigError('--poll must be a positive number of seconds');
      let report: ImportReport;
      try {
        report = await importSubscribers(ctx.client, input.items, {
          idList: opts.list as number,
          groups: (opts.group as number[] | undefined) ?? [],
          importType: Number(opts.importType),
          mobileInputType: Number(opts.mobileInputType) as 1 | 2,
          ConfirmEmail: opts.confirm === true,
          asOptOut: opts.optOut === true,
          forceOptIn: opts.forceOptIn === true,
          asPending: opts.asPending === true,
          replaceGroups: opts.replaceGroups === true,
          idConfirmNL: (opts.confirmMessage as number | undefined) ?? 0,
          batchSize: (opts.batchSize as number | undefined) ?? 5000,
          ...(input.fieldCount !== undefined ? { fieldCount: input.fieldCount } : {}),
          wait: opts.wait !== false,
          pollIntervalMs: poll * 1000,
          startRetry: { attempts: opts.startAttempts as number },
          timeoutMs: opts.deadline as number,
          onProgress: (p) => display?.update(p),
        });
      } finally {
        display?.stop();
      }
      const skipped = input.skipped;
      // Records the CSV reader could not read make an otherwise complete import partial.
      const outcome = report.outcome === 'completed' && skipped.length > 0 ? 'partial' : report.outcome;
      const lines = reportLines({ ...report, outcome });
      for (const s of skipped) lines.push(`  unreadable CSV record${s.line === null ? '' : ` at line ${s.line}`}: ${s.reason}`);
      // A server with the JSON API tells which rows it rejected and why; MailUp's has none (then nothing is added).
      let rejected: RejectedRowsReport | undefined;
      if (opts.wait !== false && report.batches.some((b) => b.idProcess !== null) && await ctx.jsonApi.offersApi()) {
        try {
          rejected = await collectRejects(ctx.jsonApi, report.batches);
          lines.push(...rejectLines(rejected.count, rejected.rows));
        } catch (err) {
          out.warn(`the rejected rows could not be read: ${describeError(err)}`);
        }
      }
      out.result(lines, { ...report, outcome, skippedRecords: skipped, ...(rejected === undefined ? {} : { rejected }) });
      if (report.timedOut) return EXIT_CODES.partial;
      return outcome === 'completed' ? EXIT_CODES.success : outcome === 'partial' ? EXIT_CODES.partial : EXIT_CODES.error;
    }));

  program.command('validate')
    .description('check a CSV or XML file as an import would, without importing it (a server with the JSON API only)')
    .argument('<file>', 'a .csv or .xml file')
    .option('--list <id>', 'the list it is for: its default country reads national mobile numbers', positiveInt('--list'))
    .addOption(new Option('--import-type <n>', 'channels, as for import: 1 email, 2 SMS, 3 both; 4-6 the same').choices(['1', '2', '3', '4', '5', '6']).default('3'))
    .addOption(new Option('--mobile-input-type <n>', 'mobile numbers: 1 whole number in Number, 2 prefix in Prefix').choices(['1', '2']).default('1'))
    .addOption(new Option('--format <format>', 'the file format, when its extension does not tell').choices(['csv', 'xml']))
    .option('--delimiter <char>', 'CSV field delimiter (default: guessed from the header)')
    .option('--encoding <encoding>', `file encoding: ${INPUT_ENCODINGS.join(', ')} (default utf-8; XML: its declaration)`, parseEncoding)
    .option('--map <column=target...>', 'map a CSV column to email, prefix, number, name, ignore or a campo number', collectColumns)
    .addHelpText('after', VALIDATE_HELP)
    .action(action(async (ctx, file: string, opts: Record<string, unknown>) => {
      const { out } = ctx;
      if (!(await ctx.jsonApi.offersApi())) {
        throw new Error('the server does not offer the JSON API (/api/openapi.json) that validate needs; MailUp itself has none');
      }
      const input = await openInput(file, {
        format: opts.format as InputFormat | undefined, delimiter: opts.delimiter as string | undefined,
        encoding: opts.encoding as InputEncoding | undefined, columns: opts.map as Record<string, ColumnTarget> | undefined,
      });
      if (input.ignoredColumns.length > 0) out.warn(`these columns would not be imported: ${input.ignoredColumns.join(', ')} (map them with --map)`);
      const mobileInputType = Number(opts.mobileInputType) as 1 | 2;
      const validation = await ctx.jsonApi.validateFeed(feedOfInput(input.items, { mobileInputType, fieldCount: input.fieldCount }), {
        importType: Number(opts.importType), mobileInputType, ...(opts.list === undefined ? {} : { list: opts.list as number }),
      });
      const lines = validationLines(file, validation);
      for (const s of input.skipped) lines.push(`  unreadable CSV record${s.line === null ? '' : ` at line ${s.line}`}: ${s.reason}`);
      out.result(lines, { file, ...validation, skippedRecords: input.skipped });
      return validation.rejectedRows === 0 && input.skipped.length === 0 ? EXIT_CODES.success : EXIT_CODES.partial;
    }));

  program.command('status')
    .description('show an import process; with --watch, follow it until it finishes')
    .argument('<idProcess>', 'the process id (with --api rest: the import id)', positiveInt('idProcess'))
    .option('--list <id>', 'the process\'s list (default: look through every list)', positiveInt('--list'))
    .option('--watch', 'poll until the process finishes')
    .option('--interval <seconds>', 'delay between polls with --watch', '2')
    .action(action(async (ctx, idProcess: number, opts: { list?: number; watch?: boolean; interval: string }) => {
      const { out, globals } = ctx;
      const interval = Number(opts.interval);
      if (!(interval > 0)) throw new ConfigError('--interval must be a positive number of seconds');
      if (ctx.api === 'rest') return restStatus(ctx.rest, out, idProcess, opts.watch === true, interval, globals.progress !== false && !out.json);
      const client = ctx.client;
      let { list, details } = await findProcess(client, idProcess, opts.list);
      if (opts.watch) {
        const showLines = globals.progress !== false && !out.json;
        while (!isFinished(details.status)) {
          if (showLines) {
            const done = Math.max(details.newEmail + details.existingEmail + details.optOutEmail, details.newMobile + details.existingMobile + details.optOutMobile);
            out.note(`process ${idProcess}: ${details.status}, ${done}/${details.totalContacts} rows`);
          }
          await new Promise((r) => setTimeout(r, interval * 1000));
          details = await client.getProcessDetails({ idList: list.idList, listGUID: list.listGUID, idProcess });
        }
      }
      out.result(processLines(details, list.idList, client.timeZone), { idList: list.idList, ...details });
      return opts.watch && details.status === 'failed' ? EXIT_CODES.partial : EXIT_CODES.success;
    }));

  program.command('lists')
    .description('list the account\'s lists and their groups')
    .action(action(async (ctx) => {
      const { out } = ctx;
      if (ctx.api === 'rest') return restLists(ctx.rest, out);
      const lists = await ctx.client.getNlLists();
      out.result(table(['ID', 'GUID', 'NAME', 'GROUPS'], lists.map((l) => [
        String(l.idList), l.listGUID, l.listName, l.groups.map((g) => `${g.idGroup} ${g.groupName}`).join(', '),
      ])), lists);
      return EXIT_CODES.success;
    }));

  const groups = program.command('groups').description('create or list the groups of a list');
  groups.command('create')
    .description('create a group in a list (an existing name gives the existing group\'s id)')
    .argument('<name>', 'the group name (MailUp keeps 50 characters)')
    .requiredOption('--list <id>', 'the list', positiveInt('--list'))
    .action(action(async (ctx, name: string, opts: { list: number }) => {
      const { out } = ctx;
      if (ctx.api === 'rest') return restGroupsCreate(ctx.rest, out, opts.list, name);
      const client = ctx.client;
      const list = await findList(client, opts.list);
      const idGroup = await client.createGroup({ idList: list.idList, listGUID: list.listGUID, newGroupName: name });
      out.result(`${idGroup}`, { idGroup, groupName: name, idList: list.idList });
      return EXIT_CODES.success;
    }));
  groups.command('list')
    .description('list the groups of a list')
    .requiredOption('--list <id>', 'the list', positiveInt('--list'))
    .action(action(async (ctx, opts: { list: number }) => {
      const { out } = ctx;
      if (ctx.api === 'rest') return restGroupsList(ctx.rest, out, opts.list);
      const list = await findList(ctx.client, opts.list);
      out.result(table(['ID', 'NAME'], list.groups.map((g) => [String(g.idGroup), g.groupName])), list.groups);
      return EXIT_CODES.success;
    }));

  program.command('whoami')
    .description('check the connection: the user, its id and the endpoint')
    .action(action(async (ctx) => {
      const { out } = ctx;
      if (ctx.api === 'rest') return restWhoami(ctx.rest, out);
      const client = ctx.client;
      const idUser = await client.getIdWsUser();
      out.result(`${client.user} (id ${idUser}) at ${client.endpoint} over SOAP ${client.soapVersion}`, {
        user: client.user, idUser, endpoint: client.endpoint, soapVersion: client.soapVersion,
      });
      return EXIT_CODES.success;
    }));

  return program;
}

/** Runs the command line and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let code: ExitCode = EXIT_CODES.success;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end with exit code 0; everything else commander refuses is usage.
      return err.exitCode === 0 ? EXIT_CODES.success : EXIT_CODES.usage;
    }
    throw err;
  }
  return code;
}
