// Checks the control values before a run starts, with messages a person can
// act on. No DOM. The server checks the same limits (docs/lab-api.md); this
// only saves a round trip and keeps a bad value from starting anything.
//
// The limits come from GET /lab/options (`limits`), their one home: the page
// has no numbers of its own, and starts nothing until the options arrived.

/**
 * The lab's `limits` object (snake_case, from /lab/options) as the limits
 * the checks use, or null when it is missing or makes no sense.
 */
export function limitsFromOptions(raw) {
  if (!raw || typeof raw !== 'object') return null;
  const whole = (key, min) => (Number.isInteger(raw[key]) && raw[key] >= min ? raw[key] : null);
  const limits = {
    maxRequests: whole('max_requests', 1),
    maxLatencyMs: whole('max_latency_ms', 0),
    maxJitterMs: whole('max_jitter_ms', 0),
    maxGraceS: whole('max_grace_s', 0),
    maxAccessTtlS: whole('max_access_ttl_s', 1),
    maxRefreshWindowS: whole('max_refresh_window_s', 0),
    maxTabs: whole('max_tabs', 1),
    maxReuseCount: whole('max_reuse_count', 0),
    minSpeed: raw.min_speed,
    maxSpeed: raw.max_speed,
  };
  const speedOk = typeof limits.minSpeed === 'number' && limits.minSpeed > 0 && limits.maxSpeed >= limits.minSpeed;
  return speedOk && Object.values(limits).every((v) => v != null) ? limits : null;
}

/**
 * The numeric fields the controls edit, for the lab's limits: key → label,
 * min, max. The lowest values are the engine's rules (docs/lab-api.md), which
 * /lab/options does not list.
 */
export function fieldsFor(limits) {
  return {
    secret: { label: 'Secret requests', min: 1, max: limits.maxRequests },
    public: { label: 'Public requests', min: 0, max: limits.maxRequests },
    latencySecret: { label: 'Secret latency (ms)', min: 0, max: limits.maxLatencyMs },
    latencyPublic: { label: 'Public latency (ms)', min: 0, max: limits.maxLatencyMs },
    latencyRefresh: { label: 'Refresh latency (ms)', min: 0, max: limits.maxLatencyMs },
    accessTtl: { label: 'Token lifetime (s)', min: 1, max: limits.maxAccessTtlS },
    refreshWindow: { label: 'Refresh window (s)', min: 0, max: limits.maxRefreshWindowS },
    grace: { label: 'Grace window (s)', min: 0, max: limits.maxGraceS },
    tabs: { label: 'Tabs', min: 1, max: limits.maxTabs },
    overlap: { label: 'The server\'s window (s)', min: 0, max: limits.maxGraceS },
    reuseCount: { label: 'The server\'s reuse count', min: 0, max: limits.maxReuseCount },
  };
}

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
export function checkSpeed(raw, limits) {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < limits.minSpeed || value > limits.maxSpeed) {
    return { ok: false, message: `Speed must be between ${limits.minSpeed} and ${limits.maxSpeed} (got ${raw}).` };
  }
  return { ok: true, value };
}

/**
 * Checks every control value. `values` holds the fields of fieldsFor (numbers
 * or input text) and `speed`. Returns `{ ok, errors: [{field, message}],
 * message, values }` where `message` is the first error (or '') and
 * `values` the parsed numbers. `limits` are the lab's (limitsFromOptions).
 */
export function validateControls(values, limits) {
  const errors = [];
  const parsed = {};
  const fields = fieldsFor(limits);
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
export function toRunSettings({ caseName, strategy, policy, late, values, network = null, crossTab = null, mode = null, rotate = null }) {
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
    // Several tabs sharing one stored token, and how they coordinate.
    ...(values.tabs === undefined ? {} : { tabs: values.tabs }),
    ...(crossTab ? { cross_tab: crossTab } : {}),
    // What the refresh credential is: article or oauth.
    ...(mode ? { mode } : {}),
    // A server preset's parameters, only those it has (knobsOf).
    ...(values.overlap === undefined ? {} : { overlap_s: values.overlap }),
    ...(values.reuseCount === undefined ? {} : { reuse_count: values.reuseCount }),
    ...(rotate == null ? {} : { rotate }),
    // Who delivers the legs (timer, step, hand), when the controls chose.
    ...(network ? { network } : {}),
  };
}

/**
 * What the controls show for a RunSettings (the lab's `defaults`): the
 * inverse of toRunSettings, so the page's defaults are the engine's.
 */
export function controlValues(settings) {
  const latency = settings.latency_ms || {};
  return {
    caseName: settings.case,
    strategy: settings.strategy,
    policy: settings.policy,
    late: settings.late,
    network: settings.network,
    crossTab: settings.cross_tab,
    mode: settings.mode,
    values: {
      secret: settings.secret,
      public: settings.public,
      latencySecret: latency.secret,
      latencyPublic: latency.public,
      latencyRefresh: latency.refresh,
      accessTtl: settings.access_ttl_s,
      refreshWindow: settings.refresh_window_s,
      grace: settings.grace_s,
      tabs: settings.tabs,
      speed: settings.speed,
    },
  };
}

/**
 * The parameters a policy of /lab/options has (a server preset's), with
 * their defaults: `{ overlap, reuseCount, rotate }`, each null when the
 * server has no such parameter. Plain policies have none.
 */
export function knobsOf(policyEntry) {
  const knobs = policyEntry && typeof policyEntry === 'object' && policyEntry.knobs && typeof policyEntry.knobs === 'object' ? policyEntry.knobs : {};
  const whole = (v) => (Number.isInteger(v) && v >= 0 ? v : null);
  return {
    overlap: whole(knobs.overlap_s),
    reuseCount: whole(knobs.reuse_count),
    rotate: typeof knobs.rotate === 'boolean' ? knobs.rotate : null,
  };
}

/** `values` without the preset parameters `knobs` (knobsOf) does not have. */
export function valuesForPolicy(values, knobs) {
  const out = { ...values };
  if (!knobs || knobs.overlap == null) delete out.overlap;
  if (!knobs || knobs.reuseCount == null) delete out.reuseCount;
  return out;
}
