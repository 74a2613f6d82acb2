// Text for people: durations, countdowns and one log line per event. No DOM.

/** `t_us` as a short time since run start: "0.0 ms", "151.2 ms", "2.35 s". */
export function formatUs(us) {
  if (typeof us !== 'number' || !Number.isFinite(us)) return '?';
  if (Math.abs(us) >= 1_000_000) return `${(us / 1_000_000).toFixed(2)} s`;
  return `${(us / 1000).toFixed(1)} ms`;
}

/** A countdown in ms: "in 4.2 s", "1.3 s ago", "now". */
export function formatCountdown(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  const abs = Math.abs(ms);
  const text = abs >= 60_000 ? `${Math.floor(abs / 60_000)} min ${((abs % 60_000) / 1000).toFixed(0)} s` : `${(abs / 1000).toFixed(1)} s`;
  if (abs < 50) return 'now';
  return ms > 0 ? `in ${text}` : `${text} ago`;
}

/** One event as a line of the event log. */
export function eventLine(ev) {
  const time = formatUs(ev.t_us).padStart(10);
  const lane = String(ev.lane ?? '').padEnd(10);
  return `${time}  ${lane} ${eventText(ev)}`;
}

/** The part of a log line after time and lane. */
export function eventText(ev) {
  const jti = ev.jti ? ` ${ev.jti}` : '';
  const why = ev.reason ? ` (${ev.reason})` : '';
  switch (ev.kind) {
    case 'request_sent':
      return `→ GET ${ev.route ?? ''}${ev.jti ? ` with ${ev.jti}` : ' without a token'}`;
    case 'retry_sent':
      return `↻ retry GET ${ev.route ?? ''}${ev.jti ? ` with ${ev.jti}` : ''}`;
    case 'response':
      return `← ${ev.status} ${ev.route ?? ''}${why}`;
    case 'queued':
      return `⏸ waits for a refresh${ev.jti ? ` (had ${ev.jti})` : ''}`;
    case 'refresh_sent':
      return `→ POST /api/refresh with${jti || ' no token'}`;
    case 'refresh_done':
      return ev.status === 200
        ? `← 200 refresh: ${ev.jti ?? '?'} → ${ev.new_jti ?? '?'}`
        : `← ${ev.status} refresh of${jti}${why}`;
    case 'token_stored':
      return `token store now holds ${ev.jti}`;
    case 'logged_out':
      return `LOGGED OUT: ${logoutReason(ev)}`;
    case 'request_done':
      return ev.ok ? `✔ done (${ev.status})` : `✖ failed (${ev.status})`;
    case 'issued':
      return `issued ${ev.jti} (family ${ev.fam}, sub ${ev.sub}, exp ${ev.exp})`;
    case 'accepted':
      return `accepted ${ev.route ?? ''}${jti}`;
    case 'rejected':
      return `rejected ${ev.route ?? ''}${jti}: ${ev.reason}`;
    case 'rotated':
      return `rotated ${ev.jti} → ${ev.new_jti}`;
    case 'revoked':
      return ev.cause === 'family' ? `⚠ REVOKED ${ev.jti} (whole family!)` : `revoked ${ev.jti} (${ev.cause ?? 'rotation'})`;
    case 'clock_advanced':
      return `lab clock +${((ev.by_ms ?? 0) / 1000).toFixed(1)} s`;
    default: {
      const { seq, t_us, lane, kind, ...rest } = ev;
      return `${kind} ${JSON.stringify(rest)}`;
    }
  }
}

/**
 * Why the tab logged out, from a `logged_out` event (or marker): the
 * refresh of `jti` was refused for `reason` (reused, window_over,
 * revoked, ...). Recordings from before the event named the token carry
 * a sentence in `reason`, shown as it is.
 */
export function logoutReason(ev) {
  const reason = ev.reason ?? 'no reason given';
  return ev.jti ? `refresh of ${ev.jti} refused (${reason})` : reason;
}

/** Short label drawn on an attempt's bar (the longest that fits is chosen by the view). */
export function attemptLabels(attempt) {
  const status = attempt.status;
  const reason = attempt.reason || attempt.serverReason;
  if (attempt.kind === 'refresh') {
    if (status === 'pending') return [`refresh ${attempt.jti ?? ''}…`, 'refresh', '↻'];
    if (status === 200) return [`refresh ${attempt.jti ?? '?'} → ${attempt.newJti ?? '?'}`, `→ ${attempt.newJti ?? '?'}`, '200'];
    return [`refresh ${status}${reason ? ` ${reason}` : ''}`, `${status}${reason ? ` ${reason}` : ''}`, String(status)];
  }
  const prefix = attempt.kind === 'retry' ? 'retry ' : '';
  if (status === 'pending') return [`${prefix}…`, '…'];
  return [`${prefix}${status}${reason ? ` ${reason}` : ''}`, `${status}${reason ? ` ${reason}` : ''}`, String(status)];
}
