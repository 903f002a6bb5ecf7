/**
 * Where the CLI finds its endpoint and credentials: command-line flags first, then environment
 * variables, then a JSON config file. The password is never printed, not even in errors.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MailUpImportClient } from '../client.ts';
import type { SoapVersion } from '../transport.ts';

/** The settings a config file may hold (all optional). */
export interface ConfigFile {
  readonly endpoint?: string;
  readonly user?: string;
  readonly password?: string;
  readonly soapVersion?: SoapVersion;
  readonly timeZone?: string;
  readonly timeoutSeconds?: number;
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
}

export const ENVIRONMENT = {
  endpoint: 'MAILUP_ENDPOINT',
  user: 'MAILUP_USER',
  password: 'MAILUP_PASSWORD',
  config: 'MAILUP_CONFIG',
  soapVersion: 'MAILUP_SOAP_VERSION',
  timeZone: 'MAILUP_TIME_ZONE',
  timeout: 'MAILUP_TIMEOUT',
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

const KNOWN_KEYS = ['endpoint', 'user', 'password', 'soapVersion', 'timeZone', 'timeoutSeconds'];

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
  for (const k of ['endpoint', 'user', 'password', 'soapVersion', 'timeZone']) {
    if (config[k] !== undefined && typeof config[k] !== 'string') throw new ConfigError(`${k} in the config file ${path} must be a string`);
  }
  if (config.timeoutSeconds !== undefined && typeof config.timeoutSeconds !== 'number') {
    throw new ConfigError(`timeoutSeconds in the config file ${path} must be a number`);
  }
  if (config.password !== undefined && process.platform !== 'win32') {
    try {
      if ((statSync(path).mode & 0o077) !== 0) warn(`the config file ${path} holds a password and other users can read it: chmod 600 ${path}`);
    } catch {
      // The file was just read; a failing stat changes nothing.
    }
  }
  return config as ConfigFile;
}

export interface Connection {
  readonly endpoint: string;
  readonly user: string;
  readonly password: string;
  readonly soapVersion: SoapVersion;
  readonly timeZone: string | undefined;
  readonly timeoutMs: number | undefined;
}

/** Flags, then environment, then config file. */
export function resolveConnection(flags: GlobalFlags, env: NodeJS.ProcessEnv, warn: (message: string) => void): Connection {
  const configPath = flags.config ?? env[ENVIRONMENT.config];
  const file = readConfigFile(configPath ?? defaultConfigPath(env), configPath !== undefined, warn);
  const pick = (flag: string | undefined, name: keyof typeof ENVIRONMENT, fromFile: string | undefined): string | undefined =>
    flag ?? (env[ENVIRONMENT[name]] || undefined) ?? fromFile;
  const endpoint = pick(flags.endpoint, 'endpoint', file.endpoint);
  const user = pick(flags.user, 'user', file.user);
  const password = pick(flags.password, 'password', file.password);
  const missing = [
    endpoint === undefined && `the endpoint (--endpoint or ${ENVIRONMENT.endpoint})`,
    user === undefined && `the user (--user or ${ENVIRONMENT.user})`,
    password === undefined && `the password (${ENVIRONMENT.password} or the config file)`,
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
    endpoint: endpoint!, user: user!, password: password!, soapVersion,
    timeZone: pick(flags.timeZone, 'timeZone', file.timeZone),
    timeoutMs: seconds === undefined ? undefined : seconds * 1000,
  };
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
