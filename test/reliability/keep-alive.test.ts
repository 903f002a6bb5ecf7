/**
 * Keep-alive connections are kept KEEP_ALIVE_TIMEOUT_SECONDS without a request (65 s by default,
 * longer than the 60 s reverse proxies keep upstream connections), announced in a Keep-Alive
 * header, and closed by the server after that. A client polling every few seconds keeps its
 * connection, rather than racing the server's close (ECONNRESET) every few polls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { soapEnvelope, startTestService, type TestService } from '../helpers/service.ts';

/** A raw keep-alive connection to `svc` that sends GetNlLists and collects what comes back. */
async function connection(svc: TestService): Promise<{ socket: Socket; ask(): Promise<string>; closed: Promise<number> }> {
  const acc = await svc.addAccount();
  const body = Buffer.from(soapEnvelope('GetNlLists', {}, { User: acc.user, Password: acc.password }));
  const request = Buffer.concat([Buffer.from(`POST /Services/WSMailUpImport.asmx HTTP/1.1\r\nHost: test\r\n` +
    `Content-Type: text/xml; charset=utf-8\r\nSOAPAction: "http://ws.mailupnet.it/GetNlLists"\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
  const url = new URL(svc.url);
  const socket = connect(Number(url.port), url.hostname);
  let received = '';
  let waiting: { resolve(answer: string): void; reject(err: Error): void } | null = null;
  socket.setEncoding('utf8').on('data', (d: string) => {
    received += d;
    // Each answer ends with the envelope (Content-Length bodies, one request at a time).
    if (waiting && received.includes('</soap:Envelope>')) {
      const answer = received;
      received = '';
      waiting.resolve(answer);
      waiting = null;
    }
  });
  let isClosed = false;
  const closedError = (): Error => new Error(`the server closed the connection; it had sent: ${received}`);
  socket.on('close', () => {
    isClosed = true;
    waiting?.reject(closedError());
  });
  let lastAnswerAt = performance.now();
  const closed = new Promise<number>((resolve) => socket.once('end', () => resolve(performance.now() - lastAnswerAt)));
  const ask = (): Promise<string> => new Promise((resolve, reject) => {
    if (isClosed) return reject(closedError());
    waiting = {
      resolve: (answer) => {
        lastAnswerAt = performance.now();
        resolve(answer);
      },
      reject,
    };
    socket.write(request);
  });
  return { socket, ask, closed };
}

test('by default a connection is kept 65 s, says so, and still carries a request after 6 s idle', async () => {
  const svc = await startTestService();
  try {
    const { socket, ask } = await connection(svc);
    const first = await ask();
    assert.match(first, /^HTTP\/1\.1 200 /);
    assert.match(first, /\r\nkeep-alive: timeout=65\r\n/i);
    // Longer than Node's own 5 s default, which would have closed it by now.
    await sleep(6000);
    assert.match(await ask(), /^HTTP\/1\.1 200 [\s\S]*ReturnCode&gt;0&lt;/);
    socket.destroy();
  } finally {
    await svc.close();
  }
});

test('KEEP_ALIVE_TIMEOUT_SECONDS: announced, and the server closes the connection once it has been idle that long', async () => {
  const svc = await startTestService({ KEEP_ALIVE_TIMEOUT_SECONDS: '1' });
  try {
    const { ask, closed } = await connection(svc);
    assert.match(await ask(), /\r\nkeep-alive: timeout=1\r\n/i);
    await sleep(300);
    assert.match(await ask(), /^HTTP\/1\.1 200 /, 'a request within the timeout uses the same connection');
    const idleMs = await closed;
    assert.ok(idleMs >= 900 && idleMs < 5000, `closed after ${idleMs.toFixed(0)} ms idle`);
  } finally {
    await svc.close();
  }
});

test('KEEP_ALIVE_TIMEOUT_SECONDS must be a whole number of seconds, at least 1', () => {
  for (const bad of ['0', '-5', '1.5', 'soon']) {
    assert.throws(() => loadConfig({ KEEP_ALIVE_TIMEOUT_SECONDS: bad }), (err) =>
      err instanceof ConfigError && err.message === `KEEP_ALIVE_TIMEOUT_SECONDS must be an integer of at least 1, not "${bad}"`);
  }
  assert.equal(loadConfig({}).keepAliveTimeoutMs, 65_000);
});
