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

/** What a console user's write may change; what is left out stays as it is. */
export interface ConsoleUserChanges {
  readonly passwordHash?: string;
  readonly enabled?: boolean;
  /** null: every list of the account. */
  readonly listIds?: readonly number[] | null;
}

export interface ConsoleUserWriteOptions {
  /**
   * Refuse the write ('last-administrator') when the user is, at the time of the write, an
   * enabled user who sees every list (list_ids null) and the account has no other: checked and
   * written atomically, so that two writes at once cannot remove the last two such users. The
   * core asks for it for every write that leaves the user short of that (src/core/console-users.ts).
   */
  readonly keepAnAdministrator?: boolean;
}

/** A refused write changed nothing. */
export type ConsoleUserWrite =
  | { readonly ok: true; readonly user: ConsoleUser }
  | { readonly ok: false; readonly reason: 'not-found' | 'last-administrator' };

export interface AccountStore {
  createAccount(account: NewAccount): Promise<Account>;
  getAccount(id: number): Promise<Account | null>;
  findAccountByWsUser(wsUser: string): Promise<Account | null>;
  updateAccount(id: number, changes: AccountChanges): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  createConsoleUser(accountId: number, username: string, passwordHash: string, listIds?: readonly number[] | null): Promise<ConsoleUser>;
  findConsoleUser(accountId: number, username: string): Promise<ConsoleUser | null>;
  getConsoleUser(accountId: number, id: number): Promise<ConsoleUser | null>;
  /** The account's console users, in the order they were created. */
  listConsoleUsers(accountId: number): Promise<ConsoleUser[]>;
  updateConsoleUser(accountId: number, id: number, changes: ConsoleUserChanges, options?: ConsoleUserWriteOptions): Promise<ConsoleUserWrite>;
  /** Deletes the user and its console sessions; answers the user as it was. */
  deleteConsoleUser(accountId: number, id: number, options?: ConsoleUserWriteOptions): Promise<ConsoleUserWrite>;
}
