/**
 * Double opt-in messages: the default one every account starts with, and the rule every
 * message keeps (both parts carry the confirm link, or recipients could not confirm). Sending
 * them is Send Now's (./send-now.ts); opening a link is ./confirm-link.ts.
 */
import type { ConfirmationMessage } from '../store/confirmations.ts';
import type { Store } from '../store/store.ts';
import { hasControlCharacter } from './text.ts';

/** The account's first message (idConfirmNL 0 until another is made the default). */
export const DEFAULT_CONFIRMATION = {
  subject: 'Please confirm your subscription',
  text: 'Hello,\n\nplease confirm your subscription to our newsletter by opening this link:\n\n[confirm_link]\n\nIf you did not ask for it, ignore this message.\n',
  html: '<p>Hello,</p><p>please confirm your subscription to our newsletter by clicking <a href="[confirm_link]">this link</a>.</p><p>If you did not ask for it, ignore this message.</p>',
};

/** Where a message's link goes: `[confirm_link]`, in any case, as MailUp writes it. */
const CONFIRM_LINK = /\[confirm_link\]/i;

export interface NewMessage {
  readonly sender: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** Make it the account's default (idConfirmNL 0). */
  readonly isDefault?: boolean;
}

/**
 * Creates a confirmation message; refused when a part has no `[confirm_link]`, or when a part
 * holds a control character (the sender and subject are header lines: not even a line break).
 */
export async function createConfirmationMessage(
  store: Store, accountId: number, message: NewMessage,
): Promise<{ ok: true; message: ConfirmationMessage } | { ok: false; reason: 'no-link' | 'control-character'; part: 'html' | 'text' | 'sender' | 'subject' }> {
  for (const part of ['sender', 'subject'] as const) {
    if (/[\r\n\t]/.test(message[part]) || hasControlCharacter(message[part])) return { ok: false, reason: 'control-character', part };
  }
  for (const part of ['html', 'text'] as const) {
    if (hasControlCharacter(message[part])) return { ok: false, reason: 'control-character', part };
    if (!CONFIRM_LINK.test(message[part])) return { ok: false, reason: 'no-link', part };
  }
  const { sender, subject, html, text } = message;
  const id = await store.confirmations.createConfirmationMessage(accountId, { isDefault: false, sender, subject, html, text });
  if (message.isDefault) await store.confirmations.setDefaultConfirmationMessage(accountId, id);
  return { ok: true, message: (await store.confirmations.getConfirmationMessage(accountId, id))! };
}

/** Makes the message the account's default; false when it is not the account's. */
export function setDefaultConfirmationMessage(store: Store, accountId: number, messageId: number): Promise<boolean> {
  return store.confirmations.setDefaultConfirmationMessage(accountId, messageId);
}
