/**
 * Stores for the store contract tests: the adapter TEST_STORE names, opened through openStore
 * exactly as the service opens it, on a fresh database. `open` can be called again for a second
 * handle on the same database, which is what a second process (or host) is.
 */
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import type { Feed, FeedRow, ImportOptions } from '../../src/model/records.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';

export interface StoreFixture {
  readonly db: TestDatabase;
  /** The first handle on the database. */
  readonly store: Store;
  /** Another handle on the same database, closed with the fixture. */
  open(): Promise<Store>;
  close(): Promise<void>;
}

export async function storeFixture(): Promise<StoreFixture> {
  const db = await createTestDatabase();
  const config = loadConfig({ ...db.env, LOG_LEVEL: 'silent', DATABASE_POOL_SIZE: '4' });
  const handles: Store[] = [];
  const open = async (): Promise<Store> => {
    const store = await openStore(config);
    handles.push(store);
    return store;
  };
  const store = await open();
  return {
    db, store, open,
    async close() {
      for (const s of handles) await s.close();
      await db.drop();
    },
  };
}

export const defaultOptions = (overrides: Partial<ImportOptions> = {}): ImportOptions => ({
  groupIds: [], importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false,
  forceOptIn: false, replaceGroups: false, idConfirmNL: 0, ...overrides,
});

export function feedRow(row: number, email: string, extra: Partial<Omit<FeedRow, 'row' | 'email'>> = {}): FeedRow {
  return { row, email, prefix: '', number: '', name: '', fields: {}, ...extra };
}

/** Stores the rows as a feed, in chunks of `chunkRows`. */
export async function storeFeed(store: Store, accountId: number, rows: readonly FeedRow[], chunkRows = 1000): Promise<Feed> {
  const writer = store.feeds.openFeedWriter(accountId);
  for (let i = 0; i < rows.length; i += chunkRows) await writer.append(rows.slice(i, i + chunkRows));
  return writer.complete();
}

/** An account with one list and two groups. */
export async function accountWithList(store: Store, name = 'Acme'): Promise<{ accountId: number; listId: number; groupIds: number[] }> {
  const account = await store.accounts.createAccount({ passwordHash: 'hash', name });
  const list = await store.lists.createList(account.id, `${name} list`);
  const groupIds = [(await store.lists.createGroup(list.id, 'One')).group.id, (await store.lists.createGroup(list.id, 'Two')).group.id];
  return { accountId: account.id, listId: list.id, groupIds };
}
