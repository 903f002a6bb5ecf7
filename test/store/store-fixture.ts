/**
 * Stores for the store contract tests: the adapter TEST_STORE names, opened through openStore
 * exactly as the service opens it, on a fresh database. `open` can be called again for a second
 * handle on the same database, which is what a second process (or host) is.
 *
 * Contract coverage: the stores handed out here record every `concept.method` a test calls (each
 * concept member is wrapped in a Proxy), and `contractCoverage(concept)` makes the test file fail,
 * after its tests, naming every method of the concept's interface that none of them called. The
 * methods are read from the interface's source (src/store/store.ts names the interface of each
 * concept and where it is declared), so a method added to an interface without a contract test
 * fails the suite. The helpers below work on the unwrapped store: a method counts only when a
 * test file calls it itself.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { loadConfig, type Config } from '../../src/config.ts';
import { emailKey, mobileKey, type BatchPlan, type PriorRecipient, type RecipientWrite, type RejectedRow } from '../../src/model/batch.ts';
import { zeroCounters, type Counters, type Feed, type FeedRow, type ImportOptions, type ImportProcess } from '../../src/model/records.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Lease } from '../../src/store/processes.ts';
import { STORE_CONCEPTS, type Store, type StoreConcept } from '../../src/store/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

export interface StoreFixture {
  readonly db: TestDatabase;
  /** The configuration the handles are opened with. */
  readonly config: Config;
  /** The first handle on the database. */
  readonly store: Store;
  /** Another handle on the same database, closed with the fixture (closing it earlier is fine). */
  open(): Promise<Store>;
  close(): Promise<void>;
}

export async function storeFixture(): Promise<StoreFixture> {
  const db = await createTestDatabase();
  const config = loadConfig({ ...db.env, LOG_LEVEL: 'silent', DATABASE_POOL_SIZE: '4' });
  const handles: Store[] = [];
  const open = async (): Promise<Store> => {
    const store = recordingStore(await openStore(config));
    handles.push(store);
    return store;
  };
  let store: Store;
  try {
    store = await open();
  } catch (err) {
    await db.drop();
    throw err;
  }
  return {
    db, config, store, open,
    async close() {
      for (const s of handles) await s.close();
      await db.drop();
    },
  };
}

// Recording the calls

/** `concept.method` of every call made through a recording store in this process (one test file). */
const called = new Set<string>();
const RAW = Symbol('the unwrapped store');

/** The part with each method call recorded as `concept.method`. */
function recordingPart<T extends object>(concept: StoreConcept, part: T): T {
  const wrappers = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy(part, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      // A frozen own property must be given back as it is (a Proxy invariant); it is then not recorded.
      const own = Reflect.getOwnPropertyDescriptor(target, prop);
      if (own && !own.configurable && !own.writable) return value;
      let wrapper = wrappers.get(prop);
      if (wrapper === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        wrapper = (...args: unknown[]) => {
          called.add(`${concept}.${prop}`);
          return method.apply(target, args);
        };
        wrappers.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}

/** `store` with its concept members recorded; `close` may be called more than once. */
export function recordingStore(store: Store): Store {
  const parts = Object.fromEntries(STORE_CONCEPTS.map((c) => [c, recordingPart(c, store[c])])) as Pick<Store, StoreConcept>;
  let closed: Promise<void> | null = null;
  return {
    kind: store.kind,
    ...parts,
    ping: () => store.ping(),
    close: () => (closed ??= store.close()),
    [RAW]: store,
  } as Store;
}

/** The store behind a recording one (calls on it are not recorded). */
export function unwrap(store: Store): Store {
  return (store as Store & { [RAW]?: Store })[RAW] ?? store;
}

// The methods of each concept's interface, from its source

const STORE_DIR = new URL('../../src/store/', import.meta.url);

function parse(url: URL): ts.SourceFile {
  return ts.createSourceFile(fileURLToPath(url), readFileSync(url, 'utf8'), ts.ScriptTarget.Latest, true);
}

function findInterface(file: ts.SourceFile, name: string): ts.InterfaceDeclaration | undefined {
  return file.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
}

const memberName = (m: ts.TypeElement): string | null =>
  m.name !== undefined && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) ? m.name.text : null;

/** The interface `Store[concept]` has in src/store/store.ts, and the file it is imported from. */
export function conceptInterface(concept: StoreConcept): { name: string; url: URL } {
  const storeUrl = new URL('store.ts', STORE_DIR);
  const source = parse(storeUrl);
  const store = findInterface(source, 'Store');
  if (store === undefined) throw new Error('src/store/store.ts declares no interface Store');
  const member = store.members.find((m) => memberName(m) === concept);
  if (member === undefined || !ts.isPropertySignature(member) || member.type === undefined
    || !ts.isTypeReferenceNode(member.type) || !ts.isIdentifier(member.type.typeName)) {
    throw new Error(`Store.${concept} in src/store/store.ts is not a member typed by an interface name`);
  }
  const name = member.type.typeName.text;
  for (const s of source.statements) {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier)) continue;
    const bindings = s.importClause?.namedBindings;
    if (bindings === undefined || !ts.isNamedImports(bindings)) continue;
    const element = bindings.elements.find((e) => e.name.text === name);
    if (element !== undefined) return { name: element.propertyName?.text ?? name, url: new URL(s.moduleSpecifier.text, storeUrl) };
  }
  if (findInterface(source, name) !== undefined) return { name, url: storeUrl };
  throw new Error(`cannot find where ${name} (Store.${concept}) is declared`);
}

/** The method names of the concept's interface (methods and function-typed properties, with those of interfaces it extends in its file). */
export function interfaceMethods(concept: StoreConcept): { interfaceName: string; file: string; methods: string[] } {
  const { name, url } = conceptInterface(concept);
  const source = parse(url);
  const methods = new Set<string>();
  const collect = (interfaceName: string): void => {
    const declaration = findInterface(source, interfaceName);
    if (declaration === undefined) throw new Error(`${fileURLToPath(url)} declares no interface ${interfaceName}`);
    for (const m of declaration.members) {
      const isMethod = ts.isMethodSignature(m) || (ts.isPropertySignature(m) && m.type !== undefined && ts.isFunctionTypeNode(m.type));
      const n = memberName(m);
      if (isMethod && n !== null) methods.add(n);
    }
    for (const clause of declaration.heritageClauses ?? []) {
      for (const t of clause.types) {
        if (!ts.isIdentifier(t.expression)) throw new Error(`${interfaceName} extends ${t.expression.getText()}: the coverage check cannot follow it`);
        collect(t.expression.text);
      }
    }
  };
  collect(name);
  return { interfaceName: name, file: fileURLToPath(url).replace(fileURLToPath(new URL('../../', import.meta.url)), ''), methods: [...methods] };
}

/**
 * Fails the test file, after all its tests, when a method of the concept's interface was called
 * by none of them; the failure names each such method.
 */
/**
 * A contract test file's fixture: a store opened before its tests and closed after them, and the
 * coverage check of `concept`. Read `store` and `fx` inside tests (they are set once `before` ran).
 */
export function contractSuite(concept: StoreConcept): { readonly store: Store; readonly fx: StoreFixture } {
  const suite = {} as { store: Store; fx: StoreFixture };
  before(async () => {
    suite.fx = await storeFixture();
    suite.store = suite.fx.store;
  });
  after(() => suite.fx?.close());
  contractCoverage(concept);
  return suite;
}

export function contractCoverage(concept: StoreConcept): void {
  after(() => {
    const { interfaceName, file, methods } = interfaceMethods(concept);
    assert.ok(methods.length > 0, `no methods found in ${interfaceName} (${file}): the coverage check is broken`);
    const missing = methods.filter((m) => !called.has(`${concept}.${m}`));
    if (missing.length > 0) {
      throw new Error(`${missing.length} of the ${methods.length} methods of ${interfaceName} (${file}) are called by no contract test in this file: `
        + missing.map((m) => `${concept}.${m}`).join(', '));
    }
  });
}

// Data for the tests (through the unwrapped store: these calls do not count as contract tests)

export const defaultOptions = (overrides: Partial<ImportOptions> = {}): ImportOptions => ({
  groupIds: [], importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false,
  forceOptIn: false, replaceGroups: false, idConfirmNL: 0, ...overrides,
});

export function feedRow(row: number, email: string, extra: Partial<Omit<FeedRow, 'row' | 'email'>> = {}): FeedRow {
  return { row, email, prefix: '', number: '', name: '', fields: {}, ...extra };
}

/** Stores the rows as a feed, in chunks of `chunkRows`. */
export async function storeFeed(store: Store, accountId: number, rows: readonly FeedRow[], chunkRows = 1000): Promise<Feed> {
  const writer = unwrap(store).feeds.openFeedWriter(accountId);
  for (let i = 0; i < rows.length; i += chunkRows) await writer.append(rows.slice(i, i + chunkRows));
  return writer.complete();
}

/** An account with one list and two groups. */
export async function accountWithList(store: Store, name = 'Acme'): Promise<{ accountId: number; listId: number; groupIds: number[] }> {
  const raw = unwrap(store);
  const account = await raw.accounts.createAccount({ passwordHash: 'hash', name });
  const list = await raw.lists.createList(account.id, `${name} list`);
  const groupIds = [(await raw.lists.createGroup(list.id, 'One')).group.id, (await raw.lists.createGroup(list.id, 'Two')).group.id];
  return { accountId: account.id, listId: list.id, groupIds };
}

/** A name no other test of the run uses. */
export const unique = (prefix: string): string => `${prefix} ${Math.random().toString(36).slice(2, 8)}`;

/** Waits until `attempt` gives a value (leases expire by the clock, so tests poll rather than sleep a guess). */
export async function eventually<T>(attempt: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Claims the given process for `owner`. Claims take the oldest claimable process, so others
 * (left running by earlier tests) are held until ours comes, then given back.
 */
export async function claim(store: Store, processId: number, owner: string, leaseMs = 60_000): Promise<Lease> {
  const raw = unwrap(store);
  const others: Lease[] = [];
  try {
    return await eventually(async () => {
      const l = await raw.processes.claimProcess(owner, leaseMs);
      if (l && l.process.id !== processId) {
        others.push(l);
        return null;
      }
      return l;
    });
  } finally {
    for (const l of others) await raw.processes.releaseLease(l);
  }
}

export interface RunningProcess {
  readonly accountId: number;
  readonly listId: number;
  readonly groupIds: number[];
  readonly feed: Feed;
  readonly process: ImportProcess;
  readonly lease: Lease;
}

/** A fresh account's started process with its lease, on a feed of `rows` rows. */
export async function runningProcess(store: Store, rows = 3, overrides: Partial<ImportOptions> = {}): Promise<RunningProcess> {
  const a = await accountWithList(store, unique('Acct'));
  return startedProcess(store, a, rows, overrides);
}

/** A started process with its lease on the account's list (the account must have no running import). */
export async function startedProcess(
  store: Store, a: { accountId: number; listId: number; groupIds: number[] }, rows = 3, overrides: Partial<ImportOptions> = {},
): Promise<RunningProcess> {
  const raw = unwrap(store);
  const feed = await storeFeed(raw, a.accountId, Array.from({ length: rows }, (_, i) => feedRow(i + 1, `r${i}@x.it`)));
  const created = await raw.processes.createProcesses(a.accountId, feed, [{ listId: a.listId, options: defaultOptions({ groupIds: a.groupIds, ...overrides }) }], { start: true });
  assert.ok(created.ok, JSON.stringify(created));
  const lease = await claim(raw, created.processes[0]!.id, `owner-${created.processes[0]!.id}`);
  return { ...a, feed, process: created.processes[0]!, lease };
}

/** A plan that writes nothing. */
export const noWrites = (): BatchPlan => ({ recipients: [], rejects: [], counters: zeroCounters() });

export interface NewRecipient {
  readonly email?: string | null;
  readonly mobile?: string | null;
  readonly name?: string | null;
  readonly fields?: Readonly<Record<number, string>>;
  /** E-mail subscription status on the process's list (none when absent). */
  readonly emailStatus?: 'subscribed' | 'pending' | 'unsubscribed';
  readonly smsStatus?: 'subscribed' | 'pending' | 'unsubscribed';
  /** Queue a confirmation request (with a pending e-mail subscription). */
  readonly confirm?: boolean;
  readonly joinGroups?: boolean;
}

/**
 * Merges one batch that writes these recipients (existing ones, found by e-mail or mobile, are
 * updated) and these rejects, through the unwrapped store; moves the checkpoint to `lastRow`.
 */
export async function mergeRecipients(
  store: Store, lease: Lease, recipients: readonly NewRecipient[], options: { lastRow?: number; rejects?: readonly RejectedRow[]; counters?: Partial<Counters> } = {},
): Promise<ImportProcess> {
  const emails = recipients.flatMap((r) => (r.email ? [r.email] : []));
  const mobiles = recipients.flatMap((r) => (!r.email && r.mobile ? [r.mobile] : []));
  return unwrap(store).merge.mergeBatch(lease, { emails, mobiles }, options.lastRow ?? lease.process.checkpoint + recipients.length,
    (prior: ReadonlyMap<string, PriorRecipient>): BatchPlan => ({
      recipients: recipients.map((r): RecipientWrite => {
        const known = r.email ? prior.get(emailKey(r.email)) : r.mobile ? prior.get(mobileKey(r.mobile)) : undefined;
        return {
          id: known?.id ?? null, email: r.email ?? null, mobile: r.mobile ?? null, name: r.name ?? null, fields: r.fields ?? {},
          joinGroups: r.joinGroups ?? true,
          subscriptions: [
            ...(r.emailStatus ? [{ channel: 'email' as const, status: r.emailStatus, reason: r.emailStatus === 'unsubscribed' ? 'import' as const : null, requestConfirmation: r.confirm ?? false }] : []),
            ...(r.smsStatus ? [{ channel: 'sms' as const, status: r.smsStatus, reason: r.smsStatus === 'unsubscribed' ? 'import' as const : null, requestConfirmation: false }] : []),
          ],
        };
      }),
      rejects: options.rejects ?? [],
      counters: { ...zeroCounters(), ...options.counters },
    }));
}

/** The recipient's id, read with SQL both engines accept. */
export async function recipientId(db: TestDatabase, accountId: number, email: string): Promise<number> {
  const rows = await db.query<{ id: number }>('SELECT id FROM recipient WHERE account_id = ? AND email = ?', [accountId, email]);
  assert.equal(rows.length, 1, `recipient ${email} of account ${accountId}`);
  return Number(rows[0]!.id);
}
