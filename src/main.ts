/**
 * Runs the service: reads the configuration from the environment, opens the store, serves HTTP
 * and runs the import worker. SIGTERM/SIGINT stop it gracefully: no new requests, in-flight ones
 * finish, the worker commits its batch and releases its lease.
 *
 *   npm start                 the API and the worker in one process (ROLE=all, the default)
 *   npm start -- serve        only the API and console (ROLE=serve; PostgreSQL)
 *   npm start -- worker       only an import worker (ROLE=worker; PostgreSQL)
 *   npm start -- migrate      apply pending migrations and exit
 */
import { ConfigError, loadConfig, redactUrl, ROLES, type Config } from './config.ts';
import { createDemoIfEmpty, describeDemo } from './demo.ts';
import { createService } from './service.ts';
import { migrateStore } from './store/open-store.ts';

const COMMANDS = [...ROLES, 'migrate'] as const;

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
      fail(`migration failed on ${database}: ${err instanceof Error ? err.message : String(err)}`, 1);
    }
  }
  let service;
  try {
    service = await createService(config);
  } catch (err) {
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

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    service.log.info({ signal }, 'shutting down');
    service.close().then(() => process.exit(0), (err) => {
      service.log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
