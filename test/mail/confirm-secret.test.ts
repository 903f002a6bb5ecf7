/**
 * The confirm-link secret kept in the store TEST_STORE names (npm test runs it on both): made
 * once, the same from every handle and after reopening the database. The token itself is checked
 * without a store in src/mail/confirm-token.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfirmSecret, signConfirmToken, verifyConfirmToken, type ConfirmClaims } from '../../src/mail/confirm-token.ts';
import { storeFixture } from '../store/store-fixture.ts';

const now = new Date('2030-01-01T00:00:00Z');
const claims: ConfirmClaims = { requestId: 41, recipientId: 7, listId: 3, expiresAt: new Date('2030-01-08T00:00:00Z') };

test('the secret is created once and persisted in the store', async () => {
  const fx = await storeFixture();
  try {
    let store = fx.store;
    const first = await loadConfirmSecret(store);
    assert.equal(first.length, 32);
    assert.deepEqual(await loadConfirmSecret(store), first, 'same secret on a second call');
    assert.deepEqual(await loadConfirmSecret(await fx.open()), first, 'same secret from another handle (another process)');
    await store.close();
    store = await fx.open();
    assert.deepEqual(await loadConfirmSecret(store), first, 'same secret after reopening the database');
    const token = signConfirmToken(first, claims);
    assert.equal(verifyConfirmToken(await loadConfirmSecret(store), token, now).ok, true);
  } finally {
    await fx.close();
  }
});

test('handles that make the secret at the same moment all get the one secret', async () => {
  const fx = await storeFixture();
  try {
    const handles = [fx.store, await fx.open(), await fx.open()];
    const secrets = await Promise.all(handles.flatMap((h) => [loadConfirmSecret(h), loadConfirmSecret(h)]));
    for (const s of secrets) assert.deepEqual(s, secrets[0]);
  } finally {
    await fx.close();
  }
});
