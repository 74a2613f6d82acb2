import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunReport, createReplay, recordedLabStart } from '../../ui/lib/replay.js';
import { reduceMessages } from '../../ui/lib/reducer.js';
import { verdictView } from '../../ui/lib/run-queries.js';
import { RUNS, report, reportText, messages, tallyOf } from './fixtures.mjs';

const NAIVE = 'expired-refreshable-naive-strict';

test('parses every recorded run report as the CLI saved it', () => {
  for (const name of RUNS) {
    const recorded = report(name);
    const parsed = parseRunReport(reportText(name));
    assert.equal(parsed.ok, true, name);
    assert.deepEqual(parsed.report, recorded, name);
  }
});

test('refuses what is not a saved run, saying why', () => {
  assert.match(parseRunReport('').message, /empty/);
  assert.match(parseRunReport('{nope').message, /not JSON/);
  assert.match(parseRunReport('[1,2]').message, /not a saved run/);
  assert.match(parseRunReport('{"settings":{}}').message, /"events" is missing/);
  assert.match(parseRunReport('{"events":[{"kind":"issued"}]}').message, /Event 1 of 1 has no "kind" or no numeric "t_us"/);
});

test('also takes a saved NDJSON stream of the lab', () => {
  const text = messages(NAIVE).map((m) => JSON.stringify(m)).join('\n');
  const parsed = parseRunReport(text);
  assert.equal(parsed.ok, true);
  const recorded = report(NAIVE);
  assert.deepEqual(parsed.report.settings, recorded.settings);
  assert.deepEqual(parsed.report.events, recorded.events);
  assert.deepEqual(parsed.report.verdict, recorded.verdict);
  assert.equal(parsed.report.lab_now_ms, recorded.lab_now_ms);
});

test('events out of seq order are put back in order', () => {
  const recorded = report(NAIVE);
  const shuffled = { ...recorded, events: [...recorded.events].reverse() };
  const parsed = parseRunReport(JSON.stringify(shuffled));
  assert.deepEqual(parsed.report.events.map((e) => e.seq), recorded.events.map((e) => e.seq));
});

test('schedules a recorded run by t_us: each frame gets what is due, each event once, then done', () => {
  const recorded = report(NAIVE);
  const events = recorded.events;
  const lastUs = events[events.length - 1].t_us;
  const replay = createReplay(recorded);
  assert.equal(replay.durationMs, lastUs / 1000);
  assert.deepEqual(replay.start(), { type: 'start', settings: recorded.settings, lab_now_ms: recordedLabStart(recorded) });
  const firstUs = events[0].t_us;
  const atFirst = replay.due(firstUs / 1000);
  assert.deepEqual(atFirst.map((m) => m.event.seq), events.filter((e) => e.t_us <= firstUs).map((e) => e.seq));
  assert.deepEqual(replay.due(firstUs / 1000), [], 'nothing twice');
  const midUs = events[Math.floor(events.length / 2)].t_us;
  const upToMid = replay.due(midUs / 1000);
  assert.deepEqual(upToMid.map((m) => m.event.seq), events.filter((e) => e.t_us > firstUs && e.t_us <= midUs).map((e) => e.seq));
  assert.equal(replay.finished, false);
  assert.equal(replay.nowUs(midUs / 1000), midUs);
  const rest = replay.due(lastUs / 1000);
  assert.equal(rest[rest.length - 1].type, 'done');
  assert.deepEqual(rest[rest.length - 1], { type: 'done', verdict: recorded.verdict, lab_now_ms: recorded.lab_now_ms, solved: recorded.solved });
  // Each event comes with its sentence, as the lab streams it.
  assert.deepEqual([...atFirst, ...upToMid, ...rest].filter((m) => m.type === 'event').map((m) => m.caption), recorded.narration);
  assert.equal(replay.finished, true);
  assert.deepEqual(replay.due(lastUs), [], 'done is handed out once');
  assert.equal(replay.nowUs(lastUs), lastUs, 'the clock stops at the last event');
  assert.equal(replay.applied, events.length);
});

test('a slower rate stretches the schedule', () => {
  const recorded = report(NAIVE);
  const lastUs = recorded.events[recorded.events.length - 1].t_us;
  const replay = createReplay(recorded, { rate: 0.5 });
  assert.equal(replay.durationMs, (lastUs / 1000) * 2);
  const early = replay.due(lastUs / 1000);
  assert.ok(early.every((m) => m.type === 'event' && m.event.t_us <= lastUs / 2));
  assert.equal(replay.finished, false);
  assert.equal(replay.due(lastUs / 500).pop().type, 'done');
});

test('the recorded lab start: the clock jump minus its size and its time in the run', () => {
  const recorded = report(NAIVE);
  const jump = recorded.events.find((e) => e.kind === 'clock_advanced');
  assert.equal(recordedLabStart(recorded), jump.lab_now_ms - jump.by_ms - jump.t_us / 1000);
  // Case 1 never jumps: counted back from the end of the run.
  const guest = report('guest-naive-strict');
  assert.equal(guest.events.some((e) => e.kind === 'clock_advanced'), false);
  assert.equal(recordedLabStart(guest), guest.lab_now_ms - guest.events[guest.events.length - 1].t_us / 1000);
});

test('every recorded run replayed frame by frame ends with the engine\'s verdict', () => {
  for (const name of RUNS) {
    const recorded = report(name);
    const replay = createReplay(recorded);
    const replayed = [replay.start()];
    for (let ms = 0; !replay.finished; ms += 16) replayed.push(...replay.due(ms));
    const state = reduceMessages(replayed);
    assert.equal(state.status, 'done', name);
    assert.deepEqual(state.tally, tallyOf(recorded.verdict), name);
    assert.equal(verdictView(state).sentence, recorded.verdict.sentence);
    assert.equal(state.events.length, recorded.events.length);
  }
});
