/**
 * Independent, table-driven tests for the subscription rules (spec §9, with §7.2 for the parameters).
 *
 * Every expected outcome below was derived from the spec text and the project decisions listed here, NOT from
 * the implementation. Nothing in this file computes an expectation: the exhaustive table is written out row by
 * row, and the parser only turns the text into objects.
 *
 * Reading of the spec used for the table (per prior state):
 * - none (new recipient, §9.2): subscribed by default; ConfirmEmail → pending + request; asOptOut → unsubscribed
 *   ("regardless"). asPending and forceOptIn concern existing pending / unsubscribed recipients only.
 * - subscribed (§9.1 rows "subscribed → pending", "subscribed → unsubscribed"; §9.2): unchanged by default;
 *   ConfirmEmail → pending + request; asOptOut → unsubscribed. asPending / forceOptIn do not concern them.
 * - pending (§9.1 rows "pending → subscribed", "pending → unsubscribed"; §7.2 asOptOut "to unsubscribe pending
 *   ones too, also set asPending"; §9.1 note "confirmation email goes to … previously pending"): unchanged by
 *   default; asPending → subscribed; asPending + asOptOut → unsubscribed; asOptOut alone does nothing;
 *   ConfirmEmail → stays pending with a new request (unless asPending + asOptOut, which unsubscribes).
 * - unsubscribed (§9.1 rows "unsubscribed → subscribed / pending"; §7.2 forceOptIn): unchanged unless
 *   forceOptIn; forceOptIn → subscribed; forceOptIn + ConfirmEmail → pending + request (asPending ignored).
 *   Never for hard-bounce or complaint unsubscribes.
 *
 * Project decisions for combinations the spec leaves open (given):
 * - asOptOut wins over ConfirmEmail (new or subscribed + asOptOut + ConfirmEmail → unsubscribed, no request);
 * - unsubscribed + forceOptIn + asOptOut → stays unsubscribed (unchanged);
 * - pending + ConfirmEmail (and not asOptOut+asPending) → stays pending with a NEW request (changed = true);
 * - a new unsubscribe made by the import has reason 'import'; an unchanged unsubscribed keeps its prior reason;
 * - changed is true exactly when the status changes or a confirmation request is queued;
 * - replaceGroups never affects the status.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applySubscriptionRules } from './subscription-rules.ts';
import type { ImportFlags, RuleOutcome } from './subscription-rules.ts';
import type { PriorState, SubscriptionStatus, UnsubscribeReason } from '../model/subscription.ts';

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const PRIORS: Readonly<Record<string, PriorState>> = {
  none: { status: 'none' },
  subscribed: { status: 'subscribed' },
  pending: { status: 'pending' },
  'unsub:user': { status: 'unsubscribed', reason: 'user' },
  'unsub:import': { status: 'unsubscribed', reason: 'import' },
  'unsub:bounce': { status: 'unsubscribed', reason: 'bounce' },
  'unsub:complaint': { status: 'unsubscribed', reason: 'complaint' },
};
const REASONS: readonly UnsubscribeReason[] = ['user', 'import', 'bounce', 'complaint'];
const STATUSES: readonly SubscriptionStatus[] = ['subscribed', 'pending', 'unsubscribed'];
/** Column order of the flags in the table, with the letter that marks "true" in each column. */
const FLAG_COLUMNS = [
  ['asPending', 'P'],
  ['ConfirmEmail', 'C'],
  ['asOptOut', 'O'],
  ['forceOptIn', 'F'],
  ['replaceGroups', 'R'],
] as const;

const flagsOf = (f: Partial<ImportFlags>): ImportFlags => ({
  asPending: false,
  ConfirmEmail: false,
  asOptOut: false,
  forceOptIn: false,
  replaceGroups: false,
  ...f,
});

/** Only the four documented fields of the outcome, so the comparison is exact on them. */
const pick = (o: RuleOutcome): RuleOutcome => ({
  status: o.status,
  reason: o.reason,
  requestConfirmation: o.requestConfirmation,
  changed: o.changed,
});

interface Row {
  readonly text: string;
  readonly priorKey: string;
  readonly flagKey: string;
  readonly prior: PriorState;
  readonly flags: ImportFlags;
  readonly expected: RuleOutcome;
}

/**
 * Parses `'<prior> <P|-> <C|-> <O|-> <F|-> <R|->  ->  <status>[:<reason>] <req|-> <changed|same>'`.
 * A flag column holds its letter for true and `-` for false; `reason` is required exactly for unsubscribed.
 */
function parseRow(text: string): Row {
  const halves = text.split('->');
  assert.equal(halves.length, 2, `row "${text}": expected exactly one "->"`);
  const left = halves[0]!.trim().split(/\s+/);
  const right = halves[1]!.trim().split(/\s+/);
  assert.equal(left.length, 6, `row "${text}": expected a prior state and 5 flag columns`);
  assert.equal(right.length, 3, `row "${text}": expected status, req|-, changed|same`);
  const [priorKey, ...flagTokens] = left as [string, ...string[]];
  const prior = PRIORS[priorKey];
  assert.ok(prior, `row "${text}": unknown prior state "${priorKey}"`);
  const flags: Record<string, boolean> = {};
  FLAG_COLUMNS.forEach(([name, letter], i) => {
    const token = flagTokens[i];
    assert.ok(token === letter || token === '-', `row "${text}": column ${i + 1} must be "${letter}" or "-", got "${token}"`);
    flags[name] = token === letter;
  });
  const [statusToken, reqToken, changedToken] = right as [string, string, string];
  const [status, reason] = statusToken.split(':') as [string, string | undefined];
  assert.ok((STATUSES as readonly string[]).includes(status), `row "${text}": unknown status "${status}"`);
  if (status === 'unsubscribed') {
    assert.ok(reason !== undefined && (REASONS as readonly string[]).includes(reason), `row "${text}": unsubscribed needs a reason`);
  } else {
    assert.equal(reason, undefined, `row "${text}": only unsubscribed carries a reason`);
  }
  assert.ok(reqToken === 'req' || reqToken === '-', `row "${text}": request column must be "req" or "-"`);
  assert.ok(changedToken === 'changed' || changedToken === 'same', `row "${text}": last column must be "changed" or "same"`);
  return {
    text: text.replace(/\s+/g, ' ').trim(),
    priorKey,
    flagKey: flagTokens.join(' '),
    prior,
    flags: flags as unknown as ImportFlags,
    expected: {
      status: status as SubscriptionStatus,
      reason: (reason ?? null) as UnsubscribeReason | null,
      requestConfirmation: reqToken === 'req',
      changed: changedToken === 'changed',
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The seven documented rows of spec §9.1 (recipients that already exist in the list)

describe('spec §9.1 documented combinations', () => {
  const unsubscribedSubscribable: PriorState[] = [PRIORS['unsub:user']!, PRIORS['unsub:import']!];
  const unsubscribedFinal: PriorState[] = [PRIORS['unsub:bounce']!, PRIORS['unsub:complaint']!];

  test('row 1 "no change of subscription status" (all False): subscribed, pending and unsubscribed keep their state', () => {
    const flags = flagsOf({});
    assert.deepEqual(pick(applySubscriptionRules({ status: 'subscribed' }, flags)),
      { status: 'subscribed', reason: null, requestConfirmation: false, changed: false }, 'subscribed');
    assert.deepEqual(pick(applySubscriptionRules({ status: 'pending' }, flags)),
      { status: 'pending', reason: null, requestConfirmation: false, changed: false }, 'pending');
    for (const reason of REASONS) {
      assert.deepEqual(pick(applySubscriptionRules({ status: 'unsubscribed', reason }, flags)),
        { status: 'unsubscribed', reason, requestConfirmation: false, changed: false }, `unsubscribed(${reason})`);
    }
  });

  test('row 2 "pending → subscribed" (asPending)', () => {
    assert.deepEqual(pick(applySubscriptionRules({ status: 'pending' }, flagsOf({ asPending: true }))),
      { status: 'subscribed', reason: null, requestConfirmation: false, changed: true });
  });

  test('row 3 "unsubscribed → subscribed" (forceOptIn), not for hard bounce / complaint', () => {
    const flags = flagsOf({ forceOptIn: true });
    for (const prior of unsubscribedSubscribable) {
      assert.deepEqual(pick(applySubscriptionRules(prior, flags)),
        { status: 'subscribed', reason: null, requestConfirmation: false, changed: true }, JSON.stringify(prior));
    }
    for (const prior of unsubscribedFinal) {
      assert.deepEqual(pick(applySubscriptionRules(prior, flags)),
        { status: 'unsubscribed', reason: (prior as { reason: UnsubscribeReason }).reason, requestConfirmation: false, changed: false },
        JSON.stringify(prior));
    }
  });

  test('row 4 "subscribed → pending" (ConfirmEmail); the request goes to previously subscribed AND previously pending', () => {
    const flags = flagsOf({ ConfirmEmail: true });
    assert.deepEqual(pick(applySubscriptionRules({ status: 'subscribed' }, flags)),
      { status: 'pending', reason: null, requestConfirmation: true, changed: true }, 'previously subscribed');
    assert.deepEqual(pick(applySubscriptionRules({ status: 'pending' }, flags)),
      { status: 'pending', reason: null, requestConfirmation: true, changed: true }, 'previously pending');
  });

  test('row 5 "unsubscribed → pending" (ConfirmEmail + forceOptIn, asPending any), not for hard bounce / complaint', () => {
    for (const asPending of [false, true]) {
      const flags = flagsOf({ ConfirmEmail: true, forceOptIn: true, asPending });
      for (const prior of unsubscribedSubscribable) {
        assert.deepEqual(pick(applySubscriptionRules(prior, flags)),
          { status: 'pending', reason: null, requestConfirmation: true, changed: true },
          `${JSON.stringify(prior)} asPending=${asPending}`);
      }
      for (const prior of unsubscribedFinal) {
        assert.deepEqual(pick(applySubscriptionRules(prior, flags)),
          { status: 'unsubscribed', reason: (prior as { reason: UnsubscribeReason }).reason, requestConfirmation: false, changed: false },
          `${JSON.stringify(prior)} asPending=${asPending}`);
      }
    }
  });

  test('row 6 "subscribed → unsubscribed" (asOptOut)', () => {
    assert.deepEqual(pick(applySubscriptionRules({ status: 'subscribed' }, flagsOf({ asOptOut: true }))),
      { status: 'unsubscribed', reason: 'import', requestConfirmation: false, changed: true });
  });

  test('row 7 "pending → unsubscribed" (asOptOut + asPending); asOptOut alone leaves pending ones alone', () => {
    assert.deepEqual(pick(applySubscriptionRules({ status: 'pending' }, flagsOf({ asOptOut: true, asPending: true }))),
      { status: 'unsubscribed', reason: 'import', requestConfirmation: false, changed: true }, 'asOptOut + asPending');
    assert.deepEqual(pick(applySubscriptionRules({ status: 'pending' }, flagsOf({ asOptOut: true }))),
      { status: 'pending', reason: null, requestConfirmation: false, changed: false }, 'asOptOut alone');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 2. Exhaustive table: 7 prior states × 32 flag combinations, every expectation written out.
//
//   prior            P C O F R  ->  status[:reason]        req changed|same
//   P = asPending, C = ConfirmEmail, O = asOptOut, F = forceOptIn, R = replaceGroups ('-' = false)
//   req = a confirmation request is queued; changed = status changes or a request is queued.

const TABLE: readonly string[] = [
  // ---- prior: none ----
  'none            - - - - -  ->  subscribed             -   changed',
  'none            - - - - R  ->  subscribed             -   changed',
  'none            - - - F -  ->  subscribed             -   changed',
  'none            - - - F R  ->  subscribed             -   changed',
  'none            - - O - -  ->  unsubscribed:import    -   changed',
  'none            - - O - R  ->  unsubscribed:import    -   changed',
  'none            - - O F -  ->  unsubscribed:import    -   changed',
  'none            - - O F R  ->  unsubscribed:import    -   changed',
  'none            - C - - -  ->  pending                req changed',
  'none            - C - - R  ->  pending                req changed',
  'none            - C - F -  ->  pending                req changed',
  'none            - C - F R  ->  pending                req changed',
  'none            - C O - -  ->  unsubscribed:import    -   changed',
  'none            - C O - R  ->  unsubscribed:import    -   changed',
  'none            - C O F -  ->  unsubscribed:import    -   changed',
  'none            - C O F R  ->  unsubscribed:import    -   changed',
  'none            P - - - -  ->  subscribed             -   changed',
  'none            P - - - R  ->  subscribed             -   changed',
  'none            P - - F -  ->  subscribed             -   changed',
  'none            P - - F R  ->  subscribed             -   changed',
  'none            P - O - -  ->  unsubscribed:import    -   changed',
  'none            P - O - R  ->  unsubscribed:import    -   changed',
  'none            P - O F -  ->  unsubscribed:import    -   changed',
  'none            P - O F R  ->  unsubscribed:import    -   changed',
  'none            P C - - -  ->  pending                req changed',
  'none            P C - - R  ->  pending                req changed',
  'none            P C - F -  ->  pending                req changed',
  'none            P C - F R  ->  pending                req changed',
  'none            P C O - -  ->  unsubscribed:import    -   changed',
  'none            P C O - R  ->  unsubscribed:import    -   changed',
  'none            P C O F -  ->  unsubscribed:import    -   changed',
  'none            P C O F R  ->  unsubscribed:import    -   changed',
  // ---- prior: subscribed ----
  'subscribed      - - - - -  ->  subscribed             -   same',
  'subscribed      - - - - R  ->  subscribed             -   same',
  'subscribed      - - - F -  ->  subscribed             -   same',
  'subscribed      - - - F R  ->  subscribed             -   same',
  'subscribed      - - O - -  ->  unsubscribed:import    -   changed',
  'subscribed      - - O - R  ->  unsubscribed:import    -   changed',
  'subscribed      - - O F -  ->  unsubscribed:import    -   changed',
  'subscribed      - - O F R  ->  unsubscribed:import    -   changed',
  'subscribed      - C - - -  ->  pending                req changed',
  'subscribed      - C - - R  ->  pending                req changed',
  'subscribed      - C - F -  ->  pending                req changed',
  'subscribed      - C - F R  ->  pending                req changed',
  'subscribed      - C O - -  ->  unsubscribed:import    -   changed',
  'subscribed      - C O - R  ->  unsubscribed:import    -   changed',
  'subscribed      - C O F -  ->  unsubscribed:import    -   changed',
  'subscribed      - C O F R  ->  unsubscribed:import    -   changed',
  'subscribed      P - - - -  ->  subscribed             -   same',
  'subscribed      P - - - R  ->  subscribed             -   same',
  'subscribed      P - - F -  ->  subscribed             -   same',
  'subscribed      P - - F R  ->  subscribed             -   same',
  'subscribed      P - O - -  ->  unsubscribed:import    -   changed',
  'subscribed      P - O - R  ->  unsubscribed:import    -   changed',
  'subscribed      P - O F -  ->  unsubscribed:import    -   changed',
  'subscribed      P - O F R  ->  unsubscribed:import    -   changed',
  'subscribed      P C - - -  ->  pending                req changed',
  'subscribed      P C - - R  ->  pending                req changed',
  'subscribed      P C - F -  ->  pending                req changed',
  'subscribed      P C - F R  ->  pending                req changed',
  'subscribed      P C O - -  ->  unsubscribed:import    -   changed',
  'subscribed      P C O - R  ->  unsubscribed:import    -   changed',
  'subscribed      P C O F -  ->  unsubscribed:import    -   changed',
  'subscribed      P C O F R  ->  unsubscribed:import    -   changed',
  // ---- prior: pending ----
  'pending         - - - - -  ->  pending                -   same',
  'pending         - - - - R  ->  pending                -   same',
  'pending         - - - F -  ->  pending                -   same',
  'pending         - - - F R  ->  pending                -   same',
  'pending         - - O - -  ->  pending                -   same',
  'pending         - - O - R  ->  pending                -   same',
  'pending         - - O F -  ->  pending                -   same',
  'pending         - - O F R  ->  pending                -   same',
  'pending         - C - - -  ->  pending                req changed',
  'pending         - C - - R  ->  pending                req changed',
  'pending         - C - F -  ->  pending                req changed',
  'pending         - C - F R  ->  pending                req changed',
  'pending         - C O - -  ->  pending                req changed',
  'pending         - C O - R  ->  pending                req changed',
  'pending         - C O F -  ->  pending                req changed',
  'pending         - C O F R  ->  pending                req changed',
  'pending         P - - - -  ->  subscribed             -   changed',
  'pending         P - - - R  ->  subscribed             -   changed',
  'pending         P - - F -  ->  subscribed             -   changed',
  'pending         P - - F R  ->  subscribed             -   changed',
  'pending         P - O - -  ->  unsubscribed:import    -   changed',
  'pending         P - O - R  ->  unsubscribed:import    -   changed',
  'pending         P - O F -  ->  unsubscribed:import    -   changed',
  'pending         P - O F R  ->  unsubscribed:import    -   changed',
  'pending         P C - - -  ->  pending                req changed',
  'pending         P C - - R  ->  pending                req changed',
  'pending         P C - F -  ->  pending                req changed',
  'pending         P C - F R  ->  pending                req changed',
  'pending         P C O - -  ->  unsubscribed:import    -   changed',
  'pending         P C O - R  ->  unsubscribed:import    -   changed',
  'pending         P C O F -  ->  unsubscribed:import    -   changed',
  'pending         P C O F R  ->  unsubscribed:import    -   changed',
  // ---- prior: unsub:user ----
  'unsub:user      - - - - -  ->  unsubscribed:user      -   same',
  'unsub:user      - - - - R  ->  unsubscribed:user      -   same',
  'unsub:user      - - - F -  ->  subscribed             -   changed',
  'unsub:user      - - - F R  ->  subscribed             -   changed',
  'unsub:user      - - O - -  ->  unsubscribed:user      -   same',
  'unsub:user      - - O - R  ->  unsubscribed:user      -   same',
  'unsub:user      - - O F -  ->  unsubscribed:user      -   same',
  'unsub:user      - - O F R  ->  unsubscribed:user      -   same',
  'unsub:user      - C - - -  ->  unsubscribed:user      -   same',
  'unsub:user      - C - - R  ->  unsubscribed:user      -   same',
  'unsub:user      - C - F -  ->  pending                req changed',
  'unsub:user      - C - F R  ->  pending                req changed',
  'unsub:user      - C O - -  ->  unsubscribed:user      -   same',
  'unsub:user      - C O - R  ->  unsubscribed:user      -   same',
  'unsub:user      - C O F -  ->  unsubscribed:user      -   same',
  'unsub:user      - C O F R  ->  unsubscribed:user      -   same',
  'unsub:user      P - - - -  ->  unsubscribed:user      -   same',
  'unsub:user      P - - - R  ->  unsubscribed:user      -   same',
  'unsub:user      P - - F -  ->  subscribed             -   changed',
  'unsub:user      P - - F R  ->  subscribed             -   changed',
  'unsub:user      P - O - -  ->  unsubscribed:user      -   same',
  'unsub:user      P - O - R  ->  unsubscribed:user      -   same',
  'unsub:user      P - O F -  ->  unsubscribed:user      -   same',
  'unsub:user      P - O F R  ->  unsubscribed:user      -   same',
  'unsub:user      P C - - -  ->  unsubscribed:user      -   same',
  'unsub:user      P C - - R  ->  unsubscribed:user      -   same',
  'unsub:user      P C - F -  ->  pending                req changed',
  'unsub:user      P C - F R  ->  pending                req changed',
  'unsub:user      P C O - -  ->  unsubscribed:user      -   same',
  'unsub:user      P C O - R  ->  unsubscribed:user      -   same',
  'unsub:user      P C O F -  ->  unsubscribed:user      -   same',
  'unsub:user      P C O F R  ->  unsubscribed:user      -   same',
  // ---- prior: unsub:import ----
  'unsub:import    - - - - -  ->  unsubscribed:import    -   same',
  'unsub:import    - - - - R  ->  unsubscribed:import    -   same',
  'unsub:import    - - - F -  ->  subscribed             -   changed',
  'unsub:import    - - - F R  ->  subscribed             -   changed',
  'unsub:import    - - O - -  ->  unsubscribed:import    -   same',
  'unsub:import    - - O - R  ->  unsubscribed:import    -   same',
  'unsub:import    - - O F -  ->  unsubscribed:import    -   same',
  'unsub:import    - - O F R  ->  unsubscribed:import    -   same',
  'unsub:import    - C - - -  ->  unsubscribed:import    -   same',
  'unsub:import    - C - - R  ->  unsubscribed:import    -   same',
  'unsub:import    - C - F -  ->  pending                req changed',
  'unsub:import    - C - F R  ->  pending                req changed',
  'unsub:import    - C O - -  ->  unsubscribed:import    -   same',
  'unsub:import    - C O - R  ->  unsubscribed:import    -   same',
  'unsub:import    - C O F -  ->  unsubscribed:import    -   same',
  'unsub:import    - C O F R  ->  unsubscribed:import    -   same',
  'unsub:import    P - - - -  ->  unsubscribed:import    -   same',
  'unsub:import    P - - - R  ->  unsubscribed:import    -   same',
  'unsub:import    P - - F -  ->  subscribed             -   changed',
  'unsub:import    P - - F R  ->  subscribed             -   changed',
  'unsub:import    P - O - -  ->  unsubscribed:import    -   same',
  'unsub:import    P - O - R  ->  unsubscribed:import    -   same',
  'unsub:import    P - O F -  ->  unsubscribed:import    -   same',
  'unsub:import    P - O F R  ->  unsubscribed:import    -   same',
  'unsub:import    P C - - -  ->  unsubscribed:import    -   same',
  'unsub:import    P C - - R  ->  unsubscribed:import    -   same',
  'unsub:import    P C - F -  ->  pending                req changed',
  'unsub:import    P C - F R  ->  pending                req changed',
  'unsub:import    P C O - -  ->  unsubscribed:import    -   same',
  'unsub:import    P C O - R  ->  unsubscribed:import    -   same',
  'unsub:import    P C O F -  ->  unsubscribed:import    -   same',
  'unsub:import    P C O F R  ->  unsubscribed:import    -   same',
  // ---- prior: unsub:bounce ----
  'unsub:bounce    - - - - -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - - - - R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - - - F -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - - - F R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - - O - -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - - O - R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - - O F -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - - O F R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - C - - -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - C - - R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - C - F -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - C - F R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - C O - -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - C O - R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - C O F -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    - C O F R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P - - - -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P - - - R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P - - F -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P - - F R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P - O - -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P - O - R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P - O F -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P - O F R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P C - - -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P C - - R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P C - F -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P C - F R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P C O - -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P C O - R  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P C O F -  ->  unsubscribed:bounce    -   same',
  'unsub:bounce    P C O F R  ->  unsubscribed:bounce    -   same',
  // ---- prior: unsub:complaint ----
  'unsub:complaint - - - - -  ->  unsubscribed:complaint -   same',
  'unsub:complaint - - - - R  ->  unsubscribed:complaint -   same',
  'unsub:complaint - - - F -  ->  unsubscribed:complaint -   same',
  'unsub:complaint - - - F R  ->  unsubscribed:complaint -   same',
  'unsub:complaint - - O - -  ->  unsubscribed:complaint -   same',
  'unsub:complaint - - O - R  ->  unsubscribed:complaint -   same',
  'unsub:complaint - - O F -  ->  unsubscribed:complaint -   same',
  'unsub:complaint - - O F R  ->  unsubscribed:complaint -   same',
  'unsub:complaint - C - - -  ->  unsubscribed:complaint -   same',
  'unsub:complaint - C - - R  ->  unsubscribed:complaint -   same',
  'unsub:complaint - C - F -  ->  unsubscribed:complaint -   same',
  'unsub:complaint - C - F R  ->  unsubscribed:complaint -   same',
  'unsub:complaint - C O - -  ->  unsubscribed:complaint -   same',
  'unsub:complaint - C O - R  ->  unsubscribed:complaint -   same',
  'unsub:complaint - C O F -  ->  unsubscribed:complaint -   same',
  'unsub:complaint - C O F R  ->  unsubscribed:complaint -   same',
  'unsub:complaint P - - - -  ->  unsubscribed:complaint -   same',
  'unsub:complaint P - - - R  ->  unsubscribed:complaint -   same',
  'unsub:complaint P - - F -  ->  unsubscribed:complaint -   same',
  'unsub:complaint P - - F R  ->  unsubscribed:complaint -   same',
  'unsub:complaint P - O - -  ->  unsubscribed:complaint -   same',
  'unsub:complaint P - O - R  ->  unsubscribed:complaint -   same',
  'unsub:complaint P - O F -  ->  unsubscribed:complaint -   same',
  'unsub:complaint P - O F R  ->  unsubscribed:complaint -   same',
  'unsub:complaint P C - - -  ->  unsubscribed:complaint -   same',
  'unsub:complaint P C - - R  ->  unsubscribed:complaint -   same',
  'unsub:complaint P C - F -  ->  unsubscribed:complaint -   same',
  'unsub:complaint P C - F R  ->  unsubscribed:complaint -   same',
  'unsub:complaint P C O - -  ->  unsubscribed:complaint -   same',
  'unsub:complaint P C O - R  ->  unsubscribed:complaint -   same',
  'unsub:complaint P C O F -  ->  unsubscribed:complaint -   same',
  'unsub:complaint P C O F R  ->  unsubscribed:complaint -   same',
];

const ROWS: readonly Row[] = TABLE.map(parseRow);

describe('exhaustive table (7 prior states × 32 flag combinations)', () => {
  for (const row of ROWS) {
    test(row.text, () => {
      assert.deepEqual(pick(applySubscriptionRules(row.prior, row.flags)), row.expected, `row: ${row.text}`);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// 3. The table covers every (prior state, flag combination) exactly once.

test('the table covers all 224 combinations exactly once', () => {
  const seen = new Map<string, string>();
  for (const row of ROWS) {
    const key = `${row.priorKey} ${row.flagKey}`;
    assert.ok(!seen.has(key), `duplicate combination "${key}": "${seen.get(key)}" and "${row.text}"`);
    seen.set(key, row.text);
  }
  const missing: string[] = [];
  for (const priorKey of Object.keys(PRIORS)) {
    for (let mask = 0; mask < 32; mask++) {
      const flagKey = FLAG_COLUMNS.map(([, letter], i) => ((mask >> (4 - i)) & 1 ? letter : '-')).join(' ');
      if (!seen.has(`${priorKey} ${flagKey}`)) missing.push(`${priorKey} ${flagKey}`);
    }
  }
  assert.deepEqual(missing, [], 'combinations missing from the table');
  assert.equal(Object.keys(PRIORS).length, 7);
  assert.equal(ROWS.length, 224);
  assert.equal(seen.size, 224);
});

// ---------------------------------------------------------------------------------------------------------------
// 4. Properties (fast-check)

const arbPrior: fc.Arbitrary<PriorState> = fc.oneof(
  fc.constant<PriorState>({ status: 'none' }),
  fc.constant<PriorState>({ status: 'subscribed' }),
  fc.constant<PriorState>({ status: 'pending' }),
  fc.constantFrom(...REASONS).map((reason): PriorState => ({ status: 'unsubscribed', reason })),
);
const arbFlags: fc.Arbitrary<ImportFlags> = fc.record({
  asPending: fc.boolean(),
  ConfirmEmail: fc.boolean(),
  asOptOut: fc.boolean(),
  forceOptIn: fc.boolean(),
  replaceGroups: fc.boolean(),
});

describe('properties', () => {
  test('totality: never throws and always returns a well-formed outcome with an allowed status', () => {
    fc.assert(
      fc.property(arbPrior, arbFlags, (prior, flags) => {
        let out: RuleOutcome | undefined;
        assert.doesNotThrow(() => {
          out = applySubscriptionRules(prior, flags);
        });
        assert.ok(out !== undefined && out !== null && typeof out === 'object');
        assert.ok((STATUSES as readonly string[]).includes(out.status), `status ${String(out.status)}`);
        assert.equal(typeof out.requestConfirmation, 'boolean');
        assert.equal(typeof out.changed, 'boolean');
        if (out.status === 'unsubscribed') assert.ok(REASONS.includes(out.reason as UnsubscribeReason), 'unsubscribed has a reason');
        else assert.equal(out.reason, null, 'only unsubscribed has a reason');
      }),
      { numRuns: 2000 },
    );
  });

  test('bounce and complaint unsubscribes are never changed', () => {
    fc.assert(
      fc.property(fc.constantFrom<UnsubscribeReason>('bounce', 'complaint'), arbFlags, (reason, flags) => {
        assert.deepEqual(pick(applySubscriptionRules({ status: 'unsubscribed', reason }, flags)),
          { status: 'unsubscribed', reason, requestConfirmation: false, changed: false });
      }),
      { numRuns: 500 },
    );
  });

  test('replaceGroups never affects the outcome', () => {
    fc.assert(
      fc.property(arbPrior, arbFlags, (prior, flags) => {
        assert.deepEqual(
          pick(applySubscriptionRules(prior, { ...flags, replaceGroups: true })),
          pick(applySubscriptionRules(prior, { ...flags, replaceGroups: false })),
        );
      }),
      { numRuns: 500 },
    );
  });

  test('changed ⇔ status changes or a request is queued; a request implies pending; unchanged keeps the prior reason', () => {
    fc.assert(
      fc.property(arbPrior, arbFlags, (prior, flags) => {
        const out = applySubscriptionRules(prior, flags);
        assert.equal(out.changed, out.status !== prior.status || out.requestConfirmation, 'changed');
        if (out.requestConfirmation) assert.equal(out.status, 'pending', 'request ⇒ pending');
        if (prior.status === 'unsubscribed' && out.status === 'unsubscribed') assert.equal(out.reason, prior.reason, 'kept reason');
        if (prior.status !== 'unsubscribed' && out.status === 'unsubscribed') assert.equal(out.reason, 'import', 'new unsubscribe');
      }),
      { numRuns: 1000 },
    );
  });
});
