/**
 * The short chaos run (`npm run chaos -- --short`) inside `npm test`: the first scenario of each
 * kind with small feeds, on the store of this pass (TEST_STORE), through the same scenario code
 * as the full suite in chaos/ (what each checks: chaos/*.ts and docs/operations.md, "Chaos
 * suite"). Each scenario must PASS: its table row is the failure message.
 *
 * The scenarios start real server processes, the admin CLI and the client CLI on loopback, kill or
 * stop them, and remove everything they made: 15-20 s on SQLite, 35-40 s on PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SHORT, TEST_STORE } from '../../chaos/lib.ts';
import { formatTable, runScenario, selectScenarios } from '../../chaos/scenarios.ts';

/**
 * Scenarios whose fix has not landed yet, skipped here (`CHAOS_ALL=1 npm test -- chaos` runs them
 * anyway): a scenario's name for both stores, or `name:sqlite` / `name:postgres` for one. Remove
 * an entry once `npm run chaos` shows the scenario PASS on its store.
 */
const PENDING_FIXES = new Set<string>([]);

const runAll = process.env.CHAOS_ALL === '1';

for (const scenario of selectScenarios(TEST_STORE, { short: true })) {
  const pending = (PENDING_FIXES.has(scenario.name) || PENDING_FIXES.has(`${scenario.name}:${TEST_STORE}`)) && !runAll;
  test(`chaos: ${scenario.name} (${scenario.kind})`, {
    timeout: scenario.budgetMs.short + 30_000,
    skip: pending ? 'its fix has not landed yet (PENDING_FIXES; CHAOS_ALL=1 runs it)' : false,
  }, async () => {
    const result = await runScenario(scenario, SHORT, TEST_STORE);
    assert.ok(result.pass, `\n${formatTable([result])}\n`);
  });
}
