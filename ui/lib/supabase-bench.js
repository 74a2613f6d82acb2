// The bench Supabase's auth client (@supabase/auth-js, GoTrueClient) runs
// on in the browser runtime. One tab = one GoTrueClient, shared by all its
// lanes, as an app has one. Each lane does what supabase-js does before a
// data request: `auth.getSession()` (which refreshes an expiring session,
// single-flight in the tab; under a lock across tabs up to 2.106), then
// the request with the session's access token. The lab supplies only what
// an app and its GoTrue server supply around it:
//   - storage: the storage every tab of the page shares (the Worker's
//     `localStorage`, ui/lib/tab-shims.js), key `sb-lab-auth-token`;
//   - the GoTrue server: a `fetch` that answers the library's
//     `POST /token?grant_type=refresh_token` with the lab's refresh
//     (`api.refresh`), the lab's token as both access and refresh token
//     (in the lab's article mode the expired access token is the refresh
//     credential);
//   - the clock: a session's `expires_at` is the token's `exp` moved from
//     the lab clock to the page's (the start line's `lab_now_ms`), since
//     the library compares it with `Date.now()`.
// A refused refresh makes the library remove the session from storage:
// that is its logout, and the lab's.
//
// Pure: GoTrueClient, the lock and the storage come in as arguments; no DOM.

import { jtiOf } from './page-tab.js';

/** The key the session is stored under (supabase-js: `sb-<project ref>-auth-token`). */
export const STORAGE_KEY = 'sb-lab-auth-token';
/** Where the library thinks its GoTrue server is; nothing goes there (the bench's fetch answers). */
export const LAB_GOTRUE_URL = 'https://lab.invalid/auth/v1';

/** A JWT's claims, unchecked (the page cannot check them). */
export function claimsOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return {};
  }
}

/** GoTrue's error code for a lab refusal (what GoTrue answers for a spent or unknown refresh token). */
export function errorCodeOf(reason) {
  if (reason === 'reused' || reason === 'revoked') return 'refresh_token_already_used';
  return 'refresh_token_not_found';
}

/**
 * A bench for one GoTrueClient class. `lock` is what the adapter passes as
 * the library's `lock` option when the options say so: the library's own
 * `navigatorLock`. Returns the strategy module's `configure`, `request`
 * and `state`.
 */
export function createSupabaseBench({ GoTrueClient, navigatorLock, defaultLock }) {
  let options = {};
  let client = null;
  let storage = null;
  let skewMs = 0; // lab clock − page clock
  const waiting = []; // lanes inside getSession, in call order: { lane, api }
  let refreshingLane = null;
  let refusal = null; // the last refused refresh: { api, reason }
  let refreshes = 0;

  // An answer as fetch gives one, minus the body stream: a real Response's
  // json() settles a task later, after the tab told the lab it caught up,
  // and a held run would move on while the library still works.
  const json = (status, body) => {
    const text = JSON.stringify(body);
    return Object.freeze({
      ok: status >= 200 && status < 300,
      status,
      statusText: '',
      headers: new Headers({ 'content-type': 'application/json' }),
      json: async () => JSON.parse(text),
      text: async () => text,
    });
  };

  function sessionOf(token) {
    const claims = claimsOf(token);
    const expiresAt = Math.floor((Number(claims.exp) * 1000 - skewMs) / 1000);
    return {
      access_token: token,
      token_type: 'bearer',
      expires_in: Math.max(1, expiresAt - Math.floor(Date.now() / 1000)),
      expires_at: expiresAt,
      refresh_token: token,
      user: { id: String(claims.sub ?? 'ada'), aud: 'authenticated', role: 'authenticated', app_metadata: {}, user_metadata: {}, created_at: '1970-01-01T00:00:00Z' },
    };
  }

  /** The GoTrue server as the library sees it: the lab's refresh through the lane that asked first. */
  async function gotrue(input, init = {}) {
    const url = new URL(typeof input === 'string' ? input : input.url);
    if (!(url.pathname.endsWith('/token') && url.searchParams.get('grant_type') === 'refresh_token')) {
      return json(404, { code: 404, error_code: 'not_found', msg: `the lab has no ${url.pathname}` });
    }
    const who = waiting[0];
    if (!who) return json(500, { code: 500, msg: 'a refresh no lane asked for' });
    let presented = null;
    try {
      presented = JSON.parse(init.body).refresh_token;
    } catch {
      // no body: the lab refuses it as missing
    }
    refreshingLane = who.lane;
    refreshes += 1;
    // The lanes that wait in getSession meanwhile are held behind this refresh.
    for (const other of waiting.slice(1)) other.api.queued();
    const answer = await who.api.refresh(typeof presented === 'string' ? presented : '');
    refreshingLane = null;
    if (answer.ok) {
      who.api.store(answer.token);
      return json(200, sessionOf(answer.token));
    }
    if (answer.status === 0) throw new TypeError('Failed to fetch');
    refusal = { api: who.api, reason: answer.reason };
    return json(answer.status, { code: answer.status, error_code: errorCodeOf(answer.reason), msg: `Invalid Refresh Token: ${answer.reason}` });
  }

  /** The shared storage, watched: the library removing its session is its logout. */
  function watched(area) {
    return {
      getItem: (key) => area.getItem(key),
      setItem: (key, value) => area.setItem(key, value),
      removeItem: (key) => {
        const had = area.getItem(key) !== null;
        area.removeItem(key);
        if (key === STORAGE_KEY && had) {
          const by = refusal ?? (waiting[0] && { api: waiting[0].api, reason: 'malformed' });
          if (by) by.api.logout(by.reason);
        }
      },
    };
  }

  function clientFor(api) {
    if (client) return client;
    storage = watched(globalThis.localStorage);
    // The session the login left, written once by the first tab to start.
    const token = api.token();
    if (token !== null && storage.getItem(STORAGE_KEY) === null) storage.setItem(STORAGE_KEY, JSON.stringify(sessionOf(token)));
    const lock = (options.lock ?? defaultLock) === 'navigatorLock' ? navigatorLock : undefined;
    const settings = {
      url: LAB_GOTRUE_URL,
      storageKey: STORAGE_KEY,
      storage,
      detectSessionInUrl: false,
      fetch: gotrue,
      ...(lock ? { lock } : {}),
    };
    for (const name of ['autoRefreshToken', 'persistSession']) {
      if (name in options) settings[name] = options[name];
    }
    client = new GoTrueClient(settings);
    return client;
  }

  return {
    /** The library's options (ui/lib/libraries.js checked them); before the first request. */
    configure(next, start = {}) {
      options = { ...next };
      if (Number.isFinite(start.lab_now_ms) && start.lab_now_ms > 0) skewMs = start.lab_now_ms - Date.now();
    },
    async request(req, api) {
      const entry = { lane: req.lane, api };
      waiting.push(entry);
      let session = null;
      try {
        const auth = clientFor(api);
        const { data } = await auth.getSession();
        session = data && data.session;
      } finally {
        waiting.splice(waiting.indexOf(entry), 1);
      }
      const token = session ? session.access_token : null;
      if (token !== null && jtiOf(token) === null) return { status: 0 };
      return api.send(req, token);
    },
    state() {
      return { refreshing: refreshingLane, waiting: waiting.map((w) => w.lane), refreshes };
    },
  };
}
