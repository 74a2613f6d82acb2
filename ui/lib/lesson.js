// The workshop as a lesson inside the app: eight steps, each with what to
// do in a sentence or two, the control to use, and a check that reads what
// the lab reported (a finished run's settings and verdict, the score card
// of a grading, an exploration's counts), never the clicks that led there.
// No DOM: tested with `node --test` (tests/ui-unit/lesson.test.mjs);
// lesson-view.js paints it. The page keeps the progress in localStorage
// (the desktop shell keeps localStorage across launches).
//
// The step ids are the lab's too (src/classroom/room.rs): a seat's page reports the
// steps it checked to the room's results.

import { libraryNamed } from './libraries.js';
import { CHECKS } from './grader.js';

/** Where the page keeps the lesson's progress. */
export const LESSON_KEY = 'refresh-race.lesson';

const CASE3 = 'expired-refreshable';

/** What the lab reported, as one of these: */
//   { kind: 'run', settings, verdict, solved, compare }  a finished run
//   { kind: 'graded', passed, total }                     a finished grading
//   { kind: 'explored', orders, failing, exact }          a finished exploration

const isRun = (r) => r && r.kind === 'run' && r.settings && r.verdict && typeof r.verdict === 'object';
const builtIn = (r) => !r.settings.module; // a built-in client, not a library or one's own
const loggedOut = (r) => Number(r.verdict.logouts) > 0;
const clean = (r) => Number(r.verdict.logouts) === 0 && Number(r.verdict.failed) === 0 && !r.verdict.hang;

/**
 * The steps. `control`: the selector of the control to use, highlighted
 * while the step is the current one. `parts`: the checks; the step is done
 * when every part was seen (in any order, across runs).
 */
export const LESSON = Object.freeze([
  {
    id: 'watch-the-race',
    title: 'Watch the race',
    todo: 'Pick the naive client and press 3: three requests get 401, each refreshes the same token, two refreshes are refused and the user is logged out.',
    control: '[data-case="expired-refreshable"]',
    parts: [{ id: 'race', check: (r) => isRun(r) && builtIn(r) && r.settings.case === CASE3 && r.settings.strategy === 'naive' && r.verdict.race === true && loggedOut(r) }],
  },
  {
    id: 'queue-twice',
    title: 'Make the queue client refresh twice',
    todo: 'Pick the queue client, tick late request (under ⋯ More in presenter mode) and press 3: the article\'s fix still refreshes twice, and a refresh is refused.',
    control: '[data-control="late-request"]',
    parts: [{ id: 'twice', check: (r) => isRun(r) && builtIn(r) && r.settings.strategy === 'queue' && Number(r.verdict.refresh_calls) >= 2 && Number(r.verdict.refresh_rejected) >= 1 }],
  },
  {
    id: 'fix-it',
    title: 'Fix it',
    todo: 'Pick the single-flight client and press 3: one refresh for every request, nobody logged out.',
    control: '[data-control="strategy"]',
    parts: [{ id: 'fixed', check: (r) => isRun(r) && builtIn(r) && r.settings.case === CASE3 && r.settings.strategy === 'single-flight' && Number(r.verdict.refresh_calls) === 1 && clean(r) }],
  },
  {
    id: 'across-tabs',
    title: 'Break it and fix it across tabs',
    todo: 'Open ⋯ tabs · OAuth, set tabs to 2 and press 3: each tab refreshes on its own and the user is logged out. Then set cross-tab to lock and press 3 again.',
    control: '[data-action="more-scenario"]',
    parts: [
      { id: 'broken', check: (r) => isRun(r) && Number(r.settings.tabs) >= 2 && r.settings.case === CASE3 && loggedOut(r) },
      { id: 'fixed', check: (r) => isRun(r) && Number(r.settings.tabs) >= 2 && r.settings.case === CASE3 && r.settings.cross_tab && r.settings.cross_tab !== 'none' && clean(r) },
    ],
  },
  {
    id: 'real-library',
    title: 'Meet a real library',
    todo: 'Pick a library from the client list (it runs in the page, with real fetch) and press 3: does it survive the race?',
    control: '[data-control="strategy"]',
    parts: [{ id: 'ran', check: (r) => isRun(r) && r.settings.runtime === 'browser' && !!libraryNamed(r.settings.module) && r.settings.case === CASE3 }],
  },
  {
    id: 'by-hand',
    title: 'Cause the race by hand',
    todo: 'With the naive client and cross-tab back to none (More, then tabs · OAuth: a lock would serialise even one tab), set network to hand and press 3: nothing moves until you deliver. Deliver the legs (→ delivers the next one) until a refresh is refused.',
    control: '[data-control="network"]',
    parts: [{ id: 'refused', check: (r) => isRun(r) && r.settings.network === 'hand' && Number(r.verdict.refresh_rejected) >= 1 }],
  },
  {
    id: 'own-interceptor',
    title: 'Write and grade your own interceptor',
    todo: `Press { } Code, then ✎ Write your own: make one refresh serve every 401, then press Grade until all ${CHECKS.length} checks pass.`,
    control: '[data-action="code"]',
    parts: [{ id: 'graded', check: (r) => r && r.kind === 'graded' && r.total === CHECKS.length && r.passed === r.total }],
  },
  {
    id: 'every-order',
    title: 'Explore every order',
    todo: 'Press Explore: the lab delivers this setup\'s legs in every order the network could and counts the outcomes, exactly.',
    control: '[data-action="explore"]',
    parts: [{ id: 'explored', check: (r) => r && r.kind === 'explored' && r.exact === true && Number.isInteger(r.orders) && r.orders > 0 }],
  },
].map((step) => Object.freeze(step)));

const IDS = LESSON.map((s) => s.id);

/** No progress: `{ done: {stepId: [partIds]}, current }`. */
export function emptyLesson() {
  return { done: {}, current: IDS[0] };
}

/** Progress from its stored text; anything unreadable is none. */
export function parseLesson(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    return emptyLesson();
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return emptyLesson();
  const done = {};
  for (const step of LESSON) {
    const parts = data.done && Array.isArray(data.done[step.id]) ? data.done[step.id] : [];
    const known = step.parts.map((p) => p.id).filter((id) => parts.includes(id));
    if (known.length) done[step.id] = known;
  }
  const current = IDS.includes(data.current) ? data.current : IDS[0];
  return { done, current };
}

/** The text to store. */
export function serializeLesson(progress) {
  return JSON.stringify({ done: progress.done, current: progress.current });
}

/** Whether step `id` is done. */
export function stepDone(progress, id) {
  const step = LESSON.find((s) => s.id === id);
  const parts = progress.done[id] || [];
  return !!step && step.parts.every((p) => parts.includes(p.id));
}

/** The ids of the steps done, in order. */
export function stepsDone(progress) {
  return IDS.filter((id) => stepDone(progress, id));
}

/**
 * The lab reported `report`: every step's parts it satisfies are marked
 * (any step, not only the current one: a learner ahead of the lesson keeps
 * what they did). When the current step becomes done, the lesson moves to
 * the next step not done. Returns `{ progress, newlyDone }`; the input is
 * not changed.
 */
export function record(progress, report) {
  const done = Object.fromEntries(Object.entries(progress.done).map(([k, v]) => [k, [...v]]));
  const before = stepsDone(progress);
  for (const step of LESSON) {
    for (const part of step.parts) {
      let ok = false;
      try {
        ok = part.check(report) === true;
      } catch {
        ok = false;
      }
      if (!ok) continue;
      const parts = done[step.id] || (done[step.id] = []);
      if (!parts.includes(part.id)) parts.push(part.id);
    }
  }
  let next = { done, current: progress.current };
  const newlyDone = stepsDone(next).filter((id) => !before.includes(id));
  if (stepDone(next, next.current)) next = { ...next, current: nextOpen(next, next.current) };
  return { progress: next, newlyDone };
}

/** The first step after `from` (wrapping) that is not done; `from` when all are. */
export function nextOpen(progress, from) {
  const start = IDS.indexOf(from);
  for (let i = 1; i <= IDS.length; i += 1) {
    const id = IDS[(start + i) % IDS.length];
    if (!stepDone(progress, id)) return id;
  }
  return from;
}

/** Moves to step `id` (the learner's choice, or the instructor's push). */
export function goTo(progress, id) {
  return IDS.includes(id) ? { ...progress, current: id } : progress;
}

/** "3 of 8 steps done". */
export function summary(progress) {
  return `${stepsDone(progress).length} of ${LESSON.length} steps done`;
}

/** A step's parts for the panel: `[{id, done}]` (only for steps of several parts). */
export function partsOf(progress, id) {
  const step = LESSON.find((s) => s.id === id);
  if (!step || step.parts.length < 2) return [];
  const parts = progress.done[id] || [];
  return step.parts.map((p) => ({ id: p.id, done: parts.includes(p.id) }));
}

/** A finished run as the lesson reads it, from the page's run state. */
export function runReport({ settings, verdict, solved = [], compare = false }) {
  return { kind: 'run', settings: settings || null, verdict: verdict || null, solved: Array.isArray(solved) ? solved : [], compare: !!compare };
}
