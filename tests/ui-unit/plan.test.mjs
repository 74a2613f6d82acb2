import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPlans, benchPlans, setupSettings, replanWith, settingsPlan, libraryFile, withRuntime, OWN_MODULE_NAME } from '../../ui/lib/plan.js';
import { validateControls, limitsFromOptions, controlValues, knobsOf } from '../../ui/lib/validate.js';
import { compareBy } from '../../ui/lib/compare.js';
import { LIBRARIES, libraryNamed } from '../../ui/lib/libraries.js';
import { options, report } from './fixtures.mjs';

// The controls as the lab's defaults fill them (GET /lab/options, recorded by the engine).
const LAB = options();
const limits = limitsFromOptions(LAB.limits);
const d = controlValues(LAB.defaults);
const knobs = new Map(LAB.policies.filter((p) => p.knobs).map((p) => [p.name, knobsOf(p)]));
const knobsFor = (policy) => knobs.get(policy) ?? knobsOf(null);
const checked = validateControls({ ...d.values, speed: String(d.values.speed) }, limits);
const form = { strategy: d.strategy, policy: d.policy, runtime: 'rust', network: d.network, late: d.late, crossTab: d.crossTab, mode: d.mode, rotate: false };
const choice = (by, a, b) => ({ by: compareBy(by), a, b, strategy: form.strategy, policy: form.policy });

/** The fields the page sends, from a run the engine recorded (the engine adds login latency, jitter, seed, …). */
function sentFields(settings) {
  const { jitter_ms: _j, seed: _s, deliver: _d, idle_s: _i, ...rest } = settings;
  return { ...rest, latency_ms: { ...rest.latency_ms, login: undefined } };
}

test('case 3 with the defaults: one plan whose settings are those of the engine\'s recorded naive/strict run', () => {
  assert.equal(checked.ok, true, checked.message);
  const { plans, network, note } = runPlans({ caseName: 'expired-refreshable', choice: choice('strategies', 'naive', 'single-flight'), form, values: checked.values, knobsFor });
  assert.equal(plans.length, 1);
  assert.equal(network, 'timer');
  assert.equal(note, 'expired-refreshable: naive client, strict server');
  const [plan] = plans;
  assert.deepEqual([plan.strategy, plan.policy, plan.label, plan.varies], ['naive', 'strict', 'naive', null]);
  const recorded = sentFields(report('expired-refreshable-naive-strict').settings);
  const sent = { ...plan.settings, latency_ms: { ...plan.settings.latency_ms, login: undefined } };
  assert.deepEqual(sent, recorded);
});

test('a comparison: two plans on the timer, labelled by what differs; a policy comparison gives the parameters only to the picked server', () => {
  const byClients = runPlans({ caseName: 'expired-refreshable', compare: true, choice: choice('strategies', 'naive', 'queue'), form: { ...form, network: 'hand' }, values: checked.values, knobsFor });
  assert.equal(byClients.network, 'timer', 'a comparison is never held');
  assert.deepEqual(byClients.plans.map((p) => [p.label, p.settings.strategy, p.settings.network, p.varies]), [['naive', 'naive', 'timer', 'strategy'], ['queue', 'queue', 'timer', 'strategy']]);
  assert.equal(byClients.note, 'expired-refreshable: naive vs queue clients, strict server');

  const auth0 = { ...form, policy: 'auth0' };
  const values = { ...checked.values, overlap: 3 };
  const byServers = runPlans({ caseName: 'expired-refreshable', compare: true, choice: { ...choice('policies', 'auth0', 'strict'), policy: 'auth0' }, form: auth0, values, knobsFor });
  assert.deepEqual(byServers.plans.map((p) => [p.policy, p.settings.overlap_s]), [['auth0', 3], ['strict', undefined]]);
  assert.equal(byServers.note, 'expired-refreshable: naive client, auth0 vs strict servers');

  const byRuntimes = runPlans({ caseName: 'guest', compare: true, choice: choice('runtimes', 'rust', 'browser'), form, values: checked.values, knobsFor });
  assert.deepEqual(byRuntimes.plans.map((p) => p.settings.runtime), [undefined, 'browser'], 'the Rust engine\'s settings stay as they were');
  assert.equal(byRuntimes.note, 'guest: naive client in rust vs browser, strict server');
});

test('the learner\'s module runs in the page under its own name; a held network is named in the note', () => {
  const { plans, note } = runPlans({ caseName: 'expired-refreshable', own: 'export async function request() {}', choice: choice('strategies', 'naive', 'queue'), form: { ...form, network: 'step' }, values: checked.values, knobsFor });
  assert.deepEqual([plans[0].label, plans[0].source, plans[0].settings.runtime, plans[0].settings.module, plans[0].settings.network],
    [OWN_MODULE_NAME, 'export async function request() {}', 'browser', OWN_MODULE_NAME, 'step']);
  assert.equal(note, 'expired-refreshable: naive client, strict server (network: step)');
});

test('the bench: a library client becomes a library run with its checked options; refusals say why', () => {
  const library = LIBRARIES[0];
  const { plans } = runPlans({ caseName: 'expired-refreshable', choice: choice('strategies', library.name, 'queue'), form: { ...form, strategy: library.name, runtime: 'browser' }, values: checked.values, knobsFor });
  const none = benchPlans(plans.map((p) => ({ ...p, strategy: 'naive' })), { readOptions: () => assert.fail('no library, no options read') });
  assert.equal(none.ok, true);
  const bench = benchPlans(plans, { readOptions: () => ({ ok: true, options: {} }) });
  assert.equal(bench.ok, true);
  assert.deepEqual([bench.plans[0].strategy, bench.plans[0].library, bench.plans[0].settings.module, bench.plans[0].settings.runtime], ['naive', library, library.name, 'browser']);
  assert.equal(libraryFile(bench.plans[0], bench.plans[0].settings), library.file);
  const refused = benchPlans(plans, { readOptions: () => ({ ok: false, message: 'not JSON' }) });
  assert.deepEqual(refused, { ok: false, message: `The options of ${library.name}: not JSON`, openOptions: true });
  const compared = benchPlans(plans, { runtimesCompared: true, readOptions: () => ({ ok: true, options: {} }) });
  assert.equal(compared.ok, false);
  assert.match(compared.message, /runs only in the page/);
});

test('replans keep the client, its module and its library; a link\'s settings name the library', () => {
  const run = { strategy: 'naive', policy: 'strict', label: 'x', badge: 'challenge', source: 'src', library: LIBRARIES[0], libraryOptions: { a: 1 }, state: {} };
  const settings = { case: 'guest' };
  assert.deepEqual(replanWith(run, settings), { strategy: 'naive', policy: 'strict', label: 'x', settings, badge: 'challenge', source: 'src', library: LIBRARIES[0], libraryOptions: { a: 1 } });
  const libSettings = { strategy: 'naive', policy: 'strict', module: LIBRARIES[0].name, module_options: { b: 2 } };
  assert.deepEqual(settingsPlan(libSettings), { strategy: 'naive', policy: 'strict', label: LIBRARIES[0].name, settings: libSettings, library: libraryNamed(LIBRARIES[0].name), libraryOptions: { b: 2 } });
  assert.equal(settingsPlan({ strategy: 'queue', policy: 'family' }).label, 'queue');
  assert.equal(libraryFile({}, { strategy: 'queue' }), 'queue');
  assert.deepEqual(withRuntime({ a: 1 }, 'rust'), { a: 1 });
  assert.deepEqual(setupSettings({ caseName: 'valid', strategy: 'queue', policy: 'strict', runtime: 'browser', form, values: checked.values, knobs: null, network: 'hand' }).runtime, 'browser');
});
