/**
 * What the benchmarks share: command-line numbers, the server started as a child process with
 * its demo account, a big feed written to disk inside a StartImportProcesses envelope (never held
 * in memory), plain HTTP posts, and the server's peak RSS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { once } from 'node:events';

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function subscriber(i: number): string {
  const mobile = `39${String(3_000_000_000 + i)}`;
  return `<subscriber email="user${i}@example${i % 97}.com" Prefix="" Number="+${mobile}" Name="User ${i}">` +
    `<campo1>Name${i}</campo1><campo2>Surname ${i % 1000}</campo2><campo3>Company &amp; Co ${i % 50}</campo3><campo4>Città ${i % 20}</campo4></subscriber>`;
}

/**
 * Row `n` of the mixed feed of `rows` rows: its first half the second half of the plain feed
 * (subscribers that exist after it), its second half new ones; a third of the rows e-mail only,
 * a third mobile only, a third both.
 */
export function mixedSubscriber(n: number, rows: number): string {
  const i = Math.floor(rows / 2) + n;
  const mobile = `39${String(3_000_000_000 + i)}`;
  const email = n % 3 === 2 ? '' : `user${i}@example${i % 97}.com`;
  const number = n % 3 === 0 ? '' : `+${mobile}`;
  return `<subscriber email="${email}" Prefix="" Number="${number}" Name="User ${i}">` +
    `<campo1>Name${i}</campo1><campo2>Surname ${i % 1000}</campo2><campo3>Company &amp; Co ${i % 50}</campo3><campo4>Città ${i % 20}</campo4></subscriber>`;
}

/**
 * Writes the SOAP envelope with the feed escaped inside xmlDoc, as a client sends it (into
 * `groupsIDs`, default group 1); `row` writes subscriber n (default: `subscriber`).
 */
export async function writeEnvelope(
  path: string, rows: number, auth: { user: string; password: string }, list: { id: number; guid: string }, groupsIDs = '1',
  row: (n: number) => string = subscriber,
): Promise<number> {
  const out = createWriteStream(path);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Header><Authentication xmlns="http://ws.mailupnet.it/"><User>${auth.user}</User><Password>${esc(auth.password)}</Password></Authentication></soap:Header>` +
    `<soap:Body><StartImportProcesses xmlns="http://ws.mailupnet.it/"><listsIDs>${list.id}</listsIDs><listsGUIDs>${list.guid}</listsGUIDs><xmlDoc>`);
  await write(esc('<subscribers>'));
  let buf = '';
  for (let i = 1; i <= rows; i++) {
    buf += row(i);
    if (buf.length > 1 << 16) {
      await write(esc(buf));
      buf = '';
    }
  }
  await write(esc(`${buf}</subscribers>`));
  await write(`</xmlDoc><groupsIDs>${groupsIDs}</groupsIDs><importType>3</importType><mobileInputType>1</mobileInputType>` +
    '<asPending>false</asPending><ConfirmEmail>false</ConfirmEmail><asOptOut>false</asOptOut><forceOptIn>false</forceOptIn>' +
    '<replaceGroups>false</replaceGroups></StartImportProcesses></soap:Body></soap:Envelope>');
  out.end();
  await once(out, 'finish');
  return statSync(path).size;
}

export interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly list: { id: number; guid: string };
  /** The demo account's REST client, when the start banner names one. */
  readonly rest?: { readonly clientId: string; readonly clientSecret: string };
}

/** Starts the server on a fresh `dataDir`, with `env` added to its environment. */
export async function startServer(dataDir: string, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, ['bin/server.js'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', POLL_MS: '50', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!/WSDL: +http/.test(out)) {
    if (Date.now() > deadline) throw new Error(`server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const user = /WS user: +(\S+)/.exec(out)![1]!;
  const password = /WS password: +(\S+)/.exec(out)![1]!;
  const m = /idList (\d+), listGUID (\S+)/.exec(out)!;
  // The REST lines follow the WSDL line: give them a moment to arrive.
  await new Promise((r) => setTimeout(r, 100));
  const rest = /REST client: +id (\S+), secret (\S+)/.exec(out);
  return {
    child, port, user, password, list: { id: Number(m[1]), guid: m[2]! },
    ...(rest ? { rest: { clientId: rest[1]!, clientSecret: rest[2]! } } : {}),
  };
}

export function post(port: number, path: string, body: NodeJS.ReadableStream | string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve(data));
    });
    req.on('error', reject);
    if (typeof body === 'string') req.end(body);
    else body.pipe(req);
  });
}

export const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** A SOAP 1.1 request envelope for `op` with the server's demo credentials. */
export function soapRequest(server: Server, op: string, params: string): string {
  return '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Header><Authentication xmlns="http://ws.mailupnet.it/"><User>${server.user}</User><Password>${esc(server.password)}</Password></Authentication></soap:Header>` +
    `<soap:Body><${op} xmlns="http://ws.mailupnet.it/">${params}</${op}></soap:Body></soap:Envelope>`;
}

export async function soap(server: Server, op: string, params: string): Promise<string> {
  return unescape(await post(server.port, '/Services/WSMailUpImport.asmx', soapRequest(server, op, params), { 'content-type': 'text/xml; charset=utf-8', soapaction: `http://ws.mailupnet.it/${op}` }));
}

export function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** CPU time a process has used so far (user + system, all threads), in seconds. */
export function cpuSeconds(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat, after the command name in parentheses; in clock ticks (100 a second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
