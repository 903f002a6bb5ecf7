/**
 * Wakes idle workers when another host makes a process claimable. The store queues a NOTIFY in
 * the transaction that starts, promotes or releases a process; every worker process keeps one
 * connection LISTENing and wakes its worker on each notification. Polling stays as the fallback:
 * while this connection is down (it reconnects with a growing pause), or for a lease that simply
 * expired, workers still find the work at their next poll.
 */
import pg from 'pg';
import { WORK_CHANNEL } from './claim.ts';

export interface WakeChannelLog {
  warn(obj: object, msg: string): void;
}

export interface WakeChannel {
  /** Resolves once the first LISTEN is in place (or failed: polling covers the gap). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

const MAX_PAUSE_MS = 10_000;

export function listenForWork(connectionString: string, onWake: (processId: number) => void, log: WakeChannelLog): WakeChannel {
  let client: pg.Client | null = null;
  let closed = false;
  let pause = 250;
  let retry: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString, application_name: 'mailup-import-listener' });
    client = c;
    c.on('notification', (n) => {
      if (n.channel === WORK_CHANNEL) onWake(Number(n.payload));
    });
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c, null));
    try {
      await c.connect();
      await c.query(`LISTEN ${WORK_CHANNEL}`);
      pause = 250;
      // Work may have been made claimable while we were not listening.
      onWake(0);
    } catch (err) {
      lost(c, err);
    }
  };

  const lost = (c: pg.Client, err: unknown): void => {
    if (client !== c) return;
    client = null;
    c.removeAllListeners('end');
    c.on('error', () => {});
    void c.end().catch(() => {});
    if (closed) return;
    log.warn({ err, retryInMs: pause }, 'the work notification channel is down; workers poll until it is back');
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, pause);
    retry.unref();
    pause = Math.min(pause * 2, MAX_PAUSE_MS);
  };

  const ready = connect();
  return {
    ready,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      if (c) {
        c.removeAllListeners('end');
        c.on('error', () => {});
        await c.end().catch(() => {});
      }
    },
  };
}
