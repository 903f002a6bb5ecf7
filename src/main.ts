/**
 * Runs the service: reads the configuration from the environment, opens the store, serves HTTP
 * and runs the import worker. SIGTERM/SIGINT stop it gracefully: no new requests, in-flight ones
 * finish, the worker commits its batch and releases its lease; what is still unfinished after
 * SHUTDOWN_TIMEOUT_SECONDS is cut short (src/service.ts), and the process exits.
 *
 *   npm start                 the API and the worker in one process (ROLE=all, the default)
 *   npm start -- serve        only the API and console (ROLE=serve; PostgreSQL)
 *   npm start -- worker       only an import worker (ROLE=worker; PostgreSQL)
 *   npm start -- migrate      apply pending migrations and exit (SQLite: refused while a server runs on the database)
 *
 * With SQLite the server holds the data directory's lock for its whole life: a second server on
 * the same database exits at once with status 1, naming the directory and the holder's pid.
 */
import { ConfigError, loadConfig, redactUrl, ROLES, type Config } from './config.ts';
import { createDemoIfEmpty, describeDemo, describeDoors } from './demo.ts';
import { createService } from './service.ts';
import { DataDirLockedError, migrateStore } from './store/open-store.ts';

const COMMANDS = [...ROLES, 'migrate'] as const;
/** How long the clean-up after the shutdown deadline may take before the process exits regardless. */
const CLEAN_UP_MS = 5000;

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const [command, ...extra] = process.argv.slice(2);
  if (extra.length > 0 || (command !== undefined && !(COMMANDS as readonly string[]).includes(command))) {
    fail(`usage: npm start [-- ${COMMANDS.join('|')}]`, 2);
  }
  let config: Config;
  try {
    // A command on the command line wins over ROLE in the environment.
    config = loadConfig(command !== undefined && command !== 'migrate' ? { ...process.env, ROLE: command } : process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(`configuration error: ${err.message}`, 2);
    throw err;
  }
  const database = config.store === 'postgres' ? redactUrl(config.databaseUrl!) : config.databasePath;
  if (command === 'migrate') {
    try {
      const applied = await migrateStore(config);
      process.stdout.write(applied.length > 0 ? `applied migrations: ${applied.join(', ')}\n` : 'the database schema is up to date\n');
      return;
    } catch (err) {
      // A server runs on the SQLite database: migrating would change the schema under it.
      if (err instanceof DataDirLockedError) fail(`cannot migrate: ${err.message}. Stop it first; a server applies pending migrations itself when it starts.`, 1);
      fail(`migration failed on ${database}: ${err instanceof Error ? err.message : String(err)}`, 1);
    }
  }
  let service;
  try {
    service = await createService(config);
  } catch (err) {
    if (err instanceof DataDirLockedError) fail(`cannot start: ${err.message}. Stop that server first, or give this one its own DATA_DIR (or DATABASE_URL=sqlite:…).`, 1);
    fail(`cannot open the store ${database}: ${err instanceof Error ? err.message : String(err)}`, 1);
  }
  const demo = config.demo && config.role !== 'worker' ? await createDemoIfEmpty(service.store) : null;
  let url: string;
  try {
    url = await service.listen();
  } catch (err) {
    await service.close().catch(() => {});
    const hint = (err as { code?: string }).code === 'EADDRINUSE' ? ' (another process uses it: give each process on a host its own PORT)' : '';
    fail(`cannot listen on ${config.host}:${config.port}: ${err instanceof Error ? err.message : String(err)}${hint}`, 1);
  }
  if (config.role === 'worker') {
    service.log.info({ owner: service.worker.owner, database, url }, 'WSMailUpImport import worker running');
    process.stdout.write(`WSMailUpImport import worker ${service.worker.owner} running on ${database} (health and metrics: ${url}/healthz, /readyz, /metrics)\n`);
  } else {
    service.log.info({ url, database, role: config.role }, 'WSMailUpImport service listening');
    process.stdout.write(`WSMailUpImport listening on ${url}/Services/WSMailUpImport.asmx (WSDL: ?WSDL)\n`);
  }
  if (demo) process.stdout.write(describeDemo(demo, url));
  else if (config.role !== 'worker') process.stdout.write(describeDoors(url));

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    service.log.info({ signal }, 'shutting down');
    // The service gives up waiting at SHUTDOWN_TIMEOUT_SECONDS and cleans up; should the clean-up
    // itself hang (a database that no longer answers), the process ends anyway.
    setTimeout(() => {
      service.log.error({ seconds: CLEAN_UP_MS / 1000 }, 'shutdown clean-up did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + CLEAN_UP_MS).unref();
    service.close().then(() => process.exit(0), (err) => {
      service.log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
