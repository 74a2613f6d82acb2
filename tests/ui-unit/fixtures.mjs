// Hand-written event streams in the shape of docs/lab-api.md, used by the
// reducer tests. Times follow the default latencies (secret 150 ms, public
// 100 ms, refresh 200 ms) at speed 1.

const LAB_START_MS = 1_700_000_000_000;

function stream() {
  let seq = 0;
  const messages = [];
  return {
    messages,
    start(settings) {
      messages.push({ type: 'start', settings, lab_now_ms: LAB_START_MS });
    },
    ev(t_us, lane, kind, fields = {}) {
      messages.push({ type: 'event', event: { seq: seq++, t_us, lane, kind, ...fields } });
    },
    done(verdict) {
      messages.push({ type: 'done', verdict, lab_now_ms: LAB_START_MS + 6000 + 600 });
    },
  };
}

/** Setup of case 3: login issues t1, the lab clock jumps 6 s (expired, refreshable). */
function setupExpiredRefreshable(s) {
  const iat = LAB_START_MS / 1000;
  s.ev(120, 'server', 'issued', { attempt: null, jti: 't1', fam: 'f1', sub: 'ada', iat, exp: iat + 5, refresh_until: iat + 15 });
  s.ev(150, 'client', 'token_stored', { jti: 't1' });
  s.ev(180, 'server', 'clock_advanced', { by_ms: 6000, lab_now_ms: LAB_START_MS + 6000 });
}

function burst(s, t0) {
  let attempt = 1;
  for (let i = 1; i <= 3; i++) s.ev(t0, `secret#${i}`, 'request_sent', { attempt: attempt++, route: '/api/secret', jti: 't1' });
  for (let i = 1; i <= 3; i++) s.ev(t0, `public#${i}`, 'request_sent', { attempt: attempt++, route: '/api/public', jti: 't1' });
  for (let i = 1; i <= 3; i++) {
    s.ev(t0 + 100_500 + i, 'server', 'accepted', { attempt: 3 + i, route: '/api/public', jti: null });
    s.ev(t0 + 100_600 + i, `public#${i}`, 'response', { attempt: 3 + i, route: '/api/public', status: 200, reason: null, jti: 't1' });
    s.ev(t0 + 100_700 + i, `public#${i}`, 'request_done', { ok: true, status: 200 });
  }
}

/** The article's race: naive client, strict rotation, 3 secret + 3 public. */
export function naiveRace() {
  const s = stream();
  s.start({ case: 'expired-refreshable', strategy: 'naive', policy: 'strict', secret: 3, public: 3, speed: 1 });
  setupExpiredRefreshable(s);
  const t0 = 1_000;
  burst(s, t0);
  // Each secret request gets 401 expired and refreshes on its own with t1.
  for (let i = 1; i <= 3; i++) {
    s.ev(t0 + 150_500 + i, 'server', 'rejected', { attempt: i, route: '/api/secret', jti: 't1', reason: 'expired' });
    s.ev(t0 + 150_600 + i, `secret#${i}`, 'response', { attempt: i, route: '/api/secret', status: 401, reason: 'expired', jti: 't1' });
    s.ev(t0 + 150_700 + i, `secret#${i}`, 'refresh_sent', { attempt: 6 + i, jti: 't1' });
  }
  // secret#2's refresh wins; the other two present a rotated token.
  const t1 = t0 + 350_800;
  const iat2 = LAB_START_MS / 1000 + 6;
  s.ev(t1, 'server', 'accepted', { attempt: 8, route: '/api/refresh', jti: 't1' });
  s.ev(t1 + 10, 'server', 'issued', { attempt: 8, jti: 't2', fam: 'f1', sub: 'ada', iat: iat2, exp: iat2 + 5, refresh_until: iat2 + 15 });
  s.ev(t1 + 20, 'server', 'rotated', { attempt: 8, jti: 't1', new_jti: 't2' });
  s.ev(t1 + 30, 'server', 'revoked', { attempt: 8, jti: 't1', cause: 'rotation' });
  s.ev(t1 + 40, 'server', 'rejected', { attempt: 7, route: '/api/refresh', jti: 't1', reason: 'reused' });
  s.ev(t1 + 50, 'server', 'rejected', { attempt: 9, route: '/api/refresh', jti: 't1', reason: 'reused' });
  s.ev(t1 + 100, 'secret#2', 'refresh_done', { attempt: 8, status: 200, jti: 't1', new_jti: 't2', reason: null });
  s.ev(t1 + 110, 'client', 'token_stored', { jti: 't2' });
  s.ev(t1 + 120, 'secret#2', 'retry_sent', { attempt: 10, route: '/api/secret', jti: 't2' });
  s.ev(t1 + 130, 'secret#1', 'refresh_done', { attempt: 7, status: 400, jti: 't1', new_jti: null, reason: 'reused' });
  s.ev(t1 + 140, 'client', 'logged_out', { reason: 'refresh failed (reused)' });
  s.ev(t1 + 150, 'secret#1', 'request_done', { ok: false, status: 400 });
  s.ev(t1 + 160, 'secret#3', 'refresh_done', { attempt: 9, status: 400, jti: 't1', new_jti: null, reason: 'reused' });
  s.ev(t1 + 170, 'client', 'logged_out', { reason: 'refresh failed (reused)' });
  s.ev(t1 + 180, 'secret#3', 'request_done', { ok: false, status: 400 });
  const t2 = t1 + 150_500;
  s.ev(t2, 'server', 'accepted', { attempt: 10, route: '/api/secret', jti: 't2' });
  s.ev(t2 + 100, 'secret#2', 'response', { attempt: 10, route: '/api/secret', status: 200, reason: null, jti: 't2' });
  s.ev(t2 + 200, 'secret#2', 'request_done', { ok: true, status: 200 });
  s.done({
    requests: 6, ok: 4, failed: 2,
    secret_ok: 1, secret_failed: 2, public_ok: 3, public_failed: 0,
    refresh_calls: 3, refresh_ok: 1, refresh_rejected: 2, refresh_accepted_by_server: 1,
    rejected_reasons: { reused: 2 }, logouts: 2, tokens_issued: 2, race: true, final_jti: null,
    sentence: 'Race: 3 refreshes for 1 expired token (t1); 1 accepted, 2 rejected (reused); 2 of 3 secret requests failed; logged out.',
  });
  return s.messages;
}

/** The fix: single-flight, one refresh, the other two wait and retry with t2. */
export function singleFlight() {
  const s = stream();
  s.start({ case: 'expired-refreshable', strategy: 'single-flight', policy: 'strict', secret: 3, public: 3, speed: 1 });
  setupExpiredRefreshable(s);
  const t0 = 1_000;
  burst(s, t0);
  s.ev(t0 + 150_600, 'secret#1', 'response', { attempt: 1, route: '/api/secret', status: 401, reason: 'expired', jti: 't1' });
  s.ev(t0 + 150_700, 'secret#1', 'refresh_sent', { attempt: 7, jti: 't1' });
  for (const i of [2, 3]) {
    s.ev(t0 + 150_800 + i, `secret#${i}`, 'response', { attempt: i, route: '/api/secret', status: 401, reason: 'expired', jti: 't1' });
    s.ev(t0 + 150_900 + i, `secret#${i}`, 'queued', { jti: 't1' });
  }
  const t1 = t0 + 351_000;
  s.ev(t1, 'secret#1', 'refresh_done', { attempt: 7, status: 200, jti: 't1', new_jti: 't2', reason: null });
  s.ev(t1 + 10, 'client', 'token_stored', { jti: 't2' });
  for (let i = 1; i <= 3; i++) s.ev(t1 + 20 + i, `secret#${i}`, 'retry_sent', { attempt: 7 + i, route: '/api/secret', jti: 't2' });
  for (let i = 1; i <= 3; i++) {
    s.ev(t1 + 150_000 + i, `secret#${i}`, 'response', { attempt: 7 + i, route: '/api/secret', status: 200, reason: null, jti: 't2' });
    s.ev(t1 + 150_100 + i, `secret#${i}`, 'request_done', { ok: true, status: 200 });
  }
  s.done({
    requests: 6, ok: 6, failed: 0, refresh_calls: 1, refresh_ok: 1, refresh_rejected: 0,
    logouts: 0, tokens_issued: 2, race: false, final_jti: 't2',
    sentence: '1 refresh, all 6 requests succeeded.',
  });
  return s.messages;
}

/**
 * Family policy (reuse detection), naive client: secret#1's refresh wins
 * (t1 → t2); secret#2 presents t1 again, which revokes the whole family,
 * t2 included, before the winner even stored t2. Its retry with t2 fails.
 * Shaped after a real `refresh-race run --policy family --json`.
 */
export function familyRace() {
  const s = stream();
  s.start({ case: 'expired-refreshable', strategy: 'naive', policy: 'family', secret: 3, public: 0, speed: 1 });
  setupExpiredRefreshable(s);
  const t0 = 1_000;
  for (let i = 1; i <= 3; i++) s.ev(t0, `secret#${i}`, 'request_sent', { attempt: i, route: '/api/secret', jti: 't1' });
  for (let i = 1; i <= 3; i++) {
    s.ev(t0 + 150_500 + i, 'server', 'rejected', { attempt: i, route: '/api/secret', jti: 't1', reason: 'expired' });
    s.ev(t0 + 150_600 + i, `secret#${i}`, 'response', { attempt: i, route: '/api/secret', status: 401, reason: 'expired', jti: 't1' });
    s.ev(t0 + 150_700 + i, `secret#${i}`, 'refresh_sent', { attempt: 3 + i, jti: 't1' });
  }
  const t1 = t0 + 350_800;
  const iat2 = LAB_START_MS / 1000 + 6;
  // The winner (attempt 4, secret#1).
  s.ev(t1, 'server', 'accepted', { attempt: 4, route: '/api/refresh', jti: 't1' });
  s.ev(t1 + 10, 'server', 'issued', { attempt: 4, jti: 't2', fam: 'f1', sub: 'ada', iat: iat2, exp: iat2 + 5, refresh_until: iat2 + 15 });
  s.ev(t1 + 20, 'server', 'rotated', { attempt: 4, jti: 't1', new_jti: 't2' });
  s.ev(t1 + 30, 'server', 'revoked', { attempt: 4, jti: 't1', cause: 'rotation' });
  // A loser reuses t1: the family goes, t2 too.
  s.ev(t1 + 40, 'server', 'revoked', { attempt: 5, jti: 't1', cause: 'family' });
  s.ev(t1 + 41, 'server', 'revoked', { attempt: 5, jti: 't2', cause: 'family' });
  s.ev(t1 + 50, 'server', 'rejected', { attempt: 5, route: '/api/refresh', jti: 't1', reason: 'reused' });
  s.ev(t1 + 60, 'server', 'rejected', { attempt: 6, route: '/api/refresh', jti: 't1', reason: 'revoked' });
  s.ev(t1 + 100, 'secret#2', 'refresh_done', { attempt: 5, status: 400, jti: 't1', new_jti: null, reason: 'reused' });
  s.ev(t1 + 110, 'client', 'logged_out', { reason: 'refresh of t1 rejected: reused' });
  s.ev(t1 + 120, 'secret#2', 'request_done', { ok: false, status: 401 });
  s.ev(t1 + 130, 'secret#3', 'refresh_done', { attempt: 6, status: 400, jti: 't1', new_jti: null, reason: 'revoked' });
  s.ev(t1 + 140, 'secret#3', 'request_done', { ok: false, status: 401 });
  // The winner's answer lands after all that: it stores a dead token and retries with it.
  s.ev(t1 + 200, 'secret#1', 'refresh_done', { attempt: 4, status: 200, jti: 't1', new_jti: 't2', reason: null });
  s.ev(t1 + 210, 'client', 'token_stored', { jti: 't2' });
  s.ev(t1 + 220, 'secret#1', 'retry_sent', { attempt: 7, route: '/api/secret', jti: 't2' });
  const t2 = t1 + 150_500;
  s.ev(t2, 'server', 'rejected', { attempt: 7, route: '/api/secret', jti: 't2', reason: 'revoked' });
  s.ev(t2 + 100, 'secret#1', 'response', { attempt: 7, route: '/api/secret', status: 401, reason: 'revoked', jti: 't2' });
  s.ev(t2 + 200, 'secret#1', 'request_done', { ok: false, status: 401 });
  s.done({
    requests: 3, ok: 0, failed: 3, refresh_calls: 3, refresh_ok: 1, refresh_rejected: 2,
    logouts: 1, tokens_issued: 2, race: true, final_jti: null,
    sentence: 'Race: 3 refreshes for 1 expired token; reuse revoked the whole family (2 tokens); 3 of 3 secret requests failed; logged out.',
  });
  return s.messages;
}

export { LAB_START_MS };
