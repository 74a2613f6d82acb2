import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRunState, applyMessage, reduceMessages, viewNowUs, isHeld } from '../../ui/lib/reducer.js';
import { createViewClock, clockStart, clockEvent, clockNetwork, clockNowUs } from '../../ui/lib/view-clock.js';
import { streamLines, streamMessages } from './streams.mjs';
import { RUNS, messages } from './fixtures.mjs';

/** The queue challenge as if the learner thought `pauseUs` before each click: every later event is that much later. */
function withThinking(lines, pauseUs) {
  let shift = 0;
  const out = [];
  for (const line of lines) {
    if (line.type === 'command') {
      shift += pauseUs;
      continue;
    }
    out.push(line.type === 'event' ? { ...line, event: { ...line.event, t_us: line.event.t_us + shift } } : line);
  }
  return out;
}

const drawn = (state) => state.events.map((e) => e.t_us);

test('a timer run that is never held is drawn on its own times', () => {
  for (const name of RUNS) {
    const state = reduceMessages(messages(name));
    assert.deepEqual(drawn(state), messages(name).filter((m) => m.type === 'event').map((m) => m.event.t_us), name);
  }
});

test('a held run is drawn the same however long the learner thinks between two clicks', () => {
  const lines = streamLines('queue-challenge');
  const quick = reduceMessages(withThinking(lines, 0));
  const slow = reduceMessages(withThinking(lines, 30_000_000));
  assert.deepEqual(drawn(slow), drawn(quick));
  // Never backwards.
  const times = drawn(slow);
  for (let i = 1; i < times.length; i++) assert.ok(times[i] >= times[i - 1], `event ${i}`);
});

test('a delivery is drawn when a timer would have delivered its leg (due_ms after the burst)', () => {
  const state = reduceMessages(withThinking(streamLines('queue-challenge'), 10_000_000));
  const burst = state.events.find((e) => e.kind === 'request_sent').t_us;
  const at = (kind, attempt) => state.events.find((e) => e.kind === kind && e.attempt === attempt).t_us - burst;
  const sent = (lane, kind) => state.events.filter((e) => e.lane === lane && e.kind === kind).map((e) => e.attempt);
  const [first] = sent('secret#1', 'request_sent');
  const [refresh] = sent('secret#1', 'refresh_sent');
  // secret#1's request leg is due 150 ms after the burst (secret latency), its refresh 200 ms later.
  assert.equal(at('rejected', first), 150_000);
  assert.equal(at('accepted', refresh), 350_000);
  // The answer legs take no time: the 401 reaches the client when the server decided.
  assert.ok(at('response', first) - 150_000 < 5_000);
});

test('while held the now-cursor stands still; it flows again after resume', () => {
  const lines = streamMessages('paused-timer');
  const state = createRunState();
  let held = null;
  for (const [i, message] of lines.entries()) {
    // Local clock: each message arrives 100 ms after the one before it.
    applyMessage(state, message, i * 100);
    if (isHeld(state) && held == null) held = viewNowUs(state, i * 100);
  }
  assert.equal(state.status, 'done');
  assert.ok(held != null, 'the run was held');

  // The same run, frozen mid-way: the cursor does not move with the wall clock.
  const partial = createRunState();
  const upTo = lines.findIndex((m) => m.type === 'network' && m.network.paused);
  lines.slice(0, upTo + 1).forEach((m, i) => applyMessage(partial, m, i * 100));
  assert.equal(isHeld(partial), true);
  const now = viewNowUs(partial, upTo * 100);
  assert.equal(viewNowUs(partial, upTo * 100 + 60_000), now);
});

test('clock: pause freezes the cursor where it was; resume flows on from there', () => {
  const clock = createViewClock();
  clockStart(clock, { atMs: 1000, speed: 1 });
  // Local and server clocks agree: an event at 50 ms arrives 50 ms after start.
  assert.equal(clockEvent(clock, { kind: 'request_sent', lane: 'secret#1', attempt: 2, t_us: 50_000 }, 1050), 50_000);
  assert.equal(clockNowUs(clock, 1080), 80_000);
  clockNetwork(clock, { driver: 'timer', paused: true, legs: [{ id: 'secret#1>', lane: 'secret#1', attempt: 2, due_ms: 150 }], delivered: [] }, 1100);
  assert.equal(clockNowUs(clock, 1100), 100_000);
  assert.equal(clockNowUs(clock, 9000), 100_000, 'held: the cursor stands still');
  // Seven seconds later, a step delivers the leg due 150 ms after the burst (at 50 ms).
  assert.equal(clockEvent(clock, { kind: 'rejected', lane: 'server', attempt: 2, t_us: 7_100_000 }, 8100), 200_000);
  assert.equal(clockEvent(clock, { kind: 'response', lane: 'secret#1', attempt: 2, t_us: 7_100_300 }, 8101), 200_300);
  clockNetwork(clock, { driver: 'timer', paused: true, legs: [], delivered: ['secret#1>'] }, 8102);
  assert.equal(clockNowUs(clock, 8200), 200_300);
  // Resume at local 9000 ms: the view flows on from 200.3 ms.
  clockNetwork(clock, { driver: 'timer', paused: false, legs: [], delivered: ['secret#1>'] }, 9000);
  assert.equal(clockNowUs(clock, 9010), 210_300);
  assert.equal(clockEvent(clock, { kind: 'request_done', lane: 'secret#1', t_us: 8_020_000 }, 9020), 220_300);
});
