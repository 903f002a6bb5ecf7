/**
 * The OAuthStore contract (src/store/oauth.ts), run against the adapter TEST_STORE names (npm test
 * runs it on both): REST clients kept by the hash of their secret, unique ids across accounts;
 * token pairs found by the hash of their access token with their account as stored now; a
 * refresh token consumed once, only by its own client and before it expires; revocation per
 * account and per client; the sweep of pairs that can no longer be used.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { NewTokenPair } from '../../src/store/oauth.ts';
import { contractSuite, unique, unwrap } from './store-fixture.ts';

const suite = contractSuite('oauth');

const T0 = new Date('2031-05-01T08:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const HOUR = 3600_000;
const hash = (): string => randomBytes(32).toString('hex');

async function account(): Promise<number> {
  return (await unwrap(suite.store).accounts.createAccount({ passwordHash: 'h', name: unique('OAuth') })).id;
}

async function client(accountId: number, name = 'shop'): Promise<string> {
  const clientId = randomUUID();
  await unwrap(suite.store).oauth.createRestClient(accountId, { clientId, secretHash: hash(), name });
  return clientId;
}

const pair = (accountId: number, clientId: string, extra: Partial<NewTokenPair> = {}): NewTokenPair => ({
  accessHash: hash(), refreshHash: hash(), accountId, clientId, accessExpiresAt: at(HOUR), refreshExpiresAt: at(720 * HOUR), ...extra,
});

describe('REST clients', () => {
  test('a client is kept with its account, name and secret hash, found by id whatever its account, listed oldest first', async () => {
    const [mine, theirs] = [await account(), await account()];
    const first = { clientId: randomUUID(), secretHash: hash(), name: 'Shop "é" <x>' };
    const before = Date.now();
    const created = await suite.store.oauth.createRestClient(mine, first);
    assert.deepEqual({ ...created, createdAt: null }, { ...first, accountId: mine, createdAt: null });
    assert.ok(Math.abs(created.createdAt.getTime() - before) < 60_000);
    const second = await suite.store.oauth.createRestClient(mine, { clientId: randomUUID(), secretHash: hash(), name: '' });
    await suite.store.oauth.createRestClient(theirs, { clientId: randomUUID(), secretHash: hash(), name: 'other' });
    assert.deepEqual((await suite.store.oauth.listRestClients(mine)).map((c) => c.clientId), [created.clientId, second.clientId]);
    assert.deepEqual(await suite.store.oauth.findRestClient(created.clientId), created);
    assert.equal(await suite.store.oauth.findRestClient(randomUUID()), null);
    assert.equal(await suite.store.oauth.findRestClient('bad\u0000id'), null, 'an id no database can hold names no client');
    assert.deepEqual(await suite.store.oauth.listRestClients(await account()), []);
  });

  test('a client id is unique across accounts', async () => {
    const id = await client(await account());
    await assert.rejects(suite.store.oauth.createRestClient(await account(), { clientId: id, secretHash: hash(), name: '' }));
  });

  test("deleting a client takes its tokens with it and keeps to the account's own clients", async () => {
    const [mine, theirs] = [await account(), await account()];
    const [gone, kept] = [await client(mine), await client(mine)];
    const [p1, p2] = [pair(mine, gone), pair(mine, kept)];
    await suite.store.oauth.saveTokenPair(p1);
    await suite.store.oauth.saveTokenPair(p2);
    assert.equal(await suite.store.oauth.deleteRestClient(theirs, gone), false, "another account's client");
    assert.ok(await suite.store.oauth.findRestClient(gone));
    assert.equal(await suite.store.oauth.deleteRestClient(mine, gone), true);
    assert.equal(await suite.store.oauth.findRestClient(gone), null);
    assert.equal(await suite.store.oauth.findAccessToken(p1.accessHash), null, "the client's tokens are gone");
    assert.ok(await suite.store.oauth.findAccessToken(p2.accessHash), "another client's tokens stay");
    assert.equal(await suite.store.oauth.deleteRestClient(mine, gone), false, 'already deleted');
    assert.equal(await suite.store.oauth.deleteRestClient(mine, 'x\u0000'), false);
  });
});

describe('token pairs', () => {
  test('an access token is found by its hash with its client, expiry and the account as stored now, expired or not', async () => {
    const a = await account();
    const c = await client(a);
    const p = pair(a, c, { accessExpiresAt: at(-1) });
    await suite.store.oauth.saveTokenPair(p);
    const found = await suite.store.oauth.findAccessToken(p.accessHash);
    assert.ok(found);
    assert.deepEqual([found.clientId, found.expiresAt, found.account.id, found.account.wsEnabled], [c, at(-1), a, true]);
    await unwrap(suite.store).accounts.updateAccount(a, { wsEnabled: false });
    assert.equal((await suite.store.oauth.findAccessToken(p.accessHash))?.account.wsEnabled, false, 'the account as it is now');
    assert.equal(await suite.store.oauth.findAccessToken(p.refreshHash), null, 'a refresh token is not an access token');
    assert.equal(await suite.store.oauth.findAccessToken(hash()), null);
  });

  test('a refresh token is taken once, by its own client, before it expires; taking it deletes the pair', async () => {
    const a = await account();
    const [c, other] = [await client(a), await client(a)];
    const p = pair(a, c, { refreshExpiresAt: at(HOUR) });
    await suite.store.oauth.saveTokenPair(p);
    assert.equal(await suite.store.oauth.takeRefreshToken(p.refreshHash, other, T0), null, "another client's");
    assert.equal(await suite.store.oauth.takeRefreshToken(p.refreshHash, 'x\u0000', T0), null);
    assert.equal(await suite.store.oauth.takeRefreshToken(p.refreshHash, c, at(HOUR)), null, 'expired at its expiry instant');
    assert.equal(await suite.store.oauth.takeRefreshToken(p.accessHash, c, T0), null, 'an access token is not a refresh token');
    assert.ok(await suite.store.oauth.findAccessToken(p.accessHash), 'refused attempts change nothing');
    assert.deepEqual(await suite.store.oauth.takeRefreshToken(p.refreshHash, c, at(HOUR - 1)), { accountId: a });
    assert.equal(await suite.store.oauth.findAccessToken(p.accessHash), null, 'the access token of the pair went with it');
    assert.equal(await suite.store.oauth.takeRefreshToken(p.refreshHash, c, T0), null, 'a used refresh token is refused');
  });

  test('two concurrent takes of one refresh token: exactly one gets the account', async () => {
    const a = await account();
    const c = await client(a);
    const p = pair(a, c);
    await suite.store.oauth.saveTokenPair(p);
    const second = await suite.fx.open();
    const results = await Promise.all([suite.store.oauth.takeRefreshToken(p.refreshHash, c, T0), second.oauth.takeRefreshToken(p.refreshHash, c, T0)]);
    assert.equal(results.filter((r) => r !== null).length, 1, JSON.stringify(results));
  });

  test("revoking an account's tokens deletes every pair of that account only, and counts them", async () => {
    const [mine, theirs] = [await account(), await account()];
    const [c1, c2, c3] = [await client(mine), await client(mine), await client(theirs)];
    const pairs = [pair(mine, c1), pair(mine, c1), pair(mine, c2)];
    const other = pair(theirs, c3);
    for (const p of [...pairs, other]) await suite.store.oauth.saveTokenPair(p);
    assert.equal(await suite.store.oauth.revokeAccountTokens(mine), 3);
    for (const p of pairs) assert.equal(await suite.store.oauth.findAccessToken(p.accessHash), null);
    assert.ok(await suite.store.oauth.findAccessToken(other.accessHash));
    assert.equal(await suite.store.oauth.revokeAccountTokens(mine), 0);
  });

  test('the sweep deletes the pairs whose access and refresh tokens have both expired', async () => {
    const a = await account();
    const c = await client(a);
    // Far in the future: only this test's pairs are past it.
    const future = new Date('2099-01-01T00:00:00.000Z');
    const far = (ms: number): Date => new Date(future.getTime() + ms);
    const spent = pair(a, c, { accessExpiresAt: far(-2000), refreshExpiresAt: far(0) });
    const refreshable = pair(a, c, { accessExpiresAt: far(-2000), refreshExpiresAt: far(1000) });
    const usable = pair(a, c, { accessExpiresAt: far(1000), refreshExpiresAt: far(-1000) });
    for (const p of [spent, refreshable, usable]) await suite.store.oauth.saveTokenPair(p);
    assert.ok(await suite.store.oauth.deleteExpiredTokens(future) >= 1);
    assert.equal(await suite.store.oauth.findAccessToken(spent.accessHash), null);
    assert.ok(await suite.store.oauth.findAccessToken(refreshable.accessHash), 'its refresh token still works');
    assert.ok(await suite.store.oauth.findAccessToken(usable.accessHash), 'its access token still works');
    assert.equal(await suite.store.oauth.deleteExpiredTokens(future), 0);
  });

  test('an access or refresh hash is unique', async () => {
    const a = await account();
    const c = await client(a);
    const p = pair(a, c);
    await suite.store.oauth.saveTokenPair(p);
    await assert.rejects(suite.store.oauth.saveTokenPair(pair(a, c, { accessHash: p.accessHash })));
    await assert.rejects(suite.store.oauth.saveTokenPair(pair(a, c, { refreshHash: p.refreshHash })));
  });
});
