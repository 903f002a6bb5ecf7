/**
 * Where the CLI finds its endpoint and credentials: command-line flags first, then environment
 * variables, then a JSON config file. The password is never printed, not even in errors.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MailUpImportClient } from '../client.ts';
import { MailUpRestClient } from '../rest/rest-client.ts';
import type { SoapVersion } from '../transport.ts';

/** Which of MailUp's APIs the commands use. */
export type ApiKind = 'soap' | 'rest';

/** The settings a config file may hold (all optional). */
export interface ConfigFile {
  readonly endpoint?: string;
  readonly user?: string;
  readonly password?: string;
  readonly soapVersion?: SoapVersion;
  readonly timeZone?: string;
  readonly timeoutSeconds?: number;
  readonly api?: ApiKind;
  readonly restUrl?: string;
  readonly tokenUrl?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
}

/** The global options as commander hands them over. */
export interface GlobalFlags {
  readonly endpoint?: string;
  readonly user?: string;
  readonly password?: string;
  readonly config?: string;
  readonly soapVersion?: string;
  readonly timeZone?: string;
  readonly timeout?: string;
  readonly json?: boolean;
  readonly progress?: boolean;
  readonly api?: string;
  readonly restUrl?: string;
  readonly tokenUrl?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
}

export const ENVIRONMENT = {
  endpoint: 'MAILUP_ENDPOINT',
  user: 'MAILUP_USER',
  password: 'MAILUP_PASSWORD',
  config: 'MAILUP_CONFIG',
  soapVersion: 'MAILUP_SOAP_VERSION',
  timeZone: 'MAILUP_TIME_ZONE',
  timeout: 'MAILUP_TIMEOUT',
  api: 'MAILUP_API',
  restUrl: 'MAILUP_REST_URL',
  tokenUrl: 'MAILUP_TOKEN_URL',
  clientId: 'MAILUP_CLIENT_ID',
  clientSecret: 'MAILUP_CLIENT_SECRET',
} as const;

/** A setting is missing or wrong; the CLI exits with the usage code. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'mailup-import', 'config.json');
}

const KNOWN_KEYS = ['endpoint', 'user', 'password', 'soapVersion', 'timeZone', 'timeoutSeconds', 'api', 'restUrl', 'tokenUrl', 'clientId', 'clientSecret'];

/** Reads the config file; a missing default file is no error, a missing named one is. */
export function readConfigFile(path: string, named: boolean, warn: (message: string) => void): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!named && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // Not the parser's message: it may quote the file, password included.
    throw new ConfigError(`the config file ${path} is not valid JSON`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConfigError(`the config file ${path} must hold a JSON object`);
  const config = data as Record<string, unknown>;
  const unknown = Object.keys(config).filter((k) => !KNOWN_KEYS.includes(k));
  if (unknown.length > 0) throw new ConfigError(`the config file ${path} has unknown keys ${unknown.join(', ')} (known: ${KNOWN_KEYS.join(', ')})`);
  for (const k of ['endpoint', 'user', 'password', 'soapVersion', 'timeZone', 'api', 'restUrl', 'tokenUrl', 'clientId', 'clientSecret']) {
    if (config[k] !== undefined && typeof config[k] !== 'string') throw new ConfigError(`${k} in the config file ${path} must be a string`);
  }
  if (config.timeoutSeconds !== undefined && typeof config.timeoutSeconds !== 'number') {
    throw new ConfigError(`timeoutSeconds in the config file ${path} must be a number`);
  }
  if ((config.password !== undefined || config.clientSecret !== undefined) && process.platform !== 'win32') {
    try {
      const what = config.password !== undefined ? 'a password' : 'a client secret';
      if ((statSync(path).mode & 0o077) !== 0) warn(`the config file ${path} holds ${what} and other users can read it: chmod 600 ${path}`);
    } catch {
      // The file was just read; a failing stat changes nothing.
    }
  }
  return config as ConfigFile;
}

export interface Connection {
  readonly api: ApiKind;
  /** The SOAP endpoint; with the REST API only, it may be absent when the REST URL is given. */
  readonly endpoint: string;
  readonly user: string;
  readonly password: string;
  readonly soapVersion: SoapVersion;
  readonly timeZone: string | undefined;
  readonly timeoutMs: number | undefined;
  /** The REST base (or its origin): `restUrl`, else the endpoint's origin. */
  readonly restUrl: string | undefined;
  readonly tokenUrl: string | undefined;
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
}

/** Flags, then environment, then config file. */
export function resolveConnection(flags: GlobalFlags, env: NodeJS.ProcessEnv, warn: (message: string) => void): Connection {
  const configPath = flags.config ?? env[ENVIRONMENT.config];
  const file = readConfigFile(configPath ?? defaultConfigPath(env), configPath !== undefined, warn);
  const pick = (flag: string | undefined, name: keyof typeof ENVIRONMENT, fromFile: string | undefined): string | undefined =>
    flag ?? (env[ENVIRONMENT[name]] || undefined) ?? fromFile;
  const api = pick(flags.api, 'api', file.api) ?? 'soap';
  if (api !== 'soap' && api !== 'rest') throw new ConfigError(`the API must be soap or rest, not ${api}`);
  const endpoint = pick(flags.endpoint, 'endpoint', file.endpoint);
  const user = pick(flags.user, 'user', file.user);
  const password = pick(flags.password, 'password', file.password);
  const restUrl = pick(flags.restUrl, 'restUrl', file.restUrl);
  const clientId = pick(flags.clientId, 'clientId', file.clientId);
  const clientSecret = pick(flags.clientSecret, 'clientSecret', file.clientSecret);
  const rest = api === 'rest';
  const missing = [
    endpoint === undefined && !(rest && restUrl !== undefined) && `the endpoint (--endpoint or ${ENVIRONMENT.endpoint}${rest ? `, or --rest-url or ${ENVIRONMENT.restUrl}` : ''})`,
    user === undefined && `the user (--user or ${ENVIRONMENT.user})`,
    password === undefined && `the password (${ENVIRONMENT.password} or the config file)`,
    rest && clientId === undefined && `the REST client id (--client-id or ${ENVIRONMENT.clientId})`,
    rest && clientSecret === undefined && `the REST client secret (${ENVIRONMENT.clientSecret} or the config file)`,
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length > 0) throw new ConfigError(`missing ${missing.join(', ')}`);
  const soapVersion = pick(flags.soapVersion, 'soapVersion', file.soapVersion) ?? '1.1';
  if (soapVersion !== '1.1' && soapVersion !== '1.2') throw new ConfigError(`the SOAP version must be 1.1 or 1.2, not ${soapVersion}`);
  const timeout = pick(flags.timeout, 'timeout', file.timeoutSeconds === undefined ? undefined : String(file.timeoutSeconds));
  const seconds = timeout === undefined ? undefined : Number(timeout);
  if (seconds !== undefined && !(seconds > 0)) {
    throw new ConfigError(`the timeout must be a positive number of seconds, not ${timeout} (it is the time allowed for each request; an import's overall limit is import --deadline)`);
  }
  return {
    api, endpoint: endpoint ?? restUrl!, user: user!, password: password!, soapVersion,
    timeZone: pick(flags.timeZone, 'timeZone', file.timeZone),
    timeoutMs: seconds === undefined ? undefined : seconds * 1000,
    restUrl, tokenUrl: pick(flags.tokenUrl, 'tokenUrl', file.tokenUrl), clientId, clientSecret,
  };
}

/**
 * The REST base for a connection: the REST URL when given, else the SOAP endpoint's origin (a
 * server that serves both, as this repository's does). MailUp itself serves REST elsewhere
 * (`https://services.mailup.com`): set the REST URL for it.
 */
export function restBaseOf(connection: Connection): string {
  if (connection.restUrl !== undefined) return connection.restUrl;
  try {
    const url = new URL(connection.endpoint);
    return /\.asmx$/i.test(url.pathname) ? url.origin : connection.endpoint;
  } catch {
    return connection.endpoint;
  }
}

export function createRestClient(connection: Connection): MailUpRestClient {
  try {
    return new MailUpRestClient({
      baseUrl: restBaseOf(connection), username: connection.user, password: connection.password,
      clientId: connection.clientId ?? '', clientSecret: connection.clientSecret ?? '',
      ...(connection.tokenUrl ? { tokenUrl: connection.tokenUrl } : {}),
      ...(connection.timeZone ? { timeZone: connection.timeZone } : {}),
      ...(connection.timeoutMs ? { timeoutMs: connection.timeoutMs } : {}),
    });
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
}

export function createClient(connection: Connection): MailUpImportClient {
  try {
    return new MailUpImportClient({
      endpoint: connection.endpoint, user: connection.user, password: connection.password, soapVersion: connection.soapVersion,
      ...(connection.timeZone ? { timeZone: connection.timeZone } : {}),
      ...(connection.timeoutMs ? { timeoutMs: connection.timeoutMs } : {}),
    });
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
}
