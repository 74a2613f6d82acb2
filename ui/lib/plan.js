// What a press of a case (or Compare, or Run in the code panel) starts:
// the plans, one per timeline, each with the RunSettings the lab gets.
// Also the bench's part (a client that is a real library runs in the page
// with its options) and the plans that replay a run on screen (undo, a
// link's order). Pure: the controls' values come in, plans go out.

import { toRunSettings, valuesForPolicy } from './validate.js';
import { comparePlan } from './compare.js';
import { libraryNamed, libraryRun } from './libraries.js';

/** The label of a learner's module on timelines and in saved runs. */
export const OWN_MODULE_NAME = 'your interceptor';

/** What a comparison varies on its timelines, per what it compares. */
const VARIES = { policies: 'policy', strategies: 'strategy', runtimes: 'runtime' };

/** Settings for `runtime`: the Rust engine's are today's, unchanged. */
export function withRuntime(settings, runtime) {
  return runtime === 'browser' ? { ...settings, runtime } : settings;
}

/**
 * The run settings of the setup in the controls, for one client and one
 * server. `form`: the controls' choices `{ strategy, policy, runtime, late,
 * crossTab, mode, rotate }`; `values`: the checked numbers; `knobs`: the
 * server's parameters (knobsOf), null for a server without them.
 */
export function setupSettings({ caseName, strategy, policy, runtime, form, values, knobs, network }) {
  return withRuntime(toRunSettings({
    caseName,
    strategy,
    policy,
    late: form.late,
    values: valuesForPolicy(values, knobs),
    network,
    crossTab: form.crossTab || null,
    mode: form.mode || null,
    rotate: knobs && knobs.rotate != null ? form.rotate : null,
  }), runtime);
}

/**
 * The plans for `caseName`: one run of the picked client (or of the
 * learner's module, `own`), or the two runs of a comparison (`choice`:
 * compareChoice's `{ by, a, b, strategy, policy }`). `knobsFor(policy)`:
 * the server's parameters. A comparison flows on the timer (one tray for
 * two held runs would be a puzzle of its own).
 * Returns `{ plans, network, note }`.
 */
export function runPlans({ caseName, compare = false, own = null, choice, form, values, knobsFor }) {
  const varies = compare ? VARIES[choice.by] : null;
  const pairs = (compare
    ? comparePlan(choice)
    : [{ strategy: form.strategy, policy: form.policy, label: own ? OWN_MODULE_NAME : form.strategy, ...(own ? { source: own, runtime: 'browser' } : {}) }])
    .map((p) => ({ ...p, varies }));
  const network = compare ? 'timer' : form.network || 'timer';
  const plans = pairs.map((p) => {
    // Each plan gets only the parameters its own server has (a policy comparison mixes them).
    const knobs = p.policy === form.policy ? knobsFor(p.policy) : null;
    const settings = setupSettings({
      caseName, strategy: p.strategy, policy: p.policy, runtime: p.runtime ?? form.runtime, form, values, knobs, network,
    });
    return { ...p, settings: p.source ? { ...settings, module: OWN_MODULE_NAME } : settings };
  });
  const what = compare && choice.by === 'policies'
    ? `${choice.strategy} client, ${choice.a} vs ${choice.b} servers`
    : compare && choice.by === 'runtimes'
      ? `${choice.strategy} client in ${choice.a} vs ${choice.b}, ${choice.policy} server`
      : `${pairs.map((p) => p.strategy).join(' vs ')} client${compare ? 's' : ''}, ${choice.policy} server`;
  return { plans, network, note: `${caseName}: ${what}${network !== 'timer' ? ` (network: ${network})` : ''}` };
}

/**
 * Turns plans whose strategy is a library into library runs. `readOptions()`
 * checks the library's options (library-options.js's read): `{ ok, options }`
 * or `{ ok: false, message }`. A refusal says whether the options should be
 * opened to show it (`openOptions`).
 */
export function benchPlans(plans, { runtimesCompared = false, readOptions }) {
  if (!plans.some((plan) => libraryNamed(plan.strategy))) return { ok: true, plans };
  const name = plans.map((plan) => libraryNamed(plan.strategy)).find(Boolean).name;
  if (runtimesCompared) return { ok: false, message: `${name} is JavaScript: it runs only in the page. Compare it by servers instead.` };
  const check = readOptions();
  if (!check.ok) return { ok: false, message: `The options of ${name}: ${check.message}`, openOptions: true };
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

/** The run on screen again with other settings (undo, a link's order): same client, module and library. */
export function replanWith(run, settings) {
  return {
    strategy: run.strategy,
    policy: run.policy,
    label: run.label,
    settings,
    badge: run.badge ?? null,
    source: run.source,
    library: run.library,
    libraryOptions: run.libraryOptions,
  };
}

/** The plan of a run from a link, a challenge or a counterexample: its settings name the client (or the library). */
export function settingsPlan(settings, { badge = null } = {}) {
  const library = libraryNamed(settings.module);
  const label = library ? library.name : settings.strategy;
  return {
    strategy: settings.strategy,
    policy: settings.policy,
    label,
    settings,
    ...(badge ? { badge } : {}),
    ...(library ? { library, libraryOptions: settings.module_options ?? null } : {}),
  };
}

/** The adapter a run's tab loads: its library's (picked, or named by the settings' module), else the strategy. */
export function libraryFile(run, settings) {
  const library = run.library ?? libraryNamed(settings.module);
  return library ? library.file : settings.strategy;
}
