// Wiring: controls → plans → runs → reducer → views.
//
// The page's parts are mounted here in one explicit order, then started:
//   store      one app state object (lib/store.js), changed by update()
//   actions    one registry (lib/actions.js): every action's name, keys,
//              enabled state and perform, serving buttons, keyboard and
//              presenter mode alike
//   views      view-mode.js (theme, scale, More), controls-view.js (the
//              form), runs.js (runs on screen and drawing), network-ui.js
//              (held runs, challenges), code-runs.js (the code panel),
//              link-wiring.js (links), explore-view.js (every order)
// Each part reaches the others through `app` when it is called, never while
// it is mounted, so no part depends on another being created first; the
// lab's options are loaded only once everything is mounted.
//
// Defaults, limits and the names of strategies and policies come from
// GET /lab/options (the engine's); colours from lib/colors.js. Neither is
// repeated in index.html. What a press of a case starts is decided in
// lib/plan.js.

import { LogView } from './log-view.js';
import { Inspector } from './inspector.js';
import { WalkPanel } from './walk-panel.js';
import { ExportMenu } from './export-menu.js';
import { startClassroom } from './classroom-panel.js';
// The room as one and the lesson (room-view.js, lesson-view.js): mounted before start-up.
import { mountRoom } from './room-view.js';
import { mountLesson } from './lesson-view.js';
import { fetchOptions } from './transport.js';
import { isHeld } from './lib/reducer.js';
import { keyAction, controlState } from './lib/network.js';
import { viewKeyAction } from './lib/presenter.js';
import { createStore, initialAppState } from './lib/store.js';
import { createActions } from './lib/actions.js';
import { runPlans, benchPlans, setupSettings, OWN_MODULE_NAME } from './lib/plan.js';
import { mountViewMode } from './view-mode.js';
import { mountControls } from './controls-view.js';
import { mountRuns } from './runs.js';
import { mountNetworkUi, NET_BUTTONS } from './network-ui.js';
import { mountCodeRuns } from './code-runs.js';
import { mountLibraryOptions } from './library-options.js'; // libraries on the bench: the picked library's options
import { mountLinks } from './link-wiring.js';
import { encodeLink } from './lib/link.js';
import { mountExplore } from './explore-view.js'; // explore: see its block at the end
import { pageClient } from './lib/explore.js';

const $ = (selector) => document.querySelector(selector);

// ---------- mount, in order ----------

const store = createStore(initialAppState());
const actions = createActions();
const log = new LogView($('[data-log]'));
/** The parts of the page; each fills in its own entry below. */
const app = { store, actions, log, controls: null, runs: null, net: null, code: null, link: null, explore: null };

const viewMode = mountViewMode({
  presenterButton: $('[data-action="presenter"]'),
  advancedButton: $('[data-action="advanced"]'),
  scaleNote: $('[data-scale-note]'),
  onRestyle: () => app.runs.restyle(),
});
const libraryOptions = mountLibraryOptions($('[data-library-options]'));
app.controls = mountControls(app, { libraryOptions });
const inspector = new Inspector({
  list: $('[data-token-list]'),
  detail: $('[data-token-detail]'),
  onSelect: (jti) => {
    const { active } = store.state;
    if (!active) return;
    for (const run of active.runs) run.view.select(jti);
    app.runs.renderAll();
  },
});
app.runs = mountRuns(app, {
  log,
  inspector,
  exportMenu: new ExportMenu($('[data-export-menu]')),
  timelines: $('[data-timelines]'),
  placeholder: $('[data-placeholder]'),
});
const netButtons = NET_BUTTONS.map(([name]) => [name, $(`[data-controls] [data-action="${name}"]`)]);
const challengesButton = $('[data-action="challenges"]');
app.net = mountNetworkUi(app, {
  rail: $('[data-rail]'),
  challengesRoot: $('[data-challenges]'),
  challengesButton,
  challengesCount: $('[data-challenges-count]'),
  netButtons,
});
app.code = mountCodeRuns(app, {
  root: $('[data-code-panel]'),
  start: (own) => start(store.state.currentCase || 'expired-refreshable', { own }),
});
app.link = mountLinks(app, { copyLinkButton: $('[data-action="copy-link"]'), linkBar: $('[data-link-bar]') });

/**
 * Starts `caseName` with the current settings: one run, or a comparison.
 * `own`: the learner's module source, run in the page instead of the picked strategy.
 */
function start(caseName, { compare = false, own = null } = {}) {
  const { controls } = app;
  if (!store.state.limits || !caseName) {
    controls.showError('The lab\'s options (GET /lab/options) have not loaded: nothing can be checked or started. Is the lab running?');
    return false;
  }
  controls.setCase(caseName);
  // Client picker groups: "your code" runs the code panel's module.
  if (!own && !compare && controls.form().strategy === OWN_MODULE_NAME) own = app.code.panel.getSource();
  const check = controls.check();
  if (!check.ok) {
    controls.showError(check.message);
    return false;
  }
  controls.clearError();
  const choice = controls.compareChoice();
  const { plans, note } = runPlans({ caseName, compare, own, choice, form: controls.form(), values: check.values, knobsFor: controls.knobsFor });
  // Libraries on the bench: a library client runs in the page.
  const bench = benchPlans(plans, { runtimesCompared: compare && choice.by === 'runtimes', readOptions: () => libraryOptions.read() });
  if (!bench.ok) {
    if (bench.openOptions) libraryOptions.open();
    controls.showError(bench.message);
    return false;
  }
  store.update({ playing: null });
  app.runs.launch(bench.plans, { compare, note });
  return true;
}

// ---------- the actions: buttons, keys, presenter ----------

for (const [name, direction] of [['scale-up', 1], ['scale-down', -1], ['scale-reset', 0]]) {
  // Ctrl +/−/0 anywhere (the page's own zoom), held down too.
  actions.define({ name, anywhere: true, repeat: true, key: (k) => viewKeyAction(k, { inField: k.inField }) === name, perform: () => viewMode.scale(direction) });
}
actions.define({ name: 'presenter', anywhere: true, key: (k) => viewKeyAction(k, { inField: k.inField }) === 'presenter', perform: () => viewMode.togglePresenter() });
actions.define({ name: 'advanced', perform: () => viewMode.toggleAdvanced() });
actions.define({ name: 'challenges', perform: () => app.net.toggleChallenges() });
actions.define({ name: 'close-challenges', key: (k, ctx) => k.key === 'Escape' && ctx.challengesOpen, perform: () => app.net.closeChallenges() });
app.controls.CASES.forEach((caseName, index) => {
  actions.define({ name: `case-${index + 1}`, key: (k) => k.key === String(index + 1), perform: () => start(caseName) });
});
actions.define({ name: 'compare', perform: () => start(store.state.currentCase, { compare: true }) });
const netKey = (name) => (k, ctx) => !(k.key === ' ' && k.onButton) && keyAction(k.key, ctx.network) === name; // Space on a focused button presses that button
const netEnabled = (which) => (ctx) => controlState(ctx.network)[which];
actions.define({ name: 'pause', key: netKey('pause'), enabled: netEnabled('pause'), perform: () => app.net.sendCommand({ command: 'pause' }) });
actions.define({ name: 'resume', key: netKey('resume'), enabled: netEnabled('resume'), perform: () => app.net.sendCommand({ command: 'resume' }) });
actions.define({ name: 'step', key: netKey('step'), enabled: netEnabled('step'), perform: () => app.net.sendCommand({ command: 'step' }) });
actions.define({ name: 'deliver-all', enabled: netEnabled('deliverAll'), perform: () => app.net.sendCommand({ command: 'deliver-all', filter: '*' }) });
actions.define({ name: 'undo', key: netKey('undo'), enabled: netEnabled('undo'), perform: () => app.net.undo() });
actions.define({ name: 'cursor-next', repeat: true, key: netKey('cursor-next'), perform: () => app.net.moveEventCursor(1) });
actions.define({ name: 'cursor-prev', repeat: true, key: netKey('cursor-prev'), perform: () => app.net.moveEventCursor(-1) });

/** A button performs its action. */
function bind(name, button) {
  button.addEventListener('click', () => actions.perform(name));
}
bind('presenter', $('[data-action="presenter"]'));
bind('advanced', $('[data-action="advanced"]'));
bind('challenges', challengesButton);
app.controls.caseButtons.forEach((button, index) => bind(`case-${index + 1}`, button));
bind('compare', app.controls.compareButton);
for (const [name, button] of netButtons) bind(name, button);

document.addEventListener('keydown', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const key = {
    key: event.key,
    code: event.code,
    ctrlKey: event.ctrlKey,
    metaKey: event.metaKey,
    altKey: event.altKey,
    shiftKey: event.shiftKey,
    repeat: event.repeat,
    inField: !!(target && target.closest('input, select, textarea, [contenteditable]')),
    onButton: !!(target && target.closest('button, a[href], summary, [role="button"]')),
  };
  const name = actions.forKey(key, { network: app.net.context(), challengesOpen: app.net.challengesOpen() });
  if (!name) return;
  event.preventDefault();
  actions.perform(name);
});

$('[data-controls]').addEventListener('submit', (event) => {
  event.preventDefault();
  const { active } = store.state;
  start(store.state.currentCase, { compare: !!(active && active.compare) });
});

// ---------- saved runs: picked, dropped, or opened with the desktop app ----------

const replayInput = $('[data-control="replay-file"]');
replayInput.addEventListener('change', () => {
  const file = replayInput.files && replayInput.files[0];
  // Cleared so picking the same file again replays it again.
  app.runs.startReplay(file).finally(() => { replayInput.value = ''; });
});

// The desktop shell's note when the kept work could not be read (src-tauri/src/kept.js).
window.addEventListener('refresh-race:kept', (event) => app.controls.showError(event.detail && event.detail.message));

// A saved run the desktop app was opened with (a file manager's "Open with"): replayed like a dropped one.
window.addEventListener('refresh-race:open-file', (event) => {
  const detail = event.detail || {};
  if (typeof detail.text === 'string') app.runs.startReplay(new File([detail.text], String(detail.name || 'run.json'), { type: 'application/json' }));
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
    app.controls.showError(`Drop one saved run at a time (${files.length} files were dropped).`);
    return;
  }
  app.runs.startReplay(files[0]);
});

// ---------- explore: every order, counted (explore-view.js) ----------
// The Explore button explores every delivery order of the setup on screen;
// a class's "Show me" opens its shortest order by hand, stopped at its
// point of no return; Hints put each leg's share of failing continuations
// on the tray's cards.

/** The setup on screen as run settings (held by hand), or why it cannot run. */
function currentRunSettings() {
  const { limits, currentCase } = store.state;
  if (!limits || !currentCase) return { error: 'The lab\'s options have not loaded yet.' };
  const check = app.controls.check();
  if (!check.ok) return { error: check.message };
  const form = app.controls.form();
  const knobs = app.controls.knobsFor(form.policy);
  // "Your code" in the client picker: the code panel's module, in the page.
  if (form.strategy === OWN_MODULE_NAME) {
    const { strategy, ...settings } = setupSettings({ caseName: currentCase, strategy: 'naive', policy: form.policy, runtime: 'browser', form, values: check.values, knobs, network: 'hand' });
    return { settings: { ...settings, module: OWN_MODULE_NAME } };
  }
  const settings = setupSettings({ caseName: currentCase, strategy: form.strategy, policy: form.policy, runtime: form.runtime, form, values: check.values, knobs, network: 'hand' });
  // A library on the bench explores as its runs run: the library's module
  // with its options, in the page (benchPlans, as for Run).
  const bench = benchPlans([{ strategy: form.strategy, settings }], { readOptions: () => libraryOptions.read() });
  if (!bench.ok) return { error: bench.message };
  return { settings: bench.plans[0].settings };
}

app.explore = mountExplore({
  panel: $('[data-explore-panel]'),
  button: $('[data-action="explore"]'),
  hints: $('[data-control="hints"]'),
  rail: $('[data-rail]'),
  currentSettings: currentRunSettings,
  // A browser-runtime setup of "your code" explores the code panel's module.
  client: () => (app.controls.form().strategy === OWN_MODULE_NAME ? { source: app.code.panel.getSource() } : {}),
  // links from counterexamples: each class's shortest order as a #s=… link
  makeLink: async (settings) => {
    const { linkBounds } = store.state;
    const made = linkBounds ? await encodeLink({ settings }, linkBounds) : null;
    return made && made.ok ? made.fragment : null;
  },
  heldRun: () => {
    const run = app.net.controlledRun();
    const state = run && run.state;
    if (!state || !isHeld(state) || !state.settings || state.settings.network !== 'hand') return null;
    // A run in the page explores with its own module (a built-in's JS, a library with its options, the learner's code).
    return { settings: state.settings, delivered: state.delivered, client: pageClient(run) };
  },
  open: (cx) => {
    const { settings } = cx;
    store.update({ playing: null });
    if (app.controls.CASES.includes(settings.case)) app.controls.setCase(settings.case);
    // An order of "your code" replays the code panel's module.
    const own = settings.module === OWN_MODULE_NAME ? { label: OWN_MODULE_NAME, source: app.code.panel.getSource() } : { label: settings.strategy };
    app.runs.launch([{ strategy: settings.strategy, policy: settings.policy, settings, badge: 'counterexample', ...own }], {
      note: `counterexample: ${cx.sentence} (by hand, ${settings.deliver.length} deliveries played)`,
    });
    const { active } = store.state;
    if (active && active.runs.length === 1 && cx.leg) {
      active.runs[0].view.setNoReturn({ leg: cx.leg, delivered: settings.deliver.length, caption: cx.caption });
    }
  },
});

// ---------- start, in order ----------

/** GET /lab/options into the controls, the challenges and the store; a failure is shown, the page still comes up. */
async function loadOptions() {
  try {
    const options = await fetchOptions();
    const offered = app.controls.applyOptions(options);
    app.net.loadProgress(offered.challenges.map((c) => c.id));
    app.controls.applyDefaults(options);
  } catch (error) {
    app.controls.showError(`The lab's options (GET /lab/options) did not load: ${error && error.message ? error.message : error}. Is the lab running?`);
  }
}

async function startUp() {
  viewMode.apply(); // the theme and scale before anything is drawn
  app.controls.updatePolicyTitle();
  app.controls.resetComparePair();
  new WalkPanel($('[data-walk]'));
  startClassroom({ showError: app.controls.showError, clearError: app.controls.clearError });
  app.code.showInitial(); // the naive client's source, fetched while the options load
  await loadOptions();
  app.controls.settle();
  app.net.render();
  // A link in the address (or else the last setup) before the page says it is ready.
  await app.link.openAtLoad().catch((error) => app.controls.showError(`The link could not be opened: ${error && error.message ? error.message : error}`));
  document.body.setAttribute('data-ready', 'true');
}

// The room as one and the lesson (room-view.js, lesson-view.js): the lesson panel; in classroom
// mode, a seat's banner and the instructor's results.
const lesson = mountLesson();
mountRoom({
  setup: () => { const run = app.link.linkedRun(); return run ? run.state.settings : null; },
  linkBounds: () => store.state.linkBounds,
  onStep: (id) => lesson.goTo(id),
  onProgress: (listener) => lesson.onProgress(listener),
  showError: app.controls.showError,
});

startUp();
