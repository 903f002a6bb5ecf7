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
  /** Failed logins allowed per user and per address before each further attempt is delayed. */
  readonly loginFreeAttempts: number;
  /** How long account and list rows read by the API are reused (ms); 0 reads them on every call. */
  readonly lookupCacheMs: number;
  /** Largest size the SQLite file may grow to (bytes); null for no limit beyond the disk's. */
  readonly sqliteMaxSize: number | null;
  /** Which store runs the service: the embedded SQLite file, or PostgreSQL (DATABASE_URL=postgres://…). */
  readonly store: 'sqlite' | 'postgres';
  /** The PostgreSQL connection string; null with SQLite. */
  readonly databaseUrl: string | null;
  /** Connections each process keeps to PostgreSQL. */
  readonly databasePoolSize: number;
  /** Apply pending PostgreSQL migrations at start-up (otherwise `npm start -- migrate` does, and start-up checks). */
  readonly migrateOnStart: boolean;
  /** What this process runs: the API and the import worker (`all`), only the API (`serve`), or only a worker. */
  readonly role: Role;
  /** IANA time zone of result dates. */
  readonly timeZone: string;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit: number;
  /** The least a request body must average while the server waits for it (slowloris bodies); 0 for no minimum. */
  readonly minUploadBytesPerSecond: number;
  /** The window that average is taken over, which is also the grace before the first check. */
  readonly uploadRateWindowMs: number;
  /** How long a client may take to send its request headers. */
  readonly headersTimeoutMs: number;
  /** How long a keep-alive connection is kept open without a request. */
  readonly keepAliveTimeoutMs: number;
  /** Feed uploads decoded at once; further ones wait for a slot. 0 for no limit. */
  readonly maxConcurrentUploads: number;
  /** How long an upload may wait for a slot before it is answered 503. */
  readonly uploadQueueTimeoutMs: number;
  /** Most recipients one REST bulk import (POST …/Recipients) may carry; one more is a 400. */
  readonly maxRestImportRows: number;
  /**
   * How long SIGTERM waits for requests in flight and the worker's batch; after it, unfinished
   * requests are answered 503 or cut, partial feeds removed, and the process exits.
   */
  readonly shutdownTimeoutMs: number;
  readonly logLevel: string;
  /** Nice value of the embedded (SQLite) import thread, 0 to 19: higher yields the CPU to requests sooner. */
  readonly workerNice: number;
  /** How long a worker's claim on a running import lasts without renewal. */
  readonly leaseMs: number;
  /** How often idle workers look for work (they are also woken directly). */
  readonly pollMs: number;
  /** Create the demo account on first start with an empty database. */
  readonly demo: boolean;
  /** SMTP server for confirmation messages (smtp://user:pass@host:587, smtps://…); null writes them to the outbox. */
  readonly smtpUrl: string | null;
  /** Envelope sender (bounces), and the From of confirmation messages that name no sender. */
  readonly smtpFrom: string | null;
  /** Messages per second over SMTP; 0 for no limit. */
  readonly smtpRatePerSecond: number;
  /** Base URL of confirm links as recipients reach the service; null = the service's own listen URL. */
  readonly publicUrl: string | null;
  /** How many days a confirm link stays valid. */
  readonly confirmTokenDays: number;
  /** Console cookies are always `Secure` (the console is served over HTTPS by a proxy in front). */
  readonly consoleSecureCookies: boolean;
  /** How long a REST API access token lasts (its `expires_in`), in seconds. */
  readonly oauthAccessTokenSeconds: number;
  /** How long a REST API refresh token lasts, in days; each refresh hands out a new one. */
  readonly oauthRefreshTokenDays: number;
  /** REST API calls an account may make per second (per server) before it gets 429; 0 for no limit. */
  readonly restMaxCallsPerSecond: number;
  /** HTTP subscribe API calls per caller address per second, once its burst is spent; 0 for no limit. */
  readonly httpApiCallsPerSecond: number;
  /** HTTP subscribe API calls a caller address may make at once. */
  readonly httpApiBurst: number;
  /** How long one webhook POST may take before it counts as failed (docs/webhooks.md). */
  readonly webhookTimeoutMs: number;
  /** How often an idle webhook dispatcher looks for due deliveries (it is also woken when an import ends). */
  readonly webhookPollMs: number;
  /** The pause after a webhook delivery's first failed attempt; each further one doubles it, up to an hour. */
  readonly webhookRetryFirstDelayMs: number;
  /** How long after its event a webhook delivery is retried before it is given up. */
  readonly webhookRetryWindowMs: number;
}

export const ROLES = ['all', 'serve', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer of at least ${min}, not "${raw}"`);
  return n;
}

function atMost(n: number, max: number, name: string): number {
  if (n > max) throw new ConfigError(`${name} must be at most ${max}, not ${n}`);
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
  const postgres = /^postgres(ql)?:\/\//i.test(url);
  if (url !== '' && !url.startsWith('sqlite:') && !postgres) {
    throw new ConfigError(`DATABASE_URL "${redactUrl(url)}" is not supported; use sqlite:/path/to/file.db or postgres://user:password@host:5432/database`);
  }
  const role = (env.ROLE || 'all').toLowerCase();
  if (!(ROLES as readonly string[]).includes(role)) throw new ConfigError(`ROLE must be one of ${ROLES.join(', ')}, not "${env.ROLE}"`);
  if (role !== 'all' && !postgres) throw new ConfigError(`ROLE=${role} needs a shared PostgreSQL store (DATABASE_URL=postgres://…); SQLite runs as ROLE=all`);
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
    databasePath: url.startsWith('sqlite:') ? resolve(url.slice('sqlite:'.length)) : resolve(dataDir, 'mailup.db'),
    store: postgres ? 'postgres' : 'sqlite',
    databaseUrl: postgres ? url : null,
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1),
    migrateOnStart: env.MIGRATE_ON_START !== '0',
    role: role as Role,
    timeZone,
    bodyLimit: size(env, 'BODY_LIMIT', 512 * 1024 * 1024),
    minUploadBytesPerSecond: integer(env, 'MIN_UPLOAD_BYTES_PER_SECOND', 1024, 0),
    uploadRateWindowMs: integer(env, 'UPLOAD_RATE_WINDOW_SECONDS', 10, 1) * 1000,
    headersTimeoutMs: integer(env, 'HEADERS_TIMEOUT_SECONDS', 60, 1) * 1000,
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_SECONDS', 65, 1) * 1000,
    maxConcurrentUploads: integer(env, 'MAX_CONCURRENT_UPLOADS', 4, 0),
    uploadQueueTimeoutMs: integer(env, 'UPLOAD_QUEUE_SECONDS', 60, 1) * 1000,
    maxRestImportRows: integer(env, 'MAX_REST_IMPORT_ROWS', 1_000_000, 1),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_SECONDS', 25, 1) * 1000,
    logLevel: env.LOG_LEVEL || 'info',
    leaseMs: integer(env, 'LEASE_SECONDS', 30, 1) * 1000,
    pollMs: integer(env, 'POLL_MS', 1000, 10),
    workerNice: atMost(integer(env, 'WORKER_NICE', 10, 0), 19, 'WORKER_NICE'),
    demo: env.DEMO !== '0',
    loginFreeAttempts: integer(env, 'LOGIN_FREE_ATTEMPTS', 5, 0),
    lookupCacheMs: integer(env, 'LOOKUP_CACHE_MS', 1000, 0),
    sqliteMaxSize: env.SQLITE_MAX_SIZE ? size(env, 'SQLITE_MAX_SIZE', 0) : null,
    smtpUrl: smtpUrl(env),
    smtpFrom: emailAddress(env, 'SMTP_FROM'),
    smtpRatePerSecond: integer(env, 'SMTP_RATE_PER_SECOND', 10, 0),
    publicUrl: publicUrl(env),
    confirmTokenDays: integer(env, 'CONFIRM_TOKEN_DAYS', 7, 1),
    consoleSecureCookies: env.CONSOLE_SECURE_COOKIES === '1',
    oauthAccessTokenSeconds: integer(env, 'OAUTH_ACCESS_TOKEN_SECONDS', 3600, 1),
    oauthRefreshTokenDays: integer(env, 'OAUTH_REFRESH_TOKEN_DAYS', 30, 1),
    restMaxCallsPerSecond: integer(env, 'REST_MAX_CALLS_PER_SECOND', 100, 0),
    httpApiCallsPerSecond: integer(env, 'HTTP_API_CALLS_PER_SECOND', 10, 0),
    httpApiBurst: integer(env, 'HTTP_API_BURST', 60, 1),
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100),
    webhookPollMs: integer(env, 'WEBHOOK_POLL_MS', 1000, 10),
    webhookRetryFirstDelayMs: integer(env, 'WEBHOOK_RETRY_FIRST_DELAY_MS', 5000, 10),
    webhookRetryWindowMs: integer(env, 'WEBHOOK_RETRY_WINDOW_SECONDS', 86_400, 1) * 1000,
  };
}

/** A connection string without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/i, '$1:***@');
}

function smtpUrl(env: NodeJS.ProcessEnv): string | null {
  const raw = env.SMTP_URL ?? '';
  if (raw === '') return null;
  if (!/^smtps?:\/\/[^/\s]+/i.test(raw)) throw new ConfigError('SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465');
  return raw;
}

function emailAddress(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = (env[name] ?? '').trim();
  if (raw === '') return null;
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(raw) && !/^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/.test(raw)) {
    throw new ConfigError(`${name} must be an e-mail address such as lists@example.com or "Lists <lists@example.com>", not "${raw}"`);
  }
  return raw;
}

function publicUrl(env: NodeJS.ProcessEnv): string | null {
  const raw = (env.PUBLIC_URL ?? '').trim();
  if (raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL such as https://lists.example.com, not "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`PUBLIC_URL must use http or https, not "${raw}"`);
  return raw.replace(/\/+$/, '');
}
