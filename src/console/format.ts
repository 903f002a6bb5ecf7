/**
 * How the console writes values: dates in the service's time zone, numbers with separators,
 * durations for the live import status, and the words for codes.
 */
import { PROCESS_STATE_NAMES, WAITING_FOR_TEXT, waitingFor } from '../core/process-states.ts';
import { timeFormat } from '../core/time-format.ts';
import type { SubscriptionStatus } from '../model/subscription.ts';
import type { ImportProcess, ProcessStatus } from '../model/records.ts';

export type DateFormatter = (date: Date | null) => string;

/** `2024-05-17 14:03:09 CEST` in the time zone of the service (TIME_ZONE; src/core/time-format.ts), or an em dash for none. */
export function makeConsoleDateFormatter(timeZone: string): DateFormatter {
  const format = timeFormat(timeZone);
  return (date) => (date === null ? '—' : format.text(date));
}

const numbers = new Intl.NumberFormat('en-US');

export function formatCount(n: number): string {
  return numbers.format(n);
}

/** `2 h 05 min`, `4 min 10 s`, `12 s`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

const capitalised = (s: string): string => `${s[0]!.toUpperCase()}${s.slice(1)}`;

/** The states' names (src/core/process-states.ts), as badges. */
export const PROCESS_STATUS: Record<ProcessStatus, { readonly label: string; readonly tone: string }> = {
  1: { label: capitalised(PROCESS_STATE_NAMES[1]), tone: 'neutral' },
  2: { label: capitalised(PROCESS_STATE_NAMES[2]), tone: 'info' },
  3: { label: capitalised(PROCESS_STATE_NAMES[3]), tone: 'ok' },
  4: { label: capitalised(PROCESS_STATE_NAMES[4]), tone: 'bad' },
};

/** `not started` or `in line after the running import` for a waiting process; '' for the others. */
export function waitingNote(p: Pick<ImportProcess, 'status' | 'queued'>): string {
  const reason = waitingFor(p);
  return reason === null ? '' : WAITING_FOR_TEXT[reason];
}

export const SUBSCRIPTION_STATUS: Record<SubscriptionStatus, { readonly label: string; readonly tone: string }> = {
  subscribed: { label: 'Subscribed', tone: 'ok' },
  pending: { label: 'Pending', tone: 'warn' },
  unsubscribed: { label: 'Unsubscribed', tone: 'bad' },
};

export const IMPORT_TYPES: Record<number, string> = {
  1: 'e-mail only, empty fields keep their value',
  2: 'SMS only, empty fields keep their value',
  3: 'e-mail and SMS, empty fields keep their value',
  4: 'e-mail only, empty fields are cleared',
  5: 'SMS only, empty fields are cleared',
  6: 'e-mail and SMS, empty fields are cleared',
};
