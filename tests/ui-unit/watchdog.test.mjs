// The page's watchdog over its tabs' Workers (ui/lib/watchdog.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchdogTick, PAGE_STALL_MS } from '../../ui/lib/watchdog.js';

const LIMIT = 3000;

test('a Worker silent past the limit is hung while the page ticks on time; one still loading is not judged', () => {
  const lastPong = [null, 1500, 4200];
  assert.deepEqual(watchdogTick({ now: 4250, lastTick: 4000, lastPong, limitMs: LIMIT }), { hung: -1, lastPong });
  const later = watchdogTick({ now: 4750, lastTick: 4500, lastPong, limitMs: LIMIT });
  assert.equal(later.hung, 1, 'Worker 2 answered last at 1500: 3.25 s ago');
});

test('after the page itself stalled, nobody is judged and every booted clock starts again', () => {
  // The page's thread did not run for 5 s: the Workers' answers may be
  // waiting behind this tick.
  const tick = watchdogTick({ now: 9000, lastTick: 4000, lastPong: [null, 3900, 3950], limitMs: LIMIT });
  assert.deepEqual(tick, { hung: -1, lastPong: [null, 9000, 9000] });
  // A Worker that still does not answer is judged from then on.
  const onTime = watchdogTick({ now: 12250, lastTick: 12000, lastPong: tick.lastPong, limitMs: LIMIT });
  assert.equal(onTime.hung, 1);
  assert.ok(PAGE_STALL_MS < LIMIT, 'a stall is shorter than the limit, or no loop would ever be caught');
});
