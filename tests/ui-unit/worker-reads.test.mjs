// A tab's pending stream reads are work to come (ui/worker/reads.js): the
// harness (ui/lib/page-tab.js) must not tell a held run it caught up while
// the module still reads a body, or the lab reads a state with a request
// not yet done (ky's error path reads the refused answer's body first).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchReads } from '../../ui/worker/reads.js';
import { createTab, lanesOf } from '../../ui/lib/page-tab.js';
import { jwt } from './fake-lab.mjs';

/** A reader whose read() resolves `tasks` macrotasks later, as a browser's stream may. */
function slowReaderClass(tasks) {
  return class SlowReader {
    read() {
      return new Promise((resolve) => {
        let left = tasks;
        const hop = () => (left-- > 0 ? setTimeout(hop, 0) : resolve({ done: true, value: undefined }));
        hop();
      });
    }
  };
}

test('watchReads counts the reads still pending', async () => {
  const scope = { ReadableStreamDefaultReader: slowReaderClass(3) };
  const reads = watchReads(scope);
  const reader = new scope.ReadableStreamDefaultReader();
  const first = reader.read();
  const second = reader.read();
  assert.equal(reads.pending(), 2);
  await first;
  await second;
  await new Promise((resolve) => { setImmediate(resolve); });
  assert.equal(reads.pending(), 0);
});

test('a tab reading a body after its answer reports caught up only once the request is done', async () => {
  // Longer than the harness's quiet tasks.
  const scope = { ReadableStreamDefaultReader: slowReaderClass(12) };
  const reads = watchReads(scope);
  const reports = [];
  const fetch = async (url, init) => {
    if (url === '/report') {
      reports.push(JSON.parse(init.body));
      return { status: 200, ok: true, json: async () => ({}) };
    }
    return { status: 401, ok: false, json: async () => ({ reason: 'expired' }) };
  };
  const page = { api: '/api', report: '/report', token: jwt('t1'), first_attempt: 2 };
  const tab = createTab({ page, fetch, later: (fn) => setTimeout(fn, 0), after: (ms, fn) => setTimeout(fn, ms), busy: () => reads.pending() > 0 });
  await tab.run(async (req, api) => {
    const { status } = await api.send(req, api.token());
    // ky's HTTPError: the refused answer's body read before it throws.
    await new scope.ReadableStreamDefaultReader().read();
    return { status };
  }, lanesOf({ secret: 1, public: 0 }));
  // Every report that says the answer was taken in (the lab may settle on it) carries the request's end.
  const answered = reports.filter((r) => r.received === 1);
  assert.ok(answered.length > 0);
  assert.deepEqual(answered[0].events.map((e) => e.kind), ['request_done']);
});

test('a Response body read (json(), text()) is pending work too, until it settled', async () => {
  /** A Response whose json() resolves `tasks` macrotasks later; text() throws at once (body used). */
  class SlowResponse {
    json() {
      return new Promise((resolve) => {
        let left = 5;
        const hop = () => (left-- > 0 ? setTimeout(hop, 0) : resolve({ token: 't2' }));
        hop();
      });
    }

    text() {
      throw new TypeError('body used');
    }
  }
  const scope = { Response: SlowResponse };
  const reads = watchReads(scope);
  const response = new scope.Response();
  const body = response.json();
  assert.equal(reads.pending(), 1);
  assert.throws(() => response.text(), TypeError);
  assert.equal(reads.pending(), 1, 'a read that threw at once is not pending');
  assert.deepEqual(await body, { token: 't2' });
  await new Promise((resolve) => { setImmediate(resolve); });
  assert.equal(reads.pending(), 0);
});
