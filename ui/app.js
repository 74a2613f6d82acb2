// Wiring: controls → settings → runs → reducer → views.
//
// One run (or two, when comparing) is "active" at a time. Starting another
// aborts the active fetches and clears their views; every callback checks
// the run token it was started with, so two runs' events never mix.
//
// A single live run from the lab can be held and played by hand: the
// network buttons and keys send commands (POST lab/runs/{id}/network), the
// rail beside the timeline shows the tray of legs in flight and the tab's
// hidden state, undo restarts the run with every delivery but the last.
// What each button, key and card means is decided in lib/network.js and
// lib/challenges.js; the stream's messages stay the one source of the
// run's state (a command's answer only tells that it was accepted).
//
// Defaults, limits and the names of strategies and policies come from
// GET /lab/options (the engine's); colours from lib/colors.js. Neither is
// repeated in index.html.
//
// Presenter mode (P, or its button) switches the theme: the palette's CSS
// variables, body[data-theme], larger type, the advanced controls folded
// away. Ctrl +/−/0 scale the page (the root font size). Both are kept in
// localStorage; what the keys mean is decided in lib/presenter.js.

import { TimelineView } from './timeline-view.js';
import { LogView } from './log-view.js';
import { Inspector } from './inspector.js';
import { WalkPanel } from './walk-panel.js';
import { ExportMenu } from './export-menu.js';
import { NetworkPanel } from './network-panel.js';
import { ChallengesPanel } from './challenges-panel.js';
import { startClassroom } from './classroom-panel.js';
import { fetchOptions, runLab, networkCommand, LabError } from './transport.js';
import { startTab } from './page-runtime.js';
import { describeLockChange } from './lib/tab-hub.js';
import { createRunState, applyMessage, isLive, isHeld, viewNowUs } from './lib/reducer.js';
import { validateControls, toRunSettings, limitsFromOptions, fieldsFor, controlValues, knobsOf, valuesForPolicy } from './lib/validate.js';
import { trayModel, tabStateModel, undoSettings, controlState, keyAction, moveCursor, lifeModel, withLifeAction, MAX_SLEEP_S } from './lib/network.js';
import {
  STORAGE_KEY, parseProgress, serializeProgress, recordFinished, giveUp, challengeStatus, challengesFromOptions, emptyProgress,
} from './lib/challenges.js';
import { cssVariables } from './lib/colors.js';
import {
  THEME_KEY, SCALE_KEY, parseTheme, toggleTheme, parseScale, stepScale, rootScale, scaleLabel, viewKeyAction,
} from './lib/presenter.js';
import { domainEnd, estimateRunUs } from './lib/scale.js';
import { defaultPair, comparePlan, compareBy, compareLabel as compareLabelText, compareTitle } from './lib/compare.js';
import { parseRunReport, createReplay, MAX_REPORT_BYTES } from './lib/replay.js';
import { mountCodePanel, OWN_MODULE_KEY } from './code-panel.js'; // the code panel: see its block at the end
import { checkModule } from './lib/module-check.js';
import { CHECKS, score } from './lib/grader.js';
import { gradeModule } from './grade-runner.js'; // grader over every order
import { LIBRARIES, libraryNamed, libraryRun } from './lib/libraries.js'; // libraries on the bench: see their block at the end
import { mountLibraryOptions } from './library-options.js';
import { SETUP_KEY, linkLimits, encodeLink, decodeLink, checkLinkSettings, runLinkSettings, openPlan, nextInOrder } from './lib/link.js'; // a run as a link: see its block at the end
import { mountCopyLink, mountLinkBar } from './link-view.js';
import { mountExplore } from './explore-view.js'; // explore: see its block at the end

const $ = (selector) => document.querySelector(selector);

// ---------- the view: theme and scale ----------

const presenterButton = $('[data-action="presenter"]');
const advancedButton = $('[data-action="advanced"]');
const scaleNote = $('[data-scale-note]');
const view = { theme: parseTheme(readStored(THEME_KEY)), scale: parseScale(readStored(SCALE_KEY)) };

function readStored(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage off (private mode): the defaults
  }
}

function store(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // storage full or off: the choice lasts as long as the page
  }
}

/** Paints the theme (the palette's CSS variables, from their one home) and the scale. */
function applyView() {
  const root = document.documentElement;
  for (const [name, value] of Object.entries(cssVariables(view.theme))) root.style.setProperty(name, value);
  root.style.setProperty('--root-scale', String(rootScale(view.theme, view.scale)));
  document.body.setAttribute('data-theme', view.theme);
  presenterButton.setAttribute('aria-pressed', view.theme === 'presenter' ? 'true' : 'false');
  const label = scaleLabel(view.scale);
  scaleNote.textContent = label;
  scaleNote.hidden = !label;
  // The timelines' geometry follows the theme and the root font size.
  if (active) {
    for (const run of active.runs) run.view.restyle();
    renderAll();
  }
}

/** Does what P, the presenter button and Ctrl +/−/0 ask for. */
function runViewAction(action) {
  if (action === 'presenter') {
    view.theme = toggleTheme(view.theme);
    store(THEME_KEY, view.theme);
    setAdvanced(false);
  } else {
    view.scale = stepScale(view.scale, action === 'scale-up' ? 1 : action === 'scale-down' ? -1 : 0);
    store(SCALE_KEY, String(view.scale));
  }
  applyView();
}

/** Unfolds (or folds again) what presenter mode folds away. */
function setAdvanced(open) {
  document.body.toggleAttribute('data-advanced', open);
  advancedButton.setAttribute('aria-expanded', open ? 'true' : 'false');
}

const controls = {
  strategy: $('[data-control="strategy"]'),
  policy: $('[data-control="policy"]'),
  secret: $('[data-control="secret-count"]'),
  public: $('[data-control="public-count"]'),
  latencySecret: $('[data-control="latency-secret"]'),
  latencyPublic: $('[data-control="latency-public"]'),
  latencyRefresh: $('[data-control="latency-refresh"]'),
  accessTtl: $('[data-control="access-ttl"]'),
  refreshWindow: $('[data-control="refresh-window"]'),
  grace: $('[data-control="grace"]'),
  tabs: $('[data-control="tabs"]'),
  crossTab: $('[data-control="cross-tab"]'),
  mode: $('[data-control="mode"]'),
  overlap: $('[data-control="overlap"]'),
  reuseCount: $('[data-control="reuse-count"]'),
  rotate: $('[data-control="rotate"]'),
  late: $('[data-control="late-request"]'),
  speed: $('[data-control="speed"]'),
  network: $('[data-control="network"]'),
  runtime: $('[data-control="runtime"]'),
};
const netButtons = {
  pause: $('[data-controls] [data-action="pause"]'),
  resume: $('[data-controls] [data-action="resume"]'),
  step: $('[data-controls] [data-action="step"]'),
  deliverAll: $('[data-controls] [data-action="deliver-all"]'),
  undo: $('[data-controls] [data-action="undo"]'),
};
const challengesButton = $('[data-action="challenges"]');
const challengesCount = $('[data-challenges-count]');
const compareControls = {
  by: $('[data-control="compare-by"]'),
  a: $('[data-control="compare-a"]'),
  b: $('[data-control="compare-b"]'),
};
const compareFixed = $('[data-compare-fixed]');
const replayInput = $('[data-control="replay-file"]');
const errorBox = $('[data-error]');
const timelines = $('[data-timelines]');
const placeholder = $('[data-placeholder]');
const compareButton = $('[data-action="compare"]');
const compareLabel = $('[data-compare-label]');
const caseButtons = [...document.querySelectorAll('[data-case]')];
const log = new LogView($('[data-log]'));
const exportMenu = new ExportMenu($('[data-export-menu]'));
const inspector = new Inspector({
  list: $('[data-token-list]'),
  detail: $('[data-token-detail]'),
  onSelect: (jti) => {
    if (!active) return;
    for (const run of active.runs) run.view.select(jti);
    renderAll();
  },
});

const CASES = caseButtons.map((button) => button.dataset.case);
let currentCase = null; // the lab's default case, once /lab/options answered
let runToken = 0;
/** @type {null | {token: number, compare: boolean, replay: boolean, runs: Array, domainEndUs: number}} */
let active = null;
const touched = new Set(); // controls the user changed (options must not overwrite them)
let limits = null; // the lab's, once /lab/options answered: no run starts before
// What the lab offers (from /lab/options).
const offered = {
  strategies: [],
  policies: [],
  runtimes: [],
  policyTitles: new Map(),
  policyKnobs: new Map(), // preset name → knobsOf(...): its parameters and defaults
  pageStrategies: null, // strategies with a module of the page (null: options not loaded)
  challenges: [],
};
// A network command on its way: it is over when the lab answered and the
// run's stream has caught up (its next `network` message, or the run ended).
const net = { busy: false, run: null, seq: 0, answered: false };
let exploreUi = null; // the explore drawer and the hints (block at the end)
let cursorIndex = null; // event under the cursor of a finished run (← / →)
let playing = null; // id of the challenge the active run plays
let justSolved = []; // challenges the last finished run solved for the first time
const hintsShown = new Set();
let progress = emptyProgress();

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
    accessTtl: controls.accessTtl.value,
    refreshWindow: controls.refreshWindow.value,
    grace: controls.grace.value,
    tabs: controls.tabs.value,
    // A preset's parameters, when the chosen server has them (valuesForPolicy drops the rest).
    overlap: controls.overlap.value,
    reuseCount: controls.reuseCount.value,
    speed: controls.speed.value,
  };
}

/** The chosen preset's parameters (all null for a plain policy). */
function knobsFor(policy) {
  return offered.policyKnobs.get(policy) ?? knobsOf(null);
}

/** Shows the parameters the chosen server has, set to its defaults. */
function updateKnobs() {
  const knobs = knobsFor(controls.policy.value);
  const show = (el, value, set) => {
    el.closest('label').hidden = value == null;
    if (value != null) set(value);
  };
  show(controls.overlap, knobs.overlap, (v) => { controls.overlap.value = String(v); });
  show(controls.reuseCount, knobs.reuseCount, (v) => { controls.reuseCount.value = String(v); });
  show(controls.rotate, knobs.rotate, (v) => { controls.rotate.checked = v; });
}

/** The comparison the compare controls describe. */
function compareChoice() {
  return {
    by: compareBy(compareControls.by.value),
    a: compareControls.a.value,
    b: compareControls.b.value,
    strategy: controls.strategy.value,
    policy: controls.policy.value,
  };
}

/** Fills A/B with strategies or policies and picks the default pair for the main control's value. */
function resetComparePair() {
  const by = compareBy(compareControls.by.value);
  const names = offered[by];
  const current = { policies: controls.policy.value, strategies: controls.strategy.value, runtimes: controls.runtime.value }[by];
  const [a, b] = defaultPair(by, names, current);
  for (const [select, value] of [[compareControls.a, a], [compareControls.b, b]]) {
    const options = names.map((name) => {
      const option = new Option(name, name, false, name === value);
      const title = by === 'policies' ? offered.policyTitles.get(name) : '';
      if (title) option.title = `mirrors ${title}`;
      return option;
    });
    select.replaceChildren(...options);
    select.value = value;
  }
  updateCompareLabel();
}

function updateCompareLabel() {
  const choice = compareChoice();
  compareLabel.textContent = compareLabelText(choice);
  compareButton.title = compareTitle(choice);
  compareFixed.textContent = {
    policies: `with the ${choice.strategy} client`,
    strategies: `against the ${choice.policy} server`,
    runtimes: `${choice.strategy} client, ${choice.policy} server`,
  }[choice.by];
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
    if (run.controller) run.controller.abort();
    if (isLive(run.state)) run.state.status = 'aborted';
    run.view.destroy();
  }
  active = null;
  net.busy = false;
  net.run = null;
  cursorIndex = null;
}

/**
 * Puts fresh timelines on screen for `plans` ([{strategy, policy, label,
 * settings}]) and makes them the active runs. Returns the runs.
 */
function openRuns(plans, { compare = false, replay = false, note }) {
  cancelActive();
  exportMenu.reset();
  const token = ++runToken;
  placeholder.hidden = true;
  log.clear();
  const runs = plans.map((plan) => {
    const state = createRunState({ strategy: plan.strategy, policy: plan.policy, settings: plan.settings });
    state.status = 'running'; // live from the moment the request leaves
    const view = new TimelineView({
      strategy: plan.settings?.module ?? plan.strategy,
      policy: plan.policy,
      runtime: plan.settings?.runtime ?? 'rust',
      compact: compare,
      replay: plan.replayName ?? null,
      varies: plan.varies ?? null,
      badge: plan.badge ?? null,
      onToken: (jti, runState) => inspector.select(jti, runState),
    });
    view.setRun(state);
    return {
      ...plan,
      state,
      view,
      controller: replay ? null : new AbortController(),
      startedAt: null,
      replay: null,
      prefix: compare ? `[${plan.label}] ` : '',
    };
  });
  timelines.classList.toggle('comparing', compare);
  timelines.replaceChildren(placeholder, ...runs.map((r) => r.view.root));
  active = { token, compare, replay, runs, domainEndUs: 0 };
  inspector.setRuns(runs.map((r) => ({ label: r.label, state: r.state })));
  log.note(note, 'start');
  return { token, runs };
}

/** Feeds one stream message (live or replayed) to a run and its log. */
function deliver(run, runs, message, now) {
  if (message.type === 'start') run.startedAt = run.startedAt ?? now;
  if (run === runs[0]) exportMenu.observe(message); // the top timeline is exported
  const seen = run.state.events.length;
  applyMessage(run.state, message, now);
  if (message.type === 'event') {
    const events = run.state.events;
    if (events.length === seen) return false; // not an event the reducer could read
    // As drawn: on the run's view clock (it stands still while the run is held).
    log.add(events[events.length - 1], run.prefix);
    if (message.event.kind === 'issued' && !inspector.selected && run === runs[0]) {
      inspector.select(message.event.jti, run.state, { highlight: false });
    }
    return false;
  }
  if (message.type === 'done') {
    log.note(`${run.prefix}${message.verdict ? message.verdict.sentence : 'done'}`, 'done');
    if (!run.replay && runs.length === 1) finishedForChallenges(run.state);
    return true;
  }
  if (message.type === 'error') {
    log.note(`${run.prefix}run failed: ${message.message}`, 'error');
    return true;
  }
  if (message.type === 'abandoned') {
    log.note(`${run.prefix}${message.message}`, 'error');
    return true;
  }
  return message.type === 'network';
}

/**
 * Starts `caseName` with the current settings: one run, or a comparison.
 * `own`: the learner's module source, run in the page instead of the picked strategy.
 */
function start(caseName, { compare = false, own = null } = {}) {
  if (!limits || !caseName) {
    showError('The lab\'s options (GET /lab/options) have not loaded: nothing can be checked or started. Is the lab running?');
    return false;
  }
  setCase(caseName);
  const check = validateControls(valuesForPolicy(readValues(), knobsFor(controls.policy.value)), limits);
  markInvalid(check.errors.map((e) => e.field));
  if (!check.ok) {
    showError(check.message);
    return false;
  }
  clearError();
  const choice = compareChoice();
  const varies = compare ? { policies: 'policy', strategies: 'strategy', runtimes: 'runtime' }[choice.by] : null;
  const pairs = (compare
    ? comparePlan(choice)
    : [{ strategy: controls.strategy.value, policy: controls.policy.value, label: own ? OWN_MODULE_NAME : controls.strategy.value, ...(own ? { source: own, runtime: 'browser' } : {}) }])
    .map((p) => ({ ...p, varies }));
  // A comparison flows on the timer: one tray for two held runs would be a puzzle of its own.
  const network = compare ? 'timer' : controls.network.value || 'timer';
  const plans = pairs.map((p) => {
    const settings = withRuntime(toRunSettings({
      caseName,
      strategy: p.strategy,
      policy: p.policy,
      late: controls.late.checked,
      // Each plan gets only the parameters its own server has (a policy comparison mixes them).
      values: valuesForPolicy(check.values, p.policy === controls.policy.value ? knobsFor(p.policy) : null),
      network,
      crossTab: controls.crossTab.value || null,
      mode: controls.mode.value || null,
      rotate: p.policy === controls.policy.value && knobsFor(p.policy).rotate != null ? controls.rotate.checked : null,
    }), p.runtime ?? controls.runtime.value);
    return { ...p, settings: p.source ? { ...settings, module: OWN_MODULE_NAME } : settings };
  });
  // Libraries on the bench: a library client runs in the page (block at the end).
  const bench = benchPlans(plans, compare && choice.by === 'runtimes');
  if (!bench.ok) {
    showError(bench.message);
    return false;
  }
  const what = compare && choice.by === 'policies'
    ? `${choice.strategy} client, ${choice.a} vs ${choice.b} servers`
    : compare && choice.by === 'runtimes'
      ? `${choice.strategy} client in ${choice.a} vs ${choice.b}, ${choice.policy} server`
      : `${pairs.map((p) => p.strategy).join(' vs ')} client${compare ? 's' : ''}, ${choice.policy} server`;
  playing = null;
  launch(bench.plans, { compare, note: `${caseName}: ${what}${network !== 'timer' ? ` (network: ${network})` : ''}` });
  return true;
}

/** Settings for `runtime`: the Rust engine's are today's, unchanged. */
function withRuntime(settings, runtime) {
  return runtime === 'browser' ? { ...settings, runtime } : settings;
}

/** A browser run's tab starts once its start line says where its API is. */
function startPageTab(run, message) {
  if (!message.page || run.tab) return;
  run.lines = new Map(); // attempt → the module's line that made it
  const shown = active && active.runs.length === 1 && active.runs[0] === run;
  if (shown) showRunModule(run, message.settings);
  let locks = [];
  run.tab = startTab(message, {
    builtin: run.source ? null : libraryFile(run, message.settings),
    // Who holds which lock across the tabs, as it happens, in the log.
    onLocks: (view) => {
      for (const line of describeLockChange(locks, view)) log.note(`${run.prefix}${line}`);
      locks = view;
    },
    source: run.source ?? null,
    options: run.libraryOptions ?? message.settings.module_options ?? null,
    onCall: ({ attempt, line }) => {
      if (line && attempt != null) run.lines.set(attempt, line);
      if (shown) codePanel.markLine(line ?? null);
    },
    onState: (state) => {
      if (shown) codePanel.showState(state);
    },
    onEnded: (failed) => {
      if (!failed) return;
      log.note(`${run.prefix}the tab's module failed: ${failed.message}${failed.line ? ` (line ${failed.line})` : ''}`, 'error');
      if (shown && run.source) codePanel.showError(failed);
    },
  });
  run.controller.signal.addEventListener('abort', () => run.tab.stop(), { once: true });
}

/** Opens timelines for `plans` and streams their runs from the lab. */
function launch(plans, { compare = false, note }) {
  justSolved = [];
  if (plans.length === 1) keepSetup(plans[0].settings);
  const { token, runs } = openRuns(plans, { compare, note });
  renderAll();

  for (const run of runs) {
    runLab(run.settings, {
      signal: run.controller.signal,
      onMessage: (message) => {
        if (token !== runToken) return; // a newer run owns the screen
        if (message.type === 'start') startPageTab(run, message);
        if (deliver(run, runs, message, performance.now())) renderAll();
        else scheduleFrame();
      },
    }).then(() => {
      if (token !== runToken) return;
      if (isLive(run.state)) {
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
      log.note(`${run.prefix}run failed: ${run.state.error}`, 'error');
      showError(run.state.error);
      renderAll();
    });
  }
}

// ---------- the network: commands, undo, challenges ----------

/** The one live-or-finished lab run on screen that network controls act on, or null. */
function controlledRun() {
  if (!active || active.compare || active.replay || active.runs.length !== 1) return null;
  return active.runs[0];
}

/** What the buttons and keys may do now. */
function networkContext() {
  const run = controlledRun();
  const state = run ? run.state : null;
  const single = active && !active.compare && active.runs.length === 1 ? active.runs[0].state : null;
  return {
    controllable: !!(state && state.run != null),
    live: !!(state && isLive(state)),
    paused: !!(state && isHeld(state)),
    busy: net.busy,
    legs: state && state.network ? (state.network.legs || []).length : 0,
    delivered: state ? state.delivered.length : 0,
    canUndo: !!(state && !net.busy && state.delivered.length > 0 && state.settings),
    finished: !!(single && !isLive(single)),
    events: single ? single.events.length : 0,
  };
}

/** Sends one command to the controlled run; a refusal is shown and changes nothing. */
async function sendCommand(command) {
  const run = controlledRun();
  if (!run || run.state.run == null || net.busy || !isLive(run.state)) return;
  const token = active.token;
  Object.assign(net, { busy: true, run, seq: run.state.networkSeq, answered: false });
  renderNetworkUi();
  try {
    await networkCommand(run.state.run, command);
    if (token !== runToken) return;
    clearError();
    net.answered = true;
  } catch (error) {
    if (token !== runToken) return;
    net.busy = false;
    // A run that ended meanwhile (Space just as it finished: 404 unknown_run)
    // is no mistake of the user's; its stream tells how it ended.
    const ended = !isLive(run.state) || (error instanceof LabError && error.status === 404);
    if (!ended) showError(error && error.message ? error.message : String(error));
  }
  renderAll();
}

/**
 * A lifecycle action by hand (sleep, close or freeze a tab): sent as a
 * network command, and kept in the run's settings at its point, so that an
 * undo or a saved run takes it again.
 */
async function lifeAction(action) {
  const run = controlledRun();
  if (!run || !run.state.settings) return;
  const at = run.state.delivered.length;
  const before = run.state.settings;
  run.state.settings = withLifeAction(before, action, at);
  await sendCommand(action);
  if (!net.answered && !net.busy && isLive(run.state)) run.state.settings = before;
}

/** A command is over once the stream caught up with it (or the run ended). */
function syncBusy() {
  if (!net.busy || !net.answered) return;
  const state = net.run && net.run.state;
  if (!state || !isLive(state) || state.networkSeq > net.seq) net.busy = false;
}

/** Undo: the same run again, by hand, with every delivery but the last. */
function undo() {
  const run = controlledRun();
  if (!run || net.busy) return;
  const settings = undoSettings(run.state.settings, run.state.delivered, run.state.drops);
  if (!settings) return;
  const plan = { strategy: run.strategy, policy: run.policy, label: run.label, settings, badge: run.badge ?? null, source: run.source, library: run.library, libraryOptions: run.libraryOptions };
  launch([plan], { note: `undo: the same run by hand, replaying ${settings.deliver.length} of ${run.state.delivered.length} deliveries` });
}

/** Starts challenge `id` on its preset (held by hand). */
function play(id) {
  const c = offered.challenges.find((x) => x.id === id);
  if (!c) return;
  clearError();
  markInvalid([]);
  if (CASES.includes(c.settings.case)) setCase(c.settings.case);
  playing = id;
  challengesPanel.setOpen(false);
  syncChallengesButton();
  launch([{ strategy: c.settings.strategy, policy: c.settings.policy, label: c.settings.strategy, settings: c.settings, badge: 'challenge' }], {
    note: `challenge: ${c.title} (${c.settings.strategy} client, ${c.settings.policy} server, by hand)`,
  });
}

/** A single lab run finished: record it for the challenges (solved comes from the lab). */
function finishedForChallenges(state) {
  const result = recordFinished(progress, { playing, solved: state.solved });
  progress = result.progress;
  justSolved = result.newlySolved;
  saveProgress();
  // A run of one's own that solves a challenge gets its solved moment too.
  if (!playing && justSolved.length) playing = justSolved[0];
  for (const id of result.newlySolved) {
    const c = offered.challenges.find((x) => x.id === id);
    log.note(`✓ challenge solved: ${c ? c.title : id}`, 'done');
  }
}

function loadProgress(known) {
  try {
    const text = window.localStorage.getItem(STORAGE_KEY);
    progress = text ? parseProgress(text, known) : emptyProgress();
  } catch {
    progress = emptyProgress(); // storage off (private mode): progress lives as long as the page
  }
}

function saveProgress() {
  try {
    window.localStorage.setItem(STORAGE_KEY, serializeProgress(progress));
  } catch {
    // storage full or off: keep it in memory
  }
}

function syncChallengesButton() {
  challengesButton.setAttribute('aria-expanded', challengesPanel.open ? 'true' : 'false');
}

/** Buttons, rail and challenges panel from the current state. */
function renderNetworkUi() {
  syncBusy();
  const ctx = networkContext();
  const allowed = controlState(ctx);
  for (const [key, button] of Object.entries(netButtons)) {
    if (button.disabled !== !allowed[key]) button.disabled = !allowed[key];
  }
  const run = controlledRun();
  const state = run ? run.state : null;
  const held = !!(state && isHeld(state));
  let tray = null;
  if (held) {
    if (run.trayOf !== state.network) {
      const byAttempt = new Map();
      for (const token of state.tokens.values()) if (token.attempt != null) byAttempt.set(token.attempt, token.jti);
      run.trayOf = state.network;
      run.tray = trayModel(state.network, { newToken: (attempt) => byAttempt.get(attempt) ?? null });
    }
    tray = run.tray;
  }
  const current = playing ? offered.challenges.find((c) => c.id === playing) : null;
  const challenge = current && run ? {
    ...challengeView(current),
    justSolved: justSolved.includes(current.id),
  } : null;
  const tab = held ? tabStateModel(state.network.tab) : null;
  const life = tab && state.settings && state.settings.runtime !== 'browser' ? lifeModel(state.settings, state.events) : null;
  rail.render({
    challenge,
    tab: tab && life ? { ...tab, life: { ...life, maxSleep: MAX_SLEEP_S } } : tab,
    tray,
    busy: net.busy,
  });
  if (exploreUi) exploreUi.sync();
  challengesPanel.render(offered.challenges.map((c) => ({
    challenge: c,
    status: challengeStatus(c, progress),
    hintShown: hintsShown.has(c.id),
    justSolved: justSolved.includes(c.id),
    playing: c.id === playing,
  })));
  const solved = offered.challenges.filter((c) => progress.solved.includes(c.id)).length;
  const text = `${solved}/${offered.challenges.filter((c) => c.possible).length}`;
  if (challengesCount.textContent !== text) challengesCount.textContent = text;
  renderLinkUi();
}

function challengeView(c) {
  const status = challengeStatus(c, progress);
  return {
    id: c.id,
    title: c.title,
    goal: c.goal,
    hint: c.hint,
    why: c.why,
    possible: c.possible,
    hintShown: hintsShown.has(c.id),
    solved: status.solved,
    tries: status.tries,
    showWhy: status.showWhy,
  };
}

/**
 * Replays a saved run (RunReport JSON) through the same reducer and view,
 * on its recorded schedule (scaled by the speed control).
 */
async function startReplay(file) {
  if (!file) return;
  if (file.size > MAX_REPORT_BYTES) {
    showError(`${file.name} is too large to replay (${Math.round(file.size / 1e6)} MB).`);
    return;
  }
  let text;
  try {
    text = await file.text();
  } catch (error) {
    showError(`Cannot read ${file.name}: ${error && error.message ? error.message : error}`);
    return;
  }
  const parsed = parseRunReport(text);
  if (!parsed.ok) {
    showError(`${file.name}: ${parsed.message}`);
    return;
  }
  clearError();
  markInvalid([]);
  playing = null;
  justSolved = [];
  const report = parsed.report;
  const settings = report.settings;
  const strategy = typeof settings.strategy === 'string' ? settings.strategy : '?';
  const policy = typeof settings.policy === 'string' ? settings.policy : '?';
  const rate = Number(controls.speed.value) || 1;
  if (typeof settings.case === 'string' && CASES.includes(settings.case)) setCase(settings.case);
  const { runs } = openRuns([{ strategy, policy, label: strategy, settings, replayName: file.name }], {
    replay: true,
    note: `replay of ${file.name}: ${settings.case ?? '?'}, ${strategy} client, ${policy} server, ${report.events.length} events${rate !== 1 ? ` at ${rate}×` : ''}`,
  });
  const run = runs[0];
  run.replay = createReplay(report, { rate });
  const now = performance.now();
  run.startedAt = now;
  deliver(run, runs, run.replay.start(), now);
  renderAll();
}

/** Hands each replay the events that are due by now; called once per frame. */
function pumpReplays(now) {
  if (!active || !active.replay) return;
  for (const run of active.runs) {
    if (!run.replay || run.replay.finished) continue;
    for (const message of run.replay.due(now - run.startedAt)) deliver(run, active.runs, message, now);
  }
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
    pumpReplays(performance.now());
    renderAll();
  });
}

/** Draws every view of the active run on one shared time scale. */
function renderAll() {
  log.flush();
  renderNetworkUi();
  if (!active) return;
  inspector.refreshList();
  const now = performance.now();
  let anyMoving = false;
  const frames = active.runs.map((run) => {
    const live = isLive(run.state);
    // A held run stands still: no frames until something arrives.
    anyMoving = anyMoving || (live && !isHeld(run.state));
    let nowUs = null;
    if (live) {
      if (run.startedAt == null) nowUs = 0;
      else if (run.replay) nowUs = run.replay.nowUs(now - run.startedAt);
      else nowUs = viewNowUs(run.state, now);
    }
    return { run, nowUs };
  });
  // Same scale for both timelines of a comparison; it only ever grows during
  // a run, so bars do not jitter.
  for (const { run, nowUs } of frames) {
    // A replay knows its length up front: its scale never moves.
    const estimateUs = run.replay ? run.replay.lastUs : estimateRunUs(run.settings);
    const end = domainEnd({ maxEventUs: run.state.maxUs, nowUs: nowUs ?? 0, estimateUs });
    active.domainEndUs = Math.max(active.domainEndUs, end);
  }
  const single = active.runs.length === 1;
  for (const { run, nowUs } of frames) {
    run.view.render({ nowUs, domainEndUs: active.domainEndUs, cursorIndex: single ? cursorIndex : null });
  }
  if (anyMoving) scheduleFrame();
}

// ---------- options from the lab ----------

async function loadOptions() {
  try {
    const options = await fetchOptions();
    if (typeof options.version === 'string') $('[data-version]').textContent = ` ${options.version}`;
    const next = limitsFromOptions(options.limits);
    if (!next) throw new Error('its limits are missing or unreadable');
    linkBounds = linkLimits(options.limits);
    const policyNames = (options.policies || []).map((p) => (typeof p === 'string' ? p : p && p.name)).filter((n) => typeof n === 'string');
    for (const p of options.policies || []) {
      if (p && typeof p.name === 'string' && p.mirrors) offered.policyTitles.set(p.name, p.mirrors);
      if (p && typeof p.name === 'string' && p.knobs) offered.policyKnobs.set(p.name, knobsOf(p));
    }
    offered.strategies = (options.strategies || []).filter((n) => typeof n === 'string');
    offered.pageStrategies = Array.isArray(options.page_strategies) ? options.page_strategies.filter((n) => typeof n === 'string') : null;
    offered.policies = policyNames;
    offered.runtimes = (options.runtimes || []).filter((n) => typeof n === 'string');
    fillSelect(controls.strategy, offered.strategies, () => '');
    fillSelect(controls.policy, offered.policies, (name) => offered.policyTitles.get(name) || '');
    applyLimits(next);
    const networks = (options.networks || []).filter((n) => typeof n === 'string');
    fillSelect(controls.network, networks, (name) => NETWORK_TITLES[name] || '');
    const crossTabs = (options.cross_tabs || []).filter((n) => typeof n === 'string');
    fillSelect(controls.crossTab, crossTabs, (name) => CROSS_TAB_TITLES[name] || '');
    const modes = (options.modes || []).filter((n) => typeof n === 'string');
    fillSelect(controls.mode, modes, (name) => MODE_TITLES[name] || '');
    const runtimes = (options.runtimes || []).filter((n) => typeof n === 'string');
    fillSelect(controls.runtime, runtimes, (name) => RUNTIME_TITLES[name] || '');
    offered.challenges = challengesFromOptions(options.challenges);
    loadProgress(offered.challenges.map((c) => c.id));
    challengesButton.hidden = offered.challenges.length === 0;
    const d = controlValues(options.defaults || {});
    setDefault('strategy', d.strategy);
    setDefault('policy', d.policy);
    setDefault('network', d.network);
    setDefault('crossTab', d.crossTab);
    setDefault('mode', d.mode);
    offerLibraries();
    for (const [key, value] of Object.entries(d.values)) setDefault(key, value);
    if (!touched.has('late') && typeof d.late === 'boolean') controls.late.checked = d.late;
    if (CASES.includes(d.caseName) && !active) setCase(d.caseName);
  } catch (error) {
    showError(`The lab's options (GET /lab/options) did not load: ${error && error.message ? error.message : error}. Is the lab running?`);
  } finally {
    updatePolicyTitle();
    updateCrossTab();
    updateKnobs();
    if (!touched.has('compare')) resetComparePair();
    else updateCompareLabel();
    renderNetworkUi();
    // A link in the address (or else the last setup) before the page says it is ready.
    await openAtLoad().catch((error) => showError(`The link could not be opened: ${error && error.message ? error.message : error}`));
    document.body.setAttribute('data-ready', 'true');
  }
}

/** What each cross-tab choice does, for its option's tooltip. */
const CROSS_TAB_TITLES = {
  none: 'each tab refreshes on its own: the tabs race each other',
  lock: 'one lock for all tabs (Web Locks), and a re-read of the stored token after taking it',
};

/** What each mode makes the refresh credential, for its option's tooltip. */
const MODE_TITLES = {
  article: 'the article\'s: the expired access token is its own refresh credential',
  oauth: 'OAuth 2: a short JWT access token and an opaque refresh token, sent as a form and rotated',
};

/** The cross-tab choice only matters with several tabs: it shows up then. */
function updateCrossTab() {
  controls.crossTab.closest('label').hidden = !(Number(controls.tabs.value) > 1);
}

/** What each network driver does, for its option's tooltip. */
const RUNTIME_TITLES = {
  rust: 'The lab\'s own reqwest clients, in the engine',
  browser: 'The strategy as JavaScript in this page: a Web Worker per tab, real fetch',
};

const NETWORK_TITLES = {
  timer: 'each leg goes when its latency is up (pause with Space)',
  step: 'the run stands still; Step (→) delivers the next due leg',
  hand: 'nothing moves until you deliver a leg from the tray',
};

/** Uses the lab's limits for the checks and the inputs' min/max. */
function applyLimits(next) {
  limits = next;
  const fields = fieldsFor(limits);
  for (const [key, spec] of Object.entries(fields)) {
    const el = controls[key];
    if (!el) continue;
    el.min = String(spec.min);
    el.max = String(spec.max);
  }
  // Speeds the lab would refuse are not offered.
  for (const option of [...controls.speed.options]) {
    const value = Number(option.value);
    option.disabled = !(value >= limits.minSpeed && value <= limits.maxSpeed);
  }
}

/** The lab's names as a select's options, with tooltips. */
function fillSelect(select, names, titleFor) {
  select.replaceChildren(...names.map((name) => {
    const option = new Option(name, name);
    const title = titleFor(name);
    if (title) option.title = title;
    return option;
  }));
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
controls.tabs.addEventListener('input', updateCrossTab);
const moreScenario = $('[data-action="more-scenario"]');
moreScenario.addEventListener('click', () => {
  const open = moreScenario.getAttribute('aria-expanded') !== 'true';
  moreScenario.setAttribute('aria-expanded', String(open));
  $('[data-scenario-more]').hidden = !open;
});
controls.policy.addEventListener('change', () => {
  updatePolicyTitle();
  updateKnobs();
  // A of a policy comparison follows the server policy you picked.
  if (compareControls.by.value === 'policies') resetComparePair();
  else updateCompareLabel();
});
controls.strategy.addEventListener('change', () => {
  if (!codePanel.isOwn()) showStrategySource(controls.strategy.value);
  // A of a client comparison follows the client you picked.
  if (compareControls.by.value === 'strategies') resetComparePair();
  else updateCompareLabel();
});
compareControls.by.addEventListener('change', () => {
  touched.add('compare');
  resetComparePair();
});
for (const select of [compareControls.a, compareControls.b]) {
  select.addEventListener('change', () => {
    touched.add('compare');
    updateCompareLabel();
  });
}
replayInput.addEventListener('change', () => {
  const file = replayInput.files && replayInput.files[0];
  // Cleared so picking the same file again replays it again.
  startReplay(file).finally(() => { replayInput.value = ''; });
});

for (const button of caseButtons) {
  button.addEventListener('click', () => start(button.dataset.case));
}
compareButton.addEventListener('click', () => start(currentCase, { compare: true }));
$('[data-controls]').addEventListener('submit', (event) => {
  event.preventDefault();
  start(currentCase, { compare: !!(active && active.compare) });
});

document.addEventListener('keydown', (event) => {
  const target = event.target;
  const inField = target instanceof Element && !!target.closest('input, select, textarea, [contenteditable]');
  // Ctrl +/−/0 anywhere (the page's own zoom), P outside fields.
  const viewAction = viewKeyAction(event, { inField });
  if (viewAction) {
    event.preventDefault();
    runViewAction(viewAction);
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (inField) return;
  if (event.key === 'Escape' && challengesPanel.open) {
    challengesPanel.setOpen(false);
    syncChallengesButton();
    challengesButton.focus();
    return;
  }
  const index = ['1', '2', '3', '4'].indexOf(event.key);
  if (index >= 0) {
    if (event.repeat) return;
    event.preventDefault();
    start(CASES[index]);
    return;
  }
  // Space on a focused button presses that button, as everywhere.
  if (event.key === ' ' && target instanceof Element && target.closest('button, a[href], summary, [role="button"]')) return;
  const action = keyAction(event.key, networkContext());
  if (!action || (event.repeat && !action.startsWith('cursor'))) return;
  event.preventDefault();
  runAction(action);
});

/** Does what a network button or key asks for. */
function runAction(action) {
  switch (action) {
    case 'pause':
    case 'resume':
    case 'step':
      sendCommand({ command: action });
      break;
    case 'deliver-all':
      sendCommand({ command: 'deliver-all', filter: '*' });
      break;
    case 'undo':
      undo();
      break;
    case 'cursor-next':
    case 'cursor-prev': {
      const single = active && active.runs.length === 1 ? active.runs[0] : null;
      if (!single) return;
      cursorIndex = moveCursor(cursorIndex, action === 'cursor-next' ? 1 : -1, single.state.events.length);
      markCursorLine(single);
      renderAll();
      break;
    }
    default:
      break;
  }
}

netButtons.pause.addEventListener('click', () => runAction('pause'));
netButtons.resume.addEventListener('click', () => runAction('resume'));
netButtons.step.addEventListener('click', () => runAction('step'));
netButtons.deliverAll.addEventListener('click', () => runAction('deliver-all'));
netButtons.undo.addEventListener('click', () => runAction('undo'));

const rail = new NetworkPanel($('[data-rail]'), {
  deliver: (leg) => sendCommand({ command: 'deliver', leg }),
  dropLeg: (leg) => sendCommand({ command: 'drop', leg }),
  deliverAll: (filter) => sendCommand({ command: 'deliver-all', filter }),
  life: (action) => lifeAction(action),
  closeChallenge: () => {
    playing = null;
    renderNetworkUi();
  },
  openChallenges: () => {
    challengesPanel.setOpen(true);
    syncChallengesButton();
  },
});
const challengesPanel = new ChallengesPanel($('[data-challenges]'), {
  play,
  hint: (id) => {
    if (hintsShown.has(id)) hintsShown.delete(id);
    else hintsShown.add(id);
    renderNetworkUi();
  },
  giveUp: (id) => {
    progress = giveUp(progress, id);
    saveProgress();
    renderNetworkUi();
  },
  close: () => {
    challengesPanel.setOpen(false);
    syncChallengesButton();
    challengesButton.focus();
  },
});
challengesButton.addEventListener('click', () => {
  challengesPanel.setOpen(!challengesPanel.open);
  syncChallengesButton();
  renderNetworkUi();
  if (challengesPanel.open) challengesPanel.focus();
});

presenterButton.addEventListener('click', () => runViewAction('presenter'));
advancedButton.addEventListener('click', () => setAdvanced(!document.body.hasAttribute('data-advanced')));

applyView();
updatePolicyTitle();
resetComparePair();
new WalkPanel($('[data-walk]'));
startClassroom({ showError, clearError });
loadOptions();

// ---------- the code panel (code-panel.js) ----------
// The strategy's JavaScript beside the timeline (the line that made the
// latest exchange marked, the module's state shown), and the learner's own
// interceptor: Run plays the current case with it in the page, Grade runs
// the fixed checks of lib/grader.js, a score card row opens its timeline.

/** The label of a learner's module on timelines and in saved runs. */
const OWN_MODULE_NAME = 'your interceptor';
const strategySources = new Map();

/** What the code panel says for a strategy with no JavaScript module. */
function engineOnlyNote(name) {
  return `// The ${name} strategy runs in the Rust engine only (src/client/${name.replace(/-/g, '_')}.rs).\n`
    + '// It has no JavaScript module yet, so the browser runtime cannot run it.\n';
}

/** A built-in strategy's source, fetched once. */
function strategySource(name) {
  if (!strategySources.has(name)) {
    const file = libraryNamed(name)?.file ?? name; // a library: its adapter
    strategySources.set(name, fetch(`strategies/${encodeURIComponent(file)}.js`).then((response) => {
      if (!response.ok) throw new Error(`strategies/${file}.js answered HTTP ${response.status}`);
      return response.text();
    }));
  }
  return strategySources.get(name);
}

function showStrategySource(name) {
  // A strategy of the Rust engine alone has no module to show.
  if (offered.pageStrategies && !offered.pageStrategies.includes(name)) {
    if (!codePanel.isOwn()) codePanel.showModule(name, engineOnlyNote(name));
    return;
  }
  strategySource(name).then((source) => {
    if (!codePanel.isOwn() && (controls.strategy.value || 'naive') === name) codePanel.showModule(name, source);
  }, (error) => showError(`The ${name} strategy's source did not load: ${error.message}`));
}

/** Shows the module a browser run is about to run, so its lines can be marked. */
function showRunModule(run, settings) {
  codePanel.markLine(null);
  codePanel.showState(null);
  if (run.source) {
    if (!codePanel.isOwn()) codePanel.showOwn();
    codePanel.showError(null);
    return;
  }
  const name = libraryNamed(settings.module) ? settings.module : settings.strategy;
  strategySource(name).then((source) => {
    if (!codePanel.isOwn()) codePanel.showModule(name, source);
  }, () => {});
}

/** After ← / →: the line that made the event under the cursor, if the run knows it. */
function markCursorLine(run) {
  if (!run.lines || cursorIndex == null) return;
  const event = run.state.events[cursorIndex];
  const line = event && event.attempt != null ? run.lines.get(event.attempt) : null;
  if (line) codePanel.markLine(line);
}

/** The module's own problems (syntax, exports) before anything starts; true when it may run. */
function moduleReady(source) {
  const check = checkModule(source);
  if (check.ok) {
    codePanel.showError(null);
    return true;
  }
  codePanel.showError(check);
  return false;
}

let graded = null; // { source, rows } of the last grading: its rows open their timelines

// grader over every order: grade-runner.js explores each check with several
// requests (rows carry their counts and shortest counterexample, and a link to it)
async function grade(source) {
  if (!moduleReady(source)) return;
  graded = { source, rows: [] };
  const mine = graded;
  codePanel.showGrade([], CHECKS.length);
  const rows = await gradeModule(source, {
    module: OWN_MODULE_NAME,
    stillWanted: () => graded === mine, // a newer grading owns the card
    onModuleError: (failed) => codePanel.showError(failed),
    makeLink: async (settings) => {
      const made = linkBounds ? await encodeLink({ settings, source }, linkBounds) : null;
      return made && made.ok ? made.fragment : null;
    },
    onRows: (sofar) => {
      mine.rows = sofar;
      codePanel.showGrade(sofar, CHECKS.length);
    },
  });
  if (graded !== mine) return;
  // The card sits below the editor: bring it into the panel's view.
  const card = document.querySelector('[data-grade]');
  if (card) {
    card.scrollIntoView({ block: 'nearest' });
    card.scrollTop = 0; // its score first
  }
  log.note(`graded your interceptor: ${score(rows).passed} of ${score(rows).total} checks pass`, 'done');
}

/** A failing check's "Show me": its shortest failing order, by hand, with the graded module. */
function showCounterexample(id) {
  const row = graded && graded.rows.find((r) => r.id === id);
  const cx = row && row.counterexample;
  if (!cx) return;
  const settings = { ...cx.settings, module: OWN_MODULE_NAME };
  playing = null;
  if (CASES.includes(settings.case)) setCase(settings.case);
  launch([{ strategy: settings.strategy ?? 'naive', policy: settings.policy, label: OWN_MODULE_NAME, settings, source: graded.source, badge: 'counterexample' }], {
    note: `counterexample to "${row.title}": ${row.why} (by hand, ${settings.deliver.length} deliveries played)`,
  });
}
// end grader over every order

/** A score card row: the check's run, on the timeline, with the graded module. */
function openCheck(id) {
  const check = CHECKS.find((c) => c.id === id);
  if (!check || !graded) return;
  const settings = { ...check.settings, module: OWN_MODULE_NAME };
  playing = null;
  launch([{ strategy: settings.strategy ?? 'naive', policy: settings.policy, label: OWN_MODULE_NAME, settings, source: graded.source }], {
    note: `check "${check.title}" with your interceptor${settings.network === 'step' ? ' (its order played; step or resume for the rest)' : ''}`,
  });
}

const codePanel = mountCodePanel($('[data-code-panel]'), {
  template: '',
  onRun: (source) => {
    if (moduleReady(source)) start(currentCase || 'expired-refreshable', { own: source });
  },
  onGrade: (source) => {
    grade(source).catch((error) => showError(`Grading failed: ${error && error.message ? error.message : error}`));
  },
  onOpenCheck: openCheck,
  onShowCounterexample: showCounterexample, // grader over every order
});
strategySource('naive').then((text) => codePanel.setTemplate(text), () => {});
showStrategySource(controls.strategy.value || 'naive');

// ---------- libraries on the bench (ui/lib/libraries.js) ----------
// In the browser runtime the client control also offers the real
// interceptor libraries (axios-auth-refresh@5, …); picking one shows its
// options toggle (library-options.js). A library run is a browser run whose
// `module` names the library; the page loads its adapter with the options.

const libraryOptions = mountLibraryOptions($('[data-library-options]'));

/** Offers the libraries in the client control while the runtime is the browser. */
function offerLibraries() {
  const current = controls.strategy.value;
  for (const group of controls.strategy.querySelectorAll('optgroup[data-libraries]')) group.remove();
  if (controls.runtime.value === 'browser') {
    const group = document.createElement('optgroup');
    group.label = 'libraries (their real code)';
    group.dataset.libraries = '';
    group.append(...LIBRARIES.map((library) => {
      // The name gives the major (or minor); the label the exact version the page runs.
      const option = new Option(`${library.name} (${library.version})`, library.name);
      option.title = `${library.package} ${library.version}, unmodified, in the page`;
      return option;
    }));
    controls.strategy.append(group);
  }
  if ([...controls.strategy.options].some((o) => o.value === current)) controls.strategy.value = current;
  libraryOptions.show(libraryNamed(controls.strategy.value));
  if (controls.strategy.value !== current && !codePanel.isOwn()) showStrategySource(controls.strategy.value);
}

/** The adapter a run's tab loads: its library's (picked, or named by the settings' module), else the strategy. */
function libraryFile(run, settings) {
  const library = run.library ?? libraryNamed(settings.module);
  return library ? library.file : settings.strategy;
}

/** Turns plans whose strategy is a library into library runs, with the options checked. */
function benchPlans(plans, runtimesCompared) {
  if (!plans.some((plan) => libraryNamed(plan.strategy))) return { ok: true, plans };
  const name = plans.map((plan) => libraryNamed(plan.strategy)).find(Boolean).name;
  if (runtimesCompared) return { ok: false, message: `${name} is JavaScript: it runs only in the page. Compare it by servers instead.` };
  const check = libraryOptions.read();
  if (!check.ok) {
    libraryOptions.open();
    return { ok: false, message: `The options of ${name}: ${check.message}` };
  }
  return {
    ok: true,
    plans: plans.map((plan) => {
      const library = libraryNamed(plan.strategy);
      return library
        ? { ...plan, strategy: 'naive', library, libraryOptions: check.options, settings: libraryRun(plan.settings, library, check.options) }
        : plan;
    }),
  };
}

controls.runtime.addEventListener('change', offerLibraries);
controls.strategy.addEventListener('change', () => libraryOptions.show(libraryNamed(controls.strategy.value)));

// ---------- a run as a link (lib/link.js, link-view.js) ----------
// Copy link puts the run on screen in a #s= link: its settings as the lab
// echoed them, its delivery order, the learner's module. Opening one fills
// the controls and starts it, held at the start of its order; a module waits
// in the editor until the learner presses Run. The last setup run is kept
// the same way (SETUP_KEY) and comes back into the controls next time.
// A saved run dropped on the page replays, as "Replay a saved run" does.

let linkBounds = null; // the lab's (/lab/options), once loaded
const opened = { active: false, order: [], waitsForRun: false }; // the link opened last
const copyLinkButton = $('[data-action="copy-link"]');
const copyLink = mountCopyLink(copyLinkButton);
const linkBar = mountLinkBar($('[data-link-bar]'), {
  onNext: () => {
    const run = controlledRun();
    const leg = run ? nextInOrder(opened.order, run.state.delivered) : null;
    if (leg) sendCommand({ command: 'deliver', leg });
  },
  onPlay: playOrder,
  onClose: () => {
    opened.active = false;
    renderLinkUi();
  },
});

/** The run a link can hold: the one run on screen. */
function linkedRun() {
  if (!active || active.compare || active.runs.length !== 1) return null;
  const run = active.runs[0];
  return run.state.settings ? run : null;
}

function renderLinkUi() {
  const run = linkedRun();
  copyLinkButton.disabled = !run || !linkBounds;
  if (!opened.active) {
    linkBar.render(null);
    return;
  }
  const held = controlledRun();
  const delivered = held ? held.state.delivered : [];
  const next = held && isLive(held.state) ? nextInOrder(opened.order, delivered) : null;
  const done = opened.order.length > 0 && delivered.length >= opened.order.length
    && opened.order.every((leg, i) => delivered[i] === leg);
  linkBar.render({ waitsForRun: opened.waitsForRun && !(run && run.source), order: opened.order, next, done, delivered: delivered.length });
}

copyLinkButton.addEventListener('click', async () => {
  const run = linkedRun();
  if (!run || !linkBounds) return;
  const settings = runLinkSettings(run.state.settings, run.state.delivered, run.state.drops);
  const made = await encodeLink({ settings, source: run.source ?? null }, linkBounds);
  if (!made.ok) {
    copyLink.showError(made.message);
    return;
  }
  const url = `${window.location.origin}${window.location.pathname}${made.fragment}`;
  let copied = false;
  try {
    await navigator.clipboard.writeText(url);
    copied = true;
  } catch {
    // no clipboard here (or no permission): the link is shown, selected
  }
  copyLink.show(url, { copied });
});

/** The names a link's settings may use: those the lab and the page offer. */
function linkOffered() {
  const values = (select) => [...select.options].map((option) => option.value);
  return {
    cases: CASES,
    strategies: offered.strategies,
    policies: offered.policies,
    networks: values(controls.network),
    modes: values(controls.mode),
    crossTabs: values(controls.crossTab),
    runtimes: offered.runtimes,
    modules: [OWN_MODULE_NAME, ...LIBRARIES.map((library) => library.name)],
  };
}

/** Reads and checks a link: its contents, or null (the refusal shown). */
async function readLink(text, { quiet = false } = {}) {
  if (!linkBounds || !limits) return null;
  const decoded = await decodeLink(text, linkBounds);
  let check = decoded.ok
    ? checkLinkSettings(decoded.link.settings, { limits, offered: linkOffered(), knobs: knobsFor(decoded.link.settings.policy) })
    : decoded;
  if (check.ok && decoded.link.settings.module === OWN_MODULE_NAME && decoded.link.source == null) {
    check = { ok: false, message: 'The link was refused: it names a module of its own but does not carry it.' };
  }
  if (!check.ok) {
    if (!quiet && !decoded.none) showError(check.message);
    return null;
  }
  return decoded.link;
}

/** Puts a link's settings in the controls (what no control shows rides on the link's own run). */
function applySetup(settings) {
  const d = controlValues(settings);
  const set = (key, value) => {
    if (value == null) return;
    controls[key].value = String(value);
    touched.add(key);
  };
  if (CASES.includes(d.caseName)) setCase(d.caseName);
  set('runtime', settings.runtime ?? 'rust');
  offerLibraries();
  const library = libraryNamed(settings.module);
  set('strategy', library ? library.name : d.strategy);
  for (const key of ['policy', 'network', 'crossTab', 'mode']) set(key, d[key]);
  for (const [key, value] of Object.entries(d.values)) set(key, value);
  controls.late.checked = !!settings.late;
  touched.add('late');
  updateKnobs();
  set('overlap', settings.overlap_s);
  set('reuseCount', settings.reuse_count);
  if (typeof settings.rotate === 'boolean') controls.rotate.checked = settings.rotate;
  if (library) libraryOptions.set(library, settings.module_options ?? null);
  libraryOptions.show(library ?? null);
  updatePolicyTitle();
  updateCrossTab();
  if (compareControls.by.value === 'policies' || compareControls.by.value === 'strategies') resetComparePair();
  else updateCompareLabel();
  if (!codePanel.isOwn() && !library) showStrategySource(controls.strategy.value);
}

/** Opens a link: the setup in the controls, then its run (or its module in the editor, waiting for Run). */
async function openLink(text) {
  const link = await readLink(text);
  if (!link) return false;
  const plan = openPlan(link);
  clearError();
  markInvalid([]);
  applySetup(plan.settings);
  Object.assign(opened, { active: true, order: plan.order, waitsForRun: plan.waitsForRun });
  if (plan.waitsForRun) {
    if (active) abandon(active.token);
    const before = readStored(OWN_MODULE_KEY);
    if (before != null && before !== plan.source) store(`${OWN_MODULE_KEY}.before-link`, before);
    codePanel.open();
    codePanel.loadOwn(plan.source, `From a link: read it, then press ▶ Run.${before != null && before !== plan.source ? ' (Your previous module is kept: Ctrl+Z in the editor brings it back.)' : ''}`);
    renderAll();
    return true;
  }
  const { settings } = plan;
  const library = libraryNamed(settings.module);
  const label = library ? library.name : settings.strategy;
  playing = null;
  launch([{ strategy: settings.strategy, policy: settings.policy, label, settings, library: library ?? undefined, libraryOptions: settings.module_options ?? null }], {
    note: `${settings.case}: ${label} client, ${settings.policy} server, from a link${plan.order.length ? ` (by hand, at the start of its order of ${plan.order.length} deliveries)` : ''}`,
  });
  return true;
}

/** The run on screen again, by hand, with the link's whole order. */
function playOrder() {
  const run = controlledRun();
  if (!run || !opened.order.length || net.busy) return;
  const settings = { ...run.state.settings, network: 'hand', deliver: [...opened.order] };
  const plan = { strategy: run.strategy, policy: run.policy, label: run.label, settings, badge: run.badge ?? null, source: run.source, library: run.library, libraryOptions: run.libraryOptions };
  launch([plan], { note: `the link's order: ${opened.order.length} deliveries` });
}

/** Keeps the setup of a run that starts, for the next visit (its order and module aside). */
function keepSetup(settings) {
  if (!linkBounds || !settings) return;
  const { deliver, drop, ...setup } = settings;
  if (setup.module === OWN_MODULE_NAME) delete setup.module; // the module itself is kept on its own
  encodeLink({ settings: setup }, linkBounds).then((made) => {
    if (made.ok) store(SETUP_KEY, made.fragment);
  }, () => {});
}

/** At load: the link in the address, if any (then the address is cleaned), else the last setup into the controls. */
async function openAtLoad() {
  if (window.location.hash.startsWith('#s=')) {
    const hash = window.location.hash;
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}`);
    await openLink(hash);
    return;
  }
  const kept = readStored(SETUP_KEY);
  const link = kept ? await readLink(kept, { quiet: true }) : null;
  if (link) applySetup(openPlan(link).settings);
}

window.addEventListener('hashchange', () => {
  if (window.location.hash.startsWith('#s=')) openAtLoad();
});

// The desktop shell's note when the kept work could not be read (src-tauri/src/kept.js).
window.addEventListener('refresh-race:kept', (event) => showError(event.detail && event.detail.message));

// A saved run the desktop app was opened with (a file manager's "Open with"): replayed like a dropped one.
window.addEventListener('refresh-race:open-file', (event) => {
  const detail = event.detail || {};
  if (typeof detail.text === 'string') startReplay(new File([detail.text], String(detail.name || 'run.json'), { type: 'application/json' }));
});

// A saved run dropped anywhere on the page replays (the editor takes a file dropped on it itself).
const carriesFiles = (event) => !!event.dataTransfer && [...event.dataTransfer.types].includes('Files');
document.addEventListener('dragover', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = 'copy';
  document.body.setAttribute('data-dropping', '');
});
document.addEventListener('dragleave', (event) => {
  if (!event.relatedTarget) document.body.removeAttribute('data-dropping');
});
document.addEventListener('drop', (event) => {
  document.body.removeAttribute('data-dropping');
  if (!carriesFiles(event) || event.defaultPrevented) return;
  event.preventDefault();
  const files = [...event.dataTransfer.files];
  if (files.length !== 1) {
    showError(`Drop one saved run at a time (${files.length} files were dropped).`);
    return;
  }
  startReplay(files[0]);
});
// ---------- explore: every order, counted (explore-view.js) ----------
// The Explore button explores every delivery order of the setup on screen;
// a class's "Show me" opens its shortest order by hand, stopped at its
// point of no return; Hints put each leg's share of failing continuations
// on the tray's cards.

/** The setup on screen as run settings, or why it cannot run. */
function currentRunSettings() {
  if (!limits || !currentCase) return { error: 'The lab\'s options have not loaded yet.' };
  const check = validateControls(valuesForPolicy(readValues(), knobsFor(controls.policy.value)), limits);
  markInvalid(check.errors.map((e) => e.field));
  if (!check.ok) return { error: check.message };
  const policy = controls.policy.value;
  const settings = withRuntime(toRunSettings({
    caseName: currentCase,
    strategy: controls.strategy.value,
    policy,
    late: controls.late.checked,
    values: valuesForPolicy(check.values, knobsFor(policy)),
    network: 'hand',
    crossTab: controls.crossTab.value || null,
    mode: controls.mode.value || null,
    rotate: knobsFor(policy).rotate != null ? controls.rotate.checked : null,
  }), controls.runtime.value);
  return { settings };
}

exploreUi = mountExplore({
  panel: $('[data-explore-panel]'),
  button: $('[data-action="explore"]'),
  hints: $('[data-control="hints"]'),
  rail: $('[data-rail]'),
  currentSettings: currentRunSettings,
  heldRun: () => {
    const run = controlledRun();
    const state = run && run.state;
    if (!state || !isHeld(state) || !state.settings || state.settings.network !== 'hand' || state.settings.runtime === 'browser') return null;
    return { settings: state.settings, delivered: state.delivered };
  },
  // links from counterexamples: each class's shortest order as a #s=… link
  makeLink: async (settings) => {
    const made = linkBounds ? await encodeLink({ settings }, linkBounds) : null;
    return made && made.ok ? made.fragment : null;
  },
  open: (cx) => {
    const { settings } = cx;
    playing = null;
    if (CASES.includes(settings.case)) setCase(settings.case);
    launch([{ strategy: settings.strategy, policy: settings.policy, label: settings.strategy, settings, badge: 'counterexample' }], {
      note: `counterexample: ${cx.sentence} (by hand, ${settings.deliver.length} deliveries played)`,
    });
    if (active && active.runs.length === 1 && cx.leg) {
      active.runs[0].view.setNoReturn({ leg: cx.leg, delivered: settings.deliver.length, caption: cx.caption });
    }
  },
});
