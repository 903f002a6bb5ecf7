import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialCache } from './credential-cache.ts';

test('a remembered password matches only with the same hash, and a hit extends it', async () => {
  const cache = new CredentialCache(50);
  cache.remember('a1001', 'secret', 'hash-1');
  assert.equal(cache.matches('a1001', 'secret', 'hash-1'), true);
  assert.equal(cache.matches('a1001', 'other', 'hash-1'), false);
  assert.equal(cache.matches('a1001', 'secret', 'hash-2'), false, 'a password change invalidates the entry');
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(cache.matches('a1001', 'secret', 'hash-1'), true, 'kept alive by use');
  }
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(cache.matches('a1001', 'secret', 'hash-1'), false, 'expired when unused');
});

test('concurrent verifications of one password run once', async () => {
  const cache = new CredentialCache();
  let runs = 0;
  const verify = async () => {
    runs++;
    await new Promise((r) => setTimeout(r, 20));
    return true;
  };
  const results = await Promise.all(Array.from({ length: 50 }, () => cache.verifyOnce('a1001', 'secret', 'h', verify)));
  assert.deepEqual(new Set(results), new Set([true]));
  assert.equal(runs, 1);
  await cache.verifyOnce('a1001', 'wrong', 'h', async () => false);
  assert.equal(await cache.verifyOnce('a1001', 'secret', 'h', verify), true);
  assert.equal(runs, 2, 'a finished verification is not reused: the cache entry is');
});
