/**
 * The fixed notices a console page shows after a redirect: the text is ours, never taken from
 * the URL.
 */
import type { Notice } from './layout.ts';

/** Notices a redirect can ask for by key: the text is ours, never taken from the URL. */
export const NOTICES = {
  'list-created': { tone: 'ok', text: 'The list was created.' },
  'list-renamed': { tone: 'ok', text: 'The list was renamed.' },
  'list-country-set': { tone: 'ok', text: "The list's default country was saved." },
  'group-created': { tone: 'ok', text: 'The group was created.' },
  'group-created-cut': { tone: 'info', text: 'The group was created; its name was cut to 50 characters, as the web service cuts it.' },
  'group-exists': { tone: 'info', text: 'The list already has a group of that name; nothing was created.' },
  'group-renamed': { tone: 'ok', text: 'The group was renamed.' },
  'send-started': { tone: 'info', text: 'Send Now started: the confirmation requests are being delivered.' },
  'send-busy': { tone: 'warn', text: 'A Send Now is already running for this account; its progress is shown below.' },
  'password-changed': { tone: 'ok', text: 'The WS password was changed. The old one no longer works.' },
  'access-saved': { tone: 'ok', text: 'The web-service settings were saved.' },
  'http-api-saved': { tone: 'ok', text: 'The HTTP subscribe API allow-list was saved.' },
  'rest-client-removed': { tone: 'ok', text: 'The REST client was removed; the tokens it was given no longer work.' },
  'rest-client-unknown': { tone: 'warn', text: 'That REST client does not exist in this account (was it removed already?); nothing was changed.' },
  'webhook-removed': { tone: 'ok', text: 'The webhook endpoint was removed, with its deliveries.' },
  'webhook-unknown': { tone: 'warn', text: 'That webhook endpoint does not exist in this account (was it removed already?); nothing was changed.' },
  'webhook-resent': { tone: 'ok', text: 'The delivery will be sent again in a moment, with the same webhook-id.' },
  'webhook-resend-refused': { tone: 'warn', text: 'That delivery cannot be sent again now: it does not exist, or it is being sent right now.' },
  'user-enabled': { tone: 'ok', text: 'The user was enabled: it can sign in again.' },
  'user-disabled': { tone: 'ok', text: 'The user was disabled: it cannot sign in, and its sessions have ended.' },
  'user-lists-saved': { tone: 'ok', text: 'The lists the user sees were saved.' },
  'user-deleted': { tone: 'ok', text: 'The user was deleted; its sessions have ended.' },
  'import-cancelled': { tone: 'ok', text: 'The import was cancelled: the rows merged so far stay merged, and no more are imported.' },
  'import-run-cancelled': { tone: 'ok', text: 'The import was cancelled, with the imports started with it that were still waiting; the rows merged so far stay merged.' },
  'import-started': { tone: 'ok', text: 'The import was started.' },
  'import-queued': { tone: 'info', text: 'The import was started: it waits its turn behind the import the account runs now.' },
  'signed-out': { tone: 'info', text: 'You have signed out.' },
  'session-ended': { tone: 'info', text: 'Your session has ended. Please sign in again.' },
} as const satisfies Record<string, Notice>;

export type NoticeKey = keyof typeof NOTICES;
