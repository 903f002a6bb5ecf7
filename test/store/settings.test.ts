/**
 * The SettingStore contract (src/store/settings.ts), run against the adapter TEST_STORE names
 * (npm test runs it on both): installation settings, written once, the same from every handle.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contractSuite } from './store-fixture.ts';

const suite = contractSuite('settings');

describe('settings', () => {
  test('settings are written once; a second value does not replace the first', async () => {
    assert.equal(await suite.store.settings.getSetting('contract.secret'), null);
    assert.equal(await suite.store.settings.setSettingIfAbsent('contract.secret', 'first'), 'first');
    assert.equal(await suite.store.settings.setSettingIfAbsent('contract.secret', 'second'), 'first');
    assert.equal(await suite.store.settings.getSetting('contract.secret'), 'first');
    assert.equal(await suite.store.settings.getSetting('contract.other'), null, 'keys are separate');
  });

  test('values are kept exactly; handles racing to write a key all get the one value written', async () => {
    const value = `  x\n"quoted" é \u{1F600} ${'z'.repeat(2000)}`;
    assert.equal(await suite.store.settings.setSettingIfAbsent('contract.exact', value), value);
    assert.equal(await suite.store.settings.getSetting('contract.exact'), value);
    const handles = [suite.store, await suite.fx.open(), await suite.fx.open()];
    const answers = await Promise.all(handles.flatMap((h, i) => [0, 1].map((k) => h.settings.setSettingIfAbsent('contract.race', `value ${i}.${k}`))));
    assert.equal(new Set(answers).size, 1, answers.join(', '));
    for (const h of handles) assert.equal(await h.settings.getSetting('contract.race'), answers[0]);
  });
});
