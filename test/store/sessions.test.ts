/**
 * The SessionStore contract (src/store/sessions.ts), run against the adapter TEST_STORE names
 * (npm test runs it on both): console sessions, kept by the hash of their cookie, found only
 * while they have not expired and only with a user of the session's own account.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ConsoleUser } from '../../src/model/records.ts';
import type { NewConsoleSession } from '../../src/store/sessions.ts';
import { contractSuite, unique, unwrap } from './store-fixture.ts';

const suite = contractSuite('sessions');

const T0 = new Date('2031-05-01T08:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const HOUR = 3600_000;

async function consoleUser(): Promise<ConsoleUser> {
  const raw = unwrap(suite.store);
  const account = await raw.accounts.createAccount({ passwordHash: 'h', name: unique('Sessions') });
  return raw.accounts.createConsoleUser(account.id, 'alice', 'user-hash', null);
}

const newSession = (user: ConsoleUser, expiresAt: Date, extra: Partial<NewConsoleSession> = {}): NewConsoleSession => ({
  idHash: randomBytes(32).toString('hex'), userId: user.id, accountId: user.accountId, csrfToken: randomBytes(24).toString('base64url'),
  expiresAt, ip: '192.0.2.7', userAgent: 'Mozilla/5.0 (test) "quoted" é', ...extra,
});

describe('console sessions', () => {
  test('a session is found by its hash with its user until it expires', async () => {
    const user = await consoleUser();
    const session = newSession(user, at(12 * HOUR));
    const before = Date.now();
    await suite.store.sessions.createConsoleSession(session);
    const found = await suite.store.sessions.findConsoleSession(session.idHash, T0);
    assert.ok(found);
    assert.deepEqual(found.user, user);
    const { createdAt, lastSeenAt, ...rest } = found.session;
    assert.deepEqual(rest, session);
    assert.ok(createdAt instanceof Date && lastSeenAt instanceof Date);
    assert.ok(Math.abs(createdAt.getTime() - before) < 60_000, `created at ${createdAt.toISOString()}`);
    assert.ok((await suite.store.sessions.findConsoleSession(session.idHash, at(12 * HOUR - 1))) !== null, 'a millisecond before it expires');
    assert.equal(await suite.store.sessions.findConsoleSession(session.idHash, at(12 * HOUR)), null, 'expired at its expiry instant');
    assert.equal(await suite.store.sessions.findConsoleSession(session.idHash, at(13 * HOUR)), null);
    assert.equal(await suite.store.sessions.findConsoleSession(randomBytes(32).toString('hex'), T0), null, 'an unknown hash');
    assert.equal(await suite.store.sessions.findConsoleSession(session.csrfToken, T0), null);
  });

  test('touching a session moves its expiry and when it was last seen', async () => {
    const user = await consoleUser();
    const session = newSession(user, at(HOUR));
    await suite.store.sessions.createConsoleSession(session);
    await suite.store.sessions.touchConsoleSession(session.idHash, at(3 * HOUR), at(30 * 60_000));
    const found = await suite.store.sessions.findConsoleSession(session.idHash, at(2 * HOUR));
    assert.ok(found, 'still valid after the old expiry');
    assert.deepEqual([found.session.expiresAt, found.session.lastSeenAt], [at(3 * HOUR), at(30 * 60_000)]);
    assert.deepEqual([found.session.csrfToken, found.session.userId], [session.csrfToken, user.id], 'the rest is kept');
    assert.equal(await suite.store.sessions.findConsoleSession(session.idHash, at(3 * HOUR)), null);
    await suite.store.sessions.touchConsoleSession(randomBytes(32).toString('hex'), at(3 * HOUR), T0);
  });

  test('a deleted session is gone; deleting expired ones removes exactly those and counts them', async () => {
    const user = await consoleUser();
    const [gone, kept] = [newSession(user, at(HOUR)), newSession(user, at(HOUR))];
    await suite.store.sessions.createConsoleSession(gone);
    await suite.store.sessions.createConsoleSession(kept);
    await suite.store.sessions.deleteConsoleSession(gone.idHash);
    assert.equal(await suite.store.sessions.findConsoleSession(gone.idHash, T0), null);
    assert.ok(await suite.store.sessions.findConsoleSession(kept.idHash, T0), 'the other session stays');
    await suite.store.sessions.deleteConsoleSession(gone.idHash);

    // Far in the future: only this test's sessions expire before it.
    const future = new Date('2099-01-01T00:00:00.000Z');
    const far = (ms: number): Date => new Date(future.getTime() + ms);
    const expiring = [newSession(user, far(-2000)), newSession(user, far(-1000)), newSession(user, far(0))];
    const staying = newSession(user, far(1000));
    for (const s of [...expiring, staying]) await suite.store.sessions.createConsoleSession(s);
    const n = await suite.store.sessions.deleteExpiredConsoleSessions(future);
    assert.ok(n >= 3, `${n} deleted`);
    for (const s of expiring) assert.equal(await suite.store.sessions.findConsoleSession(s.idHash, far(-5000)), null, 'an expired session is deleted');
    assert.ok(await suite.store.sessions.findConsoleSession(staying.idHash, future), 'a session that has not expired stays');
    assert.equal(await suite.store.sessions.deleteExpiredConsoleSessions(future), 0, 'none left to delete');
  });

  test("ending a user's sessions ends all of them but the one kept, and no one else's", async () => {
    const user = await consoleUser();
    const other = await consoleUser();
    const [first, second, kept] = [newSession(user, at(HOUR)), newSession(user, at(HOUR)), newSession(user, at(HOUR))];
    const bystander = newSession(other, at(HOUR));
    for (const s of [first, second, kept, bystander]) await suite.store.sessions.createConsoleSession(s);
    assert.equal(await suite.store.sessions.deleteConsoleSessionsOfUser(user.accountId, user.id, { except: kept.idHash }), 2);
    assert.equal(await suite.store.sessions.findConsoleSession(first.idHash, T0), null);
    assert.equal(await suite.store.sessions.findConsoleSession(second.idHash, T0), null);
    assert.ok(await suite.store.sessions.findConsoleSession(kept.idHash, T0), 'the kept session stays');
    assert.ok(await suite.store.sessions.findConsoleSession(bystander.idHash, T0), "another user's session stays");
    assert.equal(await suite.store.sessions.deleteConsoleSessionsOfUser(other.accountId + 1_000_000, other.id), 0, 'the account must match');
    assert.equal(await suite.store.sessions.deleteConsoleSessionsOfUser(user.accountId, user.id), 1, 'without except, every one');
    assert.equal(await suite.store.sessions.findConsoleSession(kept.idHash, T0), null);
  });

  test('the session of a disabled user is not found; enabled again, it is', async () => {
    const user = await consoleUser();
    const session = newSession(user, at(HOUR));
    await suite.store.sessions.createConsoleSession(session);
    const raw = unwrap(suite.store);
    assert.equal((await raw.accounts.updateConsoleUser(user.accountId, user.id, { enabled: false })).ok, true);
    assert.equal(await suite.store.sessions.findConsoleSession(session.idHash, T0), null);
    await raw.accounts.updateConsoleUser(user.accountId, user.id, { enabled: true });
    assert.deepEqual((await suite.store.sessions.findConsoleSession(session.idHash, T0))?.user, { ...user, enabled: true });
  });

  test("a session never reaches a user of another account", async () => {
    const mine = await consoleUser();
    const theirs = await consoleUser();
    const crossed = newSession(mine, at(HOUR), { accountId: theirs.accountId });
    await suite.store.sessions.createConsoleSession(crossed);
    assert.equal(await suite.store.sessions.findConsoleSession(crossed.idHash, T0), null);
  });
});
