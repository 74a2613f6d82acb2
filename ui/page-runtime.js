// The browser runtime's side in the page: starts the Worker of a run's tab
// once the run's start line arrived, relays what the Worker says (the api
// call a module just made, its state), and keeps a watchdog. A module that
// does not yield for WATCHDOG_MS (an endless loop) gets its Worker
// terminated and its run ended with a message; the page never freezes,
// since the module never runs on the page's own thread.

/** How long a tab's Worker may go without answering a ping. */
export const WATCHDOG_MS = 3000;
const PING_EVERY_MS = 250;

/**
 * Starts the tab of the run whose start line is `start` (it has `page`).
 * Either `builtin` (a strategy name: ui/strategies/<name>.js) or `source`
 * (the learner's module text); `options`: a library adapter's options
 * (ui/lib/libraries.js). Returns `{ stop() }`; `onEnded({ message,
 * line } | null)` is called once, when the tab finished or failed.
 */
export function startTab(start, { builtin = null, source = null, options = null, onCall = () => {}, onState = () => {}, onEnded = () => {} }) {
  const worker = new Worker(new URL('./worker/tab.js', import.meta.url), { type: 'module', name: `tab of run ${start.run}` });
  let lastPong = performance.now();
  let lastLine = null;
  let over = false;

  const end = (failed) => {
    if (over) return;
    over = true;
    clearInterval(pinger);
    worker.terminate();
    if (failed) {
      // The Worker may not have told the lab (it failed before it could, or it
      // was terminated): the run must end either way, with the reason.
      fetch(start.page.report, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seq: Number.MAX_SAFE_INTEGER, started: 0, received: 0, events: [], end: { outcome: 'failed', message: failed.message } }),
      }).catch(() => {});
    }
    onEnded(failed);
  };

  const pinger = setInterval(() => {
    if (performance.now() - lastPong > WATCHDOG_MS) {
      const where = lastLine ? ` (its last api call was on line ${lastLine})` : '';
      end({ message: `the module ran ${WATCHDOG_MS / 1000} s without yielding — an endless loop?${where}; its Worker was stopped`, line: lastLine });
      return;
    }
    worker.postMessage({ type: 'ping', at: performance.now() });
  }, PING_EVERY_MS);

  worker.addEventListener('message', ({ data }) => {
    if (!data || over) return;
    if (data.type === 'pong') lastPong = performance.now();
    else if (data.type === 'call') {
      lastLine = data.line ?? lastLine;
      onCall(data);
    } else if (data.type === 'state') onState(data.state);
    else if (data.type === 'ended') end(data.failed || null);
  });
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    end({ message: `the tab's Worker failed: ${event.message || 'it could not load'}`, line: event.lineno || null });
  });
  worker.postMessage({ type: 'run', page: start.page, settings: start.settings, builtin, source, options });
  return { stop: () => end(null) };
}
