// The browser runtime's side in the page: starts the Workers of a run's
// tabs once the run's start line arrived, relays what they say (the api
// call a module just made, its state, what the tabs share), and keeps a
// watchdog. A module that
// does not yield for WATCHDOG_MS (an endless loop), or that keeps more
// memory than its ceiling (ui/worker/memory.js), gets its Worker
// terminated and its run ended with a message; the page never freezes,
// since the module never runs on the page's own thread.

import { createHub } from './lib/tab-hub.js';
import { initialStorage } from './lib/page-tab.js';
import { watchdogTick } from './lib/watchdog.js';

/** An explored run's tab traffic goes without credentials (explore-client.js says why). */
const credentialsOf = (start) => start.page.credentials ?? 'same-origin';

/** How long a tab's Worker may go without answering a ping. */
export const WATCHDOG_MS = 3000;
const PING_EVERY_MS = 250;

/**
 * Starts the tabs of the run whose start line is `start` (it has `page`):
 * one Worker per tab (`start.settings.tabs`, 1 by default), sharing what a
 * browser's tabs share through a hub in the page (ui/lib/tab-hub.js).
 * Either `builtin` (a strategy name: ui/strategies/<name>.js) or `source`
 * (the learner's module text); `options`: a library adapter's options
 * (ui/lib/libraries.js). Returns `{ stop() }`; `onEnded({ message,
 * line, load? } | null)` is called once, when every tab finished or one
 * failed (`load`: the module could not even load).
 * `onCall` and `onState` name the tab they come from; `onLocks(view)`
 * tells who holds which lock.
 */
export function startTab(start, handlers) {
  if (start.settings?.mode !== 'oauth') return startTabs(start, handlers);
  // OAuth mode: the start line carries the access token; the refresh token
  // the setup's login left comes from the run's page route, before any tab
  // starts (a library finds the whole session in its storage).
  let inner = null;
  let stopped = false;
  fetch(start.page.report, { cache: 'no-store', credentials: credentialsOf(start) })
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
    .then((session) => {
      if (stopped) return;
      const refresh = typeof session.refresh_token === 'string' ? session.refresh_token : null;
      inner = startTabs({ ...start, page: { ...start.page, refresh_token: refresh } }, handlers);
    }, (error) => {
      if (stopped) return;
      const message = `the run's OAuth session could not be read: ${error.message}`;
      fetch(start.page.report, {
        method: 'POST',
        credentials: credentialsOf(start),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seq: Number.MAX_SAFE_INTEGER, started: 0, received: 0, events: [], end: { outcome: 'failed', message } }),
      }).catch(() => {});
      handlers.onEnded?.({ message, line: null });
    });
  return {
    stop: () => {
      stopped = true;
      inner?.stop();
    },
    locks: () => inner?.locks() ?? [],
  };
}

function startTabs(start, { builtin = null, source = null, options = null, onCall = () => {}, onState = () => {}, onEnded = () => {}, onLocks = () => {} }) {
  const tabs = Math.max(1, Number(start.settings?.tabs) || 1);
  const workers = [];
  const lastPong = [];
  let lastLine = null;
  let over = false;
  let done = 0;

  const hub = createHub({
    tabs,
    initial: initialStorage(start.page),
    send: (tab, message) => workers[tab - 1]?.postMessage({ type: 'hub', message }),
    postReport: async (body) => {
      const response = await fetch(start.page.report, {
        method: 'POST',
        credentials: credentialsOf(start),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      let message = null;
      if (!response.ok) message = await response.json().then((j) => j.message ?? null, () => null);
      return { ok: response.ok, status: response.status, message };
    },
    onLocks,
    // Tabs start one after another: a held run's first requests always
    // reach the lab in the same order.
    onFirstReport: (tab) => {
      if (tab < tabs) runTab(tab + 1);
    },
  });

  const end = (failed) => {
    if (over) return;
    over = true;
    clearInterval(pinger);
    workers.forEach((worker, i) => {
      worker.terminate();
      hub.tabDied(i + 1);
    });
    if (failed) {
      // The Worker may not have told the lab (it failed before it could, or it
      // was terminated): the run must end either way, with the reason.
      fetch(start.page.report, {
        method: 'POST',
        credentials: credentialsOf(start),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seq: Number.MAX_SAFE_INTEGER, started: 0, received: 0, events: [], end: { outcome: 'failed', message: failed.message } }),
      }).catch(() => {});
    }
    onEnded(failed);
  };
  const finished = new Set(); // tabs whose requests all returned
  // A lock held by a finished tab, waited for by another: the run can never end.
  const checkLocks = () => {
    const why = hub.neverReleased(finished);
    if (why) end({ message: why, line: null });
  };
  const named = (tab, failed) => (tabs > 1 ? { ...failed, message: `tab ${tab}: ${failed.message}` } : failed);

  let lastTick = null;
  const pinger = setInterval(() => {
    const now = performance.now();
    const tick = watchdogTick({ now, lastTick, lastPong, limitMs: WATCHDOG_MS });
    lastTick = now;
    lastPong.splice(0, lastPong.length, ...tick.lastPong);
    if (tick.hung >= 0) {
      const where = lastLine ? ` (its last api call was on line ${lastLine})` : '';
      end(named(tick.hung + 1, { message: `the module ran ${WATCHDOG_MS / 1000} s without yielding — an endless loop?${where}; its Worker was stopped`, line: lastLine }));
      return;
    }
    // Booted Workers only: one whose scripts still load has run nothing yet.
    workers.forEach((worker, i) => {
      if (lastPong[i] !== null) worker.postMessage({ type: 'ping', at: now });
    });
    if (finished.size > 0) checkLocks();
  }, PING_EVERY_MS);

  for (let tab = 1; tab <= tabs; tab += 1) {
    const name = tabs > 1 ? `tab ${tab} of run ${start.run}` : `tab of run ${start.run}`;
    const worker = new Worker(new URL('./worker/tab.js', import.meta.url), { type: 'module', name });
    workers.push(worker);
    lastPong.push(null); // until its first pong: it says so as soon as it runs
    worker.addEventListener('message', ({ data }) => {
      if (!data || over) return;
      if (data.type === 'pong') lastPong[tab - 1] = performance.now();
      else if (data.type === 'hub') hub.receive(tab, data.message);
      else if (data.type === 'memory') {
        const where = lastLine ? ` (its last api call was on line ${lastLine})` : '';
        end(named(tab, { message: `your module used more than ${data.mb} MB; stopped${where}`, line: lastLine }));
      }
      else if (data.type === 'call') {
        lastLine = data.line ?? lastLine;
        onCall({ ...data, tab });
      } else if (data.type === 'state') onState(data.state, tab);
      else if (data.type === 'ended') {
        // `load`: the module never ran (a syntax error, no request export).
        if (data.failed) end(named(tab, { ...data.failed, load: Boolean(data.load) }));
        else if ((done += 1) === tabs) end(null);
        else {
          finished.add(tab);
          checkLocks();
        }
      }
    });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      end(named(tab, { message: `the tab's Worker failed: ${event.message || 'it could not load'}`, line: event.lineno || null }));
    });
  }
  function runTab(tab) {
    workers[tab - 1].postMessage({ type: 'run', page: start.page, settings: start.settings, builtin, source, options, tab, tabs });
  }
  runTab(1);
  return { stop: () => end(null), locks: () => hub.locks() };
}
