import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { signConfirmToken, verifyConfirmToken, type ConfirmClaims } from './confirm-token.ts';

const secret = randomBytes(32);
const now = new Date('2030-01-01T00:00:00Z');
const claims: ConfirmClaims = { requestId: 41, recipientId: 7, listId: 3, expiresAt: new Date('2030-01-08T00:00:00Z') };

test('a signed token verifies and gives back its claims', () => {
  const token = signConfirmToken(secret, claims);
  assert.match(token, /^[A-Za-z0-9_-]{38}\.[A-Za-z0-9_-]{43}$/, 'base64url, URL-safe as it is');
  assert.deepEqual(verifyConfirmToken(secret, token, now), { ok: true, claims });
});

test('an expired token is refused as expired, from its expiry instant on', () => {
  const token = signConfirmToken(secret, claims);
  assert.deepEqual(verifyConfirmToken(secret, token, claims.expiresAt), { ok: false, reason: 'expired', claims });
  assert.equal(verifyConfirmToken(secret, token, new Date(claims.expiresAt.getTime() - 1000)).ok, true);
});

test('claims changed under the original signature are refused', () => {
  const [, mac] = signConfirmToken(secret, claims).split('.');
  const forgeries: ConfirmClaims[] = [
    { ...claims, recipientId: 8 }, { ...claims, listId: 4 }, { ...claims, requestId: 42 },
    { ...claims, expiresAt: new Date('2031-01-01T00:00:00Z') },
  ];
  for (const forged of forgeries) {
    const [claimsPart] = signConfirmToken(randomBytes(32), forged).split('.');
    assert.deepEqual(verifyConfirmToken(secret, `${claimsPart}.${mac}`, now), { ok: false, reason: 'invalid' }, JSON.stringify(forged));
  }
});

test('tokens stay short enough for a path parameter (100 characters) whatever the ids', () => {
  const big = signConfirmToken(secret, { requestId: Number.MAX_SAFE_INTEGER, recipientId: Number.MAX_SAFE_INTEGER, listId: 2 ** 40, expiresAt: claims.expiresAt });
  assert.equal(big.length, 82);
  assert.equal(signConfirmToken(secret, claims).length, 82);
  assert.deepEqual(verifyConfirmToken(secret, big, now), {
    ok: true, claims: { requestId: Number.MAX_SAFE_INTEGER, recipientId: Number.MAX_SAFE_INTEGER, listId: 2 ** 40, expiresAt: claims.expiresAt },
  });
});

test('a token signed with another secret, or a bare HMAC without the purpose, is refused', () => {
  assert.deepEqual(verifyConfirmToken(randomBytes(32), signConfirmToken(secret, claims), now), { ok: false, reason: 'invalid' });
  const [claimsPart] = signConfirmToken(secret, claims).split('.');
  const bare = `${claimsPart}.${createHmac('sha256', secret).update(Buffer.from(claimsPart!, 'base64url')).digest('base64url')}`;
  assert.deepEqual(verifyConfirmToken(secret, bare, now), { ok: false, reason: 'invalid' });
});

test('any single-character change of a token is refused', () => {
  const token = signConfirmToken(secret, claims);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
  fc.assert(fc.property(fc.nat(token.length - 1), fc.constantFrom(...alphabet), (i, c) => {
    const changed = token.slice(0, i) + c + token.slice(i + 1);
    fc.pre(changed !== token);
    assert.equal(verifyConfirmToken(secret, changed, now).ok, false);
  }), { numRuns: 500 });
});

test('garbage is refused as invalid and never throws', () => {
  for (const t of ['', '.', 'abc', 'a.b', `${'A'.repeat(5000)}.x`, '%2e%2e', 'MS4yLjMuNA.', 'MS4yLjMuNA']) {
    assert.deepEqual(verifyConfirmToken(secret, t, now), { ok: false, reason: 'invalid' }, t);
  }
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (t) => {
    assert.equal(verifyConfirmToken(secret, t, now).ok, false);
  }), { numRuns: 300 });
});

// The secret kept in the store (loadConfirmSecret): test/mail/confirm-secret.test.ts, on both stores.
