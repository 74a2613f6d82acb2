// The run controls: the cases, the form (client, policy, speed, network and
// the rest under More), the compare choices and the error line. It fills
// them from GET /lab/options (names, defaults, limits: never repeated in
// index.html), reads them back for plan building (lib/plan.js) and puts a
// link's setup into them. A control the user changed keeps its value when
// the options arrive late (`touched`).

import { validateControls, limitsFromOptions, fieldsFor, controlValues, knobsOf, valuesForPolicy } from './lib/validate.js';
import { defaultPair, compareNames, compareBy, compareLabel as compareLabelText, compareTitle } from './lib/compare.js';
import { challengesFromOptions } from './lib/challenges.js';
import { linkLimits } from './lib/link.js';
import { libraryNamed, pickerGroups } from './lib/libraries.js';
import { paintClientPicker } from './library-options.js';
import { OWN_MODULE_NAME } from './lib/plan.js';
import { CROSS_TAB_TITLES, MODE_TITLES, RUNTIME_TITLES, NETWORK_TITLES } from './lib/option-titles.js';

const $ = (selector) => document.querySelector(selector);

/** The lab's names as a select's options, with tooltips. */
function fillSelect(select, names, titleFor) {
  select.replaceChildren(...names.map((name) => {
    const option = new Option(name, name);
    const title = titleFor(name);
    if (title) option.title = title;
    return option;
  }));
}

/**
 * Mounts the controls. `app.store` holds what the lab offers and the
 * current case; `app.code` (the code panel's wiring) shows a picked
 * client's source; `libraryOptions` is the bench's options toggle.
 */
export function mountControls(app, { libraryOptions }) {
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
  const compareControls = {
    by: $('[data-control="compare-by"]'),
    a: $('[data-control="compare-a"]'),
    b: $('[data-control="compare-b"]'),
  };
  const compareFixed = $('[data-compare-fixed]');
  const compareButton = $('[data-action="compare"]');
  const compareLabel = $('[data-compare-label]');
  const caseButtons = [...document.querySelectorAll('[data-case]')];
  const errorBox = $('[data-error]');
  const moreScenario = $('[data-action="more-scenario"]');
  const CASES = caseButtons.map((button) => button.dataset.case);
  const touched = new Set(); // controls the user changed (options must not overwrite them)

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
    return app.store.state.offered.policyKnobs.get(policy) ?? knobsOf(null);
  }

  /** The numbers checked against the lab's limits (the fields at fault marked): lib/validate.js's answer. */
  function check() {
    const result = validateControls(valuesForPolicy(readValues(), knobsFor(controls.policy.value)), app.store.state.limits);
    markInvalid(result.errors.map((e) => e.field));
    return result;
  }

  /** The choices of the form, for lib/plan.js. */
  function form() {
    return {
      strategy: controls.strategy.value,
      policy: controls.policy.value,
      runtime: controls.runtime.value,
      network: controls.network.value,
      late: controls.late.checked,
      crossTab: controls.crossTab.value,
      mode: controls.mode.value,
      rotate: controls.rotate.checked,
    };
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
    const { offered } = app.store.state;
    const by = compareBy(compareControls.by.value);
    const names = compareNames(by, offered[by], controls.runtime.value); // libraries on the bench (compare.js)
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

  /** A of a comparison follows the client or server you picked. */
  function followCompare(by) {
    if (compareControls.by.value === by) resetComparePair();
    else updateCompareLabel();
  }

  function updatePolicyTitle() {
    const option = controls.policy.selectedOptions[0];
    controls.policy.title = option && option.title ? `${option.value}: mirrors ${option.title}` : '';
  }

  /** The cross-tab choice only matters with several tabs: it shows up then. */
  function updateCrossTab() {
    controls.crossTab.closest('label').hidden = !(Number(controls.tabs.value) > 1);
  }

  function setCase(name) {
    app.store.update({ currentCase: name });
  }

  // The case buttons paint the current case, whoever set it.
  app.store.subscribe((state, changed) => {
    if (!changed.includes('currentCase')) return;
    for (const button of caseButtons) {
      button.setAttribute('aria-pressed', button.dataset.case === state.currentCase ? 'true' : 'false');
    }
  });

  /** Uses the lab's limits for the checks and the inputs' min/max. */
  function applyLimits(limits) {
    app.store.update({ limits });
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

  function setDefault(key, value) {
    if (value == null || touched.has(key)) return;
    const el = controls[key];
    if (el.tagName === 'SELECT' && ![...el.options].some((o) => o.value === String(value))) return;
    el.value = String(value);
  }

  /** The client control in groups: built-ins; in the browser runtime your code and the libraries (with versions). */
  function offerLibraries() {
    const current = controls.strategy.value;
    const { offered } = app.store.state;
    paintClientPicker(controls.strategy, pickerGroups({ builtins: offered.strategies, runtime: controls.runtime.value, own: OWN_MODULE_NAME }));
    if (compareBy(compareControls.by.value) === 'strategies') resetComparePair();
    libraryOptions.show(libraryNamed(controls.strategy.value));
    if (controls.strategy.value !== current && !app.code.isOwn()) app.code.showStrategySource(controls.strategy.value);
  }

  /**
   * Fills the controls from GET /lab/options: what the lab offers (kept in
   * the store), its limits and its defaults. Throws when the limits are unreadable.
   */
  function applyOptions(options) {
    if (typeof options.version === 'string') $('[data-version]').textContent = ` ${options.version}`;
    const limits = limitsFromOptions(options.limits);
    if (!limits) throw new Error('its limits are missing or unreadable');
    const names = (list) => (list || []).filter((n) => typeof n === 'string');
    const offered = {
      ...app.store.state.offered,
      policyTitles: new Map(),
      policyKnobs: new Map(),
      strategies: names(options.strategies),
      pageStrategies: Array.isArray(options.page_strategies) ? names(options.page_strategies) : null,
      policies: (options.policies || []).map((p) => (typeof p === 'string' ? p : p && p.name)).filter((n) => typeof n === 'string'),
      runtimes: names(options.runtimes),
      challenges: challengesFromOptions(options.challenges),
    };
    for (const p of options.policies || []) {
      if (p && typeof p.name === 'string' && p.mirrors) offered.policyTitles.set(p.name, p.mirrors);
      if (p && typeof p.name === 'string' && p.knobs) offered.policyKnobs.set(p.name, knobsOf(p));
    }
    app.store.update({ linkBounds: linkLimits(options.limits), offered });
    fillSelect(controls.strategy, offered.strategies, () => '');
    offerLibraries(); // client picker groups (library-options.js)
    fillSelect(controls.policy, offered.policies, (name) => offered.policyTitles.get(name) || '');
    applyLimits(limits);
    fillSelect(controls.network, names(options.networks), (name) => NETWORK_TITLES[name] || '');
    fillSelect(controls.crossTab, names(options.cross_tabs), (name) => CROSS_TAB_TITLES[name] || '');
    fillSelect(controls.mode, names(options.modes), (name) => MODE_TITLES[name] || '');
    fillSelect(controls.runtime, names(options.runtimes), (name) => RUNTIME_TITLES[name] || '');
    return offered;
  }

  /** The lab's defaults into every control the user has not changed (after the challenges' progress loaded). */
  function applyDefaults(options) {
    const d = controlValues(options.defaults || {});
    setDefault('strategy', d.strategy);
    setDefault('policy', d.policy);
    setDefault('network', d.network);
    setDefault('crossTab', d.crossTab);
    setDefault('mode', d.mode);
    offerLibraries();
    for (const [key, value] of Object.entries(d.values)) setDefault(key, value);
    if (!touched.has('late') && typeof d.late === 'boolean') controls.late.checked = d.late;
    if (CASES.includes(d.caseName) && !app.store.state.active) setCase(d.caseName);
  }

  /** After the options (loaded or not): the titles, the tabs' choice, the parameters and the compare pair. */
  function settle() {
    updatePolicyTitle();
    updateCrossTab();
    updateKnobs();
    if (!touched.has('compare')) resetComparePair();
    else updateCompareLabel();
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
    if (!app.code.isOwn() && !library) app.code.showStrategySource(controls.strategy.value);
  }

  /** The names a link's settings may use, as the controls offer them. */
  function offeredNames() {
    const values = (select) => [...select.options].map((option) => option.value);
    return { cases: CASES, networks: values(controls.network), modes: values(controls.mode), crossTabs: values(controls.crossTab) };
  }

  // ---------- listeners ----------
  for (const [key, el] of Object.entries(controls)) {
    el.addEventListener('input', () => touched.add(key));
    el.addEventListener('change', () => touched.add(key));
  }
  controls.tabs.addEventListener('input', updateCrossTab);
  moreScenario.addEventListener('click', () => {
    const open = moreScenario.getAttribute('aria-expanded') !== 'true';
    moreScenario.setAttribute('aria-expanded', String(open));
    $('[data-scenario-more]').hidden = !open;
  });
  controls.policy.addEventListener('change', () => {
    updatePolicyTitle();
    updateKnobs();
    followCompare('policies');
  });
  controls.strategy.addEventListener('change', () => {
    if (controls.strategy.value === OWN_MODULE_NAME) app.code.panel.showOwn(); // client picker groups: your code
    else if (!app.code.isOwn()) app.code.showStrategySource(controls.strategy.value);
    followCompare('strategies');
    libraryOptions.show(libraryNamed(controls.strategy.value));
  });
  controls.runtime.addEventListener('change', offerLibraries);
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

  return {
    CASES,
    caseButtons,
    compareButton,
    speed: () => Number(controls.speed.value) || 1,
    strategy: () => controls.strategy.value,
    showError,
    clearError,
    markInvalid,
    knobsFor,
    check,
    form,
    compareChoice,
    resetComparePair,
    updatePolicyTitle,
    setCase,
    applyOptions,
    applyDefaults,
    settle,
    applySetup,
    offeredNames,
  };
}
