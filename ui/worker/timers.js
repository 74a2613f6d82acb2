// A tab's short timers are part of its work: a library that waits 300 ms
// before a retry (ky's backoff) has not caught up yet. `watchTimers` wraps
// the Worker's setTimeout/clearTimeout for the module and the libraries,
// counting the timers of at most SHORT_MS still pending, so the harness does
// not tell a held run it caught up while one is; the harness itself keeps
// the real setTimeout (`timers.real`). Longer timers (a proactive refresh
// minutes ahead) are waiting, not work.

export const SHORT_MS = 1000;

/** Wraps `scope`'s timers; returns { real(fn, ms), pending() }. */
export function watchTimers(scope) {
  const realSet = scope.setTimeout.bind(scope);
  const realClear = scope.clearTimeout.bind(scope);
  const short = new Set();
  const wrappedSet = (handler, ms = 0, ...args) => {
    const delay = Number(ms) || 0;
    let id;
    const run = () => {
      short.delete(id);
      if (typeof handler === 'function') handler(...args);
    };
    id = realSet(run, delay);
    if (delay <= SHORT_MS) short.add(id);
    return id;
  };
  const wrappedClear = (id) => {
    short.delete(id);
    realClear(id);
  };
  try {
    Object.defineProperty(scope, 'setTimeout', { value: wrappedSet, configurable: true, writable: true });
    Object.defineProperty(scope, 'clearTimeout', { value: wrappedClear, configurable: true, writable: true });
  } catch {
    // a scope that keeps its own: the harness then cannot see them
  }
  return { real: realSet, pending: () => short.size };
}
