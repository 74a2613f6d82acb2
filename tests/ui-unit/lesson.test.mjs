// The lesson's steps, checked from runs the engine recorded
// (tests/ui-unit/fixtures/): a step is ticked by what a run shows, never by
// the step being the current one, and its progress survives storage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { report } from './fixtures.mjs';
import {
  LESSON, emptyLesson, parseLesson, serializeLesson, record, stepDone, stepsDone, goTo, nextOpen, summary, partsOf, runReport,
} from '../../ui/lib/lesson.js';
import { CHECKS } from '../../ui/lib/grader.js';
import { STEP_IDS } from '../../ui/lib/room.js';

const run = (name) => {
  const r = report(name);
  return runReport({ settings: r.settings, verdict: r.verdict });
};

test('eight steps in the workshop\'s order, with the ids the lab knows', () => {
  assert.deepEqual(LESSON.map((s) => s.id), STEP_IDS);
  for (const step of LESSON) {
    assert.ok(step.todo.length > 20 && step.todo.split(/[.:] /).length <= 4, step.id);
    assert.match(step.control, /^\[data-/);
  }
});

test('a recorded naive case 3 ticks "watch the race" and nothing else; single-flight ticks "fix it"', () => {
  let p = emptyLesson();
  ({ progress: p } = record(p, run('expired-refreshable-naive-strict')));
  assert.deepEqual(stepsDone(p), ['watch-the-race']);
  assert.equal(p.current, 'queue-twice', 'the lesson moves on');
  ({ progress: p } = record(p, run('expired-refreshable-single-flight-strict')));
  assert.deepEqual(stepsDone(p), ['watch-the-race', 'fix-it']);
  assert.equal(p.current, 'queue-twice', 'still on the step not done');
  // The queue without the late request refreshes once: not step 2.
  ({ progress: p } = record(p, run('expired-refreshable-queue-strict')));
  assert.equal(stepDone(p, 'queue-twice'), false);
  const { progress, newlyDone } = record(p, run('expired-refreshable-queue-strict-late'));
  assert.deepEqual(newlyDone, ['queue-twice']);
  assert.equal(summary(progress), '3 of 8 steps done');
});

test('across tabs takes both the broken run and the fixed one', () => {
  let p = goTo(emptyLesson(), 'across-tabs');
  ({ progress: p } = record(p, run('three-tabs-single-flight-strict')));
  assert.deepEqual(partsOf(p, 'across-tabs'), [{ id: 'broken', done: true }, { id: 'fixed', done: false }]);
  assert.equal(stepDone(p, 'across-tabs'), false);
  ({ progress: p } = record(p, run('three-tabs-single-flight-lock')));
  assert.equal(stepDone(p, 'across-tabs'), true);
  assert.equal(p.current, nextOpen(p, 'across-tabs'));
});

test('grading and exploring: only a full score card and an exact exploration count', () => {
  let p = emptyLesson();
  ({ progress: p } = record(p, { kind: 'graded', passed: 2, total: CHECKS.length }));
  ({ progress: p } = record(p, { kind: 'graded', passed: 3, total: 3 }));
  assert.equal(stepDone(p, 'own-interceptor'), false);
  ({ progress: p } = record(p, { kind: 'graded', passed: CHECKS.length, total: CHECKS.length }));
  assert.equal(stepDone(p, 'own-interceptor'), true);
  ({ progress: p } = record(p, { kind: 'explored', orders: 194, failing: 110, exact: false }));
  assert.equal(stepDone(p, 'every-order'), false);
  ({ progress: p } = record(p, { kind: 'explored', orders: 194, failing: 110, exact: true }));
  assert.equal(stepDone(p, 'every-order'), true);
});

test('a run that is not a report, or has no verdict, ticks nothing', () => {
  for (const bad of [null, {}, { kind: 'run' }, runReport({ settings: report('expired-refreshable-naive-strict').settings })]) {
    assert.deepEqual(stepsDone(record(emptyLesson(), bad).progress), []);
  }
});

test('progress round-trips through storage; unknown steps and parts are dropped', () => {
  const { progress } = record(emptyLesson(), run('three-tabs-single-flight-strict'));
  assert.deepEqual(parseLesson(serializeLesson(progress)), progress);
  assert.deepEqual(parseLesson('{"done":{"nap":["x"],"fix-it":["nope","fixed"]},"current":"elsewhere"}'), { done: { 'fix-it': ['fixed'] }, current: 'watch-the-race' });
  assert.deepEqual(parseLesson('not json'), emptyLesson());
});
