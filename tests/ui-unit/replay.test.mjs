import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunReport, createReplay, recordedLabStart } from '../../ui/lib/replay.js';
import { reduceMessages, verdictView } from '../../ui/lib/reducer.js';
import { naiveRace } from './fixtures.mjs';

/** The RunReport `refresh-race run --json` prints, built from a fixture stream. */
function reportFrom(messages) {
  const start = messages.find((m) => m.type === 'start');
  const done = messages.find((m) => m.type === 'done');
  return {
    settings: start.settings,
    events: messages.filter((m) => m.type === 'event').map((m) => m.event),
    verdict: done.verdict,
    lab_now_ms: done.lab_now_ms,
  };
}

test('parses a RunReport', () => {
  const report = reportFrom(naiveRace());
  const parsed = parseRunReport(JSON.stringify(report));
  assert.equal(parsed.ok, true);
  assert.equal(parsed.report.events.length, report.events.length);
  assert.equal(parsed.report.settings.strategy, 'naive');
  assert.equal(parsed.report.verdict.refresh_calls, 3);
});

test('refuses what is not a saved run, saying why', () => {
  assert.match(parseRunReport('').message, /empty/);
  assert.match(parseRunReport('{nope').message, /not JSON/);
  assert.match(parseRunReport('[1,2]').message, /not a saved run/);
  assert.match(parseRunReport('{"settings":{}}').message, /"events" is missing/);
  assert.match(parseRunReport('{"events":[{"kind":"issued"}]}').message, /Event 1 of 1 has no "kind" or no numeric "t_us"/);
});

test('also takes a saved NDJSON stream of the lab', () => {
  const text = naiveRace().map((m) => JSON.stringify(m)).join('\n');
  const parsed = parseRunReport(text);
  assert.equal(parsed.ok, true);
  assert.equal(parsed.report.settings.policy, 'strict');
  assert.equal(parsed.report.verdict.logouts, 2);
});

test('events out of seq order are put back in order', () => {
  const parsed = parseRunReport(JSON.stringify({ events: [
    { seq: 2, t_us: 30, lane: 'server', kind: 'b' },
    { seq: 1, t_us: 20, lane: 'server', kind: 'a' },
  ] }));
  assert.deepEqual(parsed.report.events.map((e) => e.kind), ['a', 'b']);
});

test('schedules events by t_us: each frame gets what is due, each event once, then done', () => {
  const report = { settings: {}, verdict: { ok: 1 }, lab_now_ms: 10_000, events: [
    { seq: 0, t_us: 0, lane: 'server', kind: 'a' },
    { seq: 1, t_us: 1_000, lane: 'server', kind: 'b' },
    { seq: 2, t_us: 1_000, lane: 'server', kind: 'c' },
    { seq: 3, t_us: 16_000, lane: 'server', kind: 'd' },
  ] };
  const replay = createReplay(report);
  assert.equal(replay.durationMs, 16);
  assert.deepEqual(replay.start(), { type: 'start', settings: {}, lab_now_ms: 10_000 - 16 });
  const kinds = (messages) => messages.map((m) => (m.type === 'event' ? m.event.kind : m.type));
  assert.deepEqual(kinds(replay.due(0)), ['a']);
  assert.deepEqual(kinds(replay.due(0.5)), []);
  assert.deepEqual(kinds(replay.due(1)), ['b', 'c'], 'same time, same frame');
  assert.equal(replay.finished, false);
  assert.equal(replay.nowUs(8), 8_000);
  assert.deepEqual(kinds(replay.due(16.7)), ['d', 'done']);
  assert.equal(replay.finished, true);
  assert.deepEqual(replay.due(100), [], 'done is handed out once');
  assert.equal(replay.nowUs(100), 16_000, 'the clock stops at the last event');
  assert.equal(replay.applied, 4);
});

test('a slower rate stretches the schedule; an event ahead holds back later ones', () => {
  const report = { settings: {}, verdict: null, lab_now_ms: null, events: [
    { seq: 0, t_us: 2_000, lane: 'x', kind: 'late' },
    { seq: 1, t_us: 1_000, lane: 'x', kind: 'early' },
  ] };
  const replay = createReplay(report, { rate: 0.5 });
  assert.equal(replay.durationMs, 4);
  assert.deepEqual(replay.due(3), [], 'the 2 ms event is due at 4 ms of wall time');
  assert.deepEqual(replay.due(4).map((m) => m.type), ['event', 'event', 'done']);
  assert.equal(replay.start().lab_now_ms, null);
});

test('a clock jump anchors the recorded lab start', () => {
  const report = { settings: {}, events: [
    { seq: 0, t_us: 500, lane: 'server', kind: 'clock_advanced', by_ms: 6000, lab_now_ms: 1_000_006_000 },
  ], lab_now_ms: 1_000_007_000 };
  assert.equal(recordedLabStart(report), 1_000_000_000 - 0.5);
});

test('a replay through the reducer ends where the live run ended', () => {
  const messages = naiveRace();
  const replay = createReplay(reportFrom(messages));
  const replayed = [replay.start()];
  for (let ms = 0; !replay.finished; ms += 16) replayed.push(...replay.due(ms));
  const live = reduceMessages(messages);
  const again = reduceMessages(replayed);
  assert.equal(again.status, 'done');
  assert.deepEqual(verdictView(again), verdictView(live));
  assert.deepEqual(again.counts, live.counts);
  assert.equal(again.attempts.size, live.attempts.size);
});
