import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkInteger, checkSpeed, validateControls, toRunSettings, fieldsFor, limitsFromOptions, controlValues,
  knobsOf, valuesForPolicy,
} from '../../ui/lib/validate.js';
import { options } from './fixtures.mjs';

// The lab's own limits and defaults, as GET /lab/options answered them.
const LAB = options();
const limits = limitsFromOptions(LAB.limits);
const defaults = controlValues(LAB.defaults);
const FIELDS = fieldsFor(limits);

test('the limits are the lab\'s', () => {
  assert.deepEqual(limits, {
    maxRequests: LAB.limits.max_requests,
    maxLatencyMs: LAB.limits.max_latency_ms,
    maxJitterMs: LAB.limits.max_jitter_ms,
    maxGraceS: LAB.limits.max_grace_s,
    maxAccessTtlS: LAB.limits.max_access_ttl_s,
    maxRefreshWindowS: LAB.limits.max_refresh_window_s,
    maxTabs: LAB.limits.max_tabs,
    maxReuseCount: LAB.limits.max_reuse_count,
    minSpeed: LAB.limits.min_speed,
    maxSpeed: LAB.limits.max_speed,
  });
  assert.deepEqual([FIELDS.secret.max, FIELDS.public.max, FIELDS.latencyRefresh.max, FIELDS.grace.max, FIELDS.tabs.max], [10_000, 10_000, 10_000, 60, 8]);
});

test('missing or nonsensical limits are refused, not guessed', () => {
  assert.equal(limitsFromOptions(undefined), null);
  assert.equal(limitsFromOptions({ ...LAB.limits, max_requests: 'many' }), null);
  assert.equal(limitsFromOptions({ ...LAB.limits, max_requests: 0 }), null);
  assert.equal(limitsFromOptions({ ...LAB.limits, max_requests: 2.5 }), null);
  assert.equal(limitsFromOptions({ ...LAB.limits, min_speed: 5, max_speed: 1 }), null);
  const { max_grace_s: _, ...noGrace } = LAB.limits;
  assert.equal(limitsFromOptions(noGrace), null);
});

test('the lab\'s defaults pass the lab\'s checks and make the lab\'s default settings', () => {
  const result = validateControls(Object.fromEntries(Object.entries(defaults.values).map(([k, v]) => [k, String(v)])), limits);
  assert.equal(result.ok, true);
  assert.equal(result.message, '');
  assert.deepEqual(result.values, defaults.values);
  const body = toRunSettings({ caseName: defaults.caseName, strategy: defaults.strategy, policy: defaults.policy, late: defaults.late, values: result.values, crossTab: defaults.crossTab, mode: defaults.mode });
  // Every field the controls own is the lab's default; the rest the server fills in.
  // The network's driver, script and idle time belong to the network controls.
  const { jitter_ms: _j, seed: _s, network: _n, deliver: _d, idle_s: _i, latency_ms: { login: _l, ...latency }, ...owned } = LAB.defaults;
  assert.deepEqual(body, { ...owned, latency_ms: latency });
});

test('secret must be 1..max_requests', () => {
  const good = { ...defaults.values };
  assert.equal(checkInteger('1', FIELDS.secret).ok, true);
  assert.equal(checkInteger(String(limits.maxRequests), FIELDS.secret).ok, true);
  const zero = validateControls({ ...good, secret: '0' }, limits);
  assert.equal(zero.ok, false);
  assert.equal(zero.message, 'Secret requests must be between 1 and 10000 (got 0).');
  assert.equal(zero.errors[0].field, 'secret');
  assert.equal(validateControls({ ...good, secret: '100000' }, limits).message, 'Secret requests must be between 1 and 10000 (got 100000).');
});

test('public may be 0 but not more than max_requests', () => {
  const good = { ...defaults.values };
  assert.equal(validateControls({ ...good, public: '0' }, limits).ok, true);
  assert.equal(validateControls({ ...good, public: String(limits.maxRequests + 1) }, limits).ok, false);
});

test('latency cannot be negative, nor above max_latency_ms', () => {
  const good = { ...defaults.values };
  const negative = validateControls({ ...good, latencyRefresh: '-5' }, limits);
  assert.equal(negative.ok, false);
  assert.equal(negative.message, 'Refresh latency (ms) cannot be negative (got -5); use 0 to 10000.');
  assert.equal(validateControls({ ...good, latencySecret: String(limits.maxLatencyMs + 1) }, limits).ok, false);
  assert.equal(validateControls({ ...good, latencyPublic: '0' }, limits).ok, true);
});

test('only whole numbers; empty and junk are refused with a message', () => {
  assert.equal(checkInteger('2.5', FIELDS.secret).message, 'Secret requests must be a whole number (got 2.5).');
  assert.equal(checkInteger('', FIELDS.secret).message, 'Secret requests is empty: enter a whole number from 1 to 10000.');
  assert.equal(checkInteger('abc', FIELDS.public).message, 'Public requests must be a whole number from 0 to 10000 (got "abc").');
  assert.deepEqual(checkInteger(7, FIELDS.public), { ok: true, value: 7 });
});

test('every error is reported, in field order', () => {
  const result = validateControls({ ...defaults.values, secret: '0', latencySecret: '-1' }, limits);
  assert.deepEqual(result.errors.map((e) => e.field), ['secret', 'latencySecret']);
});

test('speed must be within the lab limits', () => {
  assert.deepEqual(checkSpeed('0.1', limits), { ok: true, value: 0.1 });
  assert.equal(checkSpeed('0', limits).ok, false);
  assert.equal(checkSpeed('20', limits).message, 'Speed must be between 0.05 and 10 (got 20).');
});

test('checks follow smaller lab limits', () => {
  const small = limitsFromOptions({ ...LAB.limits, max_requests: 500, max_latency_ms: 2000, min_speed: 0.1, max_speed: 4 });
  const result = validateControls({ ...defaults.values, secret: '501', latencyRefresh: '2500', speed: '5' }, small);
  assert.deepEqual(result.errors.map((e) => e.field), ['secret', 'latencyRefresh', 'speed']);
  assert.match(result.message, /between 1 and 500 \(got 501\)/);
  assert.match(result.message, /between 0 and 2000/);
  assert.match(result.message, /Speed must be between 0.1 and 4/);
  assert.equal(validateControls({ ...defaults.values, secret: '500' }, small).ok, true);
});

test('token lifetimes per run: checked, and sent only when the controls give them', () => {
  const withToken = { ...defaults.values, accessTtl: '2', refreshWindow: '0', grace: '60' };
  const result = validateControls(withToken, limits);
  assert.equal(result.ok, true);
  const settings = toRunSettings({ caseName: 'valid', strategy: 'naive', policy: 'grace', late: false, values: result.values });
  assert.deepEqual([settings.access_ttl_s, settings.refresh_window_s, settings.grace_s], [2, 0, 60]);
  assert.equal(validateControls({ ...withToken, accessTtl: '0' }, limits).message, 'Token lifetime (s) must be between 1 and 86400 (got 0).');
  assert.equal(validateControls({ ...withToken, grace: '61' }, limits).message, 'Grace window (s) must be between 0 and 60 (got 61).');
  assert.match(validateControls({ ...withToken, refreshWindow: '-1' }, limits).message, /Refresh window \(s\) cannot be negative/);
  const { accessTtl: _a, refreshWindow: _r, grace: _g, ...without } = result.values;
  assert.equal('access_ttl_s' in toRunSettings({ caseName: 'valid', strategy: 'naive', policy: 'strict', late: false, values: without }), false);
});

test('a server preset\'s parameters: only those it has, with its defaults, within the lab\'s limits', () => {
  const byName = new Map(LAB.policies.map((p) => [p.name, knobsOf(p)]));
  assert.deepEqual(byName.get('okta'), { overlap: 30, reuseCount: null, rotate: null });
  assert.deepEqual(byName.get('keycloak'), { overlap: null, reuseCount: 0, rotate: false });
  assert.deepEqual(byName.get('strict'), { overlap: null, reuseCount: null, rotate: null });
  const values = { ...defaults.values, overlap: 0, reuseCount: 2 };
  // Okta keeps its window and loses the count it does not have; strict keeps neither.
  const okta = toRunSettings({ caseName: 'expired-refreshable', strategy: 'naive', policy: 'okta', late: false, values: valuesForPolicy(values, byName.get('okta')) });
  assert.deepEqual([okta.overlap_s, okta.reuse_count, okta.rotate], [0, undefined, undefined]);
  const strict = toRunSettings({ caseName: 'expired-refreshable', strategy: 'naive', policy: 'strict', late: false, values: valuesForPolicy(values, byName.get('strict')) });
  assert.deepEqual([strict.overlap_s, strict.reuse_count], [undefined, undefined]);
  const keycloak = toRunSettings({ caseName: 'expired-refreshable', strategy: 'naive', policy: 'keycloak', late: false, values: valuesForPolicy(values, byName.get('keycloak')), rotate: true });
  assert.deepEqual([keycloak.reuse_count, keycloak.rotate], [2, true]);
  assert.equal(validateControls({ ...defaults.values, overlap: '61' }, limits).message, 'The server\'s window (s) must be between 0 and 60 (got 61).');
});
