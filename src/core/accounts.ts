/**
 * Creating accounts the way every entry point needs them (admin CLI, demo set-up, tests): the WS
 * account with a hashed password and its default confirmation message (idConfirmNL 0).
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { Account } from '../model/records.ts';
import { hashPassword } from './passwords.ts';

export const DEFAULT_CONFIRMATION = {
  subject: 'Please confirm your subscription',
  text: 'Hello,\n\nplease confirm your subscription to our newsletter by opening this link:\n\n[confirm_link]\n\nIf you did not ask for it, ignore this message.\n',
  html: '<p>Hello,</p><p>please confirm your subscription to our newsletter by clicking <a href="[confirm_link]">this link</a>.</p><p>If you did not ask for it, ignore this message.</p>',
};

export interface NewAccountRequest {
  readonly name: string;
  readonly password: string;
  readonly id?: number;
  readonly sender?: string;
}

export async function createAccount(store: Store, request: NewAccountRequest): Promise<Account> {
  const account = await store.accounts.createAccount({ id: request.id, name: request.name, passwordHash: await hashPassword(request.password) });
  await store.confirmations.createConfirmationMessage(account.id, {
    isDefault: true, sender: request.sender ?? `no-reply@${account.wsUser}.invalid`, ...DEFAULT_CONFIRMATION,
  });
  return account;
}

/** A random password of letters and digits, easy to copy from a terminal. */
export function generatePassword(length = 16): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}
