// The Export menu's report: rebuilt from the lab's stream messages, only
// once the run is done; file names from Content-Disposition.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXPORT_FORMATS, createCollector, collect, reportOf, fileNameFrom } from '../../ui/lib/export-report.js';

const settings = { case: 'expired-refreshable', strategy: 'naive', policy: 'strict' };
const events = [
  { seq: 0, t_us: 10, lane: 'client', kind: 'token_stored', jti: 't1' },
  { seq: 1, t_us: 20, lane: 'secret#1', kind: 'request_sent', attempt: 2, route: '/api/secret', jti: 't1' },
];
const verdict = { sentence: 'No refresh needed: all 1 requests succeeded.' };

test('a report exists only once the run is done, with what the stream said', () => {
  const c = createCollector();
  assert.equal(reportOf(c), null);
  collect(c, { type: 'start', settings, lab_now_ms: 5 });
  for (const event of events) collect(c, { type: 'event', event });
  assert.equal(reportOf(c), null, 'not while running');
  collect(c, { type: 'done', verdict, lab_now_ms: 1234 });
  assert.deepEqual(reportOf(c), { settings, events, verdict, lab_now_ms: 1234 });
});

test('a failed run has nothing to export; junk messages are ignored', () => {
  const c = createCollector();
  collect(c, { type: 'start', settings });
  collect(c, null);
  collect(c, { type: 'event' });
  collect(c, { type: 'error', message: 'boom' });
  assert.equal(c.events.length, 0);
  assert.equal(reportOf(c), null);
});

test('a replay without a verdict still exports (the lab computes it)', () => {
  const c = createCollector();
  collect(c, { type: 'start', settings: null, lab_now_ms: null });
  collect(c, { type: 'done', verdict: null, lab_now_ms: null });
  assert.deepEqual(reportOf(c), { settings: {}, events: [], verdict: null, lab_now_ms: null });
});

test('file names come from Content-Disposition, never with a path', () => {
  assert.equal(fileNameFrom('attachment; filename="refresh-race-valid-naive-strict.har"', 'x'), 'refresh-race-valid-naive-strict.har');
  assert.equal(fileNameFrom('attachment; filename=run.svg', 'x'), 'run.svg');
  assert.equal(fileNameFrom('attachment; filename="../../etc/passwd"', 'x'), '....etcpasswd');
  assert.equal(fileNameFrom('attachment; filename=".."', 'fallback.json'), 'fallback.json');
  assert.equal(fileNameFrom(null, 'fallback.json'), 'fallback.json');
  assert.equal(fileNameFrom('attachment', 'fallback.json'), 'fallback.json');
});

test('the menu offers the six formats the lab exports', () => {
  assert.deepEqual(EXPORT_FORMATS.map((f) => f.format), ['har', 'trace', 'mermaid', 'svg', 'png', 'json']);
});
