// The bench oidc-client-ts runs on in the browser runtime, in the lab's
// OAuth mode. One tab = one UserManager, shared by all its lanes, as an SPA
// has one. Each lane does what an app around oidc-client-ts does with its
// API calls (react-oidc-context, an axios or fetch wrapper): it sends the
// stored user's access token; on a 401 it calls `signinSilent()`, which
// with a refresh token in the stored user is the refresh-token grant
// (RFC 6749 §6), and retries once with the new access token; if the
// refresh is refused it removes the user (the app's logout) and the caller
// gets the 401. The library itself has no single flight and no lock across
// tabs: each 401 is one refresh.
//
// The lab supplies only what the app and its identity provider supply
// around it:
//   - the provider's metadata (no discovery request): a token endpoint on
//     `LAB_AUTHORITY`, which the bench's `fetch` answers with the lab's
//     OAuth refresh (`api.refresh`, a form with the refresh token);
//   - the user store, as the library's `userStore` option names it:
//     `sessionStorage` (the library's default: each tab its own copy, as a
//     duplicated tab starts with one) or `localStorage` (every tab of the
//     page shares it: ui/lib/tab-shims.js);
//   - the clock: the stored user's `expires_at` is the access token's `exp`
//     moved from the lab clock to the page's (the start line's
//     `lab_now_ms`), since the library compares it with `Date.now()`.
//
// Pure: UserManager, User and WebStorageStateStore come in as arguments;
// the bench's `fetch` is the token endpoint, which the adapter puts where
// the library looks for `fetch` (a Worker of the lab has none). No DOM.

import { claimsOf } from './supabase-bench.js';

/** Where the library thinks its identity provider is; nothing goes there (the bench's fetch answers). */
export const LAB_AUTHORITY = 'https://lab.invalid/oauth';
export const LAB_CLIENT_ID = 'refresh-race-lab';
/** The key oidc-client-ts stores its user under: `oidc.` + `user:<authority>:<client_id>`. */
export const USER_KEY = `oidc.user:${LAB_AUTHORITY}:${LAB_CLIENT_ID}`;

/** A tab's own storage area (sessionStorage is per tab), with the Storage methods the library uses. */
export function tabStorage() {
  const area = new Map();
  return {
    get length() {
      return area.size;
    },
    key: (index) => [...area.keys()][index] ?? null,
    getItem: (key) => (area.has(key) ? area.get(key) : null),
    setItem: (key, value) => {
      area.set(String(key), String(value));
    },
    removeItem: (key) => {
      area.delete(key);
    },
    clear: () => area.clear(),
  };
}

/** The lab's refusal in the words of RFC 6749 §5.2 (what an OAuth server answers). */
export function oauthError(status, reason) {
  return {
    error: status === 400 || status === 401 ? 'invalid_grant' : 'server_error',
    error_description: `the lab refused the refresh token: ${reason ?? 'no reason given'}`,
    reason,
  };
}

/**
 * A bench for oidc-client-ts's UserManager. Returns the strategy module's
 * `configure`, `request` and `state`, and `fetch`, the token endpoint the
 * adapter installs as the Worker's global fetch.
 */
export function createOidcBench({ UserManager, User, WebStorageStateStore, sessionStorage = tabStorage() }) {
  let options = {};
  let manager = null;
  let skewMs = 0; // lab clock − page clock
  const silent = []; // lanes inside signinSilent that have not sent their refresh yet, in call order
  const refreshing = new Set();
  let refreshes = 0;

  const answer = (status, body) => {
    const text = JSON.stringify(body);
    return Object.freeze({
      ok: status >= 200 && status < 300,
      status,
      statusText: status === 200 ? 'OK' : 'Bad Request',
      headers: new Headers({ 'content-type': 'application/json' }),
      json: async () => JSON.parse(text),
      text: async () => text,
    });
  };

  /** The identity provider's token endpoint: the lab's refresh through the lane whose signinSilent sent it. */
  async function tokenEndpoint(input, init = {}) {
    const url = String(typeof input === 'string' ? input : input.url);
    if (url !== `${LAB_AUTHORITY}/token`) {
      return answer(404, { error: 'not_found', error_description: `the lab has no ${url}` });
    }
    const form = new URLSearchParams(init.body ?? '');
    if (form.get('grant_type') !== 'refresh_token') {
      return answer(400, { error: 'unsupported_grant_type', error_description: `the lab's bench answers the refresh-token grant only, not ${form.get('grant_type')}` });
    }
    const who = silent.shift();
    if (!who) return answer(500, { error: 'server_error', error_description: 'a refresh no lane asked for' });
    refreshing.add(who.lane);
    refreshes += 1;
    const result = await who.api.refresh(form.get('refresh_token') ?? '');
    refreshing.delete(who.lane);
    who.sent = true;
    if (result.status === 0) throw new TypeError('Failed to fetch');
    if (!result.ok) {
      who.refusal = result.reason ?? 'malformed';
      return answer(result.status, oauthError(result.status, result.reason));
    }
    // The harness's record of the shared store (the timeline's token_stored).
    who.api.store(result.token, result.refresh ?? undefined);
    return answer(200, {
      access_token: result.token,
      token_type: 'Bearer',
      expires_in: result.expiresIn,
      refresh_token: result.refresh,
    });
  }

  /** The user the setup's login left, as the app's login callback would have stored it. */
  function userOf(api) {
    const token = api.token();
    if (token === null) return null;
    const claims = claimsOf(token);
    return new User({
      access_token: token,
      refresh_token: api.refreshToken() ?? undefined,
      token_type: 'Bearer',
      scope: 'openid',
      profile: { sub: String(claims.sub ?? 'ada'), iss: LAB_AUTHORITY, aud: LAB_CLIENT_ID, exp: 0, iat: 0 },
      expires_at: Math.floor((Number(claims.exp) * 1000 - skewMs) / 1000),
    });
  }

  function managerFor(api) {
    if (manager) return manager;
    const store = options.userStore === 'localStorage' ? globalThis.localStorage : sessionStorage;
    // The first tab to start writes the shared store once; a tab's own store always.
    if (store.getItem(USER_KEY) === null) {
      const user = userOf(api);
      if (user) store.setItem(USER_KEY, user.toStorageString());
    }
    const settings = {
      authority: LAB_AUTHORITY,
      client_id: LAB_CLIENT_ID,
      redirect_uri: `${LAB_AUTHORITY}/callback`,
      metadata: {
        issuer: LAB_AUTHORITY,
        authorization_endpoint: `${LAB_AUTHORITY}/authorize`,
        token_endpoint: `${LAB_AUTHORITY}/token`,
      },
      userStore: new WebStorageStateStore({ store }),
    };
    for (const name of ['automaticSilentRenew', 'expiringNotificationTimeInSeconds', 'client_authentication']) {
      if (name in options) settings[name] = options[name];
    }
    manager = new UserManager(settings);
    return manager;
  }

  /** The app's 401 handler: signinSilent() (the refresh-token grant), or the logout it leads to. */
  async function renew(lane, api, mgr) {
    const entry = { lane, api, sent: false, refusal: null };
    silent.push(entry);
    try {
      return await mgr.signinSilent();
    } catch (error) {
      // Refused (or no refresh token left): the app drops the user.
      await mgr.removeUser();
      api.logout(entry.refusal ?? 'missing');
      return null;
    } finally {
      if (!entry.sent && silent.includes(entry)) silent.splice(silent.indexOf(entry), 1);
    }
  }

  return {
    fetch: tokenEndpoint,
    /** The library's options (ui/lib/libraries.js checked them); before the first request. */
    configure(next, start = {}) {
      options = { ...next };
      if (Number.isFinite(start.lab_now_ms) && start.lab_now_ms > 0) skewMs = start.lab_now_ms - Date.now();
    },
    async request(req, api) {
      const mgr = managerFor(api);
      const user = await mgr.getUser();
      const first = await api.send(req, user ? user.access_token : null);
      if (first.status !== 401 || !user) return first;
      const renewed = await renew(req.lane, api, mgr);
      if (!renewed) return first;
      return api.send(req, renewed.access_token);
    },
    state() {
      return { refreshing: [...refreshing], silent: silent.map((s) => s.lane), refreshes };
    },
  };
}
