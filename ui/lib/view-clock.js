// The clock a run is drawn on. No DOM: tested with `node --test`.
//
// Events carry `t_us`, wall time since the run started. While a run is
// held (step or hand mode, or a paused timer run) nothing happens until
// someone delivers a leg, and a learner may think for a minute between two
// clicks. Drawn on wall time, those minutes would squeeze the race into a
// sliver at the left of an axis that keeps growing. So the view's clock
// stands still while the run is held:
//
// - a delivery moves it to the time a timer would have delivered that leg
//   (the leg's `due_ms` since the burst, slowed down by the run's speed,
//   never backwards), and the events the delivery causes keep their own
//   small spacing from there;
// - a resumed run flows on from where the view stood.
//
// A timer run that is never paused is drawn on its wall times unchanged.
// The stream tells which leg was delivered without the page's help: the
// first event a delivery causes names the leg's exchange (`attempt`), or its
// lane. Only the stream's own `network` messages move this clock: they come
// after the events they describe (docs/lab-api.md), so the legs it matches
// against are the ones in flight before the delivery.

/** A clock for one run, before its `start`. */
export function createViewClock() {
  return {
    startAtMs: null, // local ms when `start` arrived
    speed: 1,
    held: false,
    shiftUs: 0, // flowing: shown = t_us - shiftUs
    localShiftUs: 0, // flowing: now = local elapsed - localShiftUs
    offsetUs: null, // server t_us minus local elapsed, best estimate (for resuming)
    frozenUs: 0, // where the view stands while held
    viewLegs: [], // legs in flight in the latest held view
    delivered: 0, // deliveries that view counted
    byAttempt: new Map(), // of those, the ones no event has claimed yet, by attempt
    byLane: new Map(), // … and by lane
    epoch: null, // the delivery being drawn: { baseUs, t0Us }
    burstUs: null, // shown time of the first request: `due_ms` counts from here
    lastUs: 0, // shown time of the latest event
  };
}

/** The run started (`start` arrived at local `atMs`); `speed` is the run's. */
export function clockStart(clock, { atMs = 0, speed = 1 } = {}) {
  clock.startAtMs = atMs;
  clock.speed = typeof speed === 'number' && speed > 0 && Number.isFinite(speed) ? speed : 1;
}

function localUs(clock, atMs) {
  return clock.startAtMs == null ? 0 : (atMs - clock.startAtMs) * 1000;
}

/** Legs no event has claimed yet, indexed (a 10,000-request run has as many). */
function setLegs(clock, legs) {
  clock.byAttempt = new Map();
  clock.byLane = new Map();
  for (const leg of legs) {
    if (leg.attempt != null) clock.byAttempt.set(leg.attempt, leg);
    if (leg.lane) clock.byLane.set(leg.lane, leg);
  }
}

/** The leg in flight that `ev` is the first consequence of (taken off the list), or null. */
function takeLeg(clock, ev) {
  let leg = null;
  if (ev.attempt != null) leg = clock.byAttempt.get(ev.attempt) ?? null;
  else if (typeof ev.lane === 'string' && ev.lane.includes('#')) leg = clock.byLane.get(ev.lane) ?? null;
  if (!leg) return null;
  if (leg.attempt != null) clock.byAttempt.delete(leg.attempt);
  if (clock.byLane.get(leg.lane) === leg) clock.byLane.delete(leg.lane);
  return leg;
}

/**
 * The time to draw `ev` at (µs since the run started), for an event that
 * arrived at local `atMs`. Never earlier than the event before it.
 */
export function clockEvent(clock, ev, atMs = 0) {
  const t = ev.t_us;
  const ahead = t - localUs(clock, atMs);
  if (clock.offsetUs == null || ahead > clock.offsetUs) clock.offsetUs = ahead;
  let shown;
  if (!clock.held) {
    shown = t - clock.shiftUs;
  } else {
    const leg = takeLeg(clock, ev);
    if (leg || !clock.epoch) {
      const due = leg && clock.burstUs != null && typeof leg.due_ms === 'number'
        ? clock.burstUs + (leg.due_ms * 1000) / clock.speed
        : -Infinity;
      clock.epoch = { baseUs: Math.max(clock.lastUs, clock.frozenUs, due), t0Us: t };
    }
    shown = clock.epoch.baseUs + (t - clock.epoch.t0Us);
  }
  shown = Math.max(shown, clock.lastUs);
  clock.lastUs = shown;
  if (clock.held && shown > clock.frozenUs) clock.frozenUs = shown;
  if (ev.kind === 'request_sent' && clock.burstUs == null) clock.burstUs = shown;
  return shown;
}

/** A `network` message of the run's stream (its NetworkView) arrived at local `atMs`. */
export function clockNetwork(clock, view, atMs = 0) {
  if (!view || typeof view !== 'object') return;
  const delivered = Array.isArray(view.delivered) ? view.delivered : [];
  if (view.paused) {
    if (!clock.held) {
      clock.held = true;
      // A paused timer run stops where its now-cursor was; a run held from
      // the start (step, hand) where its last event was.
      const cursor = view.driver === 'timer' ? localUs(clock, atMs) - clock.localShiftUs : 0;
      clock.frozenUs = Math.max(clock.lastUs, cursor);
    } else if (clock.burstUs != null) {
      // Legs delivered since the last view: the view's time is theirs, even
      // when their delivery caused no event (a public request's handler).
      const fresh = delivered.slice(clock.delivered);
      if (fresh.length) {
        const byId = new Map(clock.viewLegs.map((l) => [l.id, l]));
        for (const id of fresh) {
          const leg = byId.get(id);
          if (leg && typeof leg.due_ms === 'number') {
            clock.frozenUs = Math.max(clock.frozenUs, clock.burstUs + (leg.due_ms * 1000) / clock.speed);
          }
        }
      }
    }
    clock.viewLegs = Array.isArray(view.legs) ? view.legs : [];
    setLegs(clock, clock.viewLegs);
    clock.epoch = null;
  } else if (clock.held) {
    // Resumed: flow on from where the view stood.
    const local = localUs(clock, atMs);
    clock.held = false;
    clock.localShiftUs = local - clock.frozenUs;
    clock.shiftUs = local + (clock.offsetUs ?? 0) - clock.frozenUs;
    setLegs(clock, []);
    clock.viewLegs = [];
    clock.epoch = null;
  }
  clock.delivered = delivered.length;
}

/** The run's end: nothing is held any more. */
export function clockStop(clock) {
  clock.held = false;
  setLegs(clock, []);
  clock.viewLegs = [];
  clock.epoch = null;
}

/** Where the now-cursor stands at local `nowMs` (µs since the run started). */
export function clockNowUs(clock, nowMs) {
  if (clock.startAtMs == null) return 0;
  if (clock.held) return clock.frozenUs;
  return Math.max(clock.lastUs, localUs(clock, nowMs) - clock.localShiftUs);
}
