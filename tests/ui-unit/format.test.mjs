import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatUs, formatCountdown, eventLine, eventText, attemptLabels, logoutReason } from '../../ui/lib/format.js';
import { eventsOf } from './fixtures.mjs';
import { createLineSplitter } from '../../ui/lib/ndjson.js';

test('times and countdowns read well', () => {
  assert.equal(formatUs(151_234), '151.2 ms');
  assert.equal(formatUs(2_345_000), '2.35 s');
  assert.equal(formatCountdown(4_200), 'in 4.2 s');
  assert.equal(formatCountdown(-1_300), '1.3 s ago');
  assert.equal(formatCountdown(10), 'now');
  assert.equal(formatCountdown(null), '—');
});

test('event lines name what happened', () => {
  assert.match(eventLine({ seq: 1, t_us: 151_000, lane: 'secret#1', kind: 'response', attempt: 1, route: '/api/secret', status: 401, reason: 'expired', jti: 't1' }), /151\.0 ms\s+secret#1\s+← 401 \/api\/secret \(expired\)/);
  assert.equal(eventText({ kind: 'refresh_done', status: 200, jti: 't1', new_jti: 't2' }), '← 200 refresh: t1 → t2');
  assert.equal(eventText({ kind: 'refresh_done', status: 400, jti: 't1', reason: 'reused' }), '← 400 refresh of t1 (reused)');
  assert.match(eventText({ kind: 'revoked', jti: 't2', cause: 'family' }), /whole family/);
  assert.match(eventText({ kind: 'brand_new', seq: 1, t_us: 0, lane: 'x', extra: 5 }), /brand_new \{"extra":5\}/);
});

test('a logout says whose refresh was refused, and why', () => {
  // As the engine names it: the refused token and a reason code.
  assert.equal(logoutReason({ kind: 'logged_out', reason: 'reused', jti: 't1' }), 'refresh of t1 refused (reused)');
  assert.equal(eventText({ kind: 'logged_out', reason: 'window_over', jti: 't1' }), 'LOGGED OUT: refresh of t1 refused (window_over)');
  // Recordings from before the event named the token: their sentence as it is.
  for (const ev of eventsOf('expired-refreshable-naive-strict', 'logged_out')) {
    assert.equal(eventText(ev), `LOGGED OUT: ${ev.jti ? `refresh of ${ev.jti} refused (${ev.reason})` : ev.reason}`);
  }
});

test('bar labels from long to short', () => {
  assert.deepEqual(attemptLabels({ kind: 'refresh', status: 400, jti: 't1', reason: 'reused' })[0], 'refresh 400 reused');
  assert.deepEqual(attemptLabels({ kind: 'refresh', status: 200, jti: 't1', newJti: 't2' })[0], 'refresh t1 → t2');
  assert.deepEqual(attemptLabels({ kind: 'retry', status: 200, jti: 't2' })[0], 'retry 200');
  assert.deepEqual(attemptLabels({ kind: 'request', status: 401, reason: 'expired' })[0], '401 expired');
});

test('NDJSON splitter joins lines split across chunks', () => {
  const lines = [];
  const splitter = createLineSplitter((line) => lines.push(JSON.parse(line)));
  splitter.push('{"type":"start"}\n{"type":"ev');
  assert.equal(lines.length, 1);
  splitter.push('ent","n":1}\r\n\n{"type":"done"}');
  assert.equal(lines.length, 2);
  splitter.end();
  assert.deepEqual(lines.map((l) => l.type), ['start', 'event', 'done']);
  assert.equal(lines[1].n, 1);
});
