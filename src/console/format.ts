/**
 * How the console writes values: dates in the service's time zone, numbers with separators,
 * durations and rates for the live import status, and the words for codes.
 */
import type { SubscriptionStatus } from '../model/subscription.ts';
import type { ImportProcess, ProcessStatus } from '../model/records.ts';

export type DateFormatter = (date: Date | null) => string;

/** `2024-05-17 14:03:09` in the time zone of the service (TIME_ZONE), or an em dash for none. */
export function makeConsoleDateFormatter(timeZone: string): DateFormatter {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  return (date) => {
    if (date === null) return '—';
    const p: Record<string, string> = {};
    for (const { type, value } of parts.formatToParts(date)) p[type] = value;
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  };
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

export const PROCESS_STATUS: Record<ProcessStatus, { readonly label: string; readonly tone: string }> = {
  1: { label: 'Waiting', tone: 'neutral' },
  2: { label: 'Running', tone: 'info' },
  3: { label: 'Completed', tone: 'ok' },
  4: { label: 'Failed', tone: 'bad' },
};

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

/**
 * Progress of a process as the live status shows it. The rate is the average since the start
 * (rows merged so far over the time since StartDate), the estimate what is left at that rate.
 */
export interface Progress {
  readonly done: number;
  readonly total: number;
  /** 0–100, whole. */
  readonly percent: number;
  readonly rowsPerSecond: number | null;
  readonly remainingMs: number | null;
  readonly elapsedMs: number | null;
}

export function progressOf(p: ImportProcess, now: Date): Progress {
  const total = p.totalContacts;
  const done = p.status === 3 ? total : Math.min(p.checkpoint, total);
  const percent = p.status === 3 ? 100 : total === 0 ? 0 : Math.floor((done * 100) / total);
  const end = p.status === 3 || p.status === 4 ? p.endDate ?? now : now;
  const elapsedMs = p.startDate === null ? null : Math.max(0, end.getTime() - p.startDate.getTime());
  const rowsPerSecond = elapsedMs === null || elapsedMs < 500 || done === 0 ? null : (done * 1000) / elapsedMs;
  const remainingMs = p.status !== 2 ? (p.status === 3 ? 0 : null) : rowsPerSecond === null ? null : ((total - done) / rowsPerSecond) * 1000;
  return { done, total, percent, rowsPerSecond, remainingMs, elapsedMs };
}
