/**
 * What every console route module gets: the parts of the service it uses, the session manager,
 * the sign-in throttle, the Send Now runner and the clock.
 */
import type { LoginThrottle } from '../core/login-throttle.ts';
import type { ConfirmationDeps } from '../mail/confirmation-setup.ts';
import type { Store } from '../store/store.ts';
import type { DateFormatter } from './format.ts';
import type { SendNowRunner } from './send-now-runner.ts';
import type { SessionManager } from './session.ts';

/** The parts of the service the console uses (the service's AppContext has them all). */
export interface ConsoleContext {
  readonly store: Store;
  readonly config: { readonly timeZone: string };
  /** Result-string dates (`dd/MM/yyyy HH.mm.ss`), for the GetProcessDetails preview. */
  readonly formatDate: (date: Date) => string;
  /** Double opt-in: the mailer, the confirm-link secret and how links are built (Send Now). */
  readonly mail: ConfirmationDeps;
  /** The service's login throttle, shared with the web service; and the wake-up of the import workers (a start or a cancel). */
  readonly operations: { readonly throttle: LoginThrottle; readonly wakeWorkers: () => void };
}

export interface ConsoleDeps {
  readonly ctx: ConsoleContext;
  readonly sessions: SessionManager;
  /** Failed sign-ins slow further attempts per user and per address (src/core/login-throttle.ts). */
  readonly throttle: LoginThrottle;
  readonly sends: SendNowRunner;
  /** Dates as the console shows them, in the service's time zone. */
  readonly formatTime: DateFormatter;
  readonly now: () => Date;
}
