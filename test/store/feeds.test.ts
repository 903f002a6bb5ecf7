/**
 * The FeedStore contract (src/store/feeds.ts), run against the adapter TEST_STORE names (npm test
 * runs it on both): a feed written in chunks while it is read, and read back in row order, every
 * value exactly as stored.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contractSuite, feedRow } from './store-fixture.ts';

const suite = contractSuite('feeds');

const feedsOf = async (accountId: number): Promise<number> =>
  Number((await suite.fx.db.query<{ n: number }>('SELECT count(*) AS n FROM feed WHERE account_id = ?', [accountId]))[0]!.n);

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
});
