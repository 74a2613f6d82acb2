import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStore, initialAppState } from '../../ui/lib/store.js';

test('update replaces the fields it names; listeners hear which changed', () => {
  const store = createStore(initialAppState());
  const before = store.state;
  const heard = [];
  const stop = store.subscribe((state, changed) => heard.push([state.playing, changed]));
  assert.deepEqual(store.update({ playing: 'queue', cursorIndex: null }), ['playing']);
  assert.equal(store.state.playing, 'queue');
  assert.equal(before.playing, null, 'the state read before is the state it was');
  assert.notEqual(store.state, before);
  assert.deepEqual(heard, [['queue', ['playing']]]);
  assert.deepEqual(store.update({ playing: 'queue' }), [], 'the same value changes nothing');
  assert.equal(heard.length, 1, 'and nobody hears it');
  stop();
  store.update({ playing: null });
  assert.equal(heard.length, 1, 'an unsubscribed listener hears nothing');
});

test('the state is changed only through update: unknown fields are refused, the top is frozen', () => {
  const store = createStore(initialAppState());
  assert.throws(() => store.update({ plying: 'typo' }), /no field "plying"/);
  assert.equal(store.state.plying, undefined);
  assert.throws(() => { 'use strict'; store.state.playing = 'x'; }, TypeError);
});

test('the initial state: nothing on screen, nothing offered, no command on its way', () => {
  const state = initialAppState();
  assert.equal(state.active, null);
  assert.equal(state.limits, null);
  assert.deepEqual(state.offered.strategies, []);
  assert.equal(state.offered.pageStrategies, null);
  assert.deepEqual(state.net, { busy: false, run: null, seq: 0, answered: false });
  assert.notEqual(initialAppState().offered, state.offered, 'each page its own');
});
