import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  emptyProgress, parseProgress, serializeProgress, recordFinished, giveUp, challengeStatus, challengesFromOptions,
} from '../../ui/lib/challenges.js';
import { TRIES_BEFORE_WHY } from '../../ui/lib/network.js';
import { options } from './fixtures.mjs';

const challenges = challengesFromOptions(options().challenges);
const byId = (id) => challenges.find((c) => c.id === id);
const ids = challenges.map((c) => c.id);

test('the lab offers eight challenges on hand-held presets, one of them impossible', () => {
  assert.deepEqual(ids, ['logout-two-requests', 'queue-refreshes-twice', 'two-live-tokens', 'family-kills-winner', 'break-single-flight', 'wake-stampede', 'skew-loop', 'hang-closed-tab']);
  for (const c of challenges) {
    assert.equal(c.settings.network, 'hand', c.id);
    assert.ok(c.goal && c.hint, c.id);
  }
  assert.deepEqual(challenges.filter((c) => !c.possible).map((c) => c.id), ['break-single-flight']);
  assert.ok(byId('break-single-flight').why);
  assert.deepEqual(challengesFromOptions(undefined), []);
  assert.deepEqual(challengesFromOptions([{ id: 'x' }, null]), [], 'entries without a title or settings are dropped');
});

test('solved comes from the lab\'s done message; each finished run of the challenge in play counts', () => {
  let p = emptyProgress();
  let r = recordFinished(p, { playing: 'queue-refreshes-twice', solved: [] });
  assert.deepEqual(r.newlySolved, []);
  assert.equal(r.progress.tries['queue-refreshes-twice'], 1);
  assert.deepEqual(p, emptyProgress(), 'the input is not changed');
  p = r.progress;
  r = recordFinished(p, { playing: 'queue-refreshes-twice', solved: ['queue-refreshes-twice'] });
  assert.deepEqual(r.newlySolved, ['queue-refreshes-twice']);
  assert.equal(challengeStatus(byId('queue-refreshes-twice'), r.progress).solved, true);
  // Solving it again is not new; a run may solve others than the one played.
  r = recordFinished(r.progress, { playing: null, solved: ['queue-refreshes-twice', 'logout-two-requests'] });
  assert.deepEqual(r.newlySolved, ['logout-two-requests']);
  assert.deepEqual(r.progress.solved, ['queue-refreshes-twice', 'logout-two-requests']);
});

test('the impossible one explains why after a few runs without solving it, or on giving up', () => {
  const impossible = byId('break-single-flight');
  let p = emptyProgress();
  let status = challengeStatus(impossible, p);
  assert.deepEqual([status.showWhy, status.offerGiveUp], [false, true]);
  for (let i = 1; i < TRIES_BEFORE_WHY; i++) p = recordFinished(p, { playing: impossible.id }).progress;
  assert.equal(challengeStatus(impossible, p).showWhy, false, `${TRIES_BEFORE_WHY - 1} runs`);
  p = recordFinished(p, { playing: impossible.id }).progress;
  status = challengeStatus(impossible, p);
  assert.deepEqual([status.tries, status.showWhy, status.offerGiveUp], [TRIES_BEFORE_WHY, true, false]);

  const quitter = giveUp(emptyProgress(), impossible.id);
  assert.deepEqual([challengeStatus(impossible, quitter).showWhy, challengeStatus(impossible, quitter).gaveUp], [true, true]);
  assert.equal(giveUp(quitter, impossible.id), quitter);
  // A possible challenge never offers to give up.
  assert.equal(challengeStatus(byId('two-live-tokens'), emptyProgress()).offerGiveUp, false);
});

test('progress survives its stored text; anything unreadable counts as none', () => {
  let p = recordFinished(emptyProgress(), { playing: 'queue-refreshes-twice', solved: ['queue-refreshes-twice'] }).progress;
  p = giveUp(p, 'break-single-flight');
  assert.deepEqual(parseProgress(serializeProgress(p), ids), p);
  for (const text of ['', 'not json', '[]', 'null', '{"solved": "x"}']) assert.deepEqual(parseProgress(text, ids), emptyProgress(), text);
  // Ids the lab no longer offers, and nonsense counts, are dropped.
  assert.deepEqual(parseProgress('{"solved":["gone","two-live-tokens","two-live-tokens"],"tries":{"gone":2,"two-live-tokens":-1,"queue-refreshes-twice":2}}', ids),
    { solved: ['two-live-tokens'], tries: { 'queue-refreshes-twice': 2 }, gaveUp: [] });
});
