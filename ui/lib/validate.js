// Checks the control values before a run starts, with messages a person can
// act on. No DOM. The server checks the same limits (docs/lab-api.md); this
// only saves a round trip and keeps a bad value from starting anything.

export const LIMITS = {
  maxRequests: 10_000,
  maxLatencyMs: 10_000,
  minSpeed: 0.05,
  maxSpeed: 10,
};

/** The numeric fields the controls edit: key → label, min, max. */
export const FIELDS = {
  secret: { label: 'Secret requests', min: 1, max: LIMITS.maxRequests },
  public: { label: 'Public requests', min: 0, max: LIMITS.maxRequests },
  latencySecret: { label: 'Secret latency (ms)', min: 0, max: LIMITS.maxLatencyMs },
  latencyPublic: { label: 'Public latency (ms)', min: 0, max: LIMITS.maxLatencyMs },
  latencyRefresh: { label: 'Refresh latency (ms)', min: 0, max: LIMITS.maxLatencyMs },
};

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
export function checkSpeed(raw) {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < LIMITS.minSpeed || value > LIMITS.maxSpeed) {
    return { ok: false, message: `Speed must be between ${LIMITS.minSpeed} and ${LIMITS.maxSpeed} (got ${raw}).` };
  }
  return { ok: true, value };
}

/**
 * Checks every control value. `values` holds the fields of FIELDS (numbers
 * or input text) and `speed`. Returns `{ ok, errors: [{field, message}],
 * message, values }` where `message` is the first error (or '') and
 * `values` the parsed numbers.
 */
export function validateControls(values) {
  const errors = [];
  const parsed = {};
  for (const [field, spec] of Object.entries(FIELDS)) {
    if (!(field in values)) continue;
    const result = checkInteger(values[field], spec);
    if (result.ok) parsed[field] = result.value;
    else errors.push({ field, message: result.message });
  }
  if ('speed' in values) {
    const result = checkSpeed(values.speed);
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
  };
}
