/**
 * What the chaos scenarios share: the scenario and result types, the run's sizes, a tracker that
 * removes every process and folder a scenario made, feeds streamed into a SOAP request at a
 * controlled pace (so a server can be killed or stopped while a body is half sent), bounded
 * waits, and the exactness check run against the store after each scenario.
 *
 * The servers are real child processes (test/helpers/child-server.ts); the store is the one
 * TEST_STORE names (test/helpers/test-database.ts): a SQLite file in the scenario's data folder,
 * or a PostgreSQL database made for that folder and dropped when the process ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { esc, post, subscriber, unescape } from '../bench/lib.ts';
import { demoAccount, storeOf, type ChildServer } from '../test/helpers/child-server.ts';
import { callSoap, resultFields, soapEnvelope, type SoapAuth, type SoapParams } from '../test/helpers/service.ts';
import { TEST_STORE, type TestStoreKind } from '../test/helpers/test-database.ts';

export { TEST_STORE, type TestStoreKind };

/** Feed sizes and bounds of a run: `full` for `npm run chaos`, `short` for the test in `npm test`. */
export interface ChaosSizes {
  readonly mode: 'full' | 'short';
  /** Rows of the NewImportProcess body killed while it is sent (scenario upload-kill). */
  readonly uploadRows: number;
  /** Rows of the import killed during its merge (merge-kill, workers). */
  readonly mergeRows: number;
  /** Pending recipients Send Now is killed in the middle of, with SQLite and with PostgreSQL (where it is slower). */
  readonly sendNowRows: number;
  readonly sendNowRowsPostgres: number;
  /** Rows sent at full speed before an upload trickles (shutdown). */
  readonly trickleBurstRows: number;
  /** Rows of each of the two CSV files imported at once with the client CLI, and its batch size. */
  readonly clientRows: number;
  readonly clientBatch: number;
}

export const FULL: ChaosSizes = {
  mode: 'full', uploadRows: 200_000, mergeRows: 150_000, sendNowRows: 20_000, sendNowRowsPostgres: 20_000, trickleBurstRows: 15_000, clientRows: 6_000, clientBatch: 1_000,
};
export const SHORT: ChaosSizes = {
  mode: 'short', uploadRows: 30_000, mergeRows: 25_000, sendNowRows: 6_000, sendNowRowsPostgres: 2_000, trickleBurstRows: 6_000, clientRows: 3_000, clientBatch: 1_000,
};

/** One row of the table. */
export interface ChaosResult {
  readonly scenario: string;
  readonly store: TestStoreKind;
  readonly expected: string;
  readonly happened: string;
  /** Seconds until the work resumed (or was cleaned up), where the scenario measures it. */
  readonly resumeSeconds: number | null;
  /** `exact`, `n/a`, or what does not agree with the feed. */
  readonly exact: string;
  readonly pass: boolean;
  readonly seconds: number;
}

export type ScenarioOutcome = Omit<ChaosResult, 'scenario' | 'store' | 'seconds'>;

export interface ScenarioContext {
  readonly sizes: ChaosSizes;
  readonly store: TestStoreKind;
  readonly tracker: Tracker;
  /** Progress notes (stderr with --verbose). */
  readonly note: (message: string) => void;
}

export interface Scenario {
  /** Unique name, e.g. `merge-kill-early`. */
  readonly name: string;
  /** The scenario kind (one file of chaos/ each); the short run takes the first scenario of each kind. */
  readonly kind: string;
  readonly stores: readonly TestStoreKind[];
  /** Longest the scenario may take before it is stopped and failed (ms), per mode. */
  readonly budgetMs: { readonly full: number; readonly short: number };
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

/** Processes and folders a scenario made; `cleanup` ends the processes (by their own ids) and removes the folders. */
export class Tracker {
  private readonly children: ChildProcess[] = [];
  private readonly dirs: string[] = [];
  /** After cleanup (a scenario stopped over its budget may still be going): whatever it starts is ended at once. */
  private closed = false;

  track<T extends { readonly child: ChildProcess }>(p: T): T {
    this.trackChild(p.child);
    return p;
  }

  trackChild(child: ChildProcess): ChildProcess {
    if (this.closed) {
      // It may have made its data folder again: remove the folders once more when it is gone.
      child.once('exit', () => this.removeDirs());
      child.kill('SIGKILL');
    }
    this.children.push(child);
    return child;
  }

  private removeDirs(): void {
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }

  tmpDir(prefix: string): string {
    if (this.closed) throw new Error('the scenario was stopped');
    const dir = mkdtempSync(join(tmpdir(), `mailup-chaos-${prefix}-`));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    this.closed = true;
    await Promise.all(this.children.map(async (child) => {
      if (!alive(child)) return;
      const exited = once(child, 'exit');
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await within(exited, 5000);
    }));
    this.removeDirs();
  }
}

export const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/** Seconds since `t0` (performance.now()), to one decimal in tables. */
export const since = (t0: number): number => (performance.now() - t0) / 1000;
export const secs = (s: number | null): string => (s === null ? '-' : `${s.toFixed(1)} s`);

/** Polls `probe` every `pollMs` until it gives a value other than null/undefined/false, or `ms` pass (then null). */
export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, ms: number, pollMs = 25): Promise<T | null> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (performance.now() > deadline) return null;
    await sleep(pollMs);
  }
}

/** Resolves to the exit code/signal, or null if the child is still running after `ms`. */
export async function waitExit(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: string | null } | null> {
  if (!alive(child)) return { code: child.exitCode, signal: child.signalCode };
  return within(once(child, 'exit').then(() => ({ code: child.exitCode, signal: child.signalCode })), ms);
}

/** `promise`'s value, or null if it takes longer than `ms` (the timer does not outlive the wait). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<null>((r) => (timer = setTimeout(() => r(null), Math.max(0, ms))))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends SIGKILL and waits for the process to be gone. */
export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!alive(child)) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** A node script of the project as a tracked child process, its output collected. */
export function spawnScript(tracker: Tracker, args: readonly string[], env: Record<string, string>): { child: ChildProcess; output: () => string; stdout: () => string } {
  const child = tracker.trackChild(spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  }));
  let out = '';
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return { child, output: () => out, stdout: () => stdout };
}

/** Where and as whom to call the service: the demo account the first start printed, on whichever server now runs. */
export interface Target {
  readonly url: string;
  readonly endpoint: string;
  readonly auth: SoapAuth;
  readonly list: { readonly id: number; readonly guid: string };
}

/** `server` with the demo account of `first` (a restarted server does not print it again). */
export function target(server: ChildServer, first: ChildServer = server): Target {
  const demo = demoAccount(first);
  return { url: server.url, endpoint: server.endpoint, auth: demo.auth, list: demo.list };
}

// Feeds

/** The address of feed row `i` (bench/lib.ts `subscriber(i)`). */
export const addressOf = (i: number): string => /email="([^"]*)"/.exec(subscriber(i))![1]!;

/** Addresses of rows `from` … `from + rows - 1`. */
export const addresses = (from: number, rows: number): string[] => Array.from({ length: rows }, (_, k) => addressOf(from + k));

export interface UploadPace {
  /** Stop sending after this many feed rows, until `resume()`. */
  readonly pauseAfterRows?: number;
  /** After this many rows, send at most `bytesPerSecond`. */
  readonly trickleAfterRows?: number;
  readonly bytesPerSecond?: number;
}

export interface Upload {
  /** The server's answer (the raw response body), or the error that ended the request. */
  readonly answer: Promise<{ ok: true; body: string } | { ok: false; error: string }>;
  /** Feed rows handed to the request so far. */
  rowsSent(): number;
  /** Whether the body is waiting at `pauseAfterRows`. */
  paused(): boolean;
  resume(): void;
  /** Stops producing the body (the request is left to its fate). */
  stop(): void;
}

/**
 * Streams `operation` with `feedRows` rows of bench/lib.ts `subscriber(i)` (from row `from`) as
 * its `xmlDoc`, escaped as a client sends it, with chunked transfer encoding and the given pace.
 */
export function streamUpload(
  server: Target, operation: 'NewImportProcess' | 'StartImportProcesses', params: SoapParams,
  feed: { from?: number; rows: number }, pace: UploadPace = {},
): Upload {
  const marker = 'XMLDOC-PLACEHOLDER';
  const [head, tail] = soapEnvelope(operation, { ...params, xmlDoc: marker }, server.auth).split(marker) as [string, string];
  const from = feed.from ?? 1;
  let sent = 0;
  let stopped = false;
  let pausedOnce = false;
  let gate: { promise: Promise<void>; open: () => void } | null = null;
  const wait = (): Promise<void> => {
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    gate = { promise, open };
    return promise;
  };
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.from(head + esc('<subscribers>'));
    const STEP = 250;
    for (let i = from; i < from + feed.rows && !stopped; i += STEP) {
      const n = Math.min(STEP, from + feed.rows - i);
      if (!pausedOnce && pace.pauseAfterRows !== undefined && sent >= pace.pauseAfterRows) {
        pausedOnce = true;
        await wait();
      }
      if (stopped) return;
      let text = '';
      for (let k = 0; k < n; k++) text += subscriber(i + k);
      const bytes = Buffer.from(esc(text));
      if (pace.trickleAfterRows !== undefined && sent >= pace.trickleAfterRows) {
        const piece = Math.max(64, Math.floor((pace.bytesPerSecond ?? 4096) / 8));
        for (let o = 0; o < bytes.length && !stopped; o += piece) {
          yield bytes.subarray(o, o + piece);
          await sleep(125);
        }
      } else {
        yield bytes;
      }
      sent += n;
    }
    if (!stopped) yield Buffer.from(esc('</subscribers>') + tail);
  }
  const stream = Readable.from(body(), { objectMode: false });
  const port = Number(new URL(server.url).port);
  const answer = post(port, '/Services/WSMailUpImport.asmx', stream, {
    'content-type': 'text/xml; charset=utf-8', soapaction: `"http://ws.mailupnet.it/${operation}"`,
  }).then((b) => ({ ok: true as const, body: unescape(b) }), (err: Error) => ({ ok: false as const, error: err.message }));
  return {
    answer,
    rowsSent: () => sent,
    paused: () => gate !== null,
    resume: () => {
      const g = gate;
      gate = null;
      g?.open();
    },
    stop: () => {
      stopped = true;
      const g = gate;
      gate = null;
      g?.open();
      stream.destroy();
    },
  };
}

export const IMPORT_FLAGS = {
  importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false,
} as const;

/** StartImportProcesses of rows 1…`rows` into the demo list and its group 1, streamed; resolves to the process id. */
export async function startStreamedImport(server: Target, rows: number, flags: { ConfirmEmail?: boolean } = {}): Promise<number> {
  const { list } = server;
  const upload = streamUpload(server, 'StartImportProcesses', {
    listsIDs: list.id, listsGUIDs: list.guid, groupsIDs: '1', ...IMPORT_FLAGS, ConfirmEmail: flags.ConfirmEmail ?? false,
  }, { rows });
  const answer = await upload.answer;
  const id = answer.ok ? /<processID>(\d+)/.exec(answer.body)?.[1] : undefined;
  if (id === undefined) throw new Error(`StartImportProcesses failed: ${answer.ok ? answer.body.slice(0, 500) : answer.error}`);
  return Number(id);
}

// What the store holds

/** Feeds an interrupted upload may leave: incomplete feeds, feeds no process uses, chunks of neither. */
export async function orphans(dataDir: string): Promise<{ incompleteFeeds: number; unusedFeeds: number; orphanChunks: number; chunks: number }> {
  const db = await storeOf(dataDir);
  const [r] = await db.query<Record<string, number>>(`SELECT
      (SELECT count(*) FROM feed WHERE NOT complete) AS incomplete_feeds,
      (SELECT count(*) FROM feed f WHERE complete AND NOT EXISTS (SELECT 1 FROM import_process p WHERE p.feed_id = f.id)) AS unused_feeds,
      (SELECT count(*) FROM feed_chunk c WHERE NOT EXISTS (SELECT 1 FROM feed f WHERE f.id = c.feed_id AND f.complete)) AS orphan_chunks,
      (SELECT count(*) FROM feed_chunk) AS chunks`);
  return {
    incompleteFeeds: Number(r!.incomplete_feeds), unusedFeeds: Number(r!.unused_feeds), orphanChunks: Number(r!.orphan_chunks), chunks: Number(r!.chunks),
  };
}

export const describeOrphans = (o: Awaited<ReturnType<typeof orphans>>): string =>
  `${o.incompleteFeeds} incomplete feed(s), ${o.orphanChunks} orphaned chunk(s), ${o.unusedFeeds} unused feed(s)`;

export interface ListExpectation {
  readonly listId: number;
  /** Exactly the addresses the list's feeds carried, each once. */
  readonly addresses: readonly string[];
  /** Groups every address must be a member of. */
  readonly groups?: readonly number[];
}

const COUNTERS = [
  ['TotalContacts', 'total_contacts'], ['NewEmail', 'new_email'], ['NewMobile', 'new_mobile'], ['ExistingEmail', 'existing_email'],
  ['ExistingMobile', 'existing_mobile'], ['OptOutEmail', 'optout_email'], ['OptOutMobile', 'optout_mobile'],
] as const;

/**
 * The exactness check against the feeds (a fresh store, imports with importType 3 of distinct
 * rows, every row with an address and a mobile number):
 * - the recipients are exactly the distinct addresses of the feeds, none twice;
 * - each list holds exactly its addresses, on e-mail and SMS, and they are in its groups;
 * - every process finished, and its counters in GetProcessDetails equal the stored ones; per
 *   list they add up to its rows (new + existing = subscriptions, nothing rejected);
 * - no incomplete feed, no feed without a process, no chunk without a complete feed.
 * Answers `exact`, or what is wrong. Without a server (none running) the store must hold no process.
 */
export async function checkExact(server: Target | null, dataDir: string, lists: readonly ListExpectation[]): Promise<string> {
  const db = await storeOf(dataDir);
  const wrong: string[] = [];
  const sameSet = (what: string, got: readonly string[], want: ReadonlySet<string>): void => {
    const gotSet = new Set(got);
    const missing = [...want].filter((a) => !gotSet.has(a)).length;
    const extra = [...gotSet].filter((a) => !want.has(a)).length;
    if (missing || extra || got.length !== want.size) wrong.push(`${what}: ${got.length} for ${want.size} (${missing} missing, ${extra} extra)`);
  };
  const everyAddress = new Set(lists.flatMap((l) => l.addresses));
  sameSet('recipients', (await db.query<{ email: string }>('SELECT email FROM recipient')).map((r) => r.email), everyAddress);
  const [dup] = await db.query<{ n: number }>(
    'SELECT count(*) AS n FROM (SELECT email FROM recipient WHERE email IS NOT NULL GROUP BY account_id, email HAVING count(*) > 1) d');
  if (Number(dup!.n) > 0) wrong.push(`${dup!.n} duplicate recipient(s)`);

  type ProcessRow = Record<(typeof COUNTERS)[number][1] | 'id' | 'list_id' | 'status' | 'rejected', number> & { guid: string };
  const processes = await db.query<ProcessRow>(`SELECT p.id, p.list_id, p.status, p.rejected, l.guid,
    ${COUNTERS.map(([, c]) => `p.${c}`).join(', ')} FROM import_process p JOIN list l ON l.id = p.list_id ORDER BY p.id`);
  for (const list of lists) {
    const want = new Set(list.addresses);
    const subs = await db.query<{ email: string; channel: string }>(`SELECT r.email, s.channel FROM subscription_channel s
      JOIN recipient r ON r.id = s.recipient_id WHERE s.list_id = ?`, [list.listId]);
    sameSet(`list ${list.listId} e-mail subscriptions`, subs.filter((s) => s.channel === 'email').map((s) => s.email), want);
    sameSet(`list ${list.listId} SMS subscriptions`, subs.filter((s) => s.channel === 'sms').map((s) => s.email), want);
    for (const group of list.groups ?? []) {
      sameSet(`group ${group} members`, (await db.query<{ email: string }>(
        'SELECT r.email FROM membership m JOIN recipient r ON r.id = m.recipient_id WHERE m.group_id = ?', [group])).map((r) => r.email), want);
    }
    const own = processes.filter((p) => Number(p.list_id) === list.listId);
    const sum = (c: keyof ProcessRow): number => own.reduce((n, p) => n + Number(p[c]), 0);
    if (sum('total_contacts') !== want.size) wrong.push(`list ${list.listId}: TotalContacts add up to ${sum('total_contacts')}, not ${want.size}`);
    if (sum('new_email') + sum('existing_email') !== want.size) wrong.push(`list ${list.listId}: NewEmail + ExistingEmail = ${sum('new_email') + sum('existing_email')}, not ${want.size}`);
    if (sum('new_mobile') + sum('existing_mobile') !== want.size) wrong.push(`list ${list.listId}: NewMobile + ExistingMobile = ${sum('new_mobile') + sum('existing_mobile')}, not ${want.size}`);
    if (sum('rejected') !== 0) wrong.push(`list ${list.listId}: ${sum('rejected')} rejected`);
  }
  const newEmail = processes.reduce((n, p) => n + Number(p.new_email), 0);
  if (newEmail !== everyAddress.size) wrong.push(`NewEmail adds up to ${newEmail}, not the ${everyAddress.size} new addresses`);
  for (const p of processes) {
    if (Number(p.status) !== 3) wrong.push(`process ${p.id} has status ${p.status}`);
    if (server === null) {
      wrong.push(`process ${p.id}: no server to ask GetProcessDetails`);
      continue;
    }
    const reply = await callSoap(server.endpoint, 'GetProcessDetails', { idList: p.list_id, listGUID: p.guid, idProcess: p.id }, server.auth);
    if (reply.returnCode !== 0 || reply.result === null) {
      wrong.push(`GetProcessDetails ${p.id}: ReturnCode ${reply.returnCode}`);
      continue;
    }
    const fields = resultFields(reply.result);
    const differ = COUNTERS.filter(([f, c]) => Number(fields[f]) !== Number(p[c])).map(([f, c]) => `${f} ${fields[f]} vs ${p[c]} stored`);
    if (differ.length > 0) wrong.push(`process ${p.id}: ${differ.join(', ')}`);
  }
  const o = await orphans(dataDir);
  if (o.incompleteFeeds || o.orphanChunks || o.unusedFeeds) wrong.push(describeOrphans(o));
  return wrong.length === 0 ? 'exact' : wrong.join('; ');
}

/** GetProcessDetails of a demo-list process as a field map. */
export async function processDetails(server: Target, id: number): Promise<Record<string, string>> {
  const reply = await callSoap(server.endpoint, 'GetProcessDetails', { idList: server.list.id, listGUID: server.list.guid, idProcess: id }, server.auth);
  return reply.result === null ? {} : resultFields(reply.result);
}
