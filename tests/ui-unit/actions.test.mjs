import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActions } from '../../ui/lib/actions.js';
import { keyAction, controlState } from '../../ui/lib/network.js';
import { viewKeyAction } from '../../ui/lib/presenter.js';

const key = (k, extra = {}) => ({ key: k, code: '', ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, repeat: false, inField: false, onButton: false, ...extra });

/** The page's own keys, defined as app.js defines them, with perform() recording what ran. */
function pageActions(done) {
  const actions = createActions();
  for (const name of ['presenter', 'scale-up', 'scale-down', 'scale-reset']) {
    actions.define({ name, anywhere: true, repeat: true, key: (k) => viewKeyAction(k, { inField: k.inField }) === name, perform: () => done.push(name) });
  }
  actions.define({ name: 'close-challenges', key: (k, ctx) => k.key === 'Escape' && ctx.challengesOpen, perform: () => done.push('close') });
  ['1', '2', '3', '4'].forEach((digit) => {
    actions.define({ name: `case-${digit}`, key: (k) => k.key === digit, perform: () => done.push(`case ${digit}`) });
  });
  for (const [name, button] of [['pause', 'pause'], ['resume', 'resume'], ['step', 'step'], ['undo', 'undo'], ['cursor-next', null], ['cursor-prev', null]]) {
    actions.define({
      name,
      repeat: name.startsWith('cursor'),
      key: (k, ctx) => !(k.key === ' ' && k.onButton) && keyAction(k.key, ctx.network) === name,
      ...(button ? { enabled: (ctx) => controlState(ctx.network)[button] } : {}),
      perform: () => done.push(name),
    });
  }
  return actions;
}

const live = { network: { controllable: true, live: true, paused: false, busy: false, legs: 2, delivered: 1, canUndo: true, finished: false, events: 5 }, challengesOpen: false };
const finished = { network: { controllable: true, live: false, paused: false, busy: false, legs: 0, delivered: 6, canUndo: true, finished: true, events: 12 }, challengesOpen: false };

test('a registry defines each name once, and every action needs perform()', () => {
  const actions = createActions();
  actions.define({ name: 'a', perform: () => 1 });
  assert.throws(() => actions.define({ name: 'a', perform: () => 2 }), /defined twice/);
  assert.throws(() => actions.define({ name: 'b' }), /needs perform/);
  assert.throws(() => actions.define({ perform: () => 0 }), /needs a name/);
  assert.throws(() => actions.perform('nope'), /no action named "nope"/);
  assert.equal(actions.perform('a'), 1);
  assert.deepEqual(actions.names(), ['a']);
  assert.equal(actions.enabled('a', {}), true, 'without enabled(), always enabled');
});

test('keys: the digits start cases, Space pauses a live run and resumes a paused one, → steps, Z undoes', () => {
  const done = [];
  const actions = pageActions(done);
  assert.equal(actions.forKey(key('3'), live), 'case-3');
  assert.equal(actions.forKey(key(' '), live), 'pause');
  assert.equal(actions.forKey(key(' '), { ...live, network: { ...live.network, paused: true } }), 'resume');
  assert.equal(actions.forKey(key('ArrowRight'), live), 'step');
  assert.equal(actions.forKey(key('z'), live), 'undo');
  assert.equal(actions.forKey(key('x'), live), null, 'a key nobody claims stays with the page');
  // Once the run is over the arrows move the cursor, and a held arrow repeats.
  assert.equal(actions.forKey(key('ArrowRight'), finished), 'cursor-next');
  assert.equal(actions.forKey(key('ArrowLeft', { repeat: true }), finished), 'cursor-prev');
  actions.perform(actions.forKey(key('4'), live));
  assert.deepEqual(done, ['case 4']);
});

test('keys in a field, with modifiers, held down or Space on a button: only the view keys go through', () => {
  const actions = pageActions([]);
  assert.equal(actions.forKey(key('3', { inField: true }), live), null, 'a 3 typed in a field is a 3');
  assert.equal(actions.forKey(key('p', { inField: true }), live), null, 'a p typed in a field is a p');
  assert.equal(actions.forKey(key('p'), live), 'presenter');
  assert.equal(actions.forKey(key('=', { ctrlKey: true, inField: true }), live), 'scale-up', 'the page\'s zoom works anywhere');
  assert.equal(actions.forKey(key('=', { ctrlKey: true, repeat: true }), live), 'scale-up', 'and repeats');
  assert.equal(actions.forKey(key('3', { ctrlKey: true }), live), null);
  assert.equal(actions.forKey(key('3', { repeat: true }), live), null, 'a held digit starts one run');
  assert.equal(actions.forKey(key(' ', { repeat: true }), live), null, 'a held Space pauses once');
  assert.equal(actions.forKey(key(' ', { onButton: true }), live), null, 'Space on a focused button presses that button');
});

test('Escape closes the challenges only while they are open; buttons follow enabled()', () => {
  const actions = pageActions([]);
  assert.equal(actions.forKey(key('Escape'), { ...live, challengesOpen: true }), 'close-challenges');
  assert.equal(actions.forKey(key('Escape'), live), null);
  assert.equal(actions.enabled('pause', live), true);
  assert.equal(actions.enabled('resume', live), false, 'nothing to resume in a running run');
  assert.equal(actions.enabled('pause', { ...live, network: { ...live.network, busy: true } }), false, 'a command on its way');
  assert.equal(actions.enabled('step', finished), false);
  assert.equal(actions.enabled('undo', finished), true);
});
