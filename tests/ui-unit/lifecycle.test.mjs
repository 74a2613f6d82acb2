// The lifecycle by hand and the hang verdict, on runs the engine recorded
// (tests/ui-unit/fixtures/): what the rail offers, what undo keeps, and the
// verdict's kind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { report, reduced } from './fixtures.mjs';
import { verdictView } from '../../ui/lib/run-queries.js';
import { lifeModel, withLifeAction, undoSettings } from '../../ui/lib/network.js';

test('a hang is a verdict of its own kind, naming what waits', () => {
  const state = reduced('hang-storage-lock-closed-tab');
  const view = verdictView(state);
  assert.equal(view.kind, 'hang');
  assert.equal(view.tone, 'bad');
  assert.match(view.sentence, /^Hang: tab2\/secret#1 wait for the cross-tab lock, held by secret#1 of closed tab 1/);
  const race = verdictView(reduced('wake-three-tabs-single-flight'));
  assert.equal(race.kind, 'race');
  assert.equal(verdictView(reduced('valid-naive-strict')).kind, 'ok');
});

test('the rail offers each open tab, and the sleep once', () => {
  const hang = report('hang-storage-lock-closed-tab');
  assert.deepEqual(lifeModel(hang.settings, hang.events), {
    canSleep: true,
    tabs: [{ tab: 1, state: 'closed' }, { tab: 2, state: 'open' }],
  });
  const wake = report('wake-three-tabs-single-flight');
  const life = lifeModel(wake.settings, wake.events);
  assert.equal(life.canSleep, false, 'the run has its sleep');
  assert.deepEqual(life.tabs.map((t) => t.state), ['open', 'open', 'open']);
  assert.equal(lifeModel(null, []), null);
});

test('an action by hand joins the settings at its point, and undo drops it with its delivery', () => {
  const hang = report('hang-storage-lock-closed-tab');
  const settings = { ...hang.settings, close: [], deliver: [] };
  const delivered = ['secret#1>', 'secret#1<', 'tab2/secret#1>', 'tab2/secret#1<'];
  const closed = withLifeAction(settings, { command: 'close-tab', tab: 1 }, delivered.length);
  assert.deepEqual(closed.close, [{ tab: 1, at: 4 }]);
  // Undoing the fourth delivery undoes the close taken after it ...
  assert.deepEqual(undoSettings(closed, delivered).close, []);
  // ... one taken before it stays.
  const early = withLifeAction(settings, { command: 'freeze-tab', tab: 2 }, 2);
  assert.deepEqual(undoSettings(early, delivered).freeze, [{ tab: 2, at: 2 }]);
  const slept = withLifeAction(settings, { command: 'sleep', seconds: 8 }, 4);
  assert.deepEqual(slept.sleep, { after: 4, seconds: 8 });
  assert.equal('sleep' in undoSettings(slept, delivered), false);
});
