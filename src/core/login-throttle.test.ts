import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginThrottle, type LoginTicket, type ThrottlePolicy, type Timer } from './login-throttle.ts';

const policy: ThrottlePolicy = {
  freeAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, forgetAfterMs: 60_000, maxKeys: 4, maxWaiting: 8, maxWaitMs: 5000,
};

/** A clock whose timers run only when the test moves time on. */
class FakeClock {
  now = 0;
  private timers: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;

  readonly timer: Timer = (run, ms) => {
    const t = { at: this.now + ms, seq: this.seq++, run };
    this.timers.push(t);
    return () => {
      this.timers = this.timers.filter((x) => x !== t);
    };
  };

  /** Lets pending promise continuations run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Moves time on by `ms`, running the timers that fall due in order. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    await this.settle();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = due.at;
      due.run();
      await this.settle();
    }
    this.now = end;
    await this.settle();
  }
}

function setUp(p: Partial<ThrottlePolicy> = {}): { clock: FakeClock; t: LoginThrottle } {
  const clock = new FakeClock();
  return { clock, t: new LoginThrottle({ ...policy, ...p }, () => clock.now, clock.timer) };
}

/** An attempt under way: its ticket (undefined while it waits, null when refused) and when (fake time) admit() answered. */
interface Attempt {
  ticket: LoginTicket | null | undefined;
  at: number | null;
}

function attempt(clock: FakeClock, t: LoginThrottle, user: string, ip: string, signal?: AbortSignal): Attempt {
  const a: Attempt = { ticket: undefined, at: null };
  void t.admit(user, ip, signal).then((ticket) => {
    a.ticket = ticket;
    a.at = clock.now;
  });
  return a;
}

/** The ticket of an attempt whose turn has come. */
function turn(a: Attempt): LoginTicket {
  assert.ok(a.ticket, 'the attempt has its turn');
  return a.ticket;
}

/** One attempt at a time: the delay each one waited before its turn came. */
async function oneAtATime(clock: FakeClock, t: LoginThrottle, user: string, ip: string, n: number, success = false): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = clock.now;
    const a = attempt(clock, t, user, ip);
    while (a.ticket === undefined) await clock.advance(10);
    delays.push(a.at! - started);
    turn(a).settle(success);
  }
  return delays;
}

test('delays grow after the free attempts, per user and per address, up to the cap', async () => {
  const { clock, t } = setUp();
  assert.deepEqual(await oneAtATime(clock, t, 'a1001', '10.0.0.1', 8), [0, 0, 0, 100, 200, 400, 800, 1000]);
  // The same user from elsewhere is slowed (user key); another user from elsewhere is not.
  assert.equal(t.delayFor('a1001', '10.0.0.2'), 1000);
  assert.equal(t.delayFor('a2002', '10.0.0.2'), 0);
  // Guessing from one address slows every user tried from it, but nobody else.
  assert.equal(t.delayFor('a2002', '10.0.0.1'), 1000);
  // Forgotten after a quiet period; cleared by a success.
  await clock.advance(61_000);
  assert.equal(t.delayFor('a1001', '10.0.0.1'), 0);
  await oneAtATime(clock, t, 'a3003', '10.0.0.3', 5);
  assert.ok(t.delayFor('a3003', '10.0.0.4') > 0);
  await oneAtATime(clock, t, 'a3003', '10.0.0.5', 1, true);
  assert.equal(t.delayFor('a3003', '10.0.0.4'), 0, 'the user is cleared');
  assert.ok(t.delayFor('a3003', '10.0.0.3') > 0, 'the address is not');
  assert.equal(t.delayFor('a9009', '10.0.0.5'), 0, 'the success did not count against its own address');
});

test('remembers a bounded number of keys, and no turn once nobody is trying', async () => {
  const { clock, t } = setUp();
  for (let i = 0; i < 10; i++) await oneAtATime(clock, t, `u${i}`, `ip${i}`, 4);
  assert.equal(t.delayFor('u0', 'ip0'), 0, 'the oldest records were dropped');
  assert.equal(t.delayFor('u9', 'ip9'), 200, 'four failures: one over the free three');
  assert.deepEqual(t.load, { keys: 0, waiting: 0 });
});

test('parallel attempts for one user from one address are checked one at a time, each after the delay one at a time gets', async () => {
  const { clock, t } = setUp();
  const sequential = await oneAtATime(clock, t, 'a1001', '10.0.0.1', 8);
  const { clock: c2, t: t2 } = setUp();
  const attempts = Array.from({ length: 8 }, () => attempt(c2, t2, 'a1001', '10.0.0.1'));
  let settledAt = 0;
  for (let i = 0; i < attempts.length; i++) {
    const granted = (): number => attempts.filter((a) => a.ticket).length;
    while (granted() <= i) await c2.advance(10);
    assert.equal(granted(), i + 1, 'never two attempts in their turn at once');
    const current = attempts[i]!;
    assert.ok(current.ticket, 'in arrival order');
    assert.equal(current.at! - settledAt, sequential[i], `attempt ${i + 1} waited as long as one at a time`);
    // Counted when its turn came, before its check ends: the next delay already includes it.
    assert.equal(t2.delayFor('a1001', '10.0.0.2'), sequential[i + 1] ?? 1000);
    await c2.advance(5); // the password check
    turn(current).settle(false);
    settledAt = c2.now;
  }
  assert.deepEqual(t2.load, { keys: 0, waiting: 0 });
});

test('a held turn makes the same user from elsewhere and the same address for another user wait; others go at once', async () => {
  const { clock, t } = setUp();
  const first = attempt(clock, t, 'a1001', '10.0.0.1');
  await clock.settle();
  assert.ok(first.ticket);
  const sameUser = attempt(clock, t, 'a1001', '10.0.0.2');
  const sameAddress = attempt(clock, t, 'a2002', '10.0.0.1');
  const other = attempt(clock, t, 'a3003', '10.0.0.3');
  await clock.settle();
  assert.ok(sameUser.ticket === undefined);
  assert.ok(sameAddress.ticket === undefined);
  assert.ok(other.ticket, 'another user from another address is not held up');
  turn(other).settle(false);
  turn(first).settle(true);
  await clock.settle();
  assert.ok(sameUser.ticket && sameAddress.ticket, 'both go once the first has its outcome');
  turn(sameUser).settle(false);
  turn(sameAddress).settle(false);
});

test('a success in its turn clears the user for the attempts waiting behind it', async () => {
  const { clock, t } = setUp();
  await oneAtATime(clock, t, 'a1001', '10.0.0.9', 6); // 1000 ms from now on for a1001
  const right = attempt(clock, t, 'a1001', '10.0.0.1');
  const next = attempt(clock, t, 'a1001', '10.0.0.2');
  await clock.advance(1000);
  assert.ok(right.ticket);
  turn(right).settle(true);
  await clock.settle();
  assert.ok(next.ticket, 'its delay is worked out when its turn comes: the user is clear by then');
  turn(next).settle(false);
});

test('a line is bounded: past maxWaiting an attempt is refused at once and not counted', async () => {
  const { clock, t } = setUp({ maxWaiting: 3, freeAttempts: 4 });
  const attempts = Array.from({ length: 6 }, () => attempt(clock, t, 'a1001', '10.0.0.1'));
  await clock.settle();
  assert.deepEqual(attempts.map((a) => a.ticket === undefined ? 'waiting' : a.ticket === null ? 'refused' : 'turn'),
    ['turn', 'waiting', 'waiting', 'waiting', 'refused', 'refused']);
  assert.deepEqual(t.load, { keys: 2, waiting: 3 });
  for (let i = 0; i < 4; i++) {
    await clock.settle();
    turn(attempts[i]!).settle(false);
  }
  assert.deepEqual(t.load, { keys: 0, waiting: 0 });
  assert.equal(t.delayFor('a1001', '10.0.0.2'), 100, 'four failures counted (the free four), not six');
});

test('in a full line, an attempt from an address that has not been guessing takes the place of one that has', async () => {
  const { clock, t } = setUp({ maxWaiting: 2, freeAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, maxKeys: 100 });
  // Two guessing addresses with failures, each with an attempt for a1001.
  await oneAtATime(clock, t, 'z', '10.0.0.1', 3);
  await oneAtATime(clock, t, 'z', '10.0.0.2', 3);
  const held = attempt(clock, t, 'a1001', '10.0.0.3');
  await clock.advance(20);
  assert.ok(held.ticket);
  const g1 = attempt(clock, t, 'a1001', '10.0.0.1');
  const g2 = attempt(clock, t, 'a1001', '10.0.0.2');
  await clock.settle();
  assert.deepEqual(t.load.waiting, 2);
  const right = attempt(clock, t, 'a1001', '10.0.0.4');
  await clock.settle();
  assert.ok(right.ticket === undefined, 'the newcomer waits');
  assert.ok(g2.ticket === null, 'the last of the guessing attempts made room for it');
  turn(held).settle(false);
  await clock.advance(20);
  assert.ok(right.ticket, 'and goes first');
  assert.ok(g1.ticket === undefined);
  turn(right).settle(true);
  await clock.advance(20);
  assert.ok(g1.ticket);
  turn(g1).settle(false);
  // A newcomer that would not go first is refused when the line is full.
  const { clock: c2, t: t2 } = setUp({ maxWaiting: 1 });
  const a = attempt(c2, t2, 'a1001', '10.0.0.1');
  const b = attempt(c2, t2, 'a1001', '10.0.0.2');
  const c = attempt(c2, t2, 'a1001', '10.0.0.3');
  await c2.settle();
  assert.ok(a.ticket);
  assert.ok(b.ticket === undefined);
  assert.ok(c.ticket === null);
  turn(a).settle(false);
  await c2.settle();
  turn(b).settle(false);
});

test('no attempt waits for its turn longer than maxWaitMs, and one whose client went away leaves the line', async () => {
  const { clock, t } = setUp({ maxWaitMs: 3000, freeAttempts: 1 });
  const held = attempt(clock, t, 'a1001', '10.0.0.1');
  await clock.settle();
  const late = attempt(clock, t, 'a1001', '10.0.0.1');
  const gone = new AbortController();
  const leaving = attempt(clock, t, 'a1001', '10.0.0.2', gone.signal);
  await clock.advance(1000);
  gone.abort();
  await clock.settle();
  assert.ok(leaving.ticket === null);
  assert.ok(late.ticket === undefined);
  await clock.advance(2000);
  assert.ok(late.ticket === null, 'refused after waiting 3 s');
  assert.deepEqual(t.load, { keys: 2, waiting: 0 });
  turn(held).settle(false);
  assert.deepEqual(t.load, { keys: 0, waiting: 0 });
  assert.equal(t.delayFor('a1001', '10.0.0.3'), 100, 'only the attempt that was checked counts: one failure, the free one used');
  // A client that goes away during its delay is not counted either, and frees the turn.
  await oneAtATime(clock, t, 'a1001', '10.0.0.1', 3);
  const before = t.delayFor('a1001', '10.0.0.1');
  const goes = new AbortController();
  const slow = attempt(clock, t, 'a1001', '10.0.0.1', goes.signal);
  await clock.advance(50);
  goes.abort();
  await clock.settle();
  assert.ok(slow.ticket === null);
  assert.equal(t.delayFor('a1001', '10.0.0.1'), before);
  assert.deepEqual(t.load, { keys: 0, waiting: 0 });
});

test('an attempt counts before its check ends, and a success takes the count back from the address', async () => {
  const { clock, t } = setUp({ freeAttempts: 1 });
  const a = attempt(clock, t, 'a1001', '10.0.0.1');
  await clock.settle();
  assert.equal(t.delayFor('a1001', '10.0.0.2'), 100, 'the user counts one failure while the password is checked');
  assert.equal(t.delayFor('a2002', '10.0.0.1'), 100, 'and so does the address');
  turn(a).settle(true);
  assert.equal(t.delayFor('a1001', '10.0.0.2'), 0);
  assert.equal(t.delayFor('a2002', '10.0.0.1'), 0);
  turn(a).settle(false); // a second settle changes nothing
  assert.equal(t.delayFor('a2002', '10.0.0.1'), 0);
});
