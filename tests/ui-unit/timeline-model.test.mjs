import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  timelineModel, createFrame, scaledSizes, baseSizes, SIZES, RIGHT_PAD, SERVER_ROWS,
} from '../../ui/lib/timeline-model.js';
import { createRunState, applyMessage, reduceMessages, viewNowUs } from '../../ui/lib/reducer.js';
import { domainEnd, estimateRunUs } from '../../ui/lib/scale.js';
import { tokenColor } from '../../ui/lib/colors.js';
import { formatUs } from '../../ui/lib/format.js';
import { RUNS, report, messages, reduced, eventsOf } from './fixtures.mjs';

const WIDTH = 1400;
const sizes = scaledSizes(SIZES.normal, 18);

/** The model as the page draws it once the run is over (app.js picks the axis end the same way). */
function modelOf(name, options = {}) {
  const state = reduced(name);
  const r = report(name);
  const domainEndUs = domainEnd({ maxEventUs: state.maxUs, estimateUs: estimateRunUs(r.settings) });
  return { state, domainEndUs, model: timelineModel(state, { width: WIDTH, sizes, domainEndUs, viewportHeight: 2000, ...options }) };
}

/** x of time `us`: the label column, then the plot up to the right padding. */
const xOf = (us, domainEndUs) => sizes.label + (us / domainEndUs) * (WIDTH - RIGHT_PAD - sizes.label);

const allBars = (model) => model.lanes.rows.flatMap((row) => row.bars);

test('every recorded run: one bar per attempt, of its kind, lane, token and final status, at its times', () => {
  for (const name of RUNS) {
    const { model, domainEndUs } = modelOf(name);
    const events = report(name).events;
    const sent = events.filter((e) => e.kind.endsWith('_sent'));
    const bars = allBars(model);
    assert.equal(bars.length, sent.length, name);
    for (const ev of sent) {
      const answer = events.find((e) => e.attempt === ev.attempt && (e.kind === 'response' || e.kind === 'refresh_done'));
      const b = bars.find((x) => x.attempt === ev.attempt);
      // An exchange of a closed tab never gets its answer: it stays pending.
      const status = answer ? String(answer.status) : 'pending';
      assert.deepEqual([b.kind, b.lane, b.jti, b.status], [ev.kind.replace('_sent', ''), ev.lane, ev.jti, status], `${name} #${ev.attempt}`);
      if (!answer) continue;
      assert.ok(Math.abs(b.x - xOf(ev.t_us, domainEndUs)) < 1e-9);
      assert.ok(Math.abs(b.x + b.width - Math.max(b.x + 4, xOf(answer.t_us, domainEndUs))) < 1e-9, 'ends at its answer (4 px at least)');
      assert.equal(b.fill, `var(--${b.statusClass})`);
      assert.equal(b.pattern, null, 'nothing in flight once the run is over');
    }
    assert.equal(bars.filter((b) => b.kind === 'refresh').length, report(name).verdict.refresh_calls);
  }
});

test('naive race: the rows, top to bottom, as a class reads them', () => {
  const { model } = modelOf('expired-refreshable-naive-strict');
  const rows = model.lanes.rows.map((row) => ({
    name: row.name,
    outcome: row.outcome,
    done: row.done && row.done.text,
    bars: row.bars.map((b) => [b.kind, b.status, b.chip && b.chip.text, b.newChip && b.newChip.jti, b.label && b.label.text, b.revoked]),
  }));
  assert.deepEqual(rows, [
    { name: 'secret#1', outcome: 'ok', done: '✔', bars: [['request', '401', 't1', null, '401 expired', null], ['refresh', '200', 't1', 't2', 'refresh t1 → t2', null], ['retry', '200', 't2', null, 'retry 200', null]] },
    { name: 'secret#2', outcome: 'failed', done: '✖', bars: [['request', '401', 't1', null, '401 expired', null], ['refresh', '400', 't1', null, 'refresh 400 reused', 'rotation']] },
    { name: 'secret#3', outcome: 'failed', done: '✖', bars: [['request', '401', 't1', null, '401 expired', null], ['refresh', '400', 't1', null, 'refresh 400 reused', 'rotation']] },
    { name: 'public#1', outcome: 'ok', done: '✔', bars: [['request', '200', 't1', null, '200', null]] },
    { name: 'public#2', outcome: 'ok', done: '✔', bars: [['request', '200', 't1', null, '200', null]] },
    { name: 'public#3', outcome: 'ok', done: '✔', bars: [['request', '200', 't1', null, '200', null]] },
  ]);
  assert.deepEqual(model.lanes.rows.map((r) => r.odd), [false, true, false, true, false, true]);
  assert.equal(model.note, 'setup: login → t1, lab clock +6 s');
  // OAuth mode: one login gives both tokens.
  assert.equal(modelOf('expired-refreshable-naive-strict-oauth').model.note, 'setup: login → t1 + r2, lab clock +6 s');
  assert.deepEqual(model.familyXs, []);
  assert.equal(model.nowX, null);
  assert.deepEqual(
    { status: model.verdict.status, pill: model.verdict.pill, tone: model.verdict.tone, refreshCalls: model.verdict.refreshCalls, failed: model.verdict.failed },
    { status: 'done', pill: 'done', tone: 'bad', refreshCalls: 3, failed: 2 },
  );
});

test('a loser\'s refresh says what happened in its tooltip, and its token is struck through', () => {
  const name = 'expired-refreshable-naive-strict';
  const { model } = modelOf(name);
  const loser = model.lanes.rows[1].bars[1];
  const [sent] = eventsOf(name, 'refresh_sent', 'secret#2');
  const [done] = eventsOf(name, 'refresh_done', 'secret#2');
  assert.equal(loser.title, [
    'secret#2 · refresh /api/refresh',
    'token t1',
    'status 400 (reused)',
    't1 was already revoked: a refresh rotated it away',
    `${formatUs(sent.t_us)} → ${formatUs(done.t_us)}`,
  ].join('\n'));
  assert.ok(loser.chip.strike, 'struck through');
  assert.deepEqual(loser.outline, { x: loser.x - 3, y: loser.y - 3, width: loser.width + 6, height: loser.height + 6, rx: loser.height / 2 + 3 });
  assert.equal(loser.chip.color, tokenColor('t1'));
  assert.equal(loser.chip.color, 'var(--t1)', 'a theme variable: the page recolours it');
});

test('the queue and single-flight: waiting segments end when the retry leaves', () => {
  for (const name of ['expired-refreshable-queue-strict', 'expired-refreshable-single-flight-strict']) {
    const { model, domainEndUs } = modelOf(name);
    const waits = model.lanes.rows.flatMap((row) => row.waits.map((w) => ({ ...w, row })));
    assert.deepEqual(waits.map((w) => w.lane), ['secret#2', 'secret#3'], name);
    for (const w of waits) {
      const [queued] = eventsOf(name, 'queued', w.lane);
      const [retry] = eventsOf(name, 'retry_sent', w.lane);
      assert.ok(Math.abs(w.x - xOf(queued.t_us, domainEndUs)) < 1e-9);
      assert.ok(Math.abs(w.x + w.width - xOf(retry.t_us, domainEndUs)) < 1e-9);
      assert.equal(w.label.text, 'waiting for refresh');
    }
  }
});

test('the token store: stores, the family\'s kill and the logout, in time order and never on top of each other', () => {
  for (const [name, kinds] of [
    ['expired-refreshable-naive-strict', ['stored', 'stored', 'logout']],
    ['expired-refreshable-naive-family', ['stored', 'stored', 'death', 'logout']],
    ['expired-refreshable-single-flight-strict', ['stored', 'stored']],
    ['guest-naive-strict', []],
  ]) {
    for (const width of [1400, 1000]) {
      const state = reduced(name);
      const domainEndUs = domainEnd({ maxEventUs: state.maxUs, estimateUs: estimateRunUs(report(name).settings) });
      const { pinned } = timelineModel(state, { width, sizes, domainEndUs });
      const client = pinned.rows.find((r) => r.name === 'client') ?? { markers: [] };
      assert.deepEqual(client.markers.map((m) => m.kind), kinds, `${name} at ${width}`);
      client.markers.forEach((m, i) => {
        const next = client.markers[i + 1];
        if (next) assert.ok(m.x + m.width <= next.x, `${name} at ${width}: ${m.kind} runs into ${next.kind}`);
      });
    }
  }
  // OAuth mode: the store holds the refresh token beside the access token.
  const oauth = modelOf('expired-refreshable-naive-strict-oauth').model.pinned.rows[0].markers;
  assert.deepEqual(oauth[0].strip.chips.map((c) => [c.jti, c.kind]), [['t1', 'access'], ['r2', 'refresh']]);
  const { model, domainEndUs } = modelOf('expired-refreshable-naive-family');
  const [, storeT2, death, logout] = model.pinned.rows[0].markers;
  const [killed] = eventsOf('expired-refreshable-naive-family', 'revoked').filter((e) => e.jti === 't2');
  const [loggedOut] = eventsOf('expired-refreshable-naive-family', 'logged_out');
  assert.deepEqual(storeT2.strip.chips.map((c) => c.jti), ['t2']);
  assert.equal(death.jti, 't2');
  assert.ok(Math.abs(death.tick.x - xOf(killed.t_us, domainEndUs)) < 1e-9, 'the skull\'s tick is at the revocation');
  assert.ok(Math.abs(logout.tick.x - xOf(loggedOut.t_us, domainEndUs)) < 1e-9);
  assert.equal(logout.text.text, 'LOGGED OUT');
  // The engine names the refused token on `logged_out` (or, in older
  // recordings, says it in a sentence): the tooltip shows either.
  assert.equal(logout.title, loggedOut.jti ? `logged out: refresh of ${loggedOut.jti} refused (${loggedOut.reason})` : `logged out: ${loggedOut.reason}`);
});

test('the server lane: every decision drawn once, on its sub-row; a family revocation is one box naming both tokens', () => {
  for (const name of RUNS) {
    const { model } = modelOf(name);
    const server = model.pinned.rows.find((r) => r.name === 'server');
    assert.equal(server.height, sizes.server * SERVER_ROWS.length + 8);
    const drawn = (kind) => server.markers.filter((m) => m.kind === kind).reduce((n, m) => n + m.count, 0);
    const events = report(name).events;
    const count = (kind) => events.filter((e) => e.kind === kind).length;
    assert.equal(drawn('issued'), count('issued'), name);
    assert.equal(drawn('revoked'), count('revoked'), name);
    assert.equal(drawn('rejected'), count('rejected'), name);
    assert.equal(drawn('rotated'), 0, `${name}: a rotation is told on its new token's marker`);
    const issued = server.markers.filter((m) => m.kind === 'issued').flatMap((m) => m.strip.chips.map((c) => c.jti));
    assert.deepEqual(issued, events.filter((e) => e.kind === 'issued').map((e) => e.jti));
  }
  const { model, domainEndUs } = modelOf('expired-refreshable-naive-family');
  const server = model.pinned.rows.find((r) => r.name === 'server');
  const family = server.markers.filter((m) => m.cause === 'family');
  assert.equal(family.length, 1);
  assert.equal(family[0].jti, 't1 t2');
  assert.deepEqual(family[0].familyBox.strip.chips.map((c) => [c.jti, !!c.strike]), [['t1', true], ['t2', true]]);
  assert.equal(family[0].familyBox.text.text, '⚠ FAMILY REVOKED');
  const [first] = eventsOf('expired-refreshable-naive-family', 'revoked').filter((e) => e.cause === 'family');
  // Pixels, compared to a micro-pixel: the model and the test may round the
  // same product differently in the last bit.
  const expectedXs = eventsOf('expired-refreshable-naive-family', 'revoked').filter((e) => e.cause === 'family').map((e) => xOf(e.t_us, domainEndUs));
  assert.equal(model.familyXs.length, expectedXs.length);
  model.familyXs.forEach((x, i) => assert.ok(Math.abs(x - expectedXs[i]) < 1e-6, `${x} vs ${expectedXs[i]}`));
  assert.equal(family[0].title, `⚠ FAMILY REVOKED: t1, t2 at ${formatUs(first.t_us)}: reuse detection revoked every token of the login, including the fresh one`);
  const rotation = server.markers.find((m) => m.cause === 'rotation');
  assert.equal(rotation.jti, 't1');
  assert.ok(rotation.cross);
  const replaced = server.markers.find((m) => m.kind === 'issued' && m.strip.chips[0].jti === 't2');
  assert.equal(replaced.label.text, 'issued, replaces t1');
});

test('guest: no token anywhere, a grey stripe or chip on every bar', () => {
  const { model } = modelOf('guest-naive-strict');
  assert.equal(model.note, 'setup: no token');
  for (const b of allBars(model)) {
    assert.equal(b.jti, null);
    assert.equal(b.chip.text, '—');
  }
  assert.deepEqual(model.pinned.rows.map((r) => r.name), ['server'], 'no token store lane: nothing was ever stored');
});

test('the selected token: exactly the bars that carried it are outlined', () => {
  const name = 'expired-refreshable-naive-strict';
  const { model } = modelOf(name, { selectedJti: 't2' });
  const carried = report(name).events.filter((e) => e.kind.endsWith('_sent') && e.jti === 't2').map((e) => e.attempt);
  assert.deepEqual(allBars(model).filter((b) => b.selected).map((b) => b.attempt), carried);
  assert.equal(carried.length, 1, 'the winner\'s retry');
});

test('only the rows in the scroll viewport are modelled, with 4 more around it', () => {
  const name = 'expired-refreshable-queue-strict-late';
  const all = modelOf(name).model.lanes;
  assert.deepEqual([all.first, all.end, all.total], [0, 7, 7 * sizes.row]);
  const top = modelOf(name, { viewportHeight: sizes.row }).model.lanes;
  assert.deepEqual([top.first, top.end, top.rows.length, top.top], [0, 5, 5, 0]);
  const scrolled = modelOf(name, { viewportHeight: sizes.row, scrollTop: 6 * sizes.row }).model.lanes;
  assert.deepEqual([scrolled.first, scrolled.end, scrolled.top], [2, 7, 2 * sizes.row]);
  assert.deepEqual(scrolled.rows.map((r) => r.name), ['secret#3', 'public#1', 'public#2', 'public#3', 'late#1']);
});

test('live: bars in flight are striped and grow to the now-cursor', () => {
  const name = 'expired-refreshable-naive-strict';
  const all = messages(name);
  const cut = all.findIndex((m) => m.type === 'event' && m.event.kind === 'response' && m.event.lane === 'secret#1');
  const state = createRunState();
  for (const m of all.slice(0, cut)) applyMessage(state, m, 0);
  const domainEndUs = 1_000_000;
  const nowUs = all[cut].event.t_us - 1;
  const model = timelineModel(state, { width: WIDTH, sizes, domainEndUs, nowUs });
  const frame = createFrame(state, { width: WIDTH, sizes, domainEndUs, nowUs });
  assert.equal(model.nowX, frame.scale.x(nowUs));
  const pending = allBars(model).filter((b) => b.status === 'pending');
  assert.deepEqual(pending.map((b) => b.lane), ['secret#1', 'secret#2', 'secret#3']);
  for (const b of pending) {
    assert.equal(b.pattern, 'pending');
    assert.equal(b.fill, null);
    assert.ok(Math.abs(b.x + b.width - xOf(nowUs, domainEndUs)) < 1e-9);
    assert.match(b.title, /status in flight/);
  }
  assert.deepEqual({ status: model.verdict.status, pill: model.verdict.pill, final: model.verdict.final }, { status: 'running', pill: 'live', final: false });
});

test('sizes follow the root font; the label column never shrinks', () => {
  assert.deepEqual(scaledSizes(SIZES.normal, 18), SIZES.normal);
  const big = scaledSizes(SIZES.normal, 22);
  assert.equal(big.row, Math.round(40 * 22 / 18));
  assert.equal(big.label, Math.round(150 * 22 / 18));
  const small = scaledSizes(SIZES.compact, 16);
  assert.equal(small.label, 150);
  assert.equal(small.row, Math.round(30 * 16 / 18));
});

test('presenter sizes: bars as tall as normal\'s (or more), rows closer; a comparison stays compact in any theme', () => {
  assert.equal(baseSizes({ theme: 'presenter' }), SIZES.presenter);
  assert.equal(baseSizes({ theme: 'dark' }), SIZES.normal);
  assert.equal(baseSizes(), SIZES.normal);
  assert.equal(baseSizes({ compact: true, theme: 'presenter' }), SIZES.compact);
  const p = SIZES.presenter;
  const n = SIZES.normal;
  assert.ok(p.bar >= n.bar && p.font >= n.font && p.big >= n.big, 'nothing drawn smaller');
  assert.ok(p.row < n.row && p.server < n.server && p.client < n.client, 'less air between rows');
  assert.ok(p.row - p.bar >= 4, 'rows still apart');
  // The default case 3 (6 lanes, the token store, the server's three sub-rows) is shorter than normal's.
  const height = (z) => 6 * z.row + z.client + 3 * z.server + 8 + z.axis;
  assert.ok(height(p) <= 0.85 * height(n), `${height(p)} vs ${height(n)}`);
});

test('a held run: each bar whose leg waits in the network is marked held, with where it goes', async () => {
  const { streamMessages } = await import('./streams.mjs');
  const messages = streamMessages('queue-challenge');
  // Up to the view after the server accepted secret#1's refresh: its answer is on its way back,
  // secret#2's first request still on its way to the server.
  const state = createRunState();
  let view = null;
  for (const m of messages) {
    applyMessage(state, m, 0);
    if (m.type === 'network' && m.network.delivered.length === 3) {
      view = m.network;
      break;
    }
  }
  assert.deepEqual(view.legs.map((l) => [l.id, l.exchange]), [['secret#2>', 'request'], ['secret#1<', 'refresh']]);
  const model = timelineModel(state, { width: WIDTH, sizes, domainEndUs: 600_000, nowUs: viewNowUs(state, 0), viewportHeight: 2000 });
  const held = allBars(model).filter((b) => b.held);
  assert.deepEqual(held.map((b) => [b.lane, b.kind, b.held, b.leg, b.label && b.label.text]), [
    ['secret#1', 'refresh', 'to-client', 'secret#1<', '← 200'],
    ['secret#2', 'request', 'to-server', 'secret#2>', 't1 → server'],
  ]);
  for (const b of held) assert.equal(b.pattern, 'pending');
  assert.match(held[1].title, /held in the network: deliver secret#2> from the tray/);
  // The held bars reach the view's now, where the refresh was accepted: 350 ms after the burst.
  const burst = state.events.find((e) => e.kind === 'request_sent').t_us;
  const end = xOf(viewNowUs(state, 0), 600_000);
  assert.ok(Math.abs(xOf(burst + 350_000, 600_000) - end) < 0.5, 'the view stands at 350 ms');
  for (const b of held) assert.ok(Math.abs(b.x + b.width - end) < 1e-9, `${b.lane} reaches now`);
  assert.deepEqual(model.network, { held: true, driver: 'hand', delivered: 3, run: state.run });
  // Nothing is held once the run is over.
  const done = reduceMessages(messages);
  const after = timelineModel(done, { width: WIDTH, sizes, domainEndUs: 600_000, viewportHeight: 2000 });
  assert.equal(allBars(after).filter((b) => b.held).length, 0);
  assert.equal(after.network.held, false);
});

test('the caption line: the latest sentence, or the one under the cursor, whose exchange is marked', () => {
  const name = 'expired-refreshable-naive-strict';
  const state = reduced(name);
  const r = report(name);
  const { model } = modelOf(name);
  assert.deepEqual(model.caption, { text: r.narration[r.narration.length - 1], index: r.events.length - 1, cursor: false, of: r.events.length });
  assert.equal(model.cursor, null);
  // The cursor on secret#2's refresh being sent.
  const index = r.events.findIndex((e) => e.kind === 'refresh_sent' && e.lane === 'secret#2');
  const domainEndUs = domainEnd({ maxEventUs: state.maxUs, estimateUs: estimateRunUs(r.settings) });
  const at = timelineModel(state, { width: WIDTH, sizes, domainEndUs, viewportHeight: 2000, cursorIndex: index });
  assert.deepEqual(at.caption, { text: r.narration[index], index, cursor: true, of: r.events.length });
  assert.ok(Math.abs(at.cursor.x - xOf(r.events[index].t_us, domainEndUs)) < 1e-9);
  const marked = allBars(at).filter((b) => b.atCursor);
  assert.deepEqual(marked.map((b) => [b.lane, b.kind, b.attempt]), [['secret#2', 'refresh', r.events[index].attempt]]);
});
