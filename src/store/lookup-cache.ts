/**
 * Every web-service call reads its account (to authenticate) and most read a list (the list
 * check) before doing anything else. Those rows change rarely, while a shop polling
 * GetProcessDetails from 200 clients asks for them thousands of times a second: on SQLite each
 * read is a separate transaction whose file locks cost more than the query. This decorator keeps
 * the rows it has read for a short time.
 *
 * Freshness: a change made through this store (the console, the API, tests) empties the cache at
 * once; a change made by another process (the admin CLI, another API process on PostgreSQL) is
 * seen within `ttlMs`. Rows that were not found are not kept, so a new account or list works at
 * once everywhere. Import processes are not kept here: their status must be read fresh (a whole
 * GetProcessDetails answer is kept only until the next write: src/http/answer-cache.ts).
 */
import type { Account, AccountChanges, MailingList } from '../model/records.ts';
import { ExpiringMap } from './expiring-map.ts';
import type { AccountStore, NewAccount } from './accounts.ts';
import type { ListStore } from './lists.ts';
import type { Store } from './store.ts';

/** `store` with its account and list reads cached for `ttlMs`; `ttlMs` 0 returns `store` itself. */
export function withLookupCache(store: Store, ttlMs: number, maxEntries = 10_000): Store {
  if (ttlMs <= 0) return store;
  const accounts = new ExpiringMap<Account>(ttlMs, maxEntries);
  const lists = new ExpiringMap<MailingList>(ttlMs, maxEntries);
  // A read that started before a write must not put the old row back after the write emptied
  // the cache: each read remembers the generation it started in.
  let generation = 0;
  const forget = (): void => {
    generation++;
    accounts.clear();
    lists.clear();
  };
  /** `write`, emptying the cache before it starts and after it ends. */
  const forgetting = <A extends unknown[], R>(write: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    forget();
    try {
      return await write(...args);
    } finally {
      forget();
    }
  };
  // Each part answers through the store's own part (its prototype) but for the methods below.
  const cachedAccounts: AccountStore = Object.assign(Object.create(store.accounts) as AccountStore, {
    async findAccountByWsUser(wsUser: string) {
      const hit = accounts.get(wsUser);
      if (hit) return hit;
      const started = generation;
      const account = await store.accounts.findAccountByWsUser(wsUser);
      if (account && started === generation) accounts.set(wsUser, account);
      return account;
    },
    createAccount: forgetting((account: NewAccount) => store.accounts.createAccount(account)),
    updateAccount: forgetting((id: number, changes: AccountChanges) => store.accounts.updateAccount(id, changes)),
  });
  const cachedLists: ListStore = Object.assign(Object.create(store.lists) as ListStore, {
    async getList(accountId: number, listId: number) {
      const key = `${accountId}:${listId}`;
      const hit = lists.get(key);
      if (hit) return hit;
      const started = generation;
      const list = await store.lists.getList(accountId, listId);
      if (list && started === generation) lists.set(key, list);
      return list;
    },
    createList: forgetting((accountId: number, name: string, guid?: string) => store.lists.createList(accountId, name, guid)),
    renameList: forgetting((accountId: number, listId: number, name: string) => store.lists.renameList(accountId, listId, name)),
  });
  return Object.assign(Object.create(store) as Store, { accounts: cachedAccounts, lists: cachedLists });
}
