/**
 * While the server closes, a keep-alive connection that is still busy may carry one more request
 * after the one in flight: that one is answered 503 with Retry-After and Connection: close (as
 * fastify answers its own routes), and the request in flight is answered in full.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { soapEnvelope, startTestService } from '../helpers/service.ts';

test('a request arriving on an open connection while the server closes gets 503 and Connection: close; the one in flight completes', async () => {
  const svc = await startTestService();
  const acc = await svc.addAccount({ listName: 'Closing' });
  const body = Buffer.from(soapEnvelope('GetNlLists', {}, { User: acc.user, Password: acc.password }));
  const head = `POST /Services/WSMailUpImport.asmx HTTP/1.1\r\nHost: test\r\nContent-Type: text/xml; charset=utf-8\r\n` +
    `SOAPAction: "http://ws.mailupnet.it/GetNlLists"\r\nContent-Length: ${body.length}\r\n\r\n`;
  const url = new URL(svc.url);
  const socket = connect(Number(url.port), url.hostname);
  let answers = '';
  socket.setEncoding('utf8').on('data', (d: string) => (answers += d));
  const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

  // The first request is in flight (half its body sent) when the server begins to close.
  socket.write(Buffer.concat([Buffer.from(head), body.subarray(0, body.length / 2)]));
  await sleep(200);
  const closed = svc.close();
  await sleep(200);
  // The rest of it, and a second request right behind it on the same connection.
  socket.write(Buffer.concat([body.subarray(body.length / 2), Buffer.from(head), body]));
  await Promise.all([socketClosed, closed]);

  const [first, second] = answers.split(/(?=HTTP\/1\.1 )/);
  assert.match(first ?? '', /^HTTP\/1\.1 200 /, answers);
  assert.match(first ?? '', /ReturnCode&gt;0&lt;/);
  assert.match(second ?? '', /^HTTP\/1\.1 503 /, answers);
  assert.match(second ?? '', /\r\nconnection: close\r\n/i);
  assert.match(second ?? '', /\r\nretry-after: 1\r\n/i);
  assert.match(second ?? '', /<faultstring>The server is shutting down; send the request again\.<\/faultstring>/);
});
