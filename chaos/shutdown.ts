/**
 * Scenario 4, SIGTERM with an upload trickling in: a NewImportProcess body arrives fast at first
 * (the server stores its first chunks), then trickles at four times MIN_UPLOAD_BYTES_PER_SECOND,
 * so the rate check never ends it and it would take hours to finish. SIGTERM must still end the
 * process within SHUTDOWN_TIMEOUT_SECONDS (set small) plus a margin, and the partial feed of the
 * abandoned upload must be gone when the process has exited (looked at before any restart).
 */
import { startChildServer } from '../test/helpers/child-server.ts';
import {
  alive, checkExact, describeOrphans, IMPORT_FLAGS, kill, orphans, secs, since, streamUpload, target, waitExit, waitFor, within,
  type Scenario, type ScenarioContext, type ScenarioOutcome,
} from './lib.ts';

const SHUTDOWN_TIMEOUT_SECONDS = 3;
const MARGIN_S = 5;
const MIN_RATE = 1024;

async function run({ sizes, tracker, note }: ScenarioContext): Promise<ScenarioOutcome> {
  const bound = SHUTDOWN_TIMEOUT_SECONDS + MARGIN_S;
  const expected = `exits ≤ ${bound} s after SIGTERM (SHUTDOWN_TIMEOUT_SECONDS=${SHUTDOWN_TIMEOUT_SECONDS}); no partial feed left`;
  const dir = tracker.tmpDir('shutdown');
  const server = tracker.track(await startChildServer(dir, {
    SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS), MIN_UPLOAD_BYTES_PER_SECOND: String(MIN_RATE), UPLOAD_RATE_WINDOW_SECONDS: '2',
  }));
  const { list } = target(server);
  const burst = sizes.trickleBurstRows;
  const upload = streamUpload(target(server), 'NewImportProcess', {
    idList: list.id, listGUID: list.guid, idGroups: '1', ...IMPORT_FLAGS, idConfirmNL: 0,
  }, { rows: burst * 20 }, { trickleAfterRows: burst, bytesPerSecond: 4 * MIN_RATE });
  // The burst is in and stored in part; the body has been trickling for a few rate windows.
  const stored = await waitFor(async () => upload.rowsSent() >= burst && (await orphans(dir)).orphanChunks > 0, 60_000);
  await new Promise((r) => setTimeout(r, 3000));
  const before = await orphans(dir);
  if (stored === null || !alive(server.child)) {
    upload.stop();
    return { expected, happened: `the upload did not get going (${upload.rowsSent()} rows sent, server ${alive(server.child) ? 'up' : 'gone'})`, resumeSeconds: null, exact: 'n/a', pass: false };
  }
  note(`trickling at ${4 * MIN_RATE} B/s with ${describeOrphans(before)}`);

  const t0 = performance.now();
  server.child.kill('SIGTERM');
  // Short runs stop waiting just past the bound; full runs wait longer to report when it did exit.
  const exit = await waitExit(server.child, (sizes.mode === 'short' ? bound + 1 : bound + 40) * 1000);
  const exitSeconds = exit === null ? null : since(t0);
  if (exit === null) await kill(server.child);
  upload.stop();
  const answer = await within(upload.answer, 1000);
  const left = await orphans(dir);
  const clean = left.incompleteFeeds === 0 && left.orphanChunks === 0;
  const client = answer === null ? 'the client had no answer' : answer.ok ? `the client got ${answered(answer.body)}` : `the client saw: ${answer.error}`;
  const happened = exit === null
    ? `still running ${secs(since(t0))} after SIGTERM (killed); ${describeOrphans(left)}`
    : `exited (code ${exit.code ?? exit.signal}) ${secs(exitSeconds)} after SIGTERM, ${client}; left ${describeOrphans(left)}`;
  // The store as the process left it (no restart, whose start-up could tidy it): nothing imported, no partial feed.
  const exact = exit === null ? 'n/a' : await checkExact(null, dir, []);
  return { expected, happened, resumeSeconds: exitSeconds, exact, pass: exit !== null && exitSeconds! <= bound && clean && exact === 'exact' };
}

/** What a SOAP answer says, in a few words: its ReturnCode or its fault. */
function answered(body: string): string {
  const code = /<ReturnCode>(-?\d+)<\/ReturnCode>/.exec(body)?.[1];
  if (code !== undefined) return `ReturnCode ${code}`;
  const fault = /<faultstring>([^<]*)<\/faultstring>|<soap:Text[^>]*>([^<]*)</.exec(body);
  return fault ? `a fault: ${(fault[1] ?? fault[2] ?? '').slice(0, 100)}` : `"${body.slice(0, 60)}"`;
}

export const scenarios: Scenario[] = [{
  name: 'sigterm-trickle', kind: 'shutdown', stores: ['sqlite', 'postgres'], budgetMs: { full: 180_000, short: 60_000 }, run,
}];
