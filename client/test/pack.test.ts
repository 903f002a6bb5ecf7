/**
 * The client package on its own: `npm pack` (which compiles it), installed from the tarball in
 * an empty folder, imported and used against the real service, its command run from the
 * installed bin, its types checked from a consumer. None of the server's dependencies come with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceAndFolder } from './service-and-folder.ts';

const CLIENT_DIR = fileURLToPath(new URL('..', import.meta.url));
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
const TYPES = fileURLToPath(new URL('../../node_modules/@types', import.meta.url));

const fixture = serviceAndFolder('mailup-pack-test-');

/** Runs a command; npm settings of an enclosing `npm test` are not passed on. */
function run(file: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_') && !k.startsWith('MAILUP_')));
  return new Promise((resolve) => {
    execFile(file, [...args], { cwd, env: { ...base, ...env }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('npm pack, install from the tarball in an empty folder, import, call, run the bin, check the types', { timeout: 600_000 }, async () => {
  const packed = await run('npm', ['pack', '--pack-destination', fixture.dir, '--json'], CLIENT_DIR);
  assert.equal(packed.code, 0, packed.stderr);
  const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: Array<{ path: string }> }];
  const paths = files.map((f) => f.path);
  assert.ok(paths.includes('dist/index.js') && paths.includes('dist/index.d.ts') && paths.includes('dist/cli.js') && paths.includes('README.md'));
  assert.ok(paths.every((p) => !p.startsWith('src/') && !p.includes('.test.')), 'only the build and the README are packed');

  const app = join(fixture.dir, 'app');
  mkdirSync(app);
  const init = await run('npm', ['init', '-y'], app);
  assert.equal(init.code, 0, init.stderr);
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(fixture.dir, filename)], app);
  assert.equal(installed.code, 0, installed.stderr);

  const modules = readdirSync(join(app, 'node_modules'));
  assert.ok(modules.includes('mailup-import-client'));
  for (const serverOnly of ['fastify', 'better-sqlite3', 'iconv-lite', 'sax', 'saxes', 'tsx', 'pino', 'nodemailer', 'pg']) {
    assert.ok(!modules.includes(serverOnly), `${serverOnly} was installed with the client`);
  }

  const script = `import('mailup-import-client').then(async (m) => {
    if (typeof m.MailUpImportClient !== 'function') throw new Error('no MailUpImportClient');
    const client = new m.MailUpImportClient({ endpoint: process.env.E, user: process.env.U, password: process.env.P });
    const lists = await client.getNlLists();
    const feed = m.buildFeed([{ email: 'packed@example.com', fields: ['Packed'] }]);
    const report = await m.importSubscribers(client, [{ email: 'packed@example.com', fields: ['Packed'] }], { idList: lists[0].idList, pollIntervalMs: 50 });
    console.log(JSON.stringify({ id: await client.getIdWsUser(), lists: lists.length, feed: feed.length > 0, outcome: report.outcome, isError: new m.TransportError({ operation: 'GetNlLists', failure: 'timeout', reason: 'r', httpStatus: null, attempts: 1 }) instanceof m.MailUpError }));
  });`;
  const used = await run(process.execPath, ['-e', script], app, { E: fixture.svc.url, U: fixture.acc.user, P: fixture.acc.password });
  assert.equal(used.code, 0, used.stderr);
  assert.deepEqual(JSON.parse(used.stdout), { id: fixture.acc.account.id, lists: 1, feed: true, outcome: 'completed', isError: true });

  const bin = join(app, 'node_modules', '.bin', 'mailup-import');
  assert.ok(existsSync(bin));
  const whoami = await run(bin, ['--json', 'whoami'], app, { MAILUP_ENDPOINT: fixture.svc.url, MAILUP_USER: fixture.acc.user, MAILUP_PASSWORD: fixture.acc.password });
  assert.equal(whoami.code, 0, whoami.stderr);
  assert.equal(JSON.parse(whoami.stdout).idUser, fixture.acc.account.id);

  // A TypeScript consumer compiles against the shipped declarations; the @ts-expect-error line
  // fails the compilation if the types were lost (any) or wrong.
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, typeRoots: [TYPES], types: ['node'] },
    files: ['use.ts'],
  }));
  writeFileSync(join(app, 'use.ts'), `import { MailUpImportClient, MailUpReturnCodeError, type ProcessStatus } from 'mailup-import-client';
const client = new MailUpImportClient({ endpoint: 'http://127.0.0.1:1', user: 'a1', password: 'p' });
export async function status(): Promise<ProcessStatus> {
  try {
    return (await client.getProcessDetails({ idList: 1, listGUID: 'g', idProcess: 2 })).status;
  } catch (err) {
    if (err instanceof MailUpReturnCodeError) return err.returnCode === -501 ? 'unknown' : 'failed';
    throw err;
  }
}
// @ts-expect-error GetIdWsUser resolves to a number
export const id: Promise<string> = client.getIdWsUser();
`);
  const typed = await run(process.execPath, [TSC, '-p', '.'], app);
  assert.equal(typed.code, 0, typed.stdout + typed.stderr);
});
