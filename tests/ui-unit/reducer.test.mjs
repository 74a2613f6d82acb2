import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRunState, applyMessage, reduceMessages } from '../../ui/lib/reducer.js';
import { orderedLanes, laneOutcome, verdictView } from '../../ui/lib/run-queries.js';
import { labNowMs, tokenCountdowns, decodedToken, tokenKindNote } from '../../ui/lib/token-notes.js';
import { decodeJwt } from '../../ui/lib/token-life.js';
import { RUNS, report, messages, reduced, tallyOf, eventsOf } from './fixtures.mjs';

/** A lane's attempts: kind, status, token, and the reason (or the new token of a refresh). */
const story = (state, lane) => state.lanes.get(lane).attempts.map((a) => [a.kind, a.status, a.jti, a.reason ?? a.newJti]);

test('every recorded run: the live tally is the engine\'s verdict, field by field', () => {
  assert.ok(RUNS.length >= 10, `recorded runs: ${RUNS.join(', ')}`);
  for (const name of RUNS) {
    const state = reduced(name);
    assert.equal(state.status, 'done', name);
    assert.deepEqual(state.tally, tallyOf(report(name).verdict), name);
  }
});

test('every recorded run: the card shows the engine\'s sentence and counts, red for a hang, a race or a failure', () => {
  for (const name of RUNS) {
    const v = report(name).verdict;
    const view = verdictView(reduced(name));
    assert.deepEqual(
      [view.final, view.sentence, view.refreshCalls, view.ok, view.failed, view.logouts, view.requests, view.race],
      [true, v.sentence, v.refresh_calls, v.ok, v.failed, v.logouts, v.requests, v.race],
      name,
    );
    assert.equal(view.tone, v.hang || v.race || v.failed > 0 ? 'bad' : 'good', name);
  }
});

test('every recorded run: one bar per attempt, ending with the status of its answer', () => {
  for (const name of RUNS) {
    const state = reduced(name);
    const answers = report(name).events.filter((e) => e.kind === 'response' || e.kind === 'refresh_done');
    const sent = report(name).events.filter((e) => e.kind.endsWith('_sent'));
    assert.equal(state.attempts.size, sent.length, name);
    for (const answer of answers) {
      const attempt = state.attempts.get(answer.attempt);
      assert.equal(attempt.status, answer.status, `${name}: attempt ${answer.attempt}`);
      assert.equal(attempt.lane, answer.lane);
      assert.equal(attempt.endUs, answer.t_us);
    }
    const refreshBars = [...state.attempts.values()].filter((a) => a.kind === 'refresh');
    assert.equal(refreshBars.length, report(name).verdict.refresh_calls, name);
  }
});

test('naive race: each lane\'s attempts, and who won', () => {
  const state = reduced('expired-refreshable-naive-strict');
  assert.equal(state.strategy, 'naive');
  assert.equal(state.policy, 'strict');
  assert.deepEqual(story(state, 'secret#1'), [['request', 401, 't1', 'expired'], ['refresh', 200, 't1', 't2'], ['retry', 200, 't2', null]]);
  for (const lane of ['secret#2', 'secret#3']) {
    assert.deepEqual(story(state, lane), [['request', 401, 't1', 'expired'], ['refresh', 400, 't1', 'reused']]);
    assert.equal(laneOutcome(state.lanes.get(lane)), 'failed');
    // The engine reports the request's own final status, not the refresh's.
    assert.deepEqual(state.lanes.get(lane).done, { tUs: eventsOf('expired-refreshable-naive-strict', 'request_done', lane)[0].t_us, ok: false, status: 401 });
  }
  assert.equal(laneOutcome(state.lanes.get('secret#1')), 'ok');
  for (const lane of ['public#1', 'public#2', 'public#3']) assert.deepEqual(story(state, lane), [['request', 200, 't1', null]]);
  assert.deepEqual(state.client.map((m) => [m.kind, m.jti]), [['token_stored', 't1'], ['token_stored', 't2'], ['logged_out', 't1']]);
});

test('naive race: the live verdict calls the race at the second refresh of t1, as the engine defines it', () => {
  const all = messages('expired-refreshable-naive-strict');
  const state = createRunState();
  const raceAt = [];
  for (const m of all) {
    applyMessage(state, m, 0);
    if (m.type === 'event' && m.event.kind === 'refresh_sent') raceAt.push(verdictView(state).race);
  }
  assert.deepEqual(raceAt, [false, true, true]);
});

test('single-flight and queue: the others wait, one refresh, retries with t2, never a race', () => {
  for (const name of ['expired-refreshable-single-flight-strict', 'expired-refreshable-queue-strict', 'expired-refreshable-single-flight-strict-late']) {
    const state = createRunState();
    for (const m of messages(name)) {
      applyMessage(state, m, 0);
      assert.equal(state.tally.race, false, name);
    }
    const waiting = ['secret#2', 'secret#3'];
    for (const lane of waiting) {
      const l = state.lanes.get(lane);
      assert.equal(l.queued.length, 1, `${name} ${lane}`);
      // The wait ends when the retry leaves.
      assert.equal(l.queued[0].endUs, l.attempts[1].startUs);
      assert.deepEqual(story(state, lane), [['request', 401, 't1', 'expired'], ['retry', 200, 't2', null]]);
    }
    assert.deepEqual(story(state, 'secret#1'), [['request', 401, 't1', 'expired'], ['refresh', 200, 't1', 't2'], ['retry', 200, 't2', null]]);
  }
});

test('the queue\'s weakness: a late 401 refreshes the rotated t1 again and logs the tab out', () => {
  const state = reduced('expired-refreshable-queue-strict-late');
  assert.deepEqual(story(state, 'late#1'), [['request', 401, 't1', 'revoked'], ['refresh', 400, 't1', 'reused']]);
  assert.deepEqual(orderedLanes(state), ['secret#1', 'secret#2', 'secret#3', 'public#1', 'public#2', 'public#3', 'late#1', 'client', 'server']);
  // Single-flight: the same late 401 retries with the token that replaced t1.
  const fixed = reduced('expired-refreshable-single-flight-strict-late');
  assert.deepEqual(story(fixed, 'late#1'), [['request', 401, 't1', 'revoked'], ['retry', 200, 't2', null]]);
});

test('guest and window over: nothing to refresh, or nothing the server will refresh', () => {
  const guest = reduced('guest-naive-strict');
  for (const lane of ['secret#1', 'secret#2', 'secret#3']) assert.deepEqual(story(guest, lane), [['request', 401, null, 'missing']]);
  assert.deepEqual(guest.tokenOrder, []);
  const dead = reduced('expired-not-refreshable-naive-strict');
  for (const lane of ['secret#1', 'secret#2', 'secret#3']) assert.deepEqual(story(dead, lane), [['request', 401, 't1', 'expired'], ['refresh', 400, 't1', 'window_over']]);
});

test('the token table: every issued token with its claims, lifetimes as the run was set', () => {
  for (const name of RUNS) {
    const state = reduced(name);
    const issued = eventsOf(name, 'issued');
    const { access_ttl_s: ttl, refresh_window_s: win } = report(name).settings;
    assert.deepEqual(state.tokenOrder, issued.map((e) => e.jti), name);
    for (const ev of issued) {
      const token = state.tokens.get(ev.jti);
      assert.deepEqual([token.sub, token.fam, token.iat, token.exp], [ev.sub, ev.fam, ev.iat, ev.exp]);
      if (token.kind === 'refresh') {
        // An OAuth refresh token lives as long as its access token's window.
        assert.equal(token.exp - token.iat, ttl + win, name);
        assert.equal(token.refresh_until, token.exp, name);
      } else {
        assert.equal(token.exp - token.iat, ttl);
        assert.equal(token.refresh_until - token.exp, win);
      }
    }
  }
});

test('the inspector decodes the JWT the server issued; without one it shows no header', () => {
  let decodedJwts = 0;
  for (const name of RUNS) {
    const state = reduced(name);
    for (const ev of eventsOf(name, 'issued')) {
      const shown = decodedToken(state.tokens.get(ev.jti));
      const claims = { sub: ev.sub, iat: ev.iat, exp: ev.exp, jti: ev.jti, fam: ev.fam };
      if (ev.token_kind === 'refresh') {
        // Opaque: nothing decoded, the server's record shown instead.
        assert.deepEqual([shown.kind, shown.header, shown.fromJwt], ['refresh', null, false]);
        assert.deepEqual(shown.payload, claims);
      } else if (typeof ev.token === 'string') {
        decodedJwts += 1;
        // jsonwebtoken's Header::new(HS256), as src/server/tokens.rs signs.
        assert.deepEqual(shown.header, { typ: 'JWT', alg: 'HS256' });
        assert.deepEqual(shown.payload, claims);
        assert.equal(shown.fromJwt, true);
      } else {
        assert.equal(shown.header, null, 'no made-up header');
        assert.deepEqual(shown.payload, claims);
        assert.equal(shown.fromJwt, false);
      }
    }
  }
  if (decodedJwts === 0) {
    // Recordings from before `issued` carried the token: the decoding path
    // is still the one the inspector uses.
    const header = { typ: 'JWT', alg: 'HS256' };
    const payload = { sub: 'ada', iat: 1, exp: 6, jti: 't1', fam: 'f1' };
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const raw = `${b64(header)}.${b64(payload)}.sig`;
    assert.deepEqual(decodedToken({ raw }), { header, payload, fromJwt: true });
    assert.deepEqual(decodeJwt(raw), { header, payload });
  }
});

test('live: bars are pending until their answer arrives', () => {
  const all = messages('expired-refreshable-naive-strict');
  const state = createRunState({ strategy: 'naive', policy: 'strict' });
  assert.equal(state.status, 'idle');
  const cut = all.findIndex((m) => m.type === 'event' && m.event.kind === 'response' && m.event.lane === 'secret#1');
  for (const m of all.slice(0, cut)) applyMessage(state, m, 0);
  assert.equal(state.status, 'running');
  const first = state.lanes.get('secret#1').attempts[0];
  assert.equal(first.status, 'pending');
  assert.equal(first.endUs, null);
  const view = verdictView(state);
  assert.equal(view.final, false);
  assert.equal(view.tone, 'running');
  const okSoFar = all.slice(0, cut).filter((m) => m.type === 'event' && m.event.kind === 'request_done' && m.event.ok).length;
  assert.equal(okSoFar, 3, 'the public requests answered before the first 401');
  assert.equal(view.ok, okSoFar);
  assert.match(view.sentence, /^Running… 0 refresh calls; 3 ok, 0 failed of 6 requests\.$/);
  applyMessage(state, all[cut], 0);
  assert.equal(first.status, 401);
  assert.equal(first.endUs, all[cut].event.t_us);
});

test('an error message ends the run with a message', () => {
  const state = createRunState();
  applyMessage(state, messages('valid-naive-strict')[0]);
  applyMessage(state, { type: 'error', message: 'server went away' });
  const view = verdictView(state);
  assert.equal(state.status, 'error');
  assert.equal(view.tone, 'bad');
  assert.equal(view.sentence, 'The run failed: server went away');
});

test('unknown messages and kinds are ignored, not fatal', () => {
  const state = createRunState();
  applyMessage(state, { type: 'mystery' });
  applyMessage(state, { type: 'event', event: { seq: 0, t_us: 1, lane: 'server', kind: 'future_kind', x: 1 } });
  applyMessage(state, null);
  assert.equal(state.events.length, 1, 'kept for the log');
  assert.equal(state.server.length, 0);
  assert.equal(state.status, 'idle', 'no start, no run');
});

test('lab clock: anchored on the start and on the clock jump, running on in between', () => {
  const all = messages('expired-refreshable-naive-strict');
  const state = createRunState();
  assert.equal(labNowMs(state, 0), null);
  applyMessage(state, all[0], 1000);
  assert.equal(labNowMs(state, 1500), all[0].lab_now_ms + 500);
  const jump = all.findIndex((m) => m.type === 'event' && m.event.kind === 'clock_advanced');
  for (const m of all.slice(1, jump + 1)) applyMessage(state, m, 2000);
  const lab = all[jump].event.lab_now_ms;
  assert.equal(labNowMs(state, 2000), lab);
  assert.equal(labNowMs(state, 2250), lab + 250);
  // Case 3 comes back 1 s after exp (iat is whole seconds: up to 1 s more).
  const c = tokenCountdowns(state.tokens.get('t1'), lab);
  assert.ok(c.expiresInMs <= -1000 && c.expiresInMs > -2000, `${c.expiresInMs}`);
  assert.equal(c.windowEndsInMs - c.expiresInMs, report('expired-refreshable-naive-strict').settings.refresh_window_s * 1000);
});

// Correctness at scale only: its speed is a benchmark's job (a timed test fails under load).
test('reduces a 10,000-lane stream (a recorded lane, repeated)', () => {
  const one = report('valid-naive-strict').events.filter((e) => e.lane === 'secret#1');
  assert.deepEqual(one.map((e) => e.kind), ['request_sent', 'response', 'request_done']);
  const stream = [messages('valid-naive-strict')[0]];
  let seq = 0;
  for (let i = 1; i <= 10_000; i++) {
    for (const e of one) stream.push({ type: 'event', event: { ...e, seq: seq++, lane: `secret#${i}`, ...(e.attempt == null ? {} : { attempt: i }) } });
  }
  const state = reduceMessages(stream);
  const lanes = orderedLanes(state);
  assert.equal(lanes.length, 10_000);
  assert.equal(lanes[1], 'secret#2');
  assert.equal(state.tally.ok, 10_000);
});

test('the inspector tells the two kinds apart in OAuth mode, and says what article mode does', () => {
  const oauth = reduced('expired-refreshable-naive-strict-oauth');
  assert.deepEqual(oauth.tokenOrder.slice(0, 2), ['t1', 'r2']);
  const refresh = tokenKindNote(oauth, oauth.tokens.get('r2'));
  assert.equal(refresh.kind, 'refresh');
  assert.match(refresh.lines.join(' '), /form body \(grant_type=refresh_token, RFC 6749 §6\)/);
  const access = tokenKindNote(oauth, oauth.tokens.get('t1'));
  assert.deepEqual([access.kind, access.title], ['access', 'access token (JWT)']);
  const article = reduced('expired-refreshable-naive-strict');
  assert.equal(tokenKindNote(article, article.tokens.get('t1')).title, 'access token (JWT), also the refresh credential');
  assert.equal(tokenKindNote(article, null), null);
});
