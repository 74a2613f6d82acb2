// One browser tab of the browser runtime (docs/design.md, "Clients in the
// page"): runs a strategy module's `request(req, api)` for every lane at
// once, gives it the api of the module contract, and keeps the lab told.
//
// The lab records each exchange at the tab's edge (the headers below say
// which lane, attempt and purpose). What only the tab knows — a request
// queued, a token stored, a logout, a request done — goes to the lab in
// reports, flushed before the tab's next exchange so the timeline keeps
// the tab's order. Each time the tab has caught up (a macrotask after an
// answer), a report also says how many exchanges it started and how many
// answers it took in: a held run (step, hand) moves on only when those
// match what the lab saw, so one delivery order always gives one run.
//
// Pure: `fetch` and `later` are injected (a Worker passes the real ones,
// tests a fake server), no DOM.

import { sendReport } from './page-report.js';

export const LANE_HEADER = 'x-lab-lane';
export const ATTEMPT_HEADER = 'x-lab-attempt';
export const EXCHANGE_HEADER = 'x-lab-exchange';

/**
 * The path below the run's API of each route a lane may send, read from a
 * table made when this file loads: a module cannot redirect the harness by
 * patching String.prototype.replace.
 */
const API_PATHS = Object.freeze({ __proto__: null, '/api/secret': '/secret', '/api/public': '/public' });

/** The reasons the lab knows (docs/schema); anything else a module passes to logout is `malformed`. */
export const REASONS = ['missing', 'malformed', 'bad_signature', 'expired', 'revoked', 'reused', 'window_over', 'transport'];

/** The key of the storage area under which the tabs keep the lab's token (api.token, api.store). */
export const TOKEN_KEY = 'refresh-race.token';
/** OAuth mode: the key of the refresh token kept beside it (api.refreshToken). */
export const REFRESH_KEY = 'refresh-race.refresh-token';

/** What the tabs' shared storage holds when a run starts: the setup's login. */
export function initialStorage(page) {
  const initial = {};
  if (typeof page.token === 'string') initial[TOKEN_KEY] = page.token;
  if (typeof page.refresh_token === 'string') initial[REFRESH_KEY] = page.refresh_token;
  return initial;
}

/** The lab's name of a credential: a JWT's jti, or `r2` of an OAuth refresh token `r2.<secret>`. */
export function credentialName(token) {
  if (typeof token !== 'string') return null;
  const opaque = /^(r\d+)\.[0-9a-f]+$/.exec(token);
  return opaque ? opaque[1] : jtiOf(token);
}

/**
 * The lanes of tab `tab` of a run, in the order the lab starts them:
 * secret, public, then the late one. Tab 1's names carry no prefix, the
 * others' `tab2/…`. Each `req` also says its tab and how the run's tabs
 * coordinate (`crossTab`: none | lock; the built-ins take `api.lock` around
 * their refresh when it is lock, as the engine's tabs do).
 */
export function lanesOf(settings, tab = 1) {
  const lanes = [];
  const name = (lane) => (tab === 1 ? lane : `tab${tab}/${lane}`);
  const crossTab = settings.cross_tab === 'lock' ? 'lock' : 'none';
  for (let n = 1; n <= settings.secret; n += 1) lanes.push({ lane: name(`secret#${n}`), route: '/api/secret', tab, crossTab });
  for (let n = 1; n <= settings.public; n += 1) lanes.push({ lane: name(`public#${n}`), route: '/api/public', tab, crossTab });
  if (settings.late) lanes.push({ lane: name('late#1'), route: '/api/secret', tab, crossTab });
  return lanes;
}

/** The `jti` a JWT carries, read without checking it (the tab cannot), or null. */
export function jtiOf(token) {
  if (typeof token !== 'string') return null;
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const text = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const jti = JSON.parse(text).jti;
    return typeof jti === 'string' && jti ? jti : null;
  } catch {
    return null;
  }
}

/**
 * Most exchanges one tab has on the wire at once. A browser opens at most
 * six HTTP/1.1 connections to one host and port; the page keeps one for
 * the run's stream, one for a network command and one for the tab's
 * reports, so a tab's requests never wait inside the browser, where the
 * lab could not see them. The others wait here, in order, as they would
 * wait for a connection in a real page.
 */
export const MAX_TAB_EXCHANGES = 3;

/**
 * How long a tab with lanes unfinished and nothing on the network may sit
 * still before the run ends: nothing the lab does can wake such a lane.
 */
export const STUCK_MS = 3000;

/**
 * How many tasks in a row a tab must stay quiet (no api call, no answer,
 * no message of the page) before it tells the lab it caught up. A library
 * may take a task or two between an answer and its next call (a body
 * read, a lock handed on); one task was too few for supabase-js.
 */
export const QUIET_TASKS = 3;

/** A mistake in the module's use of the api or its return value: the run ends with this message. */
export class ModuleError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ModuleError';
  }
}

function checkToken(token, call) {
  if (token !== null && typeof token !== 'string') {
    throw new ModuleError(`${call}: the token must be a string (or null), got ${typeof token}`);
  }
}

/**
 * A tab for the run described by `page` (the start line's `page`: api,
 * report, token, first_attempt).
 *   busy()           true while the module has work to come the tab cannot
 *                    see (a short timer pending): no "caught up" then
 *   tab, tabs        this tab's number and the run's count of tabs
 *   shared           the tab's shims (ui/lib/tab-shims.js): then its token
 *                    lives in the storage all tabs share, its reports and
 *                    its place on the wire go through the page, and
 *                    `api.lock` takes a Web Lock across tabs. Without it
 *                    (one tab, tests) the tab keeps all this to itself.
 *   fetch(url, init) -> Response-like { status, ok, json() }
 *   later(fn)        runs fn once the current task and its microtasks are over
 *   after(ms, fn)    runs fn in ms milliseconds (the stuck-lane check)
 *   hooks.call({ lane, op, attempt })  each api call, for the code panel
 *   hooks.changed()  after anything the module's state() may show changed
 */
export function createTab({ page, fetch, later, after, busy = () => false, stuckMs = STUCK_MS, hooks = {}, tab = 1, tabs = 1, shared = null, oauth = false }) {
  const keyed = (key) => {
    let own = initialStorage(page)[key] ?? null;
    return shared
      ? { get: () => shared.storage.getItem(key), set: (value) => (value === null ? shared.storage.removeItem(key) : shared.storage.setItem(key, value)) }
      : { get: () => own, set: (value) => { own = value; } };
  };
  const store = keyed(TOKEN_KEY);
  // OAuth mode: the refresh token beside the access token (RFC 6749 §6).
  const refreshStore = keyed(REFRESH_KEY);
  // Tabs number their exchanges in turn (tab 1 the first of each round), so
  // ids never collide and a held run orders them alike every time.
  let round = 0;
  const takeAttempt = () => {
    const attempt = page.first_attempt + round * tabs + (tab - 1);
    round += 1;
    return attempt;
  };
  const named = tabs > 1 ? { tab } : {};
  let started = 0;
  let received = 0;
  let seq = 0;
  const events = [];
  let chain = Promise.resolve();
  // Reports on their way that carry events: the lab has not recorded them yet.
  let carrying = 0;
  let reportDue = false;
  let failure = null;
  const unfinished = new Set();
  let stuck = () => {};
  let onWire = 0;
  const waitingForWire = [];
  let wireWaits = 0; // exchanges waiting for their place on the wire

  /** A place on the wire, in call order; `release` hands it to the next in line. */
  function wire() {
    if (shared) return shared.wire();
    if (onWire < MAX_TAB_EXCHANGES) {
      onWire += 1;
      return null;
    }
    return new Promise((resolve) => waitingForWire.push(resolve));
  }
  function release() {
    if (shared) {
      shared.wireFree();
      return;
    }
    const next = waitingForWire.shift();
    if (next) next();
    else onWire -= 1;
  }

  /** Sends one report after those before it; its counts are read when its turn comes. */
  function post(end) {
    chain = chain.then(async () => {
      const body = { seq: (seq += 1), started, received, events: events.splice(0) };
      if (end) body.end = end;
      const carries = body.events.length > 0;
      if (carries) carrying += 1;
      try {
        const refused = await sendReport({ shared, fetch, url: page.report }, body);
        if (refused && !end) failure = failure || new ModuleError(refused);
      } finally {
        if (carries) carrying -= 1;
      }
    });
    return chain;
  }

  let activity = 0;
  /** Runs `fn` once the tab has been quiet for QUIET_TASKS tasks in a row. */
  function whenQuiet(fn) {
    let mark = activity;
    let quiet = 0;
    const hop = () => later(() => {
      // A short timer of the module's still pending is work to come.
      if (busy()) activity += 1;
      if (activity !== mark) {
        mark = activity;
        quiet = 0;
      } else quiet += 1;
      if (quiet >= QUIET_TASKS) fn();
      else hop();
    });
    hop();
  }

  function reportSoon() {
    activity += 1;
    if (reportDue) return;
    reportDue = true;
    whenQuiet(() => {
      reportDue = false;
      // Now, not at the call: the module finished what it was doing (a
      // queue push right after `api.queued()`, say), so its state is whole.
      hooks.changed?.();
      post();
      watchStill();
    });
  }

  /** Nothing out on the network and lanes still waiting: only the module's own timers could help. */
  function watchStill() {
    // Waiting for a lock another tab holds is waiting for that tab; waiting
    // for the page to grant a place on the wire, for the page (slow when busy).
    const waiting = () => wireWaits > 0 || (shared && shared.waitingForLocks().length > 0);
    if (started !== received || unfinished.size === 0 || waiting()) return;
    const mark = started;
    after(stuckMs, () => {
      if (started === mark && received === mark && unfinished.size > 0 && !waiting()) {
        stuck(new ModuleError(`request() for ${[...unfinished].join(', ')} never returned: it waits for something that never happens (a promise nobody resolves?)`));
      }
    });
  }

  const localLocks = new Map(); // name → promise of the last holder's end
  /** One tab alone: its lock is a queue of its own lanes. */
  function localLock(name, fn, queued) {
    const before = localLocks.get(name);
    if (before) queued();
    const mine = (before ?? Promise.resolve()).then(() => fn());
    const done = mine.catch(() => {});
    localLocks.set(name, done);
    done.then(() => {
      if (localLocks.get(name) === done) localLocks.delete(name);
    });
    return mine;
  }

  function apiFor({ lane, route }) {
    let sends = 0;
    let lastSent = null;
    let lastRefreshed = null;

    async function exchange(op, path, method, token, form = null) {
      const attempt = takeAttempt();
      activity += 1;
      hooks.call?.({ lane, op, attempt });
      const place = wire();
      if (place) {
        wireWaits += 1; // not stuck meanwhile (watchStill); a place is always granted
        await place;
        wireWaits -= 1;
      }
      started += 1;
      reportSoon();
      // The lab records this exchange when it arrives and the tab's events
      // when their report does: the exchange leaves only once the lab has
      // every event before it. A report may already be on its way with
      // them (the tab fell quiet while it waited for its place on the wire).
      // One tab only: with several, the page merges their reports and sends
      // one once every tab has spoken, so waiting for it would hold this
      // exchange behind the other tabs and change the held run's order.
      if (events.length) await post();
      else if (carrying > 0 && tabs === 1) await chain;
      const headers = { [LANE_HEADER]: lane, [ATTEMPT_HEADER]: String(attempt), [EXCHANGE_HEADER]: op };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      const init = { method, headers, cache: 'no-store' };
      if (form !== null) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        init.body = new URLSearchParams(form).toString();
      }
      let status = 0;
      let body = null;
      try {
        // no-store: a browser's HTTP cache lets only one request per URL
        // wait for its answer at a time; the lanes of a held run all wait.
        const response = await fetch(page.api + path, init);
        status = response.status;
        body = await response.json().catch(() => null);
      } catch {
        body = { reason: 'transport' };
      }
      received += 1;
      release();
      reportSoon();
      return { status, body: body && typeof body === 'object' ? body : {} };
    }

    return Object.freeze({
      token: () => store.get(),
      async send(req, token) {
        checkToken(token, 'api.send(req, token)');
        if (!req || req.route !== route) {
          throw new ModuleError(`api.send(req, token): pass the req your request() got (route ${route})`);
        }
        const op = sends === 0 ? 'request' : 'retry';
        sends += 1;
        lastSent = token;
        const { status, body } = await exchange(op, API_PATHS[route], 'GET', token);
        return { status, reason: typeof body.reason === 'string' ? body.reason : null };
      },
      async refresh(token) {
        if (typeof token !== 'string') {
          throw new ModuleError('api.refresh(token): pass the token to present (a string)');
        }
        lastRefreshed = token;
        // OAuth mode: the refresh token in a form (RFC 6749 §6); the
        // article's: the expired access token as bearer.
        const { status, body } = oauth
          ? await exchange('refresh', '/refresh', 'POST', null, { grant_type: 'refresh_token', refresh_token: token })
          : await exchange('refresh', '/refresh', 'POST', token);
        const fresh = oauth ? body.access_token : body.token;
        if (status === 200 && typeof fresh === 'string') {
          return oauth && typeof body.refresh_token === 'string'
            ? { ok: true, token: fresh, refresh: body.refresh_token, expiresIn: body.expires_in }
            : { ok: true, token: fresh };
        }
        return { ok: false, status, reason: typeof body.reason === 'string' ? body.reason : null };
      },
      /** OAuth mode: the refresh token stored beside the access token (null in the article's mode). */
      refreshToken: () => refreshStore.get(),
      store(token, refresh = undefined) {
        checkToken(token, 'api.store(token)');
        if (token === null) throw new ModuleError('api.store(token): to drop the token, call api.logout(why)');
        if (refresh !== undefined) {
          checkToken(refresh, 'api.store(token, refresh)');
          refreshStore.set(refresh);
        }
        store.set(token);
        events.push({ kind: 'token_stored', jti: jtiOf(token) || '?', ...named });
        reportSoon();
      },
      logout(why) {
        // The lab names the logout by the refused token, as the Rust tabs do.
        const current = store.get();
        const jti = credentialName(lastRefreshed) || jtiOf(current) || '?';
        // A logout of a store another tab already emptied: the lab records
        // only the first, as the engine's tabs do.
        events.push({ kind: 'logged_out', jti, reason: REASONS.includes(why) ? why : 'malformed', ...named });
        store.set(null);
        if (oauth) refreshStore.set(null);
        reportSoon();
      },
      /**
       * Runs `fn` holding the Web Lock `name`, exclusive across all tabs
       * (navigator.locks.request); resolves with what `fn` resolves with.
       * A lane that has to wait shows as queued on the timeline.
       */
      lock(name, fn) {
        if (typeof name !== 'string' || name === '' || typeof fn !== 'function') {
          throw new ModuleError('api.lock(name, fn): pass a lock name (a string) and a function to run holding it');
        }
        const queued = () => {
          hooks.call?.({ lane, op: 'queued', attempt: null });
          events.push({ kind: 'queued', lane, jti: jtiOf(store.get()) });
          reportSoon();
        };
        if (!shared) return localLock(name, fn, queued);
        return shared.locks.request(name, { lane, onQueued: queued }, () => fn());
      },
      queued() {
        hooks.call?.({ lane, op: 'queued', attempt: null });
        events.push({ kind: 'queued', lane, jti: jtiOf(lastSent) });
        reportSoon();
      },
    });
  }

  return {
    /** Counts so far, for tests and the watchdog. */
    progress: () => ({ started, received, pendingEvents: events.length }),
    /** The token the tab holds. */
    token: () => store.get(),
    /** A message of the page was acted on: the lab hears so in the next report. */
    tookIn: () => reportSoon(),
    /**
     * Runs `request` for every lane, all at once, in lane order. Resolves
     * when all returned and the lab has the last report; rejects with the
     * first failure (after telling the lab the run failed).
     */
    async run(request, lanes) {
      const finish = (lane) => (result) => {
        unfinished.delete(lane);
        if (!result || typeof result !== 'object' || typeof result.status !== 'number') {
          throw new ModuleError(`request() for ${lane} must return the final { status }, got ${JSON.stringify(result) ?? 'undefined'}`);
        }
        const status = result.status;
        events.push({ kind: 'request_done', lane, ok: status >= 200 && status < 300, status });
        reportSoon();
      };
      for (const { lane } of lanes) unfinished.add(lane);
      const still = new Promise((_, reject) => {
        stuck = reject;
      });
      const running = lanes.map((req) => {
        try {
          // Each lane runs until its first await before the next starts, as in a page.
          return Promise.resolve(request(Object.freeze({ ...req }), apiFor(req))).then(finish(req.lane));
        } catch (error) {
          return Promise.reject(error);
        }
      });
      // The first report: the lab holds a held run until the page has spoken.
      reportSoon();
      try {
        await Promise.race([Promise.all(running), still]);
        if (failure) throw failure;
        await post({ outcome: 'done' });
      } catch (error) {
        await post({ outcome: 'failed', message: String(error && error.message ? error.message : error).slice(0, 500) }).catch(() => {});
        throw error;
      }
    },
  };
}
