// What a browser shares between its tabs, kept by the page for a run's
// Workers (docs/design.md, "Several tabs in the page"): one storage area
// (with `storage` events to the *other* tabs), Web Locks and
// BroadcastChannel, plus the page's few connections to the lab, which all
// tabs share as a browser's tabs share its connection pool.
//
// Every message between tabs passes through here, so a held run stays
// deterministic: the hub counts each message it sends to a tab, and each
// tab tells (in its reports) how many it has taken in. The lab's held run
// moves on only when none is still on its way (`relaying`), as it waits
// for an answer the page has not taken in yet. The hub also merges the
// tabs' reports into one report per POST, on one connection, in order.
//
// Pure: `send(tab, message)` (to a tab's Worker) and `postReport(body)` (to
// the lab) are injected; no DOM. Tabs are numbered from 1.

/**
 * Exchanges all tabs of the page may have on the wire at once: a browser
 * opens six connections per host, and the page keeps one for the run's
 * stream, one for network commands and one for the reports.
 */
export const PAGE_EXCHANGES = 3;

/** The lanes of tab `tab`: tab 1's carry no prefix, the others `tab2/…` (as the lab names them). */
export function laneOfTab(tab, lane) {
  return tab === 1 ? lane : `tab${tab}/${lane}`;
}

/**
 * What changed between two views of the locks (`hub.locks()`), in words
 * for the page's log: who took a lock, who let it go. A holder is its lane
 * (`tab2/secret#1`) or, for a library's own lock, its tab (`tab 2`).
 */
export function describeLockChange(before, after) {
  const holders = (view) => new Map(view.flatMap((lock) => lock.held.map((h) => [`${lock.name}\u0000${h.lane ?? `tab ${h.tab}`}`, { name: lock.name, who: h.lane ?? `tab ${h.tab}`, waiting: lock.waiting.length }])));
  const was = holders(before);
  const now = holders(after);
  const lines = [];
  for (const [key, { name, who }] of was) {
    if (!now.has(key)) lines.push(`${who} released the lock "${name}"`);
  }
  for (const [key, { name, who, waiting }] of now) {
    if (!was.has(key)) lines.push(`${who} holds the lock "${name}"${waiting ? ` (${waiting} waiting)` : ''}`);
  }
  return lines;
}

/** The tab a lock holder belongs to: its own `tab`, else its lane's (`tab2/secret#1` → 2, `secret#1` → 1). */
export function holderTab(holder) {
  if (Number.isInteger(holder.tab)) return holder.tab;
  const match = /^tab(\d+)\//.exec(holder.lane ?? '');
  return match ? Number(match[1]) : 1;
}

/**
 * Folds one view of the locks (`hub.locks()`) into `holds`, what the run's
 * tabs held so far: `{ [tab]: { [lock name]: times taken } }`. A holder
 * counts once per take: it is new in `view` against `before`.
 */
export function foldLockHolds(holds, before, view) {
  const key = (name, h) => `${name}\u0000${h.lane ?? `tab ${h.tab}`}`;
  const was = new Set(before.flatMap((lock) => lock.held.map((h) => key(lock.name, h))));
  const next = Object.fromEntries(Object.entries(holds).map(([tab, names]) => [tab, { ...names }]));
  for (const lock of view) {
    for (const holder of lock.held) {
      if (was.has(key(lock.name, holder))) continue;
      const tab = holderTab(holder);
      next[tab] = next[tab] ?? {};
      next[tab][lock.name] = (next[tab][lock.name] ?? 0) + 1;
    }
  }
  return next;
}

/** What a tab's lane label says of the locks it held: `held "lock:x" twice`, or null. */
export function describeHolds(names) {
  const entries = Object.entries(names ?? {});
  if (entries.length === 0) return null;
  const times = (n) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);
  return `held ${entries.map(([name, n]) => `"${name}" ${times(n)}`).join(', ')}`;
}

/**
 * A hub for `tabs` tabs.
 *   send(tab, message)   posts a message to a tab's Worker
 *   postReport(body)     POSTs one merged report to the lab; resolves with
 *                        { ok, status, message } once the lab answered
 *   initial              the storage area when the run starts ({ key: value })
 *   onLocks(view)        after the held locks changed (the tab lanes show them)
 *   onFirstReport(tab)   a tab spoke for the first time: the next may start
 *                        (tabs start one after another, so a held run's
 *                        first requests reach the lab in one order)
 */
export function createHub({ tabs, send, postReport, initial = {}, onLocks = () => {}, onFirstReport = () => {} }) {
  const alive = new Set(Array.from({ length: tabs }, (_, i) => i + 1));
  const sent = new Map(); // tab → messages sent to it
  const taken = new Map(); // tab → messages it said it took in
  const area = new Map(Object.entries(initial)); // the storage area: key → string value
  const locks = new Map(); // name → { held: [request], queue: [request] }
  const requests = new Map(); // `${tab}:${id}` → request
  const wire = { used: 0, queue: [] };
  const wireHeld = new Map(); // tab → slots held
  const progress = new Map(); // tab → { started, received }
  const ended = new Map(); // tab → end
  let events = [];
  let seq = 0;
  let posting = null;
  let waiters = []; // tabs' report ids waiting for the POST that carries them
  let dirty = false;
  let over = false;

  /**
   * Sends to a tab. Counted: the tab acts on it, so a held run waits until
   * the tab reported taking it in. The answer to a report is not counted:
   * the tab's report already said what it is about to do.
   */
  function tell(tab, message, counted = true) {
    if (!alive.has(tab)) return;
    if (counted) sent.set(tab, (sent.get(tab) ?? 0) + 1);
    send(tab, message);
  }

  const relaying = () => [...alive].reduce((sum, tab) => sum + (sent.get(tab) ?? 0) - (taken.get(tab) ?? 0), 0);

  // --- storage ---------------------------------------------------------
  function setItem(tab, key, value) {
    const old = area.has(key) ? area.get(key) : null;
    if (value === null) area.delete(key);
    else area.set(key, value);
    if (old === value) return;
    for (const other of alive) {
      if (other !== tab) tell(other, { op: 'storage', key, oldValue: old, newValue: value });
    }
  }

  // --- locks -------------------------------------------------------------
  const lockOf = (name) => {
    if (!locks.has(name)) locks.set(name, { held: [], queue: [] });
    return locks.get(name);
  };
  const grantable = (lock, request) => (request.mode === 'shared'
    ? lock.held.every((h) => h.mode === 'shared')
    : lock.held.length === 0);

  function grant(lock, request) {
    lock.held.push(request);
    request.state = 'held';
    tell(request.tab, { op: 'lock-granted', id: request.id });
  }

  /** Grants from the front of the queue, in order, while they fit (a waiting exclusive blocks later shared). */
  function drain(name) {
    const lock = locks.get(name);
    if (!lock) return;
    while (lock.queue.length > 0 && grantable(lock, lock.queue[0])) grant(lock, lock.queue.shift());
    if (lock.held.length === 0 && lock.queue.length === 0) locks.delete(name);
  }

  function requestLock(tab, { id, name, mode, ifAvailable, steal, lane }) {
    const request = { tab, id, name, mode: mode === 'shared' ? 'shared' : 'exclusive', lane: lane ?? null, state: 'waiting' };
    requests.set(`${tab}:${id}`, request);
    const lock = lockOf(name);
    if (steal) {
      for (const held of lock.held.splice(0)) {
        held.state = 'released';
        requests.delete(`${held.tab}:${held.id}`);
        tell(held.tab, { op: 'lock-stolen', id: held.id });
      }
      grant(lock, request);
    } else if (lock.queue.length === 0 && grantable(lock, request)) {
      grant(lock, request);
    } else if (ifAvailable) {
      requests.delete(`${tab}:${id}`);
      if (lock.held.length === 0 && lock.queue.length === 0) locks.delete(name);
      tell(tab, { op: 'lock-unavailable', id });
      return;
    } else {
      lock.queue.push(request);
      tell(tab, { op: 'lock-queued', id });
    }
    onLocks(view());
  }

  function release(request) {
    const lock = locks.get(request.name);
    requests.delete(`${request.tab}:${request.id}`);
    if (!lock) return;
    if (request.state === 'held') lock.held = lock.held.filter((h) => h !== request);
    else lock.queue = lock.queue.filter((q) => q !== request);
    request.state = 'released';
    drain(request.name);
  }

  // --- the wire ----------------------------------------------------------
  function wireGrant(tab) {
    wire.used += 1;
    wireHeld.set(tab, (wireHeld.get(tab) ?? 0) + 1);
    tell(tab, { op: 'wire-granted' });
  }
  function wireFree(tab) {
    const held = wireHeld.get(tab) ?? 0;
    if (held === 0) return;
    wireHeld.set(tab, held - 1);
    wire.used -= 1;
    while (wire.used < PAGE_EXCHANGES && wire.queue.length > 0) {
      const next = wire.queue.shift();
      if (alive.has(next)) wireGrant(next);
    }
  }

  // --- reports -----------------------------------------------------------
  function endOfRun() {
    const failed = [...ended.entries()].find(([, end]) => end.outcome === 'failed');
    if (failed) {
      const [tab, end] = failed;
      return { outcome: 'failed', message: tabs > 1 ? `tab ${tab}: ${end.message}` : end.message };
    }
    return ended.size === tabs ? { outcome: 'done' } : null;
  }

  function flush() {
    if (posting || over || !dirty) return;
    const end = endOfRun();
    // The lab hears from the page once every tab has spoken: until then a
    // tab that has not started yet would look settled. A page whose tabs
    // all died (the run was stopped, or failed: the page reports that
    // itself) has nothing to tell; "every tab" of none would send an
    // empty report, which the lab reads as a page at rest.
    if (!end && (alive.size === 0 || ![...alive].every((tab) => progress.has(tab)))) return;
    dirty = false;
    const carried = waiters;
    waiters = [];
    const all = [...progress.entries()].sort(([a], [b]) => a - b);
    const body = {
      seq: (seq += 1),
      started: all.reduce((sum, [, p]) => sum + p.started, 0),
      received: all.reduce((sum, [, p]) => sum + p.received, 0),
      events,
    };
    events = [];
    if (tabs > 1) body.tabs = all.map(([tab, p]) => ({ tab, started: p.started, received: p.received }));
    const pending = relaying();
    if (pending > 0) body.relaying = pending;
    if (end) {
      body.end = end;
      over = true;
    }
    posting = Promise.resolve(postReport(body)).catch((error) => ({ ok: false, status: 0, message: String(error) }))
      .then((answer) => {
        posting = null;
        for (const { tab, id } of carried) tell(tab, { op: 'reported', id, ok: answer.ok, status: answer.status, message: answer.message ?? null }, false);
        flush();
      });
  }

  function report(tab, { id, started, received, events: tabEvents, end }) {
    const first = !progress.has(tab);
    progress.set(tab, { started, received });
    if (first) onFirstReport(tab);
    events.push(...(tabEvents ?? []));
    if (end && !ended.has(tab)) ended.set(tab, end);
    waiters.push({ tab, id });
    dirty = true;
    flush();
  }

  function view() {
    return [...locks.entries()].map(([name, lock]) => ({
      name,
      held: lock.held.map((r) => ({ tab: r.tab, lane: r.lane, mode: r.mode })),
      waiting: lock.queue.map((r) => ({ tab: r.tab, lane: r.lane, mode: r.mode })),
    }));
  }

  return {
    /**
     * A message from tab `tab`'s Worker. Every one says how many of ours it
     * took in so far, but only a report's count is believed: a tab that
     * took in a lock's grant posts its `unlock` before its retry starts,
     * and a merged report flushed in between (another tab's) would tell
     * the lab "nothing relayed" beside this tab's old progress, which the
     * lab reads as a page at rest (a hang that is not one). A report
     * carries the count and the progress it led to together.
     */
    receive(tab, message) {
      if (!alive.has(tab) || !message || typeof message !== 'object') return;
      if (message.op === 'report' && Number.isInteger(message.taken)) taken.set(tab, Math.max(taken.get(tab) ?? 0, message.taken));
      switch (message.op) {
        case 'set':
          setItem(tab, String(message.key), message.value === null ? null : String(message.value));
          break;
        case 'lock':
          requestLock(tab, message);
          break;
        case 'unlock':
        case 'abort': {
          const request = requests.get(`${tab}:${message.id}`);
          if (request && (message.op === 'unlock' || request.state === 'waiting')) {
            const wasWaiting = request.state === 'waiting';
            release(request);
            if (wasWaiting) tell(tab, { op: 'lock-aborted', id: message.id });
            onLocks(view());
          }
          break;
        }
        case 'broadcast':
          for (const other of alive) tell(other, { op: 'broadcast', name: message.name, data: message.data, from: { tab, channel: message.channel } });
          break;
        case 'wire':
          if (wire.used < PAGE_EXCHANGES && wire.queue.length === 0) wireGrant(tab);
          else wire.queue.push(tab);
          break;
        case 'wire-free':
          wireFree(tab);
          break;
        case 'report':
          // Whatever a tab does ends in a report, also taking in a message.
          report(tab, message);
          break;
        default:
          break;
      }
    },
    /**
     * The Worker of `tab` is gone (it failed, was stopped or closed): as a
     * browser does for a closed tab, its locks are released and its
     * waiting requests dropped; its connections free up.
     */
    tabDied(tab) {
      if (!alive.has(tab)) return;
      alive.delete(tab);
      for (const request of [...requests.values()]) {
        if (request.tab === tab) release(request);
      }
      for (let n = wireHeld.get(tab) ?? 0; n > 0; n -= 1) wireFree(tab);
      wire.queue = wire.queue.filter((t) => t !== tab);
      onLocks(view());
      dirty = true;
      flush();
    },
    /** The locks held and waited for, by name. */
    locks: view,
    /**
     * Why the run can never end, or null: a lock someone waits for, held
     * by a tab whose requests all returned (nothing of it runs any more to
     * release it). `finished`: the tabs whose requests all returned.
     */
    neverReleased(finished) {
      for (const [name, lock] of locks) {
        const holder = lock.held.find((h) => finished.has(h.tab));
        if (holder && lock.queue.length > 0) {
          const waiter = lock.queue[0];
          const who = (r) => (r.lane ? r.lane : `tab ${r.tab}`);
          return `${who(waiter)} waits for the lock "${name}", held by ${who(holder)}, whose tab's requests all returned without releasing it: it is never released`;
        }
      }
      return null;
    },
    /** The storage area's value for `key`, or null. */
    getItem: (key) => (area.has(key) ? area.get(key) : null),
    /** Messages sent to tabs that they have not taken in yet. */
    relaying,
    /** True once the merged report with the run's end went out. */
    ended: () => over,
  };
}
