/**
 * Scenario 1, SIGKILL during a feed upload: a big NewImportProcess body is being sent (half of it
 * is in, and the server has stored its first chunks) when the server is killed, and restarted on
 * the same store. The incomplete feed and its chunks must be gone within a bounded time: a partial
 * feed is held by its writer's lease (six upload-rate windows, renewed while the upload is read)
 * and deleted at start-up or at a sweep every half lease once that lease has run out, so the bound
 * is 1.5 leases after the kill plus a margin, with UPLOAD_RATE_WINDOW_SECONDS=1 to keep it short
 * (and the rate check off, so the half-sent body is not refused meanwhile). Nothing of the feed
 * may have been imported.
 */
import { startChildServer, stopChildServer } from '../test/helpers/child-server.ts';
import { FEED_LEASE_WINDOWS } from '../src/import/abandoned-feeds.ts';
import {
  checkExact, describeOrphans, IMPORT_FLAGS, kill, orphans, secs, since, streamUpload, target, waitFor,
  type Scenario, type ScenarioContext, type ScenarioOutcome,
} from './lib.ts';

const RATE_WINDOW_S = 1;
const MARGIN_S = 3;
const ENV = { UPLOAD_RATE_WINDOW_SECONDS: String(RATE_WINDOW_S), MIN_UPLOAD_BYTES_PER_SECOND: '0' };

async function run({ sizes, tracker, note }: ScenarioContext): Promise<ScenarioOutcome> {
  const leaseS = FEED_LEASE_WINDOWS * RATE_WINDOW_S;
  const bound = leaseS * 1.5 + MARGIN_S;
  const expected = `no incomplete feed/chunk ≤ ${bound} s after SIGKILL (feed lease ${leaseS} s); nothing imported`;
  const dir = tracker.tmpDir('upload-kill');
  const first = tracker.track(await startChildServer(dir, ENV));
  const { list } = target(first);
  const rows = sizes.uploadRows;
  const upload = streamUpload(target(first), 'NewImportProcess', {
    idList: list.id, listGUID: list.guid, idGroups: '1', ...IMPORT_FLAGS, idConfirmNL: 0,
  }, { rows }, { pauseAfterRows: Math.floor(rows / 2) });
  // Half the body is sent; the server has stored chunks of it (in a feed not yet complete).
  const stored = await waitFor(async () => upload.paused() && (await orphans(dir)).orphanChunks > 0 && await orphans(dir), 60_000);
  if (stored === null) {
    upload.stop();
    return { expected, happened: `no partial feed appeared while the body was sent (${upload.rowsSent()} rows sent)`, resumeSeconds: null, exact: 'n/a', pass: false };
  }
  await kill(first.child);
  const killedAt = performance.now();
  upload.stop();
  const atKill = await orphans(dir);
  note(`killed with ${upload.rowsSent()} of ${rows} rows sent: ${describeOrphans(atKill)}`);

  const second = tracker.track(await startChildServer(dir, ENV));
  const listening = since(killedAt);
  const clean = await waitFor(async () => {
    const o = await orphans(dir);
    return o.incompleteFeeds === 0 && o.orphanChunks === 0 && o;
  }, bound * 1000 - (performance.now() - killedAt), 50);
  const pruneSeconds = clean === null ? null : since(killedAt);
  const left = await orphans(dir);
  const exact = await checkExact(target(second, first), dir, []);
  await stopChildServer(second, 'SIGTERM');
  const happened = `killed with ${upload.rowsSent().toLocaleString('en-US')}/${rows.toLocaleString('en-US')} rows sent, ` +
    `${atKill.incompleteFeeds} incomplete feed(s) and ${atKill.chunks} chunk(s) stored; restarted (listening after ${secs(listening)}); ` +
    (clean === null ? `still ${describeOrphans(left)} ${secs(since(killedAt))} after the kill` : `pruned ${secs(pruneSeconds)} after the kill`);
  return { expected, happened, resumeSeconds: pruneSeconds, exact, pass: clean !== null && exact === 'exact' };
}

export const scenarios: Scenario[] = [{
  name: 'upload-kill', kind: 'upload-kill', stores: ['sqlite', 'postgres'], budgetMs: { full: 180_000, short: 60_000 }, run,
}];
