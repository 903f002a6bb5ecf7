/**
 * The REST half of the import benchmark (npm run bench:import): the same subscribers as the SOAP
 * run, sent as MailUp's REST clients send them, a JSON array of recipients in one
 * `POST Console/List/{id}/Recipients` with a token from the OAuth endpoint, polled with
 * `GET Console/Import/{id}` until Completed. Its own server on its own data folder, so every run
 * into an empty list is one. The body is written to disk first and streamed, never held.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { fmt, peakRss, startServer, type Server } from './lib.ts';

const REST_BASE = '/API/v1.1/Rest/ConsoleService.svc/Console';
const TOKEN_PATH = '/Authorization/OAuth/Token';

export interface RestRun {
  readonly label: string;
  readonly rows: number;
  /** From the first byte sent to the import id received. */
  readonly acceptedSeconds: number;
  /** From the first byte sent to Completed. */
  readonly seconds: number;
}

export interface RestResults {
  readonly runs: readonly RestRun[];
  readonly peakRss: number;
}

/** The recipient of bench/lib.ts `subscriber(i)`, in the REST API's shape; `domain` keeps runs apart. */
function recipient(i: number, domain: string): string {
  return JSON.stringify({
    Name: `User ${i}`, Email: `user${i}@${domain}${i % 97}.com`, MobileNumber: String(3_000_000_000 + i), MobilePrefix: '+39',
    Fields: [{ Id: 1, Value: `Name${i}` }, { Id: 2, Value: `Surname ${i % 1000}` }, { Id: 3, Value: `Company & Co ${i % 50}` }, { Id: 4, Value: `Città ${i % 20}` }],
  });
}

/** Writes the JSON array of `rows` recipients; answers its size in bytes. */
async function writeBody(path: string, rows: number, domain: string): Promise<number> {
  const out = createWriteStream(path);
  let buf = '[';
  for (let i = 1; i <= rows; i++) {
    buf += (i > 1 ? ',' : '') + recipient(i, domain);
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.write(`${buf}]`);
  out.end();
  await once(out, 'finish');
  return statSync(path).size;
}

function call(port: number, method: string, path: string, headers: Record<string, string>, body?: NodeJS.ReadableStream | string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

async function accessToken(server: Server): Promise<string> {
  if (!server.rest) throw new Error('the server printed no REST client in its start banner');
  const form = new URLSearchParams({
    grant_type: 'password', client_id: server.rest.clientId, client_secret: server.rest.clientSecret, username: server.user, password: server.password,
  }).toString();
  const answer = await call(server.port, 'POST', TOKEN_PATH, { 'content-type': 'application/x-www-form-urlencoded' }, form);
  if (answer.status !== 200) throw new Error(`token request failed: ${answer.status} ${answer.text}`);
  return (JSON.parse(answer.text) as { access_token: string }).access_token;
}

async function runImport(server: Server, token: string, label: string, rows: number, file: string): Promise<RestRun> {
  const auth = { authorization: `Bearer ${token}` };
  const started = performance.now();
  const answer = await call(server.port, 'POST', `${REST_BASE}/List/${server.list.id}/Recipients`,
    { ...auth, 'content-type': 'application/json' }, createReadStream(file, { highWaterMark: 1 << 16 }));
  if (answer.status !== 200) throw new Error(`POST …/Recipients failed: ${answer.status} ${answer.text.slice(0, 500)}`);
  const id = Number(answer.text);
  const acceptedSeconds = (performance.now() - started) / 1000;
  process.stdout.write(`    (request answered after ${acceptedSeconds.toFixed(2)} s)\n`);
  for (;;) {
    const status = await call(server.port, 'GET', `${REST_BASE}/Import/${id}`, auth);
    if (status.status !== 200) throw new Error(`GET Import/${id} failed: ${status.status} ${status.text}`);
    const s = JSON.parse(status.text) as { Completed: boolean; ValidRecipients: number };
    if (s.Completed) {
      if (s.ValidRecipients !== rows) process.stdout.write(`    warning: ValidRecipients ${s.ValidRecipients}, not ${rows}\n`);
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(`    ${seconds.toFixed(2)} s, ${fmt(rows / seconds)} subscribers/s\n`);
      return { label, rows, acceptedSeconds, seconds };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `small` recipients into an empty list, then `rows` into an empty list and again (all existing). */
export async function benchmarkRestImport(dir: string, small: number, rows: number): Promise<RestResults> {
  const server = await startServer(join(dir, 'rest-data'));
  try {
    const smallBody = join(dir, 'rest-small.json');
    const bigBody = join(dir, 'rest-big.json');
    const smallBytes = await writeBody(smallBody, small, 'rest-small');
    const bytes = await writeBody(bigBody, rows, 'example');
    process.stdout.write(`\nREST: POST Console/List/{id}/Recipients, bodies of ${fmt(small)} (${(smallBytes / 1e6).toFixed(0)} MB) and ${fmt(rows)} recipients (${(bytes / 1e6).toFixed(0)} MB)\n`);
    const token = await accessToken(server);
    const runs: RestRun[] = [];
    process.stdout.write(`\nREST ${fmt(small)} recipients into an empty list:\n`);
    runs.push(await runImport(server, token, `REST ${fmt(small)}, empty list`, small, smallBody));
    process.stdout.write(`REST ${fmt(rows)} recipients into an empty list:\n`);
    runs.push(await runImport(server, token, `REST ${fmt(rows)}, empty list`, rows, bigBody));
    process.stdout.write(`REST the same ${fmt(rows)} again (all existing):\n`);
    runs.push(await runImport(server, await accessToken(server), `REST ${fmt(rows)}, all existing`, rows, bigBody));
    return { runs, peakRss: peakRss(server.child.pid!) };
  } finally {
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
  }
}
