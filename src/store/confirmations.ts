/**
 * Double opt-in: confirmation messages, the requests an import queues, Send Now's claims and
 * outcomes, confirm links, and the outbox that stands in for SMTP.
 */

export interface NewConfirmationMessage {
  readonly isDefault: boolean;
  readonly sender: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface ConfirmationMessage extends NewConfirmationMessage {
  readonly id: number;
  readonly accountId: number;
  readonly createdAt: Date;
}

/** A confirmation request as Send Now needs it: who, on which list, with which message. */
export interface ClaimedConfirmation {
  readonly requestId: number;
  /** The import that queued it; 0 for a request a single-recipient call queued (src/core/recipients.ts). */
  readonly processId: number;
  readonly recipientId: number;
  readonly listId: number;
  readonly listName: string;
  readonly email: string | null;
  readonly name: string | null;
  /** campoN values by N. */
  readonly fields: Readonly<Record<number, string>>;
  /** The process's idConfirmNL (0 = the account's default message). */
  readonly messageId: number;
  /** Delivery attempts made before this claim. */
  readonly attempts: number;
  /** The From the call that queued it asked for (HTTP `Dynsndmail`); null: the message's own sender. */
  readonly sender: string | null;
}

export interface ConfirmationClaim {
  readonly requests: ClaimedConfirmation[];
  readonly cancelled: number;
  readonly settled: number[];
  readonly heldElsewhere: { readonly requests: number; readonly until: Date } | null;
}

/** How delivering one message went; `retryAt` null marks a permanent failure. */
export type ConfirmationOutcome =
  | { readonly status: 'sent'; readonly at: Date; readonly attempts: number }
  | { readonly status: 'failed'; readonly error: string; readonly retryAt: Date | null; readonly attempts: number };

export interface ConfirmationSummary {
  readonly processId: number;
  readonly listId: number;
  readonly processStatus: number;
  readonly requests: number;
  readonly queued: number;
  readonly sending: number;
  readonly sent: number;
  /** Transient failures waiting for their retry time. */
  readonly retrying: number;
  /** Permanent failures. */
  readonly failed: number;
  readonly cancelled: number;
  readonly confirmed: number;
  readonly confirmationSentAt: Date | null;
}

export interface ConfirmationFailure {
  readonly requestId: number;
  /** 0 for a request queued by a single-recipient call, not an import. */
  readonly processId: number;
  readonly listId: number;
  readonly email: string | null;
  readonly attempts: number;
  readonly error: string;
  readonly permanent: boolean;
  readonly nextAttemptAt: Date | null;
}

/** One confirmation request (always for the e-mail channel) with its recipient's address. */
export interface ConfirmationRequestRow {
  readonly requestId: number;
  /** 0 for a request queued by a single-recipient call, not an import. */
  readonly processId: number;
  readonly recipientId: number;
  readonly listId: number;
  readonly email: string | null;
  readonly status: 'queued' | 'sending' | 'sent' | 'failed' | 'cancelled';
  readonly attempts: number;
  readonly lastError: string | null;
  /** For a failure: when it may be retried (null = permanent). */
  readonly nextAttemptAt: Date | null;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
  readonly confirmedAt: Date | null;
}

/** What opening a valid confirm link did (`confirmed`) or why it changed nothing. */
export interface ConfirmOutcome {
  readonly result: 'confirmed' | 'already-confirmed' | 'already-subscribed' | 'unsubscribed' | 'not-found';
  readonly email: string | null;
  readonly listName: string | null;
  /** When the subscription was confirmed (now, or earlier for a replayed link). */
  readonly confirmedAt: Date | null;
}

export interface NewOutboxMessage {
  readonly accountId: number;
  readonly requestId: number | null;
  readonly sender: string;
  readonly recipient: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface OutboxMessage extends NewOutboxMessage {
  readonly id: number;
  readonly createdAt: Date;
}

export interface ConfirmationStore {
  createConfirmationMessage(accountId: number, message: NewConfirmationMessage): Promise<number>;
  confirmationMessageExists(accountId: number, messageId: number): Promise<boolean>;
  /** The account's message `messageId`, or its default one for 0 (idConfirmNL). */
  getConfirmationMessage(accountId: number, messageId: number): Promise<ConfirmationMessage | null>;
  listConfirmationMessages(accountId: number): Promise<ConfirmationMessage[]>;
  /** Makes the message the account's default (idConfirmNL 0); false when it is not the account's. */
  setDefaultConfirmationMessage(accountId: number, messageId: number): Promise<boolean>;
  /** Puts the permanently failed requests of the account (or of one process) back in the queue. */
  requeueFailedConfirmations(accountId: number, processId: number | null): Promise<number>;
  /**
   * In one transaction: cancels the due requests whose recipient is no longer pending on the
   * list, then claims up to `limit` due requests (queued, transient failures whose retry time has
   * come, and claims that expired) by marking them `sending` until `now + leaseMs`. Requests of one
   * recipient and list come out next to each other. `settled`: processes whose ConfirmationSent
   * became True because their last unsent requests were cancelled. `heldElsewhere`: the requests
   * (of the account, or that process) that stay claimed by another Send Now, and the earliest time
   * one of those claims runs out; null when there are none. With `requestIds`, only those requests
   * are cancelled, claimed or counted (a subscribe delivering the request it just queued).
   */
  claimConfirmations(
    accountId: number, processId: number | null,
    options: { readonly limit: number; readonly leaseMs: number; readonly now: Date; readonly requestIds?: readonly number[] },
  ): Promise<ConfirmationClaim>;
  /**
   * Moves the end of the claim on those of `requestIds` that are still being sent to `until`, as a
   * Send Now does while it delivers them; returns how many it renewed (fewer when some were
   * completed, or taken over after the claim ran out).
   */
  renewConfirmationClaims(requestIds: readonly number[], until: Date): Promise<number>;
  /**
   * Records the outcome of delivering one message for these requests (one recipient and list),
   * and in the same transaction sets ConfirmationSent on every finished process that has no
   * unsent request left; returns the ids of those processes.
   */
  completeConfirmations(requestIds: readonly number[], outcome: ConfirmationOutcome): Promise<number[]>;
  /**
   * Sets ConfirmationSent on the finished ConfirmEmail processes of the account (or that one
   * process) that have no unsent request, including those that queued none; returns their ids.
   */
  settleConfirmationProcesses(accountId: number, processId: number | null, at: Date): Promise<number[]>;
  /** How many confirmation requests of the process are not yet sent (0 for another account's process). */
  pendingConfirmations(accountId: number, processId: number): Promise<number>;
  /** Requests per process of the account (or one process), for processes that asked for ConfirmEmail. */
  confirmationSummary(accountId: number, processId: number | null, options?: { limit?: number }): Promise<ConfirmationSummary[]>;
  /** Failed requests, permanent and waiting for a retry, newest first. */
  confirmationFailures(accountId: number, processId: number | null, options?: { limit?: number }): Promise<ConfirmationFailure[]>;
  /** The requests themselves, oldest first: who awaits (or got) a request from which process, on which list. */
  listConfirmationRequests(accountId: number, processId: number | null, options?: { limit?: number; offset?: number }): Promise<ConfirmationRequestRow[]>;
  /**
   * Opens a confirm link: in one transaction, moves the recipient's e-mail subscription on the
   * list from pending to subscribed, and only from pending. Nothing changes otherwise. A request
   * queued for several lists at once (HTTP `ConfirmListID`) confirms its other lists too, those
   * where the recipient is still pending.
   */
  confirmSubscription(requestId: number, recipientId: number, listId: number, at: Date): Promise<ConfirmOutcome>;
  /** Writes a message to the outbox; a second entry for the same request is not written (returns the first). */
  writeOutbox(entry: NewOutboxMessage): Promise<number>;
  /** The account's outbox, newest first. */
  listOutbox(accountId: number, options?: { limit?: number; offset?: number }): Promise<OutboxMessage[]>;

}
