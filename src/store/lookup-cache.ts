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
import type { Account, MailingList } from './types.ts';
import { ExpiringMap } from './expiring-map.ts';
import type { Store } from './store.ts';

/** The store methods that change an account or a list; each empties the cache when it returns. */
const WRITES = new Set<PropertyKey>(['createAccount', 'updateAccount', 'createList', 'renameList']);

/** `store` with its account and list reads cached for `ttlMs`; `ttlMs` 0 returns `store` itself. */
export function withLookupCache(store: Store, ttlMs: number, maxEntries = 10_000): Store {
  if (ttlMs <= 0) return store;
  const accounts = new ExpiringMap<Account>(ttlMs, maxEntries);
  const lists = new ExpiringMap<MailingList>(ttlMs, maxEntries);
  // A read that started before a write must not put the old row back after the write emptied
  // the cache: each read remembers the generation it started in.
  let generation = 0;

  const findAccountByWsUser = async (wsUser: string): Promise<Account | null> => {
    const hit = accounts.get(wsUser);
    if (hit) return hit;
    const started = generation;
    const account = await store.findAccountByWsUser(wsUser);
    if (account && started === generation) accounts.set(wsUser, account);
    return account;
  };
  const getList = async (accountId: number, listId: number): Promise<MailingList | null> => {
    const key = `${accountId}:${listId}`;
    const hit = lists.get(key);
    if (hit) return hit;
    const started = generation;
    const list = await store.getList(accountId, listId);
    if (list && started === generation) lists.set(key, list);
    return list;
  };
  const forget = (): void => {
    generation++;
    accounts.clear();
    lists.clear();
  };

  // Every other method is the store's own, bound once.
  const methods = new Map<PropertyKey, unknown>([['findAccountByWsUser', findAccountByWsUser], ['getList', getList]]);
  return new Proxy(store, {
    get(target, prop) {
      const known = methods.get(prop);
      if (known !== undefined) return known;
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      const wrapped = !WRITES.has(prop) ? method.bind(target) : async (...args: unknown[]) => {
        forget();
        try {
          return await method.apply(target, args);
        } finally {
          forget();
        }
      };
      methods.set(prop, wrapped);
      return wrapped;
    },
  });
}
