/**
 * Showing an import's progress: a cli-progress bar with rows/s and ETA on a terminal, plain
 * lines (at most one every few seconds, plus one per notable event) when stderr is a file or a
 * pipe, so logs stay readable.
 */
import cliProgress from 'cli-progress';
import type { ImportPhase, ImportProgress } from '../import-report.ts';
import type { RestImportProgress } from '../rest/rest-import-report.ts';

/** The progress of an import over SOAP or over REST. */
export type AnyImportProgress = ImportProgress | RestImportProgress;

export interface ProgressDisplay {
  update(progress: AnyImportProgress): void;
  stop(): void;
}

/** Rows per second over the last few seconds. */
class RateMeter {
  private samples: Array<{ t: number; value: number }> = [];

  reset(): void {
    this.samples = [];
  }

  add(value: number, now = Date.now()): number {
    this.samples.push({ t: now, value });
    while (this.samples.length > 2 && now - this.samples[0]!.t > 10_000) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = (now - first.t) / 1000;
    return seconds > 0 ? (value - first.value) / seconds : 0;
  }
}

const PHASE_LABEL: Record<ImportPhase, string> = { sending: 'sending', starting: 'starting', importing: 'importing', done: 'done' };

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** What is counted while importing: SOAP import processes, or REST bulk imports. */
const unitOf = (p: AnyImportProgress): string => ('api' in p ? 'imports' : 'processes');

/** The measure of the phase: rows sent while sending, rows worked through while importing. */
const valueOf = (p: AnyImportProgress): number => (p.phase === 'sending' ? p.rowsRead : p.rowsImported);

/** Lines worth printing whatever the throttle says; `quiet` leaves out completed processes (the bar counts them). */
function eventLine(p: AnyImportProgress, quiet = false): string | null {
  const e = p.event;
  switch (e.type) {
    case 'batch-failed':
      return `batch ${e.batch} (rows ${e.fromRow}-${e.toRow}) was refused: ${e.error.message}`;
    case 'start-retry':
      return `the account is busy (ReturnCode ${e.returnCode}); ${e.waiting.length} process${e.waiting.length === 1 ? '' : 'es'} not started yet ` +
        `(${e.waiting.join(', ')}), trying again in ${formatDuration(e.delayMs / 1000)} (attempt ${e.attempt})`;
    case 'started':
      return e.by === 'this-import'
        ? `started ${e.processes.length} import process${e.processes.length === 1 ? '' : 'es'}`
        : `${e.processes.length} import process${e.processes.length === 1 ? ' was' : 'es were'} started by another client (${e.processes.join(', ')})`;
    case 'process-finished':
      if (quiet && e.details.status === 'completed') return null;
      return `process ${e.details.idProcess} ${e.details.status}: ${e.details.totalContacts} rows, new ${e.details.newEmail}, existing ${e.details.existingEmail}, opted out ${e.details.optOutEmail}`;
    case 'row-rejected':
      return `row ${e.row} is not sent: ${e.reason}`;
    case 'import-finished': {
      const failed = e.detail?.StatusCode === 4;
      if (quiet && !failed) return null;
      const s = e.status;
      return `import ${s.idImport} ${failed ? 'failed' : 'completed'}: ${s.ValidRecipients + s.NotValidRecipients} rows, created ${s.CreatedRecipients}, updated ${s.UpdatedRecipients}, not valid ${s.NotValidRecipients}`;
    }
    default:
      return null;
  }
}

/** Plain progress lines for logs and pipes. */
export function lineProgress(stream: NodeJS.WritableStream, total: number | null, everyMs = 2000): ProgressDisplay {
  const meter = new RateMeter();
  let phase: ImportPhase | null = null;
  let last = 0;
  let lastLine = '';
  return {
    update(p) {
      if (p.phase !== phase) {
        phase = p.phase;
        meter.reset();
        last = 0;
        lastLine = '';
      }
      const special = eventLine(p);
      if (special) stream.write(`${special}\n`);
      if (p.phase === 'starting' || p.phase === 'done') return;
      const value = valueOf(p);
      const rate = meter.add(value);
      const now = Date.now();
      if (now - last < everyMs && p.event.type !== 'input-ended') return;
      last = now;
      const of = p.phase === 'sending' ? total : p.rowsSent;
      const share = of ? ` (${((value / of) * 100).toFixed(1)}%)` : '';
      const eta = of && rate > 0 ? `, ETA ${formatDuration((of - value) / rate)}` : '';
      const processes = p.phase === 'importing' ? `, ${p.processesDone}/${p.processesTotal} ${unitOf(p)} done` : '';
      const line = `${PHASE_LABEL[p.phase]}: ${value}${of ? `/${of}` : ''} rows${share}${processes}`;
      if (line === lastLine) return;
      lastLine = line;
      stream.write(`${line}, ${Math.round(rate)} rows/s${eta}\n`);
    },
    stop() {},
  };
}

/** A bar per phase on a terminal. */
export function barProgress(stream: NodeJS.WritableStream, total: number | null): ProgressDisplay {
  const meter = new RateMeter();
  let phase: ImportPhase | null = null;
  let bar: cliProgress.SingleBar | null = null;
  const stopBar = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    update(p) {
      const special = eventLine(p, true);
      if (special) {
        // A message goes above the bar: stop it, write, and draw a new one on the next update.
        stopBar();
        stream.write(`${special}\n`);
      }
      if (p.phase === 'starting' || p.phase === 'done') {
        stopBar();
        phase = p.phase;
        return;
      }
      const of = p.phase === 'sending' ? total ?? 0 : p.rowsSent;
      if (p.phase !== phase || bar === null) {
        if (p.phase !== phase) meter.reset();
        phase = p.phase;
        stopBar();
        bar = new cliProgress.SingleBar({
          stream,
          format: `${PHASE_LABEL[p.phase].padEnd(9)} {bar} {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {etaText}{extra}`,
          hideCursor: true,
          etaBuffer: 50,
          fps: 5,
        }, cliProgress.Presets.shades_classic);
        bar.start(Math.max(of, 1), valueOf(p), { rate: 0, etaText: '?', extra: '' });
      }
      const value = valueOf(p);
      const barTotal = Math.max(of, value, 1);
      bar.setTotal(barTotal);
      const rate = meter.add(value);
      const extra = p.phase === 'importing' ? ` | ${p.processesDone}/${p.processesTotal} ${unitOf(p)}` : '';
      bar.update(value, { rate: Math.round(rate), etaText: rate > 0 ? formatDuration((barTotal - value) / rate) : '?', extra });
    },
    stop: stopBar,
  };
}
