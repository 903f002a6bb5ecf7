/**
 * One name per state of an import process, the same in the console, the admin CLI and the docs
 * (GetProcessDetails' StatusCode): 1 waiting, 2 running, 3 completed, 4 failed. A waiting process
 * waits for one of two things, told apart by `waitingFor`, never by another state name: its start
 * (prepared by NewImportProcess, not started yet) or its turn (started, in line behind the
 * account's running import). "Queued" names only confirmation requests not sent yet.
 */
import type { ProcessStatus } from '../model/records.ts';

export type ProcessStateName = 'waiting' | 'running' | 'completed' | 'failed';

export const PROCESS_STATE_NAMES: Readonly<Record<ProcessStatus, ProcessStateName>> = {
  1: 'waiting', 2: 'running', 3: 'completed', 4: 'failed',
};

/** What a waiting process waits for; null for a process that is not waiting. */
export type WaitingFor = 'start' | 'turn';

export function waitingFor(p: { readonly status: ProcessStatus; readonly queued?: boolean }): WaitingFor | null {
  if (p.status !== 1) return null;
  return p.queued === true ? 'turn' : 'start';
}

/** The words for what a waiting process waits for, as the console and the CLI write them. */
export const WAITING_FOR_TEXT: Readonly<Record<WaitingFor, string>> = {
  start: 'not started',
  turn: 'in line after the running import',
};
