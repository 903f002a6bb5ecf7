/**
 * The Store: everything the service keeps, one interface per concept, each implemented by both
 * engines in files of the same name (`sqlite/<concept>.ts`, `postgres/<concept>.ts`): SQLite
 * embedded, PostgreSQL for scale-out. Methods are async so that a networked database fits without
 * changing callers. Every method that reads or changes an account's data takes the account id, so
 * one account can never reach another's rows. Rules about the data (names, limits, who may do
 * what) live above, in src/core/; the store keeps what it is given, atomically.
 */
import type { AccountStore } from './accounts.ts';
import type { ConfirmationStore } from './confirmations.ts';
import type { FeedStore } from './feeds.ts';
import type { ListStore } from './lists.ts';
import type { BatchMergeStore } from './merge.ts';
import type { OAuthStore } from './oauth.ts';
import type { ProcessStore } from './processes.ts';
import type { QueryStore } from './queries.ts';
import type { RecipientStore } from './recipients.ts';
import type { SessionStore } from './sessions.ts';
import type { SettingStore } from './settings.ts';
import type { WebhookStore } from './webhooks.ts';

export interface Store {
  /** Which engine this is, for logs and the console. */
  readonly kind: 'sqlite' | 'postgres';
  readonly accounts: AccountStore;
  readonly lists: ListStore;
  readonly feeds: FeedStore;
  readonly processes: ProcessStore;
  readonly merge: BatchMergeStore;
  readonly confirmations: ConfirmationStore;
  readonly queries: QueryStore;
  readonly sessions: SessionStore;
  readonly settings: SettingStore;
  /** REST clients and OAuth tokens of the REST API. */
  readonly oauth: OAuthStore;
  /** One recipient at a time: the HTTP subscribe API and the REST API's recipient calls. */
  readonly recipients: RecipientStore;
  /** Webhook endpoints and the outbox of their deliveries. */
  readonly webhooks: WebhookStore;
  /** Throws when the database cannot answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The concepts of a store, in the order of the interface. */
export const STORE_CONCEPTS = ['accounts', 'lists', 'feeds', 'processes', 'merge', 'confirmations', 'queries', 'sessions', 'settings', 'oauth', 'recipients', 'webhooks'] as const;
export type StoreConcept = (typeof STORE_CONCEPTS)[number];
