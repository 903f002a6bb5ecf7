/**
 * The FeedStore contract (src/store/feeds.ts), run against the adapter TEST_STORE names (npm test
 * runs it on both): a feed written in chunks while it is read, and read back in row order, every
 * value exactly as stored.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { FeedGoneError } from '../../src/store/feeds.ts';
import { contractSuite, feedRow, storeFeed } from './store-fixture.ts';

const suite = contractSuite('feeds');

const feedsOf = async (accountId: number): Promise<number> =>
  Number((await suite.fx.db.query<{ n: number }>('SELECT count(*) AS n FROM feed WHERE account_id = ?', [accountId]))[0]!.n);

/** The account's feeds with their stored chunks, oldest first. */
const storedFeeds = async (accountId: number): Promise<{ id: number; complete: number; chunks: number }[]> =>
  (await suite.fx.db.query<{ id: number; complete: number; chunks: number }>(`
    SELECT f.id, f.complete, (SELECT count(*) FROM feed_chunk c WHERE c.feed_id = f.id) AS chunks
    FROM feed f WHERE f.account_id = ? ORDER BY f.id`, [accountId]))
    .map((r) => ({ id: Number(r.id), complete: Number(r.complete), chunks: Number(r.chunks) }));

const chunksOf = async (feedId: number): Promise<number> =>
  Number((await suite.fx.db.query<{ n: number }>('SELECT count(*) AS n FROM feed_chunk WHERE feed_id = ?', [feedId]))[0]!.n);

const rowsFrom = (first: number, count: number, prefix: string) =>
  Array.from({ length: count }, (_, i) => feedRow(first + i, `${prefix}${first + i}@x.it`));

describe('feeds', () => {
  test('rows come back from any row to the end of its chunk, exactly as stored', async () => {
    const account = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Feeds' });
    const rows = Array.from({ length: 25 }, (_, i) => feedRow(i + 1, i === 3 ? '' : `f${i}@x.it`, {
      prefix: i % 2 ? '+39' : '', number: i % 3 ? `33300${i}` : '', name: `Näme "${i}" <&> \u{1F600}`, fields: i % 5 ? { 1: `v${i}`, 3: '', 100: 'x\ny' } : {},
    }));
    const writer = suite.store.feeds.openFeedWriter(account.id);
    for (let i = 0; i < rows.length; i += 10) await writer.append(rows.slice(i, i + 10));
    const feed = await writer.complete();
    assert.deepEqual([feed.totalRows, feed.chunkCount, feed.accountId], [25, 3, account.id]);
    assert.deepEqual(await suite.store.feeds.readFeedRows(feed.id, 1), rows.slice(0, 10));
    assert.deepEqual(await suite.store.feeds.readFeedRows(feed.id, 10), rows.slice(9, 10));
    assert.deepEqual(await suite.store.feeds.readFeedRows(feed.id, 14), rows.slice(13, 20));
    assert.deepEqual(await suite.store.feeds.readFeedRows(feed.id, 21), rows.slice(20));
    assert.deepEqual(await suite.store.feeds.readFeedRows(feed.id, 26), [], 'past the end');
    assert.deepEqual(await suite.store.feeds.readFeedRows(987_654_321, 1), [], 'an unknown feed');
  });

  test('an empty append adds no chunk; a feed without rows completes empty', async () => {
    const account = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Empty feeds' });
    const writer = suite.store.feeds.openFeedWriter(account.id);
    await writer.append([]);
    await writer.append([feedRow(1, 'only@x.it')]);
    await writer.append([]);
    const one = await writer.complete();
    assert.deepEqual([one.totalRows, one.chunkCount], [1, 1]);
    assert.deepEqual(await suite.store.feeds.readFeedRows(one.id, 1), [feedRow(1, 'only@x.it')]);

    const empty = await suite.store.feeds.openFeedWriter(account.id).complete();
    assert.deepEqual([empty.totalRows, empty.chunkCount, empty.accountId], [0, 0, account.id]);
    assert.notEqual(empty.id, one.id);
    assert.deepEqual(await suite.store.feeds.readFeedRows(empty.id, 1), []);
  });

  test('an aborted feed is gone; aborting a writer that wrote nothing is harmless', async () => {
    const account = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Aborted feeds' });
    const writer = suite.store.feeds.openFeedWriter(account.id);
    await writer.append([feedRow(1, 'gone@x.it')]);
    await writer.append([feedRow(2, 'gone2@x.it')]);
    await writer.abort();
    const empty = suite.store.feeds.openFeedWriter(account.id);
    await empty.abort();
    assert.equal(await feedsOf(account.id), 0, 'nothing of either feed is left');
    const chunks = await suite.fx.db.query<{ n: number }>('SELECT count(*) AS n FROM feed_chunk c JOIN feed f ON f.id = c.feed_id WHERE f.account_id = ?', [account.id]);
    assert.equal(Number(chunks[0]!.n), 0);
  });

  test('two feeds written at once keep their own rows', async () => {
    const account = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Interleaved' });
    const [a, b] = [suite.store.feeds.openFeedWriter(account.id), suite.store.feeds.openFeedWriter(account.id)];
    await Promise.all([a.append([feedRow(1, 'a1@x.it'), feedRow(2, 'a2@x.it')]), b.append([feedRow(1, 'b1@x.it')])]);
    await Promise.all([a.append([feedRow(3, 'a3@x.it')]), b.append([feedRow(2, 'b2@x.it')])]);
    const [fa, fb] = await Promise.all([a.complete(), b.complete()]);
    assert.deepEqual([fa.totalRows, fa.chunkCount, fb.totalRows, fb.chunkCount], [3, 2, 2, 2]);
    assert.deepEqual((await suite.store.feeds.readFeedRows(fa.id, 1)).map((r) => r.email), ['a1@x.it', 'a2@x.it']);
    assert.deepEqual((await suite.store.feeds.readFeedRows(fa.id, 3)).map((r) => r.email), ['a3@x.it']);
    assert.deepEqual((await suite.store.feeds.readFeedRows(fb.id, 2)).map((r) => r.email), ['b2@x.it']);
    assert.equal(await feedsOf(account.id), 2);
  });

  test('an abandoned partial feed is removed with its chunks; one being written on another handle, and complete feeds, are kept', async () => {
    const [dead, alive] = await Promise.all(['Abandoned', 'Uploading'].map((name) => suite.store.accounts.createAccount({ passwordHash: 'h', name })));
    // A server that dies in the middle of an upload: its writer renews the lease no more.
    const dying = await suite.fx.open();
    const abandoned = dying.feeds.openFeedWriter(dead!.id, { leaseMs: 300 });
    await abandoned.append(rowsFrom(1, 3, 'dead'));
    await abandoned.append(rowsFrom(4, 2, 'dead'));
    await dying.close();
    // Another server, uploading all along: its writer renews a 2 s lease every 667 ms.
    const uploading = await suite.fx.open();
    const inProgress = uploading.feeds.openFeedWriter(alive!.id, { leaseMs: 2000 });
    await inProgress.append(rowsFrom(1, 2, 'alive'));
    const complete = await storeFeed(suite.store, dead!.id, rowsFrom(1, 4, 'whole'), 2);
    const [left] = (await storedFeeds(dead!.id)).filter((f) => f.complete === 0);
    assert.equal(left?.chunks, 2, 'the dead upload left its chunks');

    // Longer than either lease: the live one is renewed meanwhile, the dead one is not.
    await sleep(3000);
    assert.ok(await suite.store.feeds.deleteAbandonedFeeds() >= 1);
    assert.deepEqual(await storedFeeds(dead!.id), [{ id: complete.id, complete: 1, chunks: 2 }], 'only the complete feed is left');
    assert.equal(await chunksOf(left!.id), 0, 'no chunk of the abandoned feed is left');
    assert.deepEqual(await suite.store.feeds.readFeedRows(complete.id, 1), rowsFrom(1, 2, 'whole'));
    assert.deepEqual(await suite.store.feeds.readFeedRows(complete.id, 3), rowsFrom(3, 2, 'whole'));

    // The upload in progress goes on and completes whole.
    await inProgress.append(rowsFrom(3, 1, 'alive'));
    const whole = await inProgress.complete();
    assert.deepEqual([whole.totalRows, whole.chunkCount], [3, 2]);
    assert.deepEqual(await suite.store.feeds.readFeedRows(whole.id, 1), rowsFrom(1, 2, 'alive'));
    assert.deepEqual(await suite.store.feeds.readFeedRows(whole.id, 3), rowsFrom(3, 1, 'alive'));
    await sleep(2500);
    assert.equal(await suite.store.feeds.deleteAbandonedFeeds(), 0, 'a complete feed holds no lease that could run out');
    assert.deepEqual((await storedFeeds(alive!.id)).map((f) => [f.complete, f.chunks]), [[1, 2]]);
  });

  test('everyIncomplete removes every partial feed whatever its lease, never a complete one or one an import uses', async () => {
    const account = await suite.store.accounts.createAccount({ passwordHash: 'h', name: 'Restarted' });
    // Left by a server that stopped a moment ago: its lease has not run out yet.
    const stopped = await suite.fx.open();
    const partial = stopped.feeds.openFeedWriter(account.id, { leaseMs: 60_000 });
    await partial.append(rowsFrom(1, 2, 'left'));
    await partial.append(rowsFrom(3, 2, 'left'));
    await stopped.close();
    const complete = await storeFeed(suite.store, account.id, rowsFrom(1, 2, 'whole'));
    const [left] = (await storedFeeds(account.id)).filter((f) => f.complete === 0);
    assert.ok(left !== undefined && left.chunks > 0, 'the stopped upload left its chunks');
    assert.equal(await suite.store.feeds.deleteAbandonedFeeds(), 0, 'its lease still runs');
    assert.equal(await suite.store.feeds.deleteAbandonedFeeds({ everyIncomplete: true }), 1);
    assert.deepEqual(await storedFeeds(account.id), [{ id: complete.id, complete: 1, chunks: 1 }]);
    assert.equal(await chunksOf(left!.id), 0);
  });

  test('abortOpenFeeds deletes the partial feeds this handle is writing, not those of another handle, not complete ones', async () => {
    const [a, b] = await Promise.all(['Stopping', 'Other server'].map((name) => suite.store.accounts.createAccount({ passwordHash: 'h', name })));
    const other = await suite.fx.open();
    const mine = suite.store.feeds.openFeedWriter(a!.id);
    await mine.append(rowsFrom(1, 2, 'mine'));
    await mine.append(rowsFrom(3, 2, 'mine'));
    const nothingYet = suite.store.feeds.openFeedWriter(a!.id);
    const theirs = other.feeds.openFeedWriter(b!.id);
    await theirs.append(rowsFrom(1, 2, 'theirs'));
    const complete = await storeFeed(suite.store, a!.id, rowsFrom(1, 3, 'done'));
    const [partial] = (await storedFeeds(a!.id)).filter((f) => f.complete === 0);

    assert.equal(await suite.store.feeds.abortOpenFeeds(), 1);
    assert.deepEqual(await storedFeeds(a!.id), [{ id: complete.id, complete: 1, chunks: 1 }]);
    assert.equal(await chunksOf(partial!.id), 0);
    await assert.rejects(mine.append(rowsFrom(5, 1, 'mine')), FeedGoneError, 'the writer refuses further rows');
    await assert.rejects(mine.complete(), FeedGoneError);
    await mine.abort();
    await assert.rejects(nothingYet.append(rowsFrom(1, 1, 'late')), FeedGoneError, 'a writer that had stored nothing is stopped too');
    assert.equal(await feedsOf(a!.id), 1);
    assert.equal(await suite.store.feeds.abortOpenFeeds(), 0, 'nothing is left open');

    await theirs.append(rowsFrom(3, 1, 'theirs'));
    const whole = await theirs.complete();
    assert.deepEqual(await suite.store.feeds.readFeedRows(whole.id, 1), rowsFrom(1, 2, 'theirs'));
    assert.deepEqual(await suite.store.feeds.readFeedRows(complete.id, 1), rowsFrom(1, 3, 'done'));
  });
});
