// Replaying a saved run. No DOM: tested with `node --test`.
//
// A saved run is the RunReport that `refresh-race run --json` prints:
// `{ settings, events, verdict, lab_now_ms }`. The replay turns it back into
// the lab's stream messages (`start`, one `event` each, `done`) and hands
// them out on the recorded schedule: an event is due once the replay clock
// passes its `t_us`. The caller asks once per animation frame for what is
// due, so a burst of events that share a frame is applied and drawn once.

/** The largest file the page agrees to parse (a 10,000-request run is ~15 MB). */
export const MAX_REPORT_BYTES = 200 * 1024 * 1024;

/**
 * Parses a saved run. Accepts the RunReport JSON and, for convenience, a
 * saved NDJSON stream of the lab (`start` / `event` / `done` lines).
 * Returns `{ ok: true, report }` or `{ ok: false, message }`.
 */
export function parseRunReport(text) {
  if (typeof text !== 'string' || text.trim() === '') return fail('The file is empty.');
  let data;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const fromStream = parseStream(text);
    if (fromStream) return checkReport(fromStream);
    return fail(`The file is not JSON (${error.message}). Save a run with \`refresh-race run --json > run.json\`.`);
  }
  return checkReport(data);
}

function parseStream(text) {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return null;
  const report = { settings: null, events: [], verdict: null, lab_now_ms: null };
  for (const line of lines) {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return null;
    }
    if (!message || typeof message !== 'object') return null;
    if (message.type === 'start') report.settings = message.settings ?? null;
    else if (message.type === 'event') report.events.push(message.event);
    else if (message.type === 'done') {
      report.verdict = message.verdict ?? null;
      report.lab_now_ms = message.lab_now_ms ?? null;
    }
  }
  return report;
}

function checkReport(data) {
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    return fail('This is not a saved run: expected an object with "settings", "events" and "verdict".');
  }
  if (!Array.isArray(data.events)) {
    return fail('This is not a saved run: "events" is missing (expected the output of `refresh-race run --json`).');
  }
  for (let i = 0; i < data.events.length; i++) {
    const ev = data.events[i];
    if (!ev || typeof ev !== 'object' || typeof ev.kind !== 'string' || typeof ev.t_us !== 'number' || !Number.isFinite(ev.t_us)) {
      return fail(`Event ${i + 1} of ${data.events.length} has no "kind" or no numeric "t_us".`);
    }
  }
  const settings = data.settings && typeof data.settings === 'object' ? data.settings : {};
  const events = data.events.every((ev, i, all) => i === 0 || !(typeof ev.seq === 'number' && typeof all[i - 1].seq === 'number') || all[i - 1].seq <= ev.seq)
    ? data.events
    : [...data.events].sort((x, y) => (x.seq ?? 0) - (y.seq ?? 0));
  return {
    ok: true,
    report: {
      settings,
      events,
      verdict: data.verdict && typeof data.verdict === 'object' ? data.verdict : null,
      lab_now_ms: typeof data.lab_now_ms === 'number' ? data.lab_now_ms : null,
      // What newer engines add: one sentence per event, a held run's
      // delivery order and lost answers, the challenges it solved. Kept when present.
      ...(Array.isArray(data.narration) ? { narration: data.narration } : {}),
      ...(Array.isArray(data.delivered) ? { delivered: data.delivered } : {}),
      ...(Array.isArray(data.dropped) ? { dropped: data.dropped } : {}),
      ...(Array.isArray(data.solved) ? { solved: data.solved } : {}),
    },
  };
}

function fail(message) {
  return { ok: false, message };
}

/**
 * The lab time when the recorded run started (ms), best effort: from the
 * first event that carries `lab_now_ms` (a clock jump), else from the end.
 */
export function recordedLabStart(report) {
  for (const ev of report.events) {
    if (typeof ev.lab_now_ms === 'number') return ev.lab_now_ms - (ev.by_ms ?? 0) - ev.t_us / 1000;
  }
  if (typeof report.lab_now_ms !== 'number') return null;
  const last = report.events.length ? report.events[report.events.length - 1].t_us : 0;
  return report.lab_now_ms - last / 1000;
}

/**
 * A replay of `report` at `rate` × recorded speed (1 = as recorded).
 *
 *   const r = createReplay(report);
 *   apply(r.start());                    // the `start` message
 *   each frame: for (const m of r.due(elapsedMs)) apply(m);   // events, then `done` once
 *   r.finished                           // true once `done` was handed out
 */
export function createReplay(report, { rate = 1 } = {}) {
  const events = report.events;
  // One sentence per event, when the recording has them (newer engines).
  const narration = Array.isArray(report.narration) && report.narration.length === events.length ? report.narration : null;
  const speed = rate > 0 && Number.isFinite(rate) ? rate : 1;
  const lastUs = events.reduce((max, ev) => (ev.t_us > max ? ev.t_us : max), 0);
  let cursor = 0;
  let finished = false;
  return {
    /** Wall-clock length of the replay in ms. */
    durationMs: lastUs / 1000 / speed,
    lastUs,
    get finished() {
      return finished;
    },
    /** How many events were handed out. */
    get applied() {
      return cursor;
    },
    start() {
      return { type: 'start', settings: report.settings, lab_now_ms: recordedLabStart(report) };
    },
    /** The replay clock in µs of the recording at `elapsedMs` of wall time. */
    nowUs(elapsedMs) {
      return Math.min(lastUs, Math.max(0, elapsedMs) * 1000 * speed);
    },
    /**
     * The messages due at `elapsedMs` since the replay started, in order;
     * each is handed out once. Events stay in recorded order: one whose
     * `t_us` is ahead holds back the ones after it.
     */
    due(elapsedMs) {
      if (finished) return [];
      const limit = Math.max(0, elapsedMs) * 1000 * speed;
      const out = [];
      while (cursor < events.length && events[cursor].t_us <= limit) {
        const caption = narration && typeof narration[cursor] === 'string' ? narration[cursor] : undefined;
        out.push(caption === undefined ? { type: 'event', event: events[cursor] } : { type: 'event', event: events[cursor], caption });
        cursor += 1;
      }
      if (cursor === events.length) {
        finished = true;
        out.push({
          type: 'done',
          verdict: report.verdict,
          lab_now_ms: report.lab_now_ms,
          ...(report.delivered ? { delivered: report.delivered } : {}),
          ...(report.dropped ? { dropped: report.dropped } : {}),
          ...(report.solved ? { solved: report.solved } : {}),
        });
      }
      return out;
    },
  };
}
