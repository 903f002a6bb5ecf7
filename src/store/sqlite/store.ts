/**
 * The embedded store: one SQLite file through better-sqlite3 (WAL), opened by ./connection.ts and
 * shared by one class per concept (./accounts.ts, ./lists.ts, …). Every multi-statement change
 * runs in a synchronous better-sqlite3 transaction, so nothing else on the one connection can
 * interleave with it; the async Store methods only wrap those calls.
 */
import type { AccountStore } from '../accounts.ts';
import type { ConfirmationStore } from '../confirmations.ts';
import type { FeedStore } from '../feeds.ts';
import type { ListStore } from '../lists.ts';
import type { BatchMergeStore } from '../merge.ts';
import type { OAuthStore } from '../oauth.ts';
import type { ProcessStore } from '../processes.ts';
import type { QueryStore } from '../queries.ts';
import type { RecipientStore } from '../recipients.ts';
import type { SessionStore } from '../sessions.ts';
import type { SettingStore } from '../settings.ts';
import type { Store } from '../store.ts';
import type { WebhookStore } from '../webhooks.ts';
import { SqliteAccounts } from './accounts.ts';
import { SqliteConfirmations } from './confirmations.ts';
import { SqliteConnection } from './connection.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { SqliteFeeds } from './feeds.ts';
import { SqliteLists } from './lists.ts';
import { SqliteMerge } from './merge.ts';
import { SqliteOAuth } from './oauth.ts';
import { SqliteProcesses } from './processes.ts';
import { SqliteQueries } from './queries.ts';
import { SqliteRecipients } from './recipients.ts';
import { SqliteSessions } from './sessions.ts';
import { SqliteSettings } from './settings.ts';
import { SqliteWebhooks } from './webhooks.ts';

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly accounts: AccountStore;
  readonly lists: ListStore;
  readonly feeds: FeedStore;
  readonly processes: ProcessStore;
  readonly merge: BatchMergeStore;
  readonly confirmations: ConfirmationStore;
  readonly queries: QueryStore;
  readonly sessions: SessionStore;
  readonly settings: SettingStore;
  readonly oauth: OAuthStore;
  readonly recipients: RecipientStore;
  readonly webhooks: WebhookStore;
  private readonly connection: SqliteConnection;
  private readonly feedParts: SqliteFeeds;
  private readonly lock: DataDirLock | null;

  /**
   * @param options.maxSize caps the file (bytes): past it writes fail with SQLITE_FULL, as on a
   *   full disk, and the import that hit it ends in status 4.
   * @param options.lockDataDir takes the data directory's lock (./data-dir-lock.ts) before the
   *   database is opened or migrated, and holds it until the store closes: the server does, so a
   *   second server on the same database throws DataDirLockedError here.
   */
  constructor(path: string, options: { maxSize?: number | null; lockDataDir?: boolean } = {}) {
    const lock = options.lockDataDir ? DataDirLock.acquire(path) : null;
    let connection: SqliteConnection;
    try {
      connection = new SqliteConnection(path, options);
    } catch (err) {
      lock?.release();
      throw err;
    }
    this.lock = lock;
    const lists = new SqliteLists(connection);
    const processes = new SqliteProcesses(connection);
    this.connection = connection;
    this.accounts = new SqliteAccounts(connection);
    this.lists = lists;
    this.feedParts = new SqliteFeeds(connection);
    this.feeds = this.feedParts;
    this.processes = processes;
    this.merge = new SqliteMerge(connection, processes);
    this.confirmations = new SqliteConfirmations(connection);
    this.queries = new SqliteQueries(connection, lists, processes);
    this.sessions = new SqliteSessions(connection);
    this.settings = new SqliteSettings(connection);
    this.oauth = new SqliteOAuth(connection);
    this.recipients = new SqliteRecipients(connection);
    this.webhooks = new SqliteWebhooks(connection);
  }

  async ping(): Promise<void> {
    this.connection.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    try {
      this.feedParts.stopRenewals();
      this.connection.close();
    } finally {
      this.lock?.release();
    }
  }
}
