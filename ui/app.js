// Wiring: controls → settings → runs → reducer → views.
//
// One run (or two, when comparing) is "active" at a time. Starting another
// aborts the active fetches and clears their views; every callback checks
// the run token it was started with, so two runs' events never mix.

import { TimelineView } from './timeline-view.js';
import { LogView } from './log-view.js';
import { Inspector } from './inspector.js';
import { fetchOptions, runLab, LabError } from './transport.js';
import { createRunState, applyMessage } from './lib/reducer.js';
import { validateControls, toRunSettings } from './lib/validate.js';
import { domainEnd, estimateRunUs } from './lib/scale.js';

const $ = (selector) => document.querySelector(selector);

const controls = {
  strategy: $('[data-control="strategy"]'),
  policy: $('[data-control="policy"]'),
  secret: $('[data-control="secret-count"]'),
  public: $('[data-control="public-count"]'),
  latencySecret: $('[data-control="latency-secret"]'),
  latencyPublic: $('[data-control="latency-public"]'),
  latencyRefresh: $('[data-control="latency-refresh"]'),
  late: $('[data-control="late-request"]'),
  speed: $('[data-control="speed"]'),
};
const errorBox = $('[data-error]');
const timelines = $('[data-timelines]');
const placeholder = $('[data-placeholder]');
const compareButton = $('[data-action="compare"]');
const compareLabel = $('[data-compare-label]');
const caseButtons = [...document.querySelectorAll('[data-case]')];
const log = new LogView($('[data-log]'));
const inspector = new Inspector({
  list: $('[data-token-list]'),
  detail: $('[data-token-detail]'),
  onSelect: (jti) => {
    if (!active) return;
    for (const run of active.runs) run.view.select(jti);
    renderAll();
  },
});

const CASES = ['guest', 'valid', 'expired-refreshable', 'expired-not-refreshable'];
let currentCase = 'expired-refreshable';
let runToken = 0;
/** @type {null | {token: number, compare: boolean, runs: Array, domainEndUs: number}} */
let active = null;
const touched = new Set(); // controls the user changed (options must not overwrite them)

// ---------- controls ----------

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function clearError() {
  errorBox.textContent = '';
  errorBox.hidden = true;
}

function markInvalid(fields) {
  for (const [key, el] of Object.entries(controls)) {
    if (el) el.toggleAttribute('aria-invalid', fields.includes(key));
  }
}

function readValues() {
  return {
    secret: controls.secret.value,
    public: controls.public.value,
    latencySecret: controls.latencySecret.value,
    latencyPublic: controls.latencyPublic.value,
    latencyRefresh: controls.latencyRefresh.value,
    speed: controls.speed.value,
  };
}

function compareStrategies() {
  const mine = controls.strategy.value;
  return [mine === 'single-flight' ? 'naive' : mine, 'single-flight'];
}

function updateCompareLabel() {
  const [a, b] = compareStrategies();
  compareLabel.textContent = `${a} ⇄ ${b}`;
}

function updatePolicyTitle() {
  const option = controls.policy.selectedOptions[0];
  controls.policy.title = option && option.title ? `${option.value}: mirrors ${option.title}` : '';
}

function setCase(name) {
  currentCase = name;
  for (const button of caseButtons) {
    button.setAttribute('aria-pressed', button.dataset.case === name ? 'true' : 'false');
  }
}

// ---------- runs ----------

function cancelActive() {
  if (!active) return;
  for (const run of active.runs) {
    run.controller.abort();
    if (run.state.status === 'running' || run.state.status === 'idle') run.state.status = 'aborted';
    run.view.destroy();
  }
  active = null;
}

/** Starts `caseName` with the current settings: one run, or a comparison. */
function start(caseName, { compare = false } = {}) {
  setCase(caseName);
  const check = validateControls(readValues());
  markInvalid(check.errors.map((e) => e.field));
  if (!check.ok) {
    showError(check.message);
    return false;
  }
  clearError();
  cancelActive();
  const token = ++runToken;
  const policy = controls.policy.value;
  const strategies = compare ? compareStrategies() : [controls.strategy.value];

  placeholder.hidden = true;
  log.clear();
  const runs = strategies.map((strategy) => {
    const settings = toRunSettings({ caseName, strategy, policy, late: controls.late.checked, values: check.values });
    const state = createRunState({ strategy, policy, settings });
    state.status = 'running'; // live from the moment the request leaves
    const view = new TimelineView({ strategy, policy, compact: compare, onToken: (jti, runState) => inspector.select(jti, runState) });
    view.setRun(state);
    return { strategy, policy, settings, state, view, controller: new AbortController(), startedAt: null, label: strategy };
  });
  timelines.classList.toggle('comparing', compare);
  timelines.replaceChildren(placeholder, ...runs.map((r) => r.view.root));
  active = { token, compare, runs, domainEndUs: 0 };
  inspector.setRuns(runs.map((r) => ({ label: r.label, state: r.state })));
  log.note(`${caseName}: ${strategies.join(' vs ')} client${compare ? 's' : ''}, ${policy} server`, 'start');
  renderAll();

  for (const run of runs) {
    const prefix = compare ? `[${run.strategy}] ` : '';
    runLab(run.settings, {
      signal: run.controller.signal,
      onMessage: (message) => {
        if (token !== runToken) return; // a newer run owns the screen
        const now = performance.now();
        if (message.type === 'start') run.startedAt = now;
        applyMessage(run.state, message, now);
        if (message.type === 'event') {
          log.add(message.event, prefix);
          if (message.event.kind === 'issued' && !inspector.selected && run === runs[0]) {
            inspector.select(message.event.jti, run.state, { highlight: false });
          }
          scheduleFrame();
        } else if (message.type === 'done') {
          log.note(`${prefix}${message.verdict ? message.verdict.sentence : 'done'}`, 'done');
          renderAll();
        } else if (message.type === 'error') {
          log.note(`${prefix}run failed: ${message.message}`, 'error');
          renderAll();
        } else {
          scheduleFrame();
        }
      },
    }).then(() => {
      if (token !== runToken) return;
      if (run.state.status === 'running' || run.state.status === 'idle') {
        applyMessage(run.state, { type: 'error', message: 'the stream ended before the run was done' }, performance.now());
      }
      renderAll();
    }, (error) => {
      if (token !== runToken || (error && error.name === 'AbortError')) return;
      if (error instanceof LabError && error.status >= 400 && error.status < 500) {
        // The lab refused the settings: nothing started. Show it like our own checks.
        showError(error.message);
        abandon(token);
        return;
      }
      applyMessage(run.state, { type: 'error', message: error && error.message ? error.message : String(error) }, performance.now());
      log.note(`${prefix}run failed: ${run.state.error}`, 'error');
      showError(run.state.error);
      renderAll();
    });
  }
  return true;
}

/** Drops a run the lab refused: no timeline, the placeholder again. */
function abandon(token) {
  if (!active || active.token !== token) return;
  cancelActive();
  placeholder.hidden = false;
  timelines.replaceChildren(placeholder);
  log.clear();
  inspector.setRuns([]);
}

// ---------- drawing ----------

let frameRequested = false;

function scheduleFrame() {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    renderAll();
  });
}

/** Draws every view of the active run on one shared time scale. */
function renderAll() {
  log.flush();
  if (!active) return;
  inspector.refreshList();
  const now = performance.now();
  let anyLive = false;
  const frames = active.runs.map((run) => {
    const live = run.state.status === 'running' || run.state.status === 'idle';
    anyLive = anyLive || live;
    const nowUs = live && run.startedAt != null ? (now - run.startedAt) * 1000 : live ? 0 : null;
    return { run, nowUs };
  });
  // Same scale for both timelines of a comparison; it only ever grows during
  // a run, so bars do not jitter.
  for (const { run, nowUs } of frames) {
    const end = domainEnd({ maxEventUs: run.state.maxUs, nowUs: nowUs ?? 0, estimateUs: estimateRunUs(run.settings) });
    active.domainEndUs = Math.max(active.domainEndUs, end);
  }
  for (const { run, nowUs } of frames) {
    run.view.render({ nowUs, domainEndUs: active.domainEndUs });
  }
  if (anyLive) scheduleFrame();
}

// ---------- options from the lab ----------

async function loadOptions() {
  try {
    const options = await fetchOptions();
    fillSelect(controls.strategy, options.strategies || [], () => '');
    fillSelect(controls.policy, (options.policies || []).map((p) => (typeof p === 'string' ? p : p.name)),
      (name) => {
        const policy = (options.policies || []).find((p) => p && p.name === name);
        return policy && policy.mirrors ? policy.mirrors : '';
      });
    const d = options.defaults || {};
    const lat = d.latency_ms || {};
    setDefault('strategy', d.strategy);
    setDefault('policy', d.policy);
    setDefault('secret', d.secret);
    setDefault('public', d.public);
    setDefault('latencySecret', lat.secret);
    setDefault('latencyPublic', lat.public);
    setDefault('latencyRefresh', lat.refresh);
    if (!touched.has('late') && typeof d.late === 'boolean') controls.late.checked = d.late;
    if (d.case && CASES.includes(d.case) && !active) setCase(d.case);
  } catch (error) {
    // The built-in lists in index.html still work; the server validates anyway.
    console.warn('lab/options unavailable:', error);
  } finally {
    updatePolicyTitle();
    updateCompareLabel();
    document.body.setAttribute('data-ready', 'true');
  }
}

/** Adds options the lab knows and the page does not; sets tooltips. */
function fillSelect(select, names, titleFor) {
  for (const name of names) {
    if (typeof name !== 'string') continue;
    let option = [...select.options].find((o) => o.value === name);
    if (!option) {
      option = new Option(name, name);
      select.add(option);
    }
    const title = titleFor(name);
    if (title) option.title = title;
  }
}

function setDefault(key, value) {
  if (value == null || touched.has(key)) return;
  const el = controls[key];
  if (el.tagName === 'SELECT' && ![...el.options].some((o) => o.value === String(value))) return;
  el.value = String(value);
}

// ---------- events ----------

for (const [key, el] of Object.entries(controls)) {
  el.addEventListener('input', () => touched.add(key));
  el.addEventListener('change', () => touched.add(key));
}
controls.policy.addEventListener('change', updatePolicyTitle);
controls.strategy.addEventListener('change', updateCompareLabel);

for (const button of caseButtons) {
  button.addEventListener('click', () => start(button.dataset.case));
}
compareButton.addEventListener('click', () => start(currentCase, { compare: true }));
$('[data-controls]').addEventListener('submit', (event) => {
  event.preventDefault();
  start(currentCase, { compare: !!(active && active.compare) });
});

document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const target = event.target;
  if (target instanceof Element && target.closest('input, select, textarea, [contenteditable]')) return;
  const index = ['1', '2', '3', '4'].indexOf(event.key);
  if (index < 0) return;
  event.preventDefault();
  start(CASES[index]);
});

setCase(currentCase);
updatePolicyTitle();
updateCompareLabel();
loadOptions();
