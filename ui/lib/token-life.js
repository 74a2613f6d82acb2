// One token's life on the lab clock, for the "walk one token by hand" panel.
// No DOM: tested with `node --test`.
//
// A token is valid from `iat` until `exp`; after that it can still be
// presented to /api/refresh until `exp + refresh_window` (the article's
// model); after that it is dead. The boundaries follow the server exactly
// (src/server/mod.rs): expired when `now >= exp`, window over when
// `now >= exp + refresh_window`, both in lab-clock milliseconds.

/** Decodes a base64url string to text (UTF-8). Throws on junk. */
export function base64UrlDecode(text) {
  const b64 = String(text).replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * The header and payload of a compact JWT (no signature check: the page
 * only shows what the server put in it). Returns null when it is not a JWT.
 */
export function decodeJwt(token) {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(base64UrlDecode(parts[0]));
    const payload = JSON.parse(base64UrlDecode(parts[1]));
    if (!payload || typeof payload !== 'object') return null;
    return { header, payload };
  } catch {
    return null;
  }
}

/**
 * The life of a token in lab-clock ms: issued, expires, refresh window ends.
 * `payload` holds the JWT claims (`iat`, `exp` in unix seconds);
 * `refreshWindowS` comes from the login/refresh answer (`refresh_window`).
 */
export function tokenTimes(payload, refreshWindowS) {
  if (!payload || !Number.isFinite(payload.exp)) return null;
  const expMs = payload.exp * 1000;
  const iatMs = Number.isFinite(payload.iat) ? payload.iat * 1000 : expMs;
  const windowMs = Number.isFinite(refreshWindowS) && refreshWindowS > 0 ? refreshWindowS * 1000 : 0;
  return { iatMs, expMs, refreshUntilMs: expMs + windowMs };
}

/** `valid`, `refreshable` or `dead` at lab time `nowMs` (server boundaries). */
export function tokenState(times, nowMs) {
  if (!times || !Number.isFinite(nowMs)) return null;
  if (nowMs < times.expMs) return 'valid';
  if (nowMs < times.refreshUntilMs) return 'refreshable';
  return 'dead';
}

/** What each state means for the two calls a client can make. */
export const STATE_TEXT = {
  valid: { title: 'VALID', detail: '/api/secret answers 200; a refresh would also work' },
  refreshable: { title: 'EXPIRED · REFRESHABLE', detail: '/api/secret answers 401 expired; /api/refresh still trades it for a new token' },
  dead: { title: 'DEAD', detail: 'the refresh window is over: only a new login helps' },
};

/**
 * Geometry of the life bar, as fractions (0..1) of its width: the three
 * segments and the now-marker. The bar spans `iat` to the end of the
 * refresh window plus a dead tail (`tailFraction` of the living part, so
 * "dead" has room to be seen). A now outside the bar is clamped to its
 * edge and flagged, so the marker never leaves the bar.
 */
export function lifeBar(times, nowMs, { tailFraction = 0.25 } = {}) {
  const living = Math.max(1, times.refreshUntilMs - times.iatMs);
  const start = times.iatMs;
  const end = times.refreshUntilMs + living * tailFraction;
  const span = end - start;
  const at = (ms) => (ms - start) / span;
  const raw = Number.isFinite(nowMs) ? at(nowMs) : 0;
  const now = Math.min(1, Math.max(0, raw));
  return {
    startMs: start,
    endMs: end,
    segments: [
      { state: 'valid', from: 0, to: at(times.expMs) },
      { state: 'refreshable', from: at(times.expMs), to: at(times.refreshUntilMs) },
      { state: 'dead', from: at(times.refreshUntilMs), to: 1 },
    ],
    now,
    offScale: raw > 1 ? 'after' : raw < 0 ? 'before' : null,
  };
}

/** Milliseconds until `exp` and until the end of the refresh window (negative once past). */
export function lifeCountdowns(times, nowMs) {
  if (!times || !Number.isFinite(nowMs)) return null;
  return { toExpMs: times.expMs - nowMs, toWindowEndMs: times.refreshUntilMs - nowMs };
}

/**
 * The lab clock between readings: a reading `{ labNowMs, atMs }` (the lab
 * time the server reported and the local monotonic time it arrived) runs
 * on with the local clock.
 */
export function labNow(reading, localNowMs) {
  if (!reading || !Number.isFinite(reading.labNowMs)) return null;
  return reading.labNowMs + Math.max(0, localNowMs - reading.atMs);
}

/** "14:03:07.2" for a lab time in ms (UTC: the lab clock is not the wall clock). */
export function formatLabTime(ms) {
  if (!Number.isFinite(ms)) return '—';
  const date = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${Math.floor(date.getUTCMilliseconds() / 100)}`;
}

/**
 * One line for an HTTP answer of the walk: status and the reason the
 * server gave (`reason` of a 401/400 body), e.g. "401 expired".
 */
export function answerText(status, body) {
  const reason = body && typeof body === 'object' ? body.reason ?? body.error ?? null : null;
  if (reason) return `${status} ${reason}`;
  return status >= 200 && status < 300 ? `${status} OK` : String(status);
}
