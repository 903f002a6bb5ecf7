/**
 * Uploads that are still arriving when something happens to the server (a SIGKILL, a SIGTERM):
 * a NewImportProcess whose feed is sent fast up to a point, so that some of it is stored, and then
 * trickled above the minimum upload rate, so that the server is still reading it; and a view of
 * the feeds a server has stored, complete or not, through SQL both engines accept.
 */
import { SOAP11_HEADERS, SERVICE_PATH, sendRaw, type RawReply } from '../security/hostile-client.ts';
import { demoAccount, storeOf, type ChildServer } from './child-server.ts';
import { feedXml, soapEnvelope } from './service.ts';

/** `data` at full speed up to `fastBytes`, then `bytesPerTick` every `tickMs`. */
export async function* trickle(data: Buffer, fastBytes: number, bytesPerTick: number, tickMs: number): AsyncGenerator<Buffer> {
  if (fastBytes > 0) yield data.subarray(0, fastBytes);
  for (let at = fastBytes; at < data.length; at += bytesPerTick) {
    // Unref'd: a client whose connection is gone stops at its next piece, or is left behind.
    await new Promise((r) => setTimeout(r, tickMs).unref());
    yield data.subarray(at, at + bytesPerTick);
  }
}

export interface TrickledUpload {
  /** The answer, or the error of a connection cut without one. */
  readonly reply: Promise<RawReply | Error>;
}

/**
 * Starts a NewImportProcess of `rows` subscribers into the demo list: the first `fastShare` of the
 * envelope at once, the rest `bytesPerSecond` at a time (in four pieces a second).
 */
export function startTrickledUpload(server: ChildServer, options: { rows: number; fastShare: number; bytesPerSecond: number }): TrickledUpload {
  const { auth, list } = demoAccount(server);
  const data = Buffer.from(soapEnvelope('NewImportProcess', {
    idList: list.id, listGUID: list.guid, importType: 3, mobileInputType: 1,
    xmlDoc: feedXml(Array.from({ length: options.rows }, (_, i) => ({ email: `trickled${i}@example.com`, fields: [`Name ${i}`] }))),
  }, auth));
  const reply = sendRaw(server.url, {
    path: SERVICE_PATH, headers: SOAP11_HEADERS('NewImportProcess'), length: data.length,
    body: trickle(data, Math.floor(data.length * options.fastShare), Math.ceil(options.bytesPerSecond / 4), 250),
  }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  return { reply };
}

export interface StoredFeeds {
  /** Feeds not complete (an upload in progress, or left behind), and their chunks. */
  readonly partial: { readonly feeds: number; readonly chunks: number };
  /** Complete feeds, and their chunks. */
  readonly complete: { readonly feeds: number; readonly chunks: number };
}

export async function storedFeeds(dataDir: string): Promise<StoredFeeds> {
  const db = await storeOf(dataDir);
  const count = async (complete: boolean): Promise<{ feeds: number; chunks: number }> => {
    const [row] = await db.query<{ feeds: number; chunks: number }>(`
      SELECT count(*) AS feeds, coalesce(sum((SELECT count(*) FROM feed_chunk c WHERE c.feed_id = f.id)), 0) AS chunks
      FROM feed f WHERE ${complete ? '' : 'NOT '}f.complete`);
    return { feeds: Number(row!.feeds), chunks: Number(row!.chunks) };
  };
  return { partial: await count(false), complete: await count(true) };
}

/** Waits until `check` holds of the stored feeds; fails with what is stored after `timeoutMs`. */
export async function waitForFeeds(dataDir: string, check: (s: StoredFeeds) => boolean, timeoutMs: number): Promise<StoredFeeds> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await storedFeeds(dataDir);
    if (check(stored)) return stored;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms; stored: ${JSON.stringify(stored)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether the reply is the answer of a server shutting down: 503 with Retry-After, or a connection cut without an answer. */
export function isShutdownAnswer(reply: RawReply | Error): boolean {
  if (reply instanceof Error) return /closed without a complete answer|reset/.test(reply.message);
  return reply.status === 503 && reply.headers['retry-after'] !== undefined;
}
