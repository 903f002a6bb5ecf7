/**
 * Runs the service: reads the configuration from the environment, opens the store, serves HTTP
 * and runs the import worker. SIGTERM/SIGINT stop it gracefully: no new requests, in-flight ones
 * finish, the worker commits its batch and releases its lease.
 */
import { ConfigError, loadConfig } from './config.ts';
import { createDemoIfEmpty, describeDemo } from './demo.ts';
import { createService } from './service.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const service = await createService(config);
  const demo = config.demo ? await createDemoIfEmpty(service.store) : null;
  const url = await service.listen();
  service.log.info({ url, database: config.databasePath }, 'WSMailUpImport service listening');
  process.stdout.write(`WSMailUpImport listening on ${url}/Services/WSMailUpImport.asmx (WSDL: ?WSDL)\n`);
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
