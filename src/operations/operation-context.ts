/**
 * What the operations need from the rest of the service, built once by the composition root.
 * Collaborators are plain functions and interfaces, so operations never import HTTP, mail or the
 * worker.
 */
import type { Store } from '../store/store.ts';
import type { CredentialCache } from './credential-cache.ts';
import type { LoginThrottle } from './login-throttle.ts';

export interface OperationContext {
  readonly store: Store;
  readonly credentials: CredentialCache;
  /** Slows down repeated failed logins per user and per source address. */
  readonly throttle: LoginThrottle;
  /** Tells the import workers that a process was started (they also poll). */
  readonly wakeWorkers: () => void;
}

/** Who is calling: the client's address, for the IP allow-list. */
export interface Caller {
  readonly ip: string;
}
