/**
 * A webhook receiver for the tests: a real node:http listener on the loopback that records every
 * request and checks its signature with the standardwebhooks package, as a user's receiver
 * would. What it answers is up to the test (`answer`), per request.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Store } from '../../src/store/store.ts';

export interface ReceivedHook {
  readonly path: string;
  readonly id: string;
  readonly timestamp: string;
  readonly signature: string;
  readonly body: string;
  readonly payload: { type: string; timestamp: string; data: Record<string, unknown> };
  /** Whether the signature verified with the secret registered for the path. */
  readonly verified: boolean;
  /** What the receiver answered (0: it never answered). */
  readonly answered: number;
}

export type Answer = number | 'hang';

export interface Receiver {
  /** The receiver's base URL (http://127.0.0.1:port). */
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedHook[];
  /** The secret a path's deliveries must verify with. */
  secrets: Map<string, string>;
  /** How long the receiver takes before it answers (ms). */
  delayMs: number;
  /** What to answer a request (default 204). */
  answer: (path: string, body: string) => Answer;
  /** Waits until `predicate` holds for the received requests. */
  waitFor(predicate: (received: readonly ReceivedHook[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const received: ReceivedHook[] = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  const receiver: Receiver = {
    url: '', port: 0, received, secrets: new Map(), delayMs: 0,
    answer: () => 204,
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`timed out; received: ${JSON.stringify(received.map((r) => [r.path, r.payload.type, r.answered]))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer(async (req, res) => {
    const body = await read(req);
    const path = req.url ?? '/';
    const header = (name: string): string => String(req.headers[name] ?? '');
    const secret = receiver.secrets.get(path);
    let verified = false;
    try {
      if (secret) {
        new Webhook(secret).verify(body, { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') });
        verified = true;
      }
    } catch {
      verified = false;
    }
    const answer = receiver.answer(path, body);
    received.push({
      path, id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature'), body,
      payload: JSON.parse(body) as ReceivedHook['payload'], verified, answered: answer === 'hang' ? 0 : answer,
    });
    if (answer === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (receiver.delayMs > 0) await new Promise((r) => setTimeout(r, receiver.delayMs));
    res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  return Object.assign(receiver, { url: `http://127.0.0.1:${actual}`, port: actual });
}

/**
 * Waits until none of the account's endpoints (those whose URL starts with `urlPrefix`) has a pending delivery: a receiver sees a request
 * before the dispatcher records its answer, so a test reads what was recorded only after this.
 */
export async function settled(store: Store, accountId: number, urlPrefix = '', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await store.webhooks.listEndpoints(accountId)).some((e) => e.url.startsWith(urlPrefix) && e.deliveries.pending > 0)) {
    if (Date.now() > deadline) throw new Error(`account ${accountId} still has pending webhook deliveries`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
