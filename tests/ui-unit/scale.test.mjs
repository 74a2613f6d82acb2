import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createScale, niceStep, ticks, niceCeil, domainEnd, estimateRunUs, formatTick } from '../../ui/lib/scale.js';
import { report } from './fixtures.mjs';

test('maps the domain onto the range and back', () => {
  const s = createScale([0, 500_000], [150, 1150]);
  assert.equal(s.x(0), 150);
  assert.equal(s.x(500_000), 1150);
  assert.equal(s.x(250_000), 650);
  assert.equal(s.invert(650), 250_000);
  assert.equal(s.x(-100_000), -50, 'x() does not clamp');
  assert.equal(s.clampedX(-100_000), 150);
  assert.equal(s.clampedX(900_000), 1150);
});

test('a zero-length domain does not divide by zero', () => {
  const s = createScale([0, 0], [0, 100]);
  assert.ok(Number.isFinite(s.x(0)));
  assert.ok(Number.isFinite(s.invert(50)));
});

test('nice steps are 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(500_000, 5), 100_000);
  assert.equal(niceStep(1_000, 4), 200);
  assert.equal(niceStep(3_000_000, 6), 500_000);
  assert.equal(niceStep(0, 5), 1);
});

test('ticks cover the domain at round values', () => {
  assert.deepEqual(ticks(0, 500_000, 5), [0, 100_000, 200_000, 300_000, 400_000, 500_000]);
  assert.deepEqual(ticks(50, 260, 2), [100, 200]);
  assert.deepEqual(createScale([0, 1_000_000], [0, 1]).ticks(5), [0, 200_000, 400_000, 600_000, 800_000, 1_000_000]);
  assert.deepEqual(ticks(5, 5), [5]);
});

test('niceCeil rounds up to a few nice multiples of a power of ten', () => {
  assert.equal(niceCeil(1), 1);
  assert.equal(niceCeil(430_000), 500_000);
  assert.equal(niceCeil(510_000), 600_000);
  assert.equal(niceCeil(810_000), 1_000_000);
  assert.equal(niceCeil(1_100), 1_200);
  assert.equal(niceCeil(1_900), 2_000);
  assert.equal(niceCeil(2_100), 2_500);
  assert.equal(niceCeil(0), 0);
});

test('domain end covers events, now and the estimate, in nice steps', () => {
  assert.equal(domainEnd({ maxEventUs: 501_000, nowUs: 0, estimateUs: 0 }), 600_000);
  assert.equal(domainEnd({ maxEventUs: 100_000, nowUs: 180_000, estimateUs: 0 }), 200_000);
  assert.equal(domainEnd({ maxEventUs: 10, estimateUs: 450_000 }), 500_000);
  assert.equal(domainEnd({}), 120_000, 'never shorter than the minimum');
});

test('run estimate follows latencies and speed', () => {
  const { settings } = report('expired-refreshable-naive-strict');
  const { secret, refresh } = settings.latency_ms;
  const us = (secret + refresh + secret) * 1000;
  assert.equal(estimateRunUs(settings), us);
  assert.equal(estimateRunUs({ ...settings, speed: 0.25 }), us * 4);
  assert.equal(estimateRunUs(report('expired-refreshable-queue-strict-late').settings), us + secret * 1000);
  assert.equal(estimateRunUs(null), 0, 'no settings, no estimate: the axis follows the events');
});

test('tick labels read as ms or s', () => {
  assert.equal(formatTick(0, 100_000), '0');
  assert.equal(formatTick(100_000, 100_000), '100 ms');
  assert.equal(formatTick(1_500_000, 500_000), '1.5 s');
  assert.equal(formatTick(2_000_000, 1_000_000), '2 s');
  assert.equal(formatTick(500, 100), '0.5 ms');
});
