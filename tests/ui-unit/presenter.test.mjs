import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseTheme, toggleTheme, parseScale, stepScale, rootScale, scaleLabel, viewKeyAction, SCALE_STEPS, THEME_TYPE_SCALE, THEME_KEY, SCALE_KEY,
} from '../../ui/lib/presenter.js';

test('the theme kept in storage: presenter or the default dark', () => {
  assert.equal(parseTheme('presenter'), 'presenter');
  assert.equal(parseTheme('dark'), 'dark');
  for (const junk of [null, '', 'light', 'PRESENTER', '{"theme":"presenter"}']) assert.equal(parseTheme(junk), 'dark', String(junk));
  assert.equal(toggleTheme('dark'), 'presenter');
  assert.equal(toggleTheme('presenter'), 'dark');
  assert.equal(toggleTheme('nonsense'), 'presenter');
  assert.match(THEME_KEY, /^refresh-race\./);
  assert.match(SCALE_KEY, /^refresh-race\./);
});

test('Ctrl + and Ctrl − step through the scales, held at the ends; Ctrl 0 is 100 %', () => {
  assert.equal(stepScale(1, 1), 1.1);
  assert.equal(stepScale(1.1, 1), 1.25);
  assert.equal(stepScale(1, -1), 0.9);
  assert.equal(stepScale(1.5, 0), 1);
  const top = SCALE_STEPS[SCALE_STEPS.length - 1];
  assert.equal(stepScale(top, 1), top);
  assert.equal(stepScale(SCALE_STEPS[0], -1), SCALE_STEPS[0]);
  // From anywhere (an old stored value), the step is taken from the nearest level.
  assert.equal(stepScale(1.12, 1), 1.25);
  let scale = 1;
  for (let i = 0; i < 20; i++) scale = stepScale(scale, 1);
  assert.equal(scale, top);
  assert.deepEqual([...SCALE_STEPS].sort((a, b) => a - b), SCALE_STEPS, 'ascending');
  assert.ok(SCALE_STEPS.includes(1));
});

test('the scale kept in storage: the nearest step, 1 when unreadable', () => {
  assert.equal(parseScale('1.25'), 1.25);
  assert.equal(parseScale('1.3'), 1.25);
  assert.equal(parseScale('40'), SCALE_STEPS[SCALE_STEPS.length - 1]);
  for (const junk of [null, '', 'big', '-2', '0', 'NaN', 'Infinity']) assert.equal(parseScale(junk), 1, String(junk));
});

test('the root font factor: the theme\'s type times the user\'s scale', () => {
  assert.equal(rootScale('dark', 1), 1);
  assert.equal(rootScale('presenter', 1), THEME_TYPE_SCALE.presenter);
  assert.ok(THEME_TYPE_SCALE.presenter > 1, 'presenter type is larger');
  assert.equal(rootScale('dark', 1.25), 1.25);
  assert.equal(rootScale('presenter', 1.5), Number((THEME_TYPE_SCALE.presenter * 1.5).toFixed(4)));
  assert.equal(rootScale('unknown', 2), 2);
  assert.equal(scaleLabel(1), '');
  assert.equal(scaleLabel(1.25), '125%');
  assert.equal(scaleLabel(0.67), '67%');
});

test('keys: Ctrl (or ⌘) with + = − _ 0 scale anywhere; P alone toggles presenter outside fields', () => {
  const ctrl = (key, code) => viewKeyAction({ key, code, ctrlKey: true });
  assert.equal(ctrl('=', 'Equal'), 'scale-up');
  assert.equal(ctrl('+', 'Equal'), 'scale-up'); // Ctrl+Shift+=
  assert.equal(ctrl('+', 'NumpadAdd'), 'scale-up');
  assert.equal(ctrl('-', 'Minus'), 'scale-down');
  assert.equal(ctrl('_', 'Minus'), 'scale-down');
  assert.equal(ctrl('-', 'NumpadSubtract'), 'scale-down');
  assert.equal(ctrl('0', 'Digit0'), 'scale-reset');
  assert.equal(ctrl('à', 'Digit0'), 'scale-reset'); // AZERTY
  assert.equal(ctrl('0', 'Numpad0'), 'scale-reset');
  assert.equal(viewKeyAction({ key: '=', metaKey: true }), 'scale-up');
  // In a field too, as a browser's zoom.
  assert.equal(viewKeyAction({ key: '=', ctrlKey: true }, { inField: true }), 'scale-up');
  // Other Ctrl keys are the browser's; AltGr (Ctrl+Alt) types characters.
  assert.equal(ctrl('p', 'KeyP'), null);
  assert.equal(ctrl('c', 'KeyC'), null);
  assert.equal(viewKeyAction({ key: '0', ctrlKey: true, altKey: true }), null);
  // Without Ctrl the digits and signs are not ours (1–4 start cases).
  assert.equal(viewKeyAction({ key: '0' }), null);
  assert.equal(viewKeyAction({ key: '=' }), null);

  assert.equal(viewKeyAction({ key: 'p' }), 'presenter');
  assert.equal(viewKeyAction({ key: 'P', shiftKey: true }), 'presenter');
  assert.equal(viewKeyAction({ key: 'p' }, { inField: true }), null, 'typing a p in a field');
  assert.equal(viewKeyAction({ key: 'p', repeat: true }), null, 'a held P toggles once');
  assert.equal(viewKeyAction({ key: 'p', altKey: true }), null);
  assert.equal(viewKeyAction({ key: 'q' }), null);
  assert.equal(viewKeyAction(null), null);
});
