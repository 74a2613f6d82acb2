// Time → pixel maths for the timeline. No DOM: tested with `node --test`.
//
// Times are microseconds since the run started (the events' `t_us`). A scale
// maps a time domain [d0, d1] onto a pixel range [r0, r1] and back, and
// proposes "nice" ticks (1, 2, 5 × 10^k) so the axis reads 0, 100, 200 ms.

/** A linear scale from microseconds to pixels. */
export function createScale(domain, range) {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  // A zero-length domain would divide by zero; treat it as 1 µs wide.
  const span = d1 - d0 || 1;
  const k = (r1 - r0) / span;
  return {
    domain: [d0, d1],
    range: [r0, r1],
    /** Pixel for time `t` (not clamped: callers clip bars themselves). */
    x(t) {
      return r0 + (t - d0) * k;
    },
    /** Pixel for time `t`, kept inside the range. */
    clampedX(t) {
      const px = r0 + (t - d0) * k;
      const lo = Math.min(r0, r1);
      const hi = Math.max(r0, r1);
      return Math.min(hi, Math.max(lo, px));
    },
    /** Time at pixel `px`. */
    invert(px) {
      return k === 0 ? d0 : d0 + (px - r0) / k;
    },
    /** Nice tick values inside the domain, about `count` of them. */
    ticks(count = 6) {
      return ticks(d0, d1, count);
    },
  };
}

/** The 1/2/5 × 10^k step that gives about `count` intervals over `span`. */
export function niceStep(span, count = 6) {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const unit = raw / power;
  let nice;
  if (unit < 1.5) nice = 1;
  else if (unit < 3.5) nice = 2;
  else if (unit < 7.5) nice = 5;
  else nice = 10;
  return nice * power;
}

/** Multiples of a nice step that fall inside [d0, d1], both ends included. */
export function ticks(d0, d1, count = 6) {
  if (!(d1 > d0)) return [d0];
  const step = niceStep(d1 - d0, count);
  const first = Math.ceil(d0 / step) * step;
  const out = [];
  // Index-based to avoid accumulating floating point error.
  for (let i = 0; ; i++) {
    const value = first + i * step;
    if (value > d1 + step * 1e-9) break;
    out.push(Math.round(value * 1e6) / 1e6);
    if (out.length > 1000) break; // defensive: never loop forever
  }
  return out;
}

/**
 * The smallest "nice" number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k)
 * that is >= value.
 * Used for the live domain's end so it grows in steps instead of every frame.
 */
export function niceCeil(value) {
  if (!(value > 0)) return 0;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    const candidate = m * power;
    if (candidate >= value * (1 - 1e-12)) return candidate;
  }
  return 10 * power;
}

/**
 * The end of the time axis for a run (µs): everything seen so far, the
 * moving "now" while live, and an estimate of the run's length, plus 5 %
 * headroom, rounded up to a nice number.
 */
export function domainEnd({ maxEventUs = 0, nowUs = 0, estimateUs = 0, minUs = 100_000 } = {}) {
  const need = Math.max(maxEventUs, nowUs, estimateUs, minUs);
  return niceCeil(need * 1.05);
}

/**
 * A rough length of a run in µs, from its settings: a request, a refresh and
 * a retry in a row (plus the late request), slowed down by `speed`. Unknown
 * latencies count as 0: the axis then grows with the events.
 */
export function estimateRunUs(settings) {
  const lat = (settings && settings.latency_ms) || {};
  const secret = num(lat.secret, 0);
  const pub = num(lat.public, 0);
  const refresh = num(lat.refresh, 0);
  const speed = num(settings && settings.speed, 1) || 1;
  let ms = Math.max(secret + refresh + secret, pub);
  if (settings && settings.late) ms += secret;
  return (ms / speed) * 1000;
}

function num(value, fallback) {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Axis label for a tick at `us`, given the tick step in µs. */
export function formatTick(us, stepUs = us) {
  if (us === 0) return '0';
  if (Math.abs(us) >= 1_000_000) {
    const digits = stepUs >= 1_000_000 ? 0 : stepUs >= 100_000 ? 1 : 2;
    return `${trim(us / 1_000_000, digits)} s`;
  }
  return `${trim(us / 1000, stepUs >= 1000 ? 0 : 2)} ms`;
}

function trim(value, digits) {
  const text = value.toFixed(digits);
  return digits > 0 ? text.replace(/\.?0+$/, '') : text;
}
