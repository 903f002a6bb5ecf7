/**
 * The one context object the composition root builds (src/main.ts) and hands to every route
 * plugin. Frozen; nothing in it is read from the environment after start-up.
 */
import type { Config } from '../config.ts';
import type { ConfirmationDeps } from '../mail/confirmation-setup.ts';
import type { ServiceMetrics } from '../observability/service-metrics.ts';
import type { OperationContext } from '../operations/operation-context.ts';
import type { Store } from '../store/store.ts';
import type { UploadGate } from './upload-gate.ts';

export interface AppContext {
  readonly config: Config;
  readonly store: Store;
  readonly operations: OperationContext;
  /** Result-string dates (`dd/MM/yyyy HH.mm.ss`) in the configured time zone. */
  readonly formatDate: (date: Date) => string;
  /** Double opt-in: the mailer, the confirm-link secret and how links are built (Send Now, confirm pages). */
  readonly mail: ConfirmationDeps;
  /** Metrics and the audit trail of web-service calls. */
  readonly metrics: ServiceMetrics;
  /** The cap on feed uploads decoded at once (MAX_CONCURRENT_UPLOADS). */
  readonly uploads: UploadGate;
}
