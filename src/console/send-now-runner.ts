/**
 * Runs Send Now for the console in the background, one run per account at a time, and keeps
 * the outcome of the last run for the send status page. The sending itself is the shared
 * `sendConfirmations` (src/core/send-now.ts), the same as the HTTP endpoint's and the CLI's; the
 * page follows its progress through the requests' states in the store.
 */
import type { FastifyBaseLogger } from 'fastify';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { sendConfirmations, type SendNowReport } from '../core/send-now.ts';
import type { ConfirmationDeps } from '../mail/confirmation-setup.ts';

export interface SendRun {
  /** The process sent, or null for everything the account had queued. */
  readonly processId: number | null;
  readonly startedAt: Date;
  finishedAt: Date | null;
  report: SendNowReport | null;
  error: string | null;
}

export class SendNowRunner {
  private readonly running = new Map<number, { run: SendRun; done: Promise<void> }>();
  private readonly last = new Map<number, SendRun>();

  private readonly deps: ConfirmationDeps;

  constructor(deps: ConfirmationDeps, private readonly log: FastifyBaseLogger) {
    // Writing to the outbox is synchronous SQLite work wrapped in promises: a Send Now of
    // thousands of messages would run as one chain of microtasks and hold up every other request
    // (the console's own progress polls included) until it ends. Yielding to the event loop
    // before each message keeps the server answering while it runs; with SMTP it costs nothing.
    const mailer = deps.mailer;
    this.deps = {
      ...deps,
      mailer: {
        channel: mailer.channel,
        deliver: async (mail) => {
          await yieldToEventLoop();
          return mailer.deliver(mail);
        },
        close: () => mailer.close(),
      },
    };
  }

  /** Starts a run unless one is already going for the account. */
  start(accountId: number, processId: number | null): 'started' | 'busy' {
    if (this.running.has(accountId)) return 'busy';
    const run: SendRun = { processId, startedAt: new Date(), finishedAt: null, report: null, error: null };
    const done = sendConfirmations(this.deps, accountId, processId).then(
      (report) => {
        run.report = report;
      },
      (err: unknown) => {
        run.error = err instanceof Error ? err.message : String(err);
        this.log.error({ err, accountId, processId }, 'Send Now from the console failed');
      },
    ).finally(() => {
      run.finishedAt = new Date();
      this.running.delete(accountId);
      this.last.set(accountId, run);
    });
    this.running.set(accountId, { run, done });
    return 'started';
  }

  current(accountId: number): SendRun | null {
    return this.running.get(accountId)?.run ?? null;
  }

  lastRun(accountId: number): SendRun | null {
    return this.last.get(accountId) ?? null;
  }

  /** Waits for the account's run, if any (tests; and the server waits for all at shutdown). */
  async settled(accountId: number): Promise<void> {
    await this.running.get(accountId)?.done;
  }

  async drain(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.done));
  }
}
