/**
 * Configuration, read from the environment once by the composition root (src/main.ts).
 * Every variable is documented in the README.
 */
import { resolve } from 'node:path';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** SQLite file path (DATABASE_URL=sqlite:/path) */
  readonly databasePath: string;
  /** Largest size the SQLite file may grow to (bytes); null for no limit beyond the disk's. */
  readonly sqliteMaxSize: number | null;
  /** IANA time zone of result dates. */
  readonly timeZone: string;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit: number;
  readonly logLevel: string;
  /** How long a worker's claim on a running import lasts without renewal. */
  readonly leaseMs: number;
  /** How often idle workers look for work (they are also woken directly). */
  readonly pollMs: number;
  /** Create the demo account on first start with an empty database. */
  readonly demo: boolean;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer of at least ${min}, not "${raw}"`);
  return n;
}

/** Sizes like 512mb, 1gb, 1048576. */
function size(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const m = /^\s*(\d+)\s*(b|kb|mb|gb)?\s*$/i.exec(raw);
  if (!m) throw new ConfigError(`${name} must be a size such as 512mb, not "${raw}"`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Number(m[1]) * unit;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.DATA_DIR || './data');
  const url = env.DATABASE_URL ?? '';
  if (url !== '' && !url.startsWith('sqlite:')) throw new ConfigError(`DATABASE_URL "${url}" is not supported; use sqlite:/path/to/file.db`);
  const timeZone = env.TIME_ZONE || 'Europe/Rome';
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new ConfigError(`TIME_ZONE "${timeZone}" is not a known IANA time zone`);
  }
  return {
    port: integer(env, 'PORT', 8080, 0),
    host: env.HOST || '0.0.0.0',
    dataDir,
    databasePath: url !== '' ? resolve(url.slice('sqlite:'.length)) : resolve(dataDir, 'mailup.db'),
    timeZone,
    bodyLimit: size(env, 'BODY_LIMIT', 512 * 1024 * 1024),
    logLevel: env.LOG_LEVEL || 'info',
    leaseMs: integer(env, 'LEASE_SECONDS', 30, 1) * 1000,
    pollMs: integer(env, 'POLL_MS', 1000, 10),
    demo: env.DEMO !== '0',
    sqliteMaxSize: env.SQLITE_MAX_SIZE ? size(env, 'SQLITE_MAX_SIZE', 0) : null,
  };
}
