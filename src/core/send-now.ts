/**
 * "Send Now" (MailUp's Email > Send Status > Send Now): delivers the confirmation requests that
 * imports with ConfirmEmail queued, for one process or for everything the account has queued.
 * The HTTP endpoint, the admin CLI and the console all call `sendConfirmations`.
 *
 * For each recipient and list waiting for a request it sends ONE message, however many requests
 * were queued for them (two imports of the same address), and records the outcome on all of them.
 * The message is the account's confirmation message the process chose with idConfirmNL (0: the
 * account's default), filled for the recipient with a signed confirm link. Requests whose
 * recipient is no longer pending on the list are cancelled, not sent. A transient failure is
 * retried a few times with exponential backoff, then left for a later Send Now; a permanent one
 * (SMTP 5xx) is final and recorded with the server's answer. A process's ConfirmationSent turns
 * True in the same transaction as its last request is delivered (docs/double-opt-in.md).
 *
 * With `requestIds` it delivers exactly those requests, the same way: a single subscribe with
 * double opt-in (src/core/recipients.ts) sends the request it has just queued at once. Such a run
 * does not wait for requests another Send Now holds (that one delivers them), and a request it
 * could not deliver stays queued or failed for the next Send Now, like any other.
 */
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import { signConfirmToken } from '../mail/confirm-token.ts';
import { DEFAULT_RETRY, type ConfirmationDeps, type RetryPolicy } from '../mail/confirmation-setup.ts';
import { DeliveryError, type DeliveryChannel, type Mailer } from '../mail/mailer.ts';
import { renderConfirmation } from '../mail/render-message.ts';
import type { ClaimedConfirmation, ConfirmationMessage, ConfirmationOutcome } from '../store/confirmations.ts';

export interface SendFailure {
  readonly processId: number;
  readonly listId: number;
  readonly email: string | null;
  readonly error: string;
  /** False: a later Send Now retries it from `nextAttemptAt`. */
  readonly permanent: boolean;
  readonly attempts: number;
  readonly nextAttemptAt: string | null;
}

/** What one Send Now did. Counts are messages (one per recipient and list) unless said otherwise. */
export interface SendNowReport {
  readonly accountId: number;
  readonly processId: number | null;
  readonly channel: DeliveryChannel;
  /** Messages that were due. */
  readonly queued: number;
  /** Handed to the SMTP server. */
  readonly sent: number;
  /** Written to the outbox (no SMTP configured). */
  readonly written_to_outbox: number;
  /** Not delivered: permanently failed, or waiting for a retry (see `failures`). */
  readonly failed: number;
  /** Requests closed without a message because the recipient is no longer pending on the list. */
  readonly cancelled: number;
  /** Requests handled (several requests of one recipient and list share one message). */
  readonly requests: number;
  readonly failures: readonly SendFailure[];
  /** Processes whose ConfirmationSent became True during this Send Now. */
  readonly confirmationSent: readonly number[];
  /** Requests still claimed by another Send Now when this one ended: that one is delivering them. */
  readonly claimedElsewhere: number;
}

/** Requests claimed per round trip to the store; one round's messages go out concurrently. */
const PAGE_SIZE = 100;
const CONCURRENCY = 5;
/**
 * A claim is short and renewed while its page is delivered, so the requests of a Send Now that
 * died (a killed server or CLI) are free again within CLAIM_MS, while a live one keeps its own.
 */
export const CLAIM_MS = 30_000;
const RENEW_EVERY_MS = 10_000;
/** How long a Send Now waits for requests claimed elsewhere before it leaves them to their claimant. */
const WAIT_FOR_OTHERS_MS = 2 * CLAIM_MS;

export async function sendConfirmations(
  deps: ConfirmationDeps, accountId: number, processId: number | null,
  options: { readonly retryFailed?: boolean; readonly requestIds?: readonly number[] } = {},
): Promise<SendNowReport> {
  const now = deps.now ?? (() => new Date());
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...deps.retry };
  const templates = new Map<number, Promise<ConfirmationMessage | null>>();
  const template = (id: number): Promise<ConfirmationMessage | null> => {
    if (!templates.has(id)) templates.set(id, deps.store.confirmations.getConfirmationMessage(accountId, id));
    return templates.get(id)!;
  };
  const counts = { queued: 0, sent: 0, written_to_outbox: 0, failed: 0, cancelled: 0, requests: 0 };
  const failures: SendFailure[] = [];
  const confirmationSent = new Set<number>();
  const settled = (ids: readonly number[]): void => ids.forEach((id) => confirmationSent.add(id));

  if (options.retryFailed) await deps.store.confirmations.requeueFailedConfirmations(accountId, processId);
  // Outcomes of the previous page: a recipient whose requests straddle two pages gets one message.
  let previous = new Map<string, ConfirmationOutcome>();
  let claimedElsewhere = 0;
  let waitingSince: number | null = null;
  for (;;) {
    // The embedded store answers synchronously: yield between pages so requests are served meanwhile.
    await yieldToEventLoop();
    const claim = await deps.store.confirmations.claimConfirmations(accountId, processId, {
      limit: PAGE_SIZE, leaseMs: CLAIM_MS, now: now(), ...(options.requestIds ? { requestIds: options.requestIds } : {}),
    });
    counts.cancelled += claim.cancelled;
    settled(claim.settled);
    claimedElsewhere = claim.heldElsewhere?.requests ?? 0;
    if (claim.requests.length === 0) {
      // Nothing left but what another Send Now holds: it is finishing its last page, or it died and
      // its claims run out within CLAIM_MS. Wait and take over what runs out, unless the claims
      // last longer than this code ever makes them (then their claimant is alive or foreign).
      const held = claim.heldElsewhere;
      const waited = waitingSince === null ? 0 : performance.now() - waitingSince;
      if (held === null || options.requestIds || held.until.getTime() - now().getTime() > CLAIM_MS || waited >= WAIT_FOR_OTHERS_MS) break;
      waitingSince ??= performance.now();
      await sleep(Math.max(50, Math.min(1000, held.until.getTime() - now().getTime() + 10)));
      continue;
    }
    waitingSince = null;
    counts.requests += claim.requests.length;
    const current = new Map<string, ConfirmationOutcome>();
    const claims = keepClaimed(deps, accountId, now, claim.requests);
    await forEachConcurrently(groupByRecipientAndList(claim.requests), CONCURRENCY, async (group) => {
      const first = group[0]!;
      const key = `${first.recipientId}:${first.listId}`;
      const ids = group.map((r) => r.requestId);
      const earlier = previous.get(key);
      if (earlier) {
        settled(await deps.store.confirmations.completeConfirmations(ids, { ...earlier, attempts: 0 }));
        claims.release(ids);
        return;
      }
      counts.queued++;
      const outcome = await deliver(deps, retry, now, accountId, group, await template(first.messageId));
      current.set(key, outcome);
      settled(await deps.store.confirmations.completeConfirmations(ids, outcome));
      claims.release(ids);
      if (outcome.status === 'sent') {
        if (deps.mailer.channel === 'smtp') counts.sent++;
        else counts.written_to_outbox++;
        return;
      }
      counts.failed++;
      const permanent = outcome.retryAt === null;
      failures.push({
        processId: first.processId, listId: first.listId, email: first.email, error: outcome.error, permanent,
        attempts: Math.max(...group.map((r) => r.attempts)) + outcome.attempts,
        nextAttemptAt: outcome.retryAt === null ? null : outcome.retryAt.toISOString(),
      });
      deps.log?.warn({ accountId, processId: first.processId, requestId: first.requestId, error: outcome.error, permanent },
        'confirmation request not delivered');
    }).finally(() => claims.stop());
    previous = current;
  }
  // Given requests are settled with their outcomes (completeConfirmations): no other process to look at.
  if (!options.requestIds) settled(await deps.store.confirmations.settleConfirmationProcesses(accountId, processId, now()));
  const report: SendNowReport = {
    accountId, processId, channel: deps.mailer.channel, ...counts, failures,
    confirmationSent: [...confirmationSent].sort((a, b) => a - b), claimedElsewhere,
  };
  deps.log?.info({ ...report, failures: failures.length }, 'confirmation requests sent');
  return report;
}

/**
 * Keeps a page's claims alive while it is delivered: every RENEW_EVERY_MS, the claims on the
 * requests not yet completed are moved to CLAIM_MS ahead.
 */
function keepClaimed(
  deps: ConfirmationDeps, accountId: number, now: () => Date, requests: readonly ClaimedConfirmation[],
): { release(ids: readonly number[]): void; stop(): void } {
  const unfinished = new Set(requests.map((r) => r.requestId));
  const timer = setInterval(() => {
    deps.store.confirmations.renewConfirmationClaims([...unfinished], new Date(now().getTime() + CLAIM_MS)).catch((err: unknown) =>
      deps.log?.warn({ accountId, error: err instanceof Error ? err.message : String(err) }, 'confirmation claims not renewed'));
  }, RENEW_EVERY_MS);
  return {
    release: (ids) => ids.forEach((id) => unfinished.delete(id)),
    stop: () => clearInterval(timer),
  };
}

/** Claimed requests come ordered by recipient and list, so each group is a run of neighbours. */
function groupByRecipientAndList(requests: readonly ClaimedConfirmation[]): ClaimedConfirmation[][] {
  const groups: ClaimedConfirmation[][] = [];
  for (const r of requests) {
    const last = groups.at(-1)?.[0];
    if (last && last.recipientId === r.recipientId && last.listId === r.listId) groups.at(-1)!.push(r);
    else groups.push([r]);
  }
  return groups;
}

async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** One message for the requests of one recipient and list, with the retries a run allows. */
async function deliver(
  deps: ConfirmationDeps, retry: RetryPolicy, now: () => Date, accountId: number,
  group: readonly ClaimedConfirmation[], message: ConfirmationMessage | null,
): Promise<ConfirmationOutcome> {
  const first = group[0]!;
  const final = (error: string): ConfirmationOutcome => ({ status: 'failed', error, retryAt: null, attempts: 0 });
  if (first.email === null) return final('the recipient has no e-mail address');
  if (message === null) {
    return final(first.messageId === 0
      ? 'the account has no default confirmation message'
      : `confirmation message ${first.messageId} (idConfirmNL) does not exist`);
  }
  const token = signConfirmToken(deps.secret, {
    requestId: first.requestId, recipientId: first.recipientId, listId: first.listId,
    expiresAt: new Date(now().getTime() + deps.tokenTtlMs),
  });
  const link = confirmLink(deps.publicUrl(), token);
  const rendered = renderConfirmation(message, { email: first.email, fields: first.fields }, link);
  // A sender the subscribe call named (HTTP Dynsndmail) wins over the message's own.
  const mail = {
    accountId, requestId: first.requestId, from: first.sender ?? (message.sender.trim() || deps.defaultSender), to: first.email, ...rendered,
  };
  const attemptsBefore = Math.max(...group.map((r) => r.attempts));
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.mailer.deliver(mail);
      return { status: 'sent', at: now(), attempts: attempt };
    } catch (err) {
      const failure = err instanceof DeliveryError ? err : new DeliveryError(err instanceof Error ? err.message : String(err), false);
      const total = attemptsBefore + attempt;
      if (failure.permanent) return { status: 'failed', error: failure.message, retryAt: null, attempts: attempt };
      if (total >= retry.maxAttempts) {
        return { status: 'failed', error: `gave up after ${total} attempts: ${failure.message}`, retryAt: null, attempts: attempt };
      }
      if (attempt >= retry.attemptsPerRun) {
        const wait = Math.min(retry.laterDelayMs * 2 ** (total - 1), retry.maxLaterDelayMs);
        return { status: 'failed', error: failure.message, retryAt: new Date(now().getTime() + wait), attempts: attempt };
      }
      await sleep(retry.firstDelayMs * 2 ** (attempt - 1));
    }
  }
}

export function confirmLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/confirm/${token}`;
}
