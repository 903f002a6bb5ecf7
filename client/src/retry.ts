/**
 * Trying a call again after a delay that doubles each time: the transport does it after a network
 * failure or a timeout, the importer while the account is busy (-601/-602). The caller decides,
 * failure by failure, whether another attempt is worth it; the waits end early when its signal aborts.
 */

export interface BackoffOptions {
  /** Delay before the second attempt; doubled for each further one. */
  readonly initialDelayMs: number;
  /** Longest delay between attempts (default: no limit). */
  readonly maxDelayMs?: number;
  /** Aborting it ends the wait at once: the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Called after each failed attempt (numbered from 1) with the delay the next one would wait
   * for: true waits and tries again, false gives up and the failure is thrown.
   */
  readonly retryIf: (error: unknown, attempt: number, delayMs: number) => boolean;
}

/** Calls `attempt` (with its number, from 1) until it succeeds or `retryIf` gives up. */
export async function retryWithBackoff<T>(attempt: (n: number) => Promise<T>, options: BackoffOptions): Promise<T> {
  let delayMs = options.initialDelayMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!options.retryIf(err, n, delayMs)) throw err;
      await sleep(delayMs, options.signal);
      delayMs = Math.min(delayMs * 2, options.maxDelayMs ?? Infinity);
    }
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
