// The lesson panel: the workshop's eight steps inside the app, opened from
// the Lesson button in the page's bottom-right corner. It shows the current step (what to do, in a
// sentence or two), outlines the control the step uses, and ticks a step
// when the lab reports what the step asks for (lib/lesson.js decides):
// a finished run (the page's `refresh-race:run-done` event, with the run's
// settings and verdict), the score card of a grading (its `data-passed`
// once every check ran) or an exploration's chart (its counts). A card
// over the page's bottom-right corner, so the verdict never moves.

import { h } from './dom.js';
import { CHECKS } from './lib/grader.js';
import {
  LESSON, LESSON_KEY, parseLesson, serializeLesson, record, goTo, stepDone, stepsDone, summary, partsOf, runReport,
} from './lib/lesson.js';

const PART_NAMES = { broken: 'broken across tabs', fixed: 'fixed with cross-tab' };

function readKept() {
  try {
    return window.localStorage.getItem(LESSON_KEY);
  } catch {
    return null;
  }
}

function keep(progress) {
  try {
    window.localStorage.setItem(LESSON_KEY, serializeLesson(progress));
  } catch {
    // no storage here: the progress lives as long as the page
  }
}

export function mountLesson() {
  const button = h('button', { type: 'button', class: 'lesson-button', 'data-action': 'lesson', 'aria-expanded': 'false', 'aria-controls': 'lesson' }, 'Lesson ', h('span', { class: 'lesson-count', 'data-lesson-count': '' }));
  // Fixed over the bottom-right corner, out of the page's flow: the masthead
  // and the run bar keep their lines, so nothing moves the verdict.
  document.body.append(button);

  const count = button.querySelector('[data-lesson-count]');
  const title = h('h2', { id: 'lesson-title', class: 'lesson-title' });
  const todo = h('p', { class: 'lesson-todo', 'data-lesson-todo': '' });
  const parts = h('ul', { class: 'lesson-parts', 'data-lesson-parts': '' });
  const status = h('p', { class: 'lesson-status', 'data-lesson-status': '', role: 'status' });
  const steps = h('ol', { class: 'lesson-steps', 'aria-label': 'The lesson\u2019s steps' },
    ...LESSON.map((step, i) => h('li', {},
      h('button', { type: 'button', class: 'lesson-step', 'data-lesson-step': step.id, title: step.title, 'aria-label': `Step ${i + 1}: ${step.title}` }, String(i + 1)))));
  const prev = h('button', { type: 'button', class: 'lesson-nav', 'data-action': 'lesson-prev' }, '\u2190 Back');
  const next = h('button', { type: 'button', class: 'lesson-nav', 'data-action': 'lesson-next' }, 'Next \u2192');
  const panel = h('aside', { class: 'lesson', id: 'lesson', 'data-lesson': '', role: 'region', 'aria-labelledby': 'lesson-title', hidden: true },
    h('header', { class: 'lesson-head' },
      h('p', { class: 'lesson-summary', 'data-lesson-summary': '' }),
      h('button', { type: 'button', class: 'rail-close', 'data-action': 'close-lesson', 'aria-label': 'Close the lesson' }, '\u2715')),
    steps, title, todo, parts, status,
    h('div', { class: 'lesson-navs' }, prev, next));
  document.body.append(panel);

  let progress = parseLesson(readKept() ?? '');
  const listeners = [];
  let highlighted = null;

  const highlight = (selector) => {
    if (highlighted) highlighted.removeAttribute('data-lesson-highlight');
    highlighted = null;
    if (panel.hidden || !selector) return;
    const target = document.querySelector(selector);
    if (!target) return;
    highlighted = target;
    target.setAttribute('data-lesson-highlight', '');
  };

  const paint = () => {
    const index = LESSON.findIndex((s) => s.id === progress.current);
    const step = LESSON[index];
    const done = stepDone(progress, step.id);
    panel.setAttribute('data-current', step.id);
    panel.setAttribute('data-done', stepsDone(progress).join(' '));
    count.textContent = `${stepsDone(progress).length}/${LESSON.length}`;
    panel.querySelector('[data-lesson-summary]').textContent = summary(progress);
    title.textContent = `${index + 1}. ${step.title}`;
    todo.textContent = step.todo;
    parts.replaceChildren(...partsOf(progress, step.id).map((p) => h('li', { 'data-part': p.id, 'data-part-done': String(p.done) }, `${p.done ? '\u2713' : '\u25CB'} ${PART_NAMES[p.id] || p.id}`)));
    status.textContent = done ? '\u2713 Done: the lab saw it happen.' : 'Not done yet: the lab ticks it when a run shows it.';
    status.setAttribute('data-step-done', String(done));
    for (const b of steps.querySelectorAll('[data-lesson-step]')) {
      const id = b.getAttribute('data-lesson-step');
      b.setAttribute('data-step-done', String(stepDone(progress, id)));
      if (id === step.id) b.setAttribute('aria-current', 'step');
      else b.removeAttribute('aria-current');
    }
    prev.disabled = index === 0;
    next.disabled = index === LESSON.length - 1;
    highlight(step.control);
  };

  const save = () => {
    keep(progress);
    paint();
    for (const listener of listeners) listener(stepsDone(progress));
  };

  const report = (r) => {
    const before = JSON.stringify(progress);
    progress = record(progress, r).progress;
    if (JSON.stringify(progress) !== before) save();
  };

  const setOpen = (open) => {
    panel.hidden = !open;
    button.hidden = open; // the card takes its corner; its ✕ gives it back
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    paint();
    if (!open) button.focus();
  };
  button.addEventListener('click', () => setOpen(panel.hidden));
  panel.querySelector('[data-action="close-lesson"]').addEventListener('click', () => setOpen(false));
  steps.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target.closest('[data-lesson-step]') : null;
    if (!target) return;
    progress = goTo(progress, target.getAttribute('data-lesson-step'));
    save();
  });
  const move = (by) => {
    const index = LESSON.findIndex((s) => s.id === progress.current);
    const to = LESSON[Math.min(LESSON.length - 1, Math.max(0, index + by))];
    progress = goTo(progress, to.id);
    save();
  };
  prev.addEventListener('click', () => move(-1));
  next.addEventListener('click', () => move(1));

  // What the lab reports. A finished run: app.js says so with its state.
  window.addEventListener('refresh-race:run-done', (event) => {
    const d = event.detail || {};
    report(runReport(d));
  });
  // A grading, once its score card holds every check.
  const watchGrade = () => {
    const card = document.querySelector('[data-grade]');
    if (!card) return;
    new MutationObserver(() => {
      const total = Number(card.getAttribute('data-total'));
      const passed = Number(card.getAttribute('data-passed'));
      if (total === CHECKS.length) report({ kind: 'graded', passed, total });
    }).observe(card, { attributes: true, attributeFilter: ['data-total', 'data-passed'] });
  };
  // An exploration, once its chart is drawn.
  const watchExplore = () => {
    const drawer = document.querySelector('[data-explore-panel]');
    if (!drawer) return;
    new MutationObserver(() => {
      const chart = drawer.querySelector('[data-explore][data-orders]');
      if (!chart) return;
      report({
        kind: 'explored',
        orders: Number(chart.getAttribute('data-orders')),
        failing: Number(chart.getAttribute('data-failing')),
        exact: chart.getAttribute('data-exact') === 'true',
      });
    }).observe(drawer, { childList: true, subtree: true });
  };
  watchGrade();
  watchExplore();
  paint();

  return {
    setOpen,
    /** Opens the lesson at step `id` (a push from the instructor). */
    goTo(id) {
      progress = goTo(progress, id);
      setOpen(true);
      save();
    },
    /** `listener(stepIds)` whenever the steps done change. */
    onProgress(listener) {
      listeners.push(listener);
      listener(stepsDone(progress));
    },
  };
}

