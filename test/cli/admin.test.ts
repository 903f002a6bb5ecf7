/**
 * The admin CLI against the store TEST_STORE names (npm test runs it on both: a SQLite file, or a
 * PostgreSQL database whose DATABASE_URL the CLI gets through its environment). Every command runs at least once as operators run it,
 * a child process whose stdout, stderr and exit code are checked; the finer rules (every bad
 * argument, duplicates, canonical addresses) run through `runAdmin` in this process, the same
 * code without a process start each (tsx costs about a second per start on a busy machine).
 * Against a running service, what the CLI changes is what SOAP callers see: grants at once,
 * revocations within LOOKUP_CACHE_MS (the running service reuses account rows that long).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runAdmin } from '../../src/cli/admin.ts';
import { loadConfig } from '../../src/config.ts';
import { verifyPassword } from '../../src/core/passwords.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { runAdminProcess, type ProcessRun as Run } from '../helpers/admin-process.ts';
import { callSoap, startTestService, type TestService } from '../helpers/service.ts';
import { createTestDatabase, TEST_STORE, type TestDatabase } from '../helpers/test-database.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Line {
  readonly args: readonly string[];
  readonly input?: string;
}

/** The environment that points the CLI at a store: DATA_DIR, and DATABASE_URL for PostgreSQL. */
type StoreEnv = Readonly<Record<string, string>>;

/** Admin command lines as child processes, a few at a time, answers in the order given. */
async function adminProcesses(storeEnv: StoreEnv, lines: readonly Line[], parallel = 4): Promise<Run[]> {
  const results: Run[] = new Array(lines.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lines.length) {
      const i = next++;
      results[i] = await runAdminProcess(lines[i]!.args, { ...storeEnv }, { input: lines[i]!.input });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, lines.length) }, worker));
  return results;
}

/** One admin command line in this process, with its output captured. */
async function admin(storeEnv: StoreEnv, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runAdmin(args, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: options.env ?? { ...storeEnv },
    readStdin: async () => options.input ?? '',
  });
  return { code, stdout, stderr };
}

/**
 * Calls `code` until it answers `refused`: a revocation made by another process must show within
 * the service's LOOKUP_CACHE_MS (plus the time one call takes on a loaded machine), never later.
 */
async function refusedWithinCacheTime(cacheMs: number, code: () => Promise<number | null>, refused: number): Promise<void> {
  const deadline = performance.now() + cacheMs + 2000;
  let last = await code();
  while (last !== refused && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await code();
  }
  assert.equal(last, refused);
}

function expectOk(r: Run, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

function json<T = Record<string, unknown>>(r: Run, what: string): T {
  expectOk(r, what);
  return JSON.parse(r.stdout) as T;
}

const GENERATED = /^[A-Za-z0-9]{16}$/;

/** The store of a test database, opened as the server and the CLI open it. */
function openTestStore(db: TestDatabase): Promise<Store> {
  return openStore(loadConfig({ ...db.env, LOG_LEVEL: 'silent' }));
}

/**
 * A fresh test database as a server leaves it once started: made, with its schema (the CLI works
 * only on a store that exists, unless given --create).
 */
async function serverDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  await (await openTestStore(db)).close();
  return db;
}
const STACK_FRAME = /\n\s+at /;

describe('admin CLI as a process', () => {
  let db: TestDatabase;
  before(async () => {
    db = await serverDatabase();
  });
  after(() => db?.drop());

  test('every command, with its output, --json and its exit code', async () => {
    const [created] = await adminProcesses(db.env, [{ args: ['account', 'create', '--name', 'Acme', '--json'] }]);
    const acme = json(created!, 'account create --json');
    assert.equal(acme.wsUser, 'a1001');
    assert.equal(acme.id, 1001);
    assert.equal(acme.enabled, true);
    assert.match(String(acme.password), GENERATED, 'the generated password is printed once');

    // A second account, made in this process (the human output of account create is checked here).
    const given = await admin(db.env, ['account', 'create', '--id', '2000', '--name', 'Second', '--password', 'Given-Pass-1']);

    const [list, password, allow, ipCheck, consoleUser, unknown, badIp, unknownCommand] = await adminProcesses(db.env, [
      { args: ['list', 'create', 'a1001', 'Newsletter', '--json'] },
      { args: ['account', 'password', 'a1001', '--password-stdin'], input: 'Stdin-Pass-1\n' },
      { args: ['account', 'allow-ip', 'a1001', 'add', '192.0.2.1', '2001:DB8::0:1', '--json'] },
      { args: ['account', 'ip-check', 'a1001', 'on'] },
      { args: ['console-user', 'create', 'a1001', 'admin', '--json'] },
      { args: ['account', 'disable', 'a9999'] },
      { args: ['account', 'allow-ip', 'a1001', 'add', '192.0.2.300'] },
      { args: ['acount', 'list'] },
    ]);
    const newsletter = json<{ id: number; guid: string; name: string }>(list!, 'list create --json');
    assert.match(newsletter.guid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expectOk(given, 'account create --id --password');
    assert.match(given.stdout, /^Account created\.\n {2}WS user: +a2000\n {2}id: +2000\n {2}name: +Second\n {2}password: +\(as given\)\n$/);
    assert.doesNotMatch(given.stdout + given.stderr, /Given-Pass-1/, 'a given password is never echoed');
    expectOk(password!, 'account password --password-stdin');
    assert.equal(password!.stdout, 'Password of a1001 changed.\n');
    // ip-check ran at the same time, so only the allow-list part of the answer is certain.
    assert.deepEqual(json(allow!, 'allow-ip add --json').allowedIps, ['192.0.2.1', '2001:db8::1']);
    expectOk(ipCheck!, 'ip-check on');
    assert.match(ipCheck!.stdout, /^a1001: IP check on; allowed IPs: /);
    const admin1 = json<{ id: number; username: string; listIds: null; password: string }>(consoleUser!, 'console-user create --json');
    assert.deepEqual([admin1.username, admin1.listIds], ['admin', null]);
    assert.match(admin1.password, GENERATED);
    for (const [r, code, message] of [
      [unknown!, 1, /^error: account a9999 does not exist\n$/],
      [badIp!, 2, /^error: "192\.0\.2\.300" is not an IPv4 or IPv6 address\n/],
      [unknownCommand!, 2, /^error: unknown command 'acount'/],
    ] as const) {
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stderr, STACK_FRAME);
    }

    const [group, rename, disable, enable] = await adminProcesses(db.env, [
      { args: ['group', 'create', 'a1001', String(newsletter.id), ' Customers ', '--json'] },
      { args: ['list', 'rename', 'a1001', String(newsletter.id), 'Weekly'] },
      { args: ['account', 'disable', 'a2000'] },
      { args: ['account', 'enable', 'a1001'] },
    ]);
    const customers = json<{ id: number; name: string; created: boolean }>(group!, 'group create --json');
    assert.deepEqual([customers.name, customers.created], ['Customers', true]);
    expectOk(rename!, 'list rename');
    assert.equal(rename!.stdout, `List ${newsletter.id} renamed from "Newsletter" to "Weekly".\n`);
    expectOk(disable!, 'account disable');
    assert.equal(disable!.stdout, 'a2000 is now disabled.\n');
    expectOk(enable!, 'account enable');
    assert.equal(enable!.stdout, 'a1001 was already enabled.\n');

    const [accounts, lists] = await adminProcesses(db.env, [{ args: ['account', 'list'] }, { args: ['list', 'ls', 'a1001'] }]);
    // The JSON listings, from this process (the process plumbing is the same as above).
    const [accountsJson, listsJson] = [await admin(db.env, ['--json', 'account', 'list']), await admin(db.env, ['list', 'ls', 'a1001', '--json'])];
    expectOk(accounts!, 'account list');
    assert.equal(accounts!.stdout, [
      'WS user  name    enabled  IP check  allowed IPs',
      'a1001    Acme    yes      on        192.0.2.1, 2001:db8::1',
      'a2000    Second  no       off       -',
      '',
    ].join('\n'));
    assert.deepEqual(
      json<{ wsUser: string; enabled: boolean; ipCheck: boolean }[]>(accountsJson!, 'account list --json').map((a) => [a.wsUser, a.enabled, a.ipCheck]),
      [['a1001', true, true], ['a2000', false, false]],
    );
    expectOk(lists!, 'list ls');
    assert.equal(lists!.stdout, [
      `idList  listGUID${' '.repeat(28)}  name    country  groups (id name)`,
      `${String(newsletter.id).padEnd(6)}  ${newsletter.guid}  Weekly  -        ${customers.id} Customers`,
      '',
    ].join('\n'));
    assert.deepEqual(json(listsJson!, 'list ls --json'), [
      { id: newsletter.id, guid: newsletter.guid, name: 'Weekly', country: null, groups: [{ id: customers.id, name: 'Customers' }] },
    ]);

    // The stored hashes are those of the passwords the CLI was given or generated.
    const store = await openTestStore(db);
    try {
      assert.equal(await verifyPassword('Stdin-Pass-1', (await store.accounts.findAccountByWsUser('a1001'))!.passwordHash), true);
      assert.equal(await verifyPassword('Given-Pass-1', (await store.accounts.findAccountByWsUser('a2000'))!.passwordHash), true);
      assert.equal(await verifyPassword(admin1.password, (await store.accounts.findConsoleUser(1001, 'admin'))!.passwordHash), true);
      assert.equal(await store.confirmations.confirmationMessageExists(1001, 1), true, 'account create adds the default confirmation message');
    } finally {
      await store.close();
    }
  });
});

describe('admin CLI rules', () => {
  let db: TestDatabase;
  before(async () => {
    db = await serverDatabase();
  });
  after(() => db?.drop());

  test('accounts: ids, passwords, enable and disable', async () => {
    expectOk(await admin(db.env, ['account', 'create', '--id', '3000', '--password', 'x']), 'account create --id');
    const again = await admin(db.env, ['account', 'create', '--id', '3000']);
    assert.deepEqual([again.code, again.stdout, again.stderr], [1, '', 'error: account a3000 already exists\n']);
    const next = json(await admin(db.env, ['account', 'create', '--json']), 'account create');
    assert.equal(next.wsUser, 'a3001', 'the next free number');
    assert.equal(next.name, '');

    const generated = await admin(db.env, ['account', 'password', 'A3000']);
    expectOk(generated, 'account password (any case)');
    assert.match(generated.stdout, /^Password of a3000 changed\.\n {2}new password: {2}[A-Za-z0-9]{16} {3}\(generated; shown only this once\)\n$/);

    expectOk(await admin(db.env, ['account', 'disable', 'a3000']), 'disable');
    assert.equal((await admin(db.env, ['account', 'disable', 'a3000'])).stdout, 'a3000 was already disabled.\n');
    assert.deepEqual(json(await admin(db.env, ['account', 'enable', 'a3000', '--json']), 'enable'), { wsUser: 'a3000', enabled: true });
  });

  test('IP allow-list: canonical addresses, notes and warnings; an invalid address changes nothing', async () => {
    expectOk(await admin(db.env, ['account', 'create', '--id', '4000', '--password', 'x']), 'account create');
    const on = await admin(db.env, ['account', 'ip-check', 'a4000', 'on']);
    assert.equal(on.stdout, 'a4000: IP check on; allowed IPs: (none)\n');
    assert.match(on.stderr, /^warning: the allow-list of a4000 is empty, so every call is refused/);

    const added = await admin(db.env, ['account', 'allow-ip', 'a4000', 'add', ' 192.0.2.10', '2001:DB8:0:0:0:0:0:1', '::ffff:198.51.100.7', '::1']);
    assert.equal(added.stdout, 'a4000: IP check on; allowed IPs:\n  192.0.2.10\n  2001:db8::1\n  198.51.100.7\n  ::1\n');
    const invalid = await admin(db.env, ['account', 'allow-ip', 'a4000', 'add', '192.0.2.11', '10.0.0.0/8']);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /^error: "10\.0\.0\.0\/8" is not an IPv4 or IPv6 address \(address ranges are not supported; list each address\)\n/);
    const again = await admin(db.env, ['account', 'allow-ip', 'a4000', 'add', '192.0.2.10']);
    assert.match(again.stderr, /^already allowed: 192\.0\.2\.10$/m);
    const removed = await admin(db.env, ['account', 'allow-ip', 'a4000', 'remove', '2001:db8::0:1', '203.0.113.9', '--json']);
    assert.match(removed.stderr, /^not on the allow-list: 203\.0\.113\.9$/m);
    assert.deepEqual(json(removed, 'allow-ip remove'), { wsUser: 'a4000', ipCheck: true, allowedIps: ['192.0.2.10', '198.51.100.7', '::1'] });

    const emptied = await admin(db.env, ['account', 'allow-ip', 'a4000', 'remove', '192.0.2.10', '198.51.100.7', '::1']);
    assert.match(emptied.stderr, /warning: the allow-list of a4000 is now empty and its IP check is on/);
    expectOk(await admin(db.env, ['account', 'ip-check', 'a4000', 'off']), 'ip-check off');
    const whileOff = await admin(db.env, ['account', 'allow-ip', 'a4000', 'add', '192.0.2.20']);
    assert.match(whileOff.stderr, /the IP check of a4000 is off, so the allow-list is not enforced/);
    assert.equal((await admin(db.env, ['account', 'allow-ip', 'a4000', 'list'])).stdout, 'a4000: IP check off; allowed IPs:\n  192.0.2.20\n');
  });

  test('lists, groups and console users: GUIDs, CreateGroup naming rules, duplicates', async () => {
    expectOk(await admin(db.env, ['account', 'create', '--id', '5000', '--password', 'x']), 'account create');
    expectOk(await admin(db.env, ['account', 'create', '--id', '5001', '--password', 'x']), 'account create');
    const guid = '0B6E7C1A-3F52-4C1E-9D7A-5A8F2E6C4B10';
    const news = json<{ id: number; guid: string }>(await admin(db.env, ['list', 'create', 'a5000', 'News', '--guid', guid, '--json']), 'list create');
    assert.equal(news.guid, guid.toLowerCase());
    const taken = await admin(db.env, ['list', 'create', 'a5001', 'Copy', '--guid', guid]);
    assert.deepEqual([taken.code, taken.stderr], [1, `error: a list with GUID ${guid.toLowerCase()} already exists\n`], 'GUIDs are unique across accounts');
    const other = await admin(db.env, ['list', 'create', 'a5001', 'Other', '--json']);
    const otherList = json<{ id: number }>(other, 'list create');
    const notMine = await admin(db.env, ['group', 'create', 'a5000', String(otherList.id), 'X']);
    assert.deepEqual([notMine.code, notMine.stderr], [1, `error: list ${otherList.id} does not exist in account a5000\n`], "another account's list");

    const g = json<{ id: number; name: string; created: boolean }>(await admin(db.env, ['group', 'create', 'a5000', String(news.id), '  Customers  ', '--json']), 'group create');
    assert.deepEqual([g.name, g.created], ['Customers', true]);
    const duplicate = await admin(db.env, ['group', 'create', 'a5000', String(news.id), 'CUSTOMERS']);
    assert.equal(duplicate.stdout, `Group "Customers" already exists in list ${news.id} with id ${g.id}; nothing was created.\n`);
    const long = await admin(db.env, ['group', 'create', 'a5000', String(news.id), `${'G'.repeat(50)}tail`, '--json']);
    assert.equal(json<{ name: string }>(long, 'group create (long)').name, 'G'.repeat(50));
    assert.match(long.stderr, /^warning: the name was cut to 50 characters/);

    const editor = json<{ id: number; listIds: number[] }>(
      await admin(db.env, ['console-user', 'create', 'a5000', 'editor', '--lists', `${news.id}, ${news.id}`, '--password', 'Ed-1', '--json']), 'console-user create');
    assert.deepEqual(editor.listIds, [news.id]);
    assert.equal('password' in editor, false, 'a given password is not printed');
    const sameName = await admin(db.env, ['console-user', 'create', 'a5000', 'editor']);
    assert.deepEqual([sameName.code, sameName.stderr], [1, 'error: console user "editor" already exists in account a5000\n']);
    const human = await admin(db.env, ['console-user', 'create', 'a5001', 'editor', '--password', 'Ed-2']);
    assert.match(human.stdout, /^Console user created\.\n {2}account: +a5001\n {2}username: +editor\n {2}id: +\d+ +\(the IdUser of GetIdUser\)\n {2}lists: +all\n {2}password: +\(as given\)\n$/);

    const empty = await admin(db.env, ['list', 'ls', 'a5001']);
    assert.match(empty.stdout, /^idList/);
    expectOk(await admin(db.env, ['account', 'create', '--id', '5002', '--password', 'x']), 'account create');
    assert.equal((await admin(db.env, ['list', 'ls', 'a5002'])).stdout, 'Account a5002 has no lists; create one with "list create a5002 <name>".\n');
  });

  test('bad command lines exit 2, unknown accounts and lists exit 1, with one clear line and nothing on stdout', async () => {
    expectOk(await admin(db.env, ['account', 'create', '--id', '6000', '--password', 'x']), 'account create');
    const before = (await admin(db.env, ['account', 'list', '--json'])).stdout;
    const cases: [string[], 1 | 2, RegExp][] = [
      [[], 2, /^Usage: mailup-import-admin \[options\] \[command\]/],
      [['account'], 2, /^Usage: mailup-import-admin account/],
      [['account', 'list', '--bogus'], 2, /^error: unknown option '--bogus'/],
      [['account', 'password'], 2, /^error: missing required argument 'wsUser'/],
      [['account', 'enable', 'a6000', 'extra'], 2, /^error: too many arguments for 'enable'/],
      [['account', 'enable', 'bob'], 2, /^error: "bob" is not a WS user; expected "a" and the account number, such as a1001\n/],
      [['account', 'create', '--id', '0'], 2, /^error: option '--id <number>' argument '0' is invalid\. Expected a positive whole number\./],
      [['account', 'create', '--id', '12x'], 2, /argument '12x' is invalid/],
      [['account', 'create', '--password', ''], 2, /^error: option '--password <password>' argument '' is invalid\. The password must not be empty\./],
      [['account', 'password', 'a6000', '--password', 'x', '--password-stdin'], 2, /^error: option '--password-stdin' cannot be used with option '--password <password>'/],
      [['account', 'password', 'a6000', '--password-stdin'], 2, /^error: no password on standard input\n/],
      [['account', 'ip-check', 'a6000', 'maybe'], 2, /Allowed choices are on, off\./],
      [['account', 'allow-ip', 'a6000', 'block', '1.2.3.4'], 2, /Allowed choices are add, remove, list\./],
      [['account', 'allow-ip', 'a6000', 'add'], 2, /^error: give at least one IP address to add\n/],
      [['account', 'allow-ip', 'a6000', 'remove'], 2, /^error: give at least one IP address to remove\n/],
      [['account', 'allow-ip', 'a6000', 'list', '1.2.3.4'], 2, /^error: "allow-ip … list" takes no addresses\n/],
      [['account', 'allow-ip', 'a6000', 'add', 'localhost'], 2, /^error: "localhost" is not an IPv4 or IPv6 address\n/],
      [['account', 'allow-ip', 'a6000', 'add', '01.2.3.4'], 2, /"01\.2\.3\.4" is not an IPv4 or IPv6 address/],
      [['list', 'create', 'a6000', 'X', '--guid', '0b6e7c1a-3f52-4c1e-9d7a-5a8f2e6c4b1'], 2, /Expected a GUID of 36 hexadecimal characters/],
      [['list', 'create', 'a6000', '   '], 2, /argument 'name'\. The name must not be empty\./],
      [['list', 'rename', 'a6000', 'one', 'X'], 2, /value 'one' is invalid for argument 'listId'\. Expected a positive whole number\./],
      [['group', 'create', 'a6000', '1'], 2, /^error: missing required argument 'name'/],
      [['console-user', 'create', 'a6000', 'u', '--lists', '1,x'], 2, /"x" is not an id; expected comma-separated ids such as 1,2\./],
      [['console-user', 'create', 'a6000', ' '], 2, /The name must not be empty/],
      [['account', 'password', 'a9999', '--password', 'x'], 1, /^error: account a9999 does not exist\n$/],
      [['account', 'enable', 'a9999'], 1, /^error: account a9999 does not exist\n$/],
      [['account', 'ip-check', 'a9999', 'on'], 1, /^error: account a9999 does not exist\n$/],
      [['account', 'allow-ip', 'a9999', 'list'], 1, /^error: account a9999 does not exist\n$/],
      [['console-user', 'create', 'a9999', 'u'], 1, /^error: account a9999 does not exist\n$/],
      [['list', 'create', 'a9999', 'X'], 1, /^error: account a9999 does not exist\n$/],
      [['list', 'ls', 'a9999', '--json'], 1, /^error: account a9999 does not exist\n$/],
      [['group', 'create', 'a9999', '1', 'X'], 1, /^error: account a9999 does not exist\n$/],
      [['list', 'rename', 'a6000', '999', 'X'], 1, /^error: list 999 does not exist in account a6000\n$/],
      [['group', 'create', 'a6000', '999', 'X'], 1, /^error: list 999 does not exist in account a6000\n$/],
      [['console-user', 'create', 'a6000', 'u', '--lists', '999'], 1, /^error: list 999 does not exist in account a6000\n$/],
    ];
    for (const [args, code, message] of cases) {
      const r = await admin(db.env, args);
      const what = `admin ${args.join(' ')}`;
      assert.equal(r.code, code, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
      assert.match(r.stderr, message, what);
      assert.equal(r.stdout, '', `${what} prints nothing on stdout`);
      assert.doesNotMatch(r.stderr, STACK_FRAME, `${what} prints no stack trace`);
    }
    assert.equal((await admin(db.env, ['account', 'list', '--json'])).stdout, before, 'nothing changed');
  });

  test('help exits 0; a bad configuration exits 2; usage errors open no database', async () => {
    const help = await admin(db.env, ['--help']);
    expectOk(help, '--help');
    assert.match(help.stdout, /Commands:\n {2}account[\s\S]*\n {2}console-user[\s\S]*\n {2}list[\s\S]*\n {2}group/);
    assert.match(help.stdout, /DATA_DIR/);
    const sub = await admin(db.env, ['account', 'allow-ip', '--help']);
    assert.match(sub.stdout, /^Usage: mailup-import-admin account allow-ip \[options\] <wsUser> <action> \[ips\.\.\.\]/);
    const bad = await admin(db.env, ['account', 'list'], { env: { DATABASE_URL: 'mysql://localhost/x' } });
    assert.deepEqual([bad.code, bad.stdout], [2, '']);
    assert.match(bad.stderr, /^error: configuration: DATABASE_URL "mysql:\/\/localhost\/x" is not supported/);

    const fresh = await createTestDatabase();
    try {
      assert.equal((await admin(fresh.env, ['account', 'enable', 'bob'])).code, 2);
      assert.equal((await admin(fresh.env, ['account', 'allow-ip', 'a1', 'add', 'x'])).code, 2);
      if (TEST_STORE === 'sqlite') assert.equal(existsSync(join(fresh.dataDir, 'mailup.db')), false, 'no database file was made');
      const store = await openTestStore(fresh);
      assert.deepEqual(await store.accounts.listAccounts(), []);
      await store.close();
    } finally {
      await fresh.drop();
    }
  });
});

describe('admin CLI against a running service', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService();
  });
  after(() => svc.close());

  test('a password set by the CLI process works over SOAP at once; the old one is refused within LOOKUP_CACHE_MS', async () => {
    const { user, password: oldPassword } = await svc.addAccount();
    const auth = (Password: string): { User: string; Password: string } => ({ User: user, Password });
    assert.equal((await callSoap(svc.endpoint, 'GetIdWsUser', {}, auth(oldPassword))).returnCode, 0, 'the old password works (and is cached)');

    const [generated] = await adminProcesses(svc.storeEnv, [{ args: ['account', 'password', user, '--json'] }]);
    const { password } = json<{ password: string }>(generated!, 'account password');
    const withNew = await callSoap(svc.endpoint, 'GetIdWsUser', {}, auth(password));
    assert.equal(withNew.returnCode, 0, withNew.body);
    assert.match(withNew.result!, new RegExp(`<IdUser>${user.slice(1)}</IdUser>`));
    await refusedWithinCacheTime(svc.config.lookupCacheMs, async () => (await callSoap(svc.endpoint, 'GetIdWsUser', {}, auth(oldPassword))).returnCode, -1002);
  });

  test('enable takes effect at once; disable and the IP allow-list within LOOKUP_CACHE_MS', async () => {
    const { user, password } = await svc.addAccount();
    const auth = { User: user, Password: password };
    const code = async (): Promise<number | null> => (await callSoap(svc.endpoint, 'GetIdWsUser', {}, auth)).returnCode;
    assert.equal(await code(), 0);
    expectOk(await admin(svc.storeEnv, ['account', 'disable', user]), 'disable');
    await refusedWithinCacheTime(svc.config.lookupCacheMs, code, -1006);
    expectOk(await admin(svc.storeEnv, ['account', 'enable', user]), 'enable');
    assert.equal(await code(), 0);
    expectOk(await admin(svc.storeEnv, ['account', 'allow-ip', user, 'add', '127.0.0.1']), 'allow-ip add');
    expectOk(await admin(svc.storeEnv, ['account', 'ip-check', user, 'on']), 'ip-check on');
    assert.equal(await code(), 0, 'the caller is on the allow-list');
    expectOk(await admin(svc.storeEnv, ['account', 'allow-ip', user, 'remove', '127.0.0.1']), 'allow-ip remove');
    await refusedWithinCacheTime(svc.config.lookupCacheMs, code, -1011);
  });

  test('lists, groups and console users made with the CLI are the ones SOAP callers see', async () => {
    const { user, password } = await svc.addAccount();
    const auth = { User: user, Password: password };
    const guid = 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b';
    const list = json<{ id: number }>(await admin(svc.storeEnv, ['list', 'create', user, 'From the CLI', '--guid', guid, '--json']), 'list create');
    const consoleUser = json<{ id: number }>(
      await admin(svc.storeEnv, ['console-user', 'create', user, 'editor', '--lists', String(list.id), '--json']), 'console-user create');

    const group = await callSoap(svc.endpoint, 'CreateGroup', { idList: list.id, listGUID: guid, newGroupName: 'Made over SOAP' }, auth);
    assert.ok((group.returnCode ?? -1) > 0, group.body);
    const fromCli = json<{ id: number; created: boolean }>(
      await admin(svc.storeEnv, ['group', 'create', user, String(list.id), 'made over soap', '--json']), 'group create');
    assert.deepEqual([fromCli.id, fromCli.created], [group.returnCode, false], 'the CLI gives back the group CreateGroup made');

    const idUser = await callSoap(svc.endpoint, 'GetIdUser', { userName: 'editor' }, auth);
    assert.equal(idUser.returnCode, 0, idUser.body);
    assert.match(idUser.result!, new RegExp(`<IdUser>${consoleUser.id}</IdUser>`));
    const visible = await callSoap(svc.endpoint, 'GetNlListsUser', { userId: consoleUser.id }, auth);
    assert.equal(visible.returnCode, 0, visible.body);
    assert.match(visible.result!, /From the CLI/);
    assert.doesNotMatch(visible.result!, /List \d+/, "the console user sees only the lists it was given, not the account's first list");
  });
});

describe('bin launchers', () => {
  test('bin/admin.js runs the admin CLI; bin/server.js serves and stops on SIGTERM', async () => {
    const db = await serverDatabase();
    try {
      const [listed, usage] = await Promise.all([
        runAdminProcess(['account', 'list', '--json'], { ...db.env }),
        runAdminProcess(['account', 'nope'], { ...db.env }),
      ]);
      assert.deepEqual(json(listed, 'bin/admin.js account list'), []);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^error: unknown command 'nope'/);

      const server = spawn(process.execPath, ['bin/server.js'], {
        cwd: ROOT, env: { ...process.env, ...db.env, PORT: '0', HOST: '127.0.0.1', DEMO: '0', LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          server.stdout.setEncoding('utf8').on('data', (s: string) => {
            out += s;
            const m = /listening on (http:\/\/\S+)/.exec(out);
            if (m) resolve(m[1]!);
          });
          void exited.then((code) => reject(new Error(`bin/server.js exited with ${code} before listening: ${out}`)));
        });
        const wsdl = await fetch(`${url}?WSDL`);
        assert.equal(wsdl.status, 200);
        assert.match(await wsdl.text(), /wsdl:definitions/);
      } finally {
        server.kill('SIGTERM');
      }
      assert.equal(await exited, 0, 'the service stops cleanly on SIGTERM');
    } finally {
      await db.drop();
    }
  });
});
