// Checks the control values before a run starts, with messages a person can
// act on. No DOM. The server checks the same limits (docs/lab-api.md); this
// only saves a round trip and keeps a bad value from starting anything.
//
// The limits come from GET /lab/options (`limits`); DEFAULT_LIMITS are used
// only until the options arrive (or when the lab cannot be reached).

export const DEFAULT_LIMITS = Object.freeze({
  maxRequests: 10_000,
  maxLatencyMs: 10_000,
  maxJitterMs: 5_000,
  maxGraceS: 60,
  minSpeed: 0.05,
  maxSpeed: 10,
  maxAccessTtlS: 86_400,
  maxRefreshWindowS: 2_592_000,
});

/** Kept for older callers: the built-in fallback limits. */
export const LIMITS = DEFAULT_LIMITS;

/**
 * The lab's `limits` object (snake_case, from /lab/options) as the limits
 * the checks use. A missing or nonsensical value keeps its default.
 */
export function limitsFromOptions(raw) {
  const src = raw && typeof raw === 'object' ? raw : {};
  const pick = (key, fallback, { integer = true, min = 0 } = {}) => {
    const value = src[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) return fallback;
    if (integer && !Number.isInteger(value)) return fallback;
    return value;
  };
  const limits = {
    maxRequests: pick('max_requests', DEFAULT_LIMITS.maxRequests, { min: 1 }),
    maxLatencyMs: pick('max_latency_ms', DEFAULT_LIMITS.maxLatencyMs),
    maxJitterMs: pick('max_jitter_ms', DEFAULT_LIMITS.maxJitterMs),
    maxGraceS: pick('max_grace_s', DEFAULT_LIMITS.maxGraceS),
    maxAccessTtlS: pick('max_access_ttl_s', DEFAULT_LIMITS.maxAccessTtlS, { min: 1 }),
    maxRefreshWindowS: pick('max_refresh_window_s', DEFAULT_LIMITS.maxRefreshWindowS),
    minSpeed: pick('min_speed', DEFAULT_LIMITS.minSpeed, { integer: false }),
    maxSpeed: pick('max_speed', DEFAULT_LIMITS.maxSpeed, { integer: false }),
  };
  if (!(limits.minSpeed > 0) || limits.minSpeed > limits.maxSpeed) {
    limits.minSpeed = DEFAULT_LIMITS.minSpeed;
    limits.maxSpeed = DEFAULT_LIMITS.maxSpeed;
  }
  return limits;
}

/** The numeric fields the controls edit, for some limits: key → label, min, max. */
export function fieldsFor(limits = DEFAULT_LIMITS) {
  return {
    secret: { label: 'Secret requests', min: 1, max: limits.maxRequests },
    public: { label: 'Public requests', min: 0, max: limits.maxRequests },
    latencySecret: { label: 'Secret latency (ms)', min: 0, max: limits.maxLatencyMs },
    latencyPublic: { label: 'Public latency (ms)', min: 0, max: limits.maxLatencyMs },
    latencyRefresh: { label: 'Refresh latency (ms)', min: 0, max: limits.maxLatencyMs },
    accessTtl: { label: 'Token lifetime (s)', min: 1, max: limits.maxAccessTtlS },
    refreshWindow: { label: 'Refresh window (s)', min: 0, max: limits.maxRefreshWindowS },
    grace: { label: 'Grace window (s)', min: 0, max: limits.maxGraceS },
  };
}

/** The fields with the fallback limits. */
export const FIELDS = fieldsFor(DEFAULT_LIMITS);

/**
 * Checks one value (a number or the text of an `<input>`). Returns
 * `{ ok: true, value }` or `{ ok: false, message }`.
 */
export function checkInteger(raw, { label, min, max }) {
  const text = typeof raw === 'number' ? String(raw) : String(raw ?? '').trim();
  if (text === '') return { ok: false, message: `${label} is empty: enter a whole number from ${min} to ${max}.` };
  if (!/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) {
    return { ok: false, message: `${label} must be a whole number from ${min} to ${max} (got "${text}").` };
  }
  const value = Number(text);
  if (!Number.isFinite(value)) {
    return { ok: false, message: `${label} must be a whole number from ${min} to ${max} (got "${text}").` };
  }
  if (value < 0 && min >= 0) {
    return { ok: false, message: `${label} cannot be negative (got ${text}); use ${min} to ${max}.` };
  }
  if (!Number.isInteger(value)) {
    return { ok: false, message: `${label} must be a whole number (got ${text}).` };
  }
  if (value < min || value > max) {
    return { ok: false, message: `${label} must be between ${min} and ${max} (got ${text}).` };
  }
  return { ok: true, value };
}

/** Checks a speed factor. */
export function checkSpeed(raw, limits = DEFAULT_LIMITS) {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < limits.minSpeed || value > limits.maxSpeed) {
    return { ok: false, message: `Speed must be between ${limits.minSpeed} and ${limits.maxSpeed} (got ${raw}).` };
  }
  return { ok: true, value };
}

/**
 * Checks every control value. `values` holds the fields of FIELDS (numbers
 * or input text) and `speed`. Returns `{ ok, errors: [{field, message}],
 * message, values }` where `message` is the first error (or '') and
 * `values` the parsed numbers. `limits` are the lab's (limitsFromOptions).
 */
export function validateControls(values, limits = DEFAULT_LIMITS) {
  const errors = [];
  const parsed = {};
  const fields = limits === DEFAULT_LIMITS ? FIELDS : fieldsFor(limits);
  for (const [field, spec] of Object.entries(fields)) {
    if (!(field in values)) continue;
    const result = checkInteger(values[field], spec);
    if (result.ok) parsed[field] = result.value;
    else errors.push({ field, message: result.message });
  }
  if ('speed' in values) {
    const result = checkSpeed(values.speed, limits);
    if (result.ok) parsed.speed = result.value;
    else errors.push({ field: 'speed', message: result.message });
  }
  return {
    ok: errors.length === 0,
    errors,
    message: errors.length ? errors.map((e) => e.message).join(' ') : '',
    values: parsed,
  };
}

/**
 * The RunSettings JSON (docs/lab-api.md) for checked control values.
 * Only fields the controls own are sent; the server fills in the rest.
 */
export function toRunSettings({ caseName, strategy, policy, late, values }) {
  return {
    case: caseName,
    strategy,
    policy,
    secret: values.secret,
    public: values.public,
    late: !!late,
    latency_ms: {
      secret: values.latencySecret,
      public: values.latencyPublic,
      refresh: values.latencyRefresh,
    },
    speed: values.speed,
    // Token lifetimes only when the controls supplied them.
    ...(values.accessTtl === undefined ? {} : { access_ttl_s: values.accessTtl }),
    ...(values.refreshWindow === undefined ? {} : { refresh_window_s: values.refreshWindow }),
    ...(values.grace === undefined ? {} : { grace_s: values.grace }),
  };
}
