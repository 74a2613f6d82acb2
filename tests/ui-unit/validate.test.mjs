import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkInteger, validateControls, toRunSettings, FIELDS, checkSpeed } from '../../ui/lib/validate.js';

const good = { secret: '3', public: '3', latencySecret: '150', latencyPublic: '100', latencyRefresh: '200', speed: '1' };

test('accepts the defaults and parses them to numbers', () => {
  const result = validateControls(good);
  assert.equal(result.ok, true);
  assert.equal(result.message, '');
  assert.deepEqual(result.values, { secret: 3, public: 3, latencySecret: 150, latencyPublic: 100, latencyRefresh: 200, speed: 1 });
});

test('secret must be 1..10000', () => {
  assert.equal(checkInteger('1', FIELDS.secret).ok, true);
  assert.equal(checkInteger('10000', FIELDS.secret).ok, true);
  const zero = validateControls({ ...good, secret: '0' });
  assert.equal(zero.ok, false);
  assert.match(zero.message, /Secret requests must be between 1 and 10000 \(got 0\)/);
  assert.equal(zero.errors[0].field, 'secret');
  assert.match(validateControls({ ...good, secret: '100000' }).message, /between 1 and 10000/);
});

test('public may be 0 but not more than 10000', () => {
  assert.equal(validateControls({ ...good, public: '0' }).ok, true);
  assert.equal(validateControls({ ...good, public: '10001' }).ok, false);
});

test('latency cannot be negative, nor above 10000 ms', () => {
  const negative = validateControls({ ...good, latencyRefresh: '-5' });
  assert.equal(negative.ok, false);
  assert.match(negative.message, /Refresh latency \(ms\) cannot be negative/);
  assert.equal(validateControls({ ...good, latencySecret: '10001' }).ok, false);
  assert.equal(validateControls({ ...good, latencyPublic: '0' }).ok, true);
});

test('only whole numbers; empty and junk are refused with a message', () => {
  assert.match(checkInteger('2.5', FIELDS.secret).message, /whole number/);
  assert.match(checkInteger('', FIELDS.secret).message, /empty/);
  assert.match(checkInteger('abc', FIELDS.public).message, /whole number/);
  assert.equal(checkInteger(7, FIELDS.public).value, 7);
});

test('every error is reported, in field order', () => {
  const result = validateControls({ ...good, secret: '0', latencySecret: '-1' });
  assert.deepEqual(result.errors.map((e) => e.field), ['secret', 'latencySecret']);
});

test('speed must be within the lab limits', () => {
  assert.equal(checkSpeed('0.1').ok, true);
  assert.equal(checkSpeed('0').ok, false);
  assert.equal(checkSpeed('20').ok, false);
});

test('builds the RunSettings body', () => {
  const { values } = validateControls(good);
  assert.deepEqual(toRunSettings({ caseName: 'expired-refreshable', strategy: 'naive', policy: 'strict', late: true, values }), {
    case: 'expired-refreshable',
    strategy: 'naive',
    policy: 'strict',
    secret: 3,
    public: 3,
    late: true,
    latency_ms: { secret: 150, public: 100, refresh: 200 },
    speed: 1,
  });
});

test('limits come from /lab/options; bad or missing ones keep the defaults', async () => {
  const { limitsFromOptions, DEFAULT_LIMITS } = await import('../../ui/lib/validate.js');
  const lab = limitsFromOptions({
    max_requests: 500, max_latency_ms: 2000, max_jitter_ms: 100, max_grace_s: 30, min_speed: 0.1, max_speed: 4,
    max_access_ttl_s: 60, max_refresh_window_s: 120,
  });
  assert.deepEqual(lab, {
    maxRequests: 500, maxLatencyMs: 2000, maxJitterMs: 100, maxGraceS: 30, minSpeed: 0.1, maxSpeed: 4,
    maxAccessTtlS: 60, maxRefreshWindowS: 120,
  });
  assert.deepEqual(limitsFromOptions(undefined), { ...DEFAULT_LIMITS });
  assert.equal(limitsFromOptions({ max_requests: 'many' }).maxRequests, 10_000);
  assert.equal(limitsFromOptions({ max_requests: 0 }).maxRequests, 10_000);
  assert.equal(limitsFromOptions({ max_requests: 2.5 }).maxRequests, 10_000);
  const swapped = limitsFromOptions({ min_speed: 5, max_speed: 1 });
  assert.deepEqual([swapped.minSpeed, swapped.maxSpeed], [0.05, 10]);
});

test('checks use the lab limits when given', async () => {
  const { limitsFromOptions } = await import('../../ui/lib/validate.js');
  const limits = limitsFromOptions({ max_requests: 500, max_latency_ms: 2000, min_speed: 0.1, max_speed: 4 });
  const result = validateControls({ ...good, secret: '501', latencyRefresh: '2500', speed: '5' }, limits);
  assert.deepEqual(result.errors.map((e) => e.field), ['secret', 'latencyRefresh', 'speed']);
  assert.match(result.message, /between 1 and 500 \(got 501\)/);
  assert.match(result.message, /between 0 and 2000/);
  assert.match(result.message, /Speed must be between 0.1 and 4/);
  assert.equal(validateControls({ ...good, secret: '500' }, limits).ok, true);
  // Without lab limits, the fallback ones apply.
  assert.equal(validateControls({ ...good, secret: '501' }).ok, true);
});

test('token lifetimes per run: checked, and sent only when the controls give them', () => {
  const withToken = { ...good, accessTtl: '2', refreshWindow: '0', grace: '60' };
  const result = validateControls(withToken);
  assert.equal(result.ok, true);
  const settings = toRunSettings({ caseName: 'valid', strategy: 'naive', policy: 'grace', late: false, values: result.values });
  assert.equal(settings.access_ttl_s, 2);
  assert.equal(settings.refresh_window_s, 0);
  assert.equal(settings.grace_s, 60);
  assert.match(validateControls({ ...withToken, accessTtl: '0' }).message, /Token lifetime \(s\) must be between 1 and 86400 \(got 0\)/);
  assert.match(validateControls({ ...withToken, grace: '61' }).message, /Grace window \(s\) must be between 0 and 60 \(got 61\)/);
  assert.match(validateControls({ ...withToken, refreshWindow: '-1' }).message, /Refresh window \(s\) cannot be negative/);
  assert.equal('access_ttl_s' in toRunSettings({ caseName: 'valid', strategy: 'naive', policy: 'strict', late: false, values: validateControls(good).values }), false);
});
