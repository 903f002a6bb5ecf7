/**
 * Accounts (the WS users) and their console users: who may call, from where, with which password.
 */
import type { Account, AccountChanges, ConsoleUser } from '../model/records.ts';

export interface NewAccount {
  /** Account number; the WS user becomes `a<id>`. Chosen by the store when omitted. */
  readonly id?: number;
  readonly passwordHash: string;
  readonly name: string;
  readonly wsEnabled?: boolean;
}

export interface AccountStore {
  createAccount(account: NewAccount): Promise<Account>;
  getAccount(id: number): Promise<Account | null>;
  findAccountByWsUser(wsUser: string): Promise<Account | null>;
  updateAccount(id: number, changes: AccountChanges): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  createConsoleUser(accountId: number, username: string, passwordHash: string, listIds?: readonly number[] | null): Promise<ConsoleUser>;
  findConsoleUser(accountId: number, username: string): Promise<ConsoleUser | null>;
  getConsoleUser(accountId: number, id: number): Promise<ConsoleUser | null>;
}
