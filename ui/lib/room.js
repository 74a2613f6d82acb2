// The room as one, as a page sees it. No DOM: tested with `node --test`
// (tests/ui-unit/room.test.mjs); room-view.js and room-results-view.js paint it.
//
// A seat's page listens to GET lab/room/events (server-sent events): `room`
// with `{room, seat, push}` at once and after every push, `closed` when the
// instructor closes the room. A push is `{id, setup?, step?, summary}`: a
// setup is a link fragment (`#s=1.…`) the page opens and runs as any link;
// a step opens the lesson panel at that step. A page opens each push once:
// the pushes it opened are kept per room (a reload or a reconnection hears
// the current push again and must not run it twice).
//
// The instructor's page reads GET lab/classroom/results while the results
// panel is open, and pushes with POST lab/classroom/push.

import { libraryNamed } from './libraries.js';

/** How often the instructor's results panel reads the results. */
export const RESULTS_POLL_MS = 500;
/** Where a seat's page keeps the last push it opened: `{room, id}`. */
export const SEEN_KEY = 'refresh-race.room.seen';

const whole = (v) => (Number.isInteger(v) && v >= 0 ? v : 0);
const text = (v) => (typeof v === 'string' ? v : '');

/** A push as sent by the lab, or null when it is not one. */
export function pushFrom(raw) {
  if (!raw || typeof raw !== 'object' || !Number.isInteger(raw.id) || raw.id < 1) return null;
  const setup = typeof raw.setup === 'string' && raw.setup.startsWith('#s=') ? raw.setup : null;
  const step = typeof raw.step === 'string' && /^[a-z-]{1,40}$/.test(raw.step) ? raw.step : null;
  if (!setup && !step) return null;
  return { id: raw.id, setup, step, summary: text(raw.summary) };
}

/** A seat page's state before the room said anything. */
export function initialSeat(seen = null) {
  return { room: null, seat: null, push: null, closed: false, connected: false, seen: seenFrom(seen) };
}

/** The kept `{room, id}` (as text) read back, or null. */
export function seenFrom(textOrNull) {
  if (typeof textOrNull !== 'string') return null;
  try {
    const v = JSON.parse(textOrNull);
    return v && typeof v.room === 'string' && Number.isInteger(v.id) ? { room: v.room, id: v.id } : null;
  } catch {
    return null;
  }
}

/**
 * One event of the room's stream. Returns `{ state, open }`: `open` is the
 * push to open now (null when there is none, or it was opened already).
 */
export function onRoomEvent(state, name, data) {
  if (name === 'closed') return { state: { ...state, closed: true, connected: false }, open: null };
  if (name !== 'room' || !data || typeof data !== 'object') return { state, open: null };
  const room = text(data.room) || state.room;
  const seat = Number.isInteger(data.seat) ? data.seat : state.seat;
  const push = pushFrom(data.push);
  const next = { ...state, room, seat, push, connected: true, closed: false };
  const fresh = push && !(state.seen && state.seen.room === room && state.seen.id >= push.id);
  if (!fresh) return { state: next, open: null };
  return { state: { ...next, seen: { room, id: push.id } }, open: push };
}

/** The stream broke (lost Wi-Fi, the lab restarting): the page reconnects. */
export function onDisconnect(state) {
  return state.closed ? state : { ...state, connected: false };
}

/** The seat's badge: "Seat 3". */
export function seatLabel(state) {
  return state.seat ? `Seat ${state.seat}` : '';
}

/** The banner's sentence for a push the page opened (or for the closed room). */
export function bannerText(state, push) {
  if (state.closed) return 'The instructor closed the room. This page keeps your work; the lab no longer answers it.';
  if (!push) return state.connected || state.seat == null ? '' : 'Reconnecting to the room…';
  const parts = [];
  if (push.setup) parts.push(`The instructor changed the setup to ${push.summary || 'a new one'}: it runs now on your seat`);
  if (push.step) parts.push(`${push.setup ? 'and' : 'The instructor'} opened lesson step ${stepNumber(push.step)}`);
  return `${parts.join(' ')}. Your code in the editor is kept.`;
}

/** A lesson step's number (1-based) in the workshop's order; 0 when unknown. */
export function stepNumber(id) {
  return STEP_IDS.indexOf(id) + 1;
}

/** The workshop's steps, in order: ids shared with src/classroom/room.rs and lib/lesson.js. */
export const STEP_IDS = ['watch-the-race', 'queue-twice', 'fix-it', 'across-tabs', 'real-library', 'by-hand', 'own-interceptor', 'every-order'];

/**
 * The instructor's results, read from GET lab/classroom/results, checked
 * and shaped for painting: counts, the histogram with each bar's share of
 * the tallest, the challenges and lesson steps with the seats that did them.
 */
export function resultsFrom(raw) {
  if (!raw || typeof raw !== 'object') return null;
  const buckets = Array.isArray(raw.refresh_calls) ? raw.refresh_calls : [];
  const bars = buckets
    .filter((b) => b && Number.isInteger(b.calls) && Number.isInteger(b.seats) && b.seats > 0)
    .map((b) => ({ calls: b.calls, seats: b.seats }))
    .sort((a, b) => a.calls - b.calls);
  const tallest = Math.max(1, ...bars.map((b) => b.seats));
  const listOf = (map) => Object.entries(map && typeof map === 'object' ? map : {})
    .map(([id, seats]) => ({ id, seats: Array.isArray(seats) ? seats.filter(Number.isInteger) : [] }));
  const rows = (Array.isArray(raw.rows) ? raw.rows : [])
    .filter((r) => r && Number.isInteger(r.number))
    .map((r) => ({
      number: r.number,
      runs: whole(r.runs),
      loggedOut: typeof r.logged_out === 'boolean' ? r.logged_out : null,
      refreshCalls: Number.isInteger(r.refresh_calls) ? r.refresh_calls : null,
      solved: Array.isArray(r.solved) ? r.solved.filter((x) => typeof x === 'string') : [],
      steps: Array.isArray(r.steps) ? r.steps.filter((x) => typeof x === 'string') : [],
    }));
  return {
    version: whole(raw.version),
    seats: whole(raw.seats),
    ran: whole(raw.ran),
    runs: whole(raw.runs),
    loggedOut: whole(raw.logged_out),
    push: pushFrom(raw.push),
    bars: bars.map((b) => ({ ...b, share: b.seats / tallest })),
    challenges: listOf(raw.challenges),
    steps: listOf(raw.steps).sort((a, b) => stepNumber(a.id) - stepNumber(b.id)),
    rows,
  };
}

/** The headline: "3 of 3 seats ran it · 2 logged out". */
export function headline(results) {
  if (!results) return 'Reading the room…';
  if (!results.push) return `${results.seats} ${results.seats === 1 ? 'seat' : 'seats'} in the room. Push a setup to see what the room gets.`;
  if (!results.push.setup) return `${results.seats} ${results.seats === 1 ? 'seat' : 'seats'} in the room, on lesson step ${stepNumber(results.push.step)}.`;
  return `${results.ran} of ${results.seats} ${results.seats === 1 ? 'seat' : 'seats'} ran it · ${results.loggedOut} logged out`;
}

/** A seat row's outcome in words. */
export function rowOutcome(row) {
  if (!row.runs) return 'not run yet';
  const calls = row.refreshCalls == null ? '' : `${row.refreshCalls} refresh ${row.refreshCalls === 1 ? 'call' : 'calls'}`;
  return `${row.loggedOut ? 'logged out' : 'stayed logged in'}, ${calls} (${row.runs} ${row.runs === 1 ? 'run' : 'runs'})`;
}

/** What a failed push says. */
export function pushErrorMessage(status, body) {
  const message = body && typeof body.message === 'string' ? body.message : null;
  if (status === 404) return 'Open the room first (Share with the room): there is nobody to push to.';
  if (status === 0) return 'The lab did not answer the push.';
  return `The push was refused: ${message || `HTTP ${status}`}`;
}

/**
 * Why the run on screen cannot be pushed, or null: a module of the
 * instructor's own is not a setup (a push never carries code).
 */
export function pushRefusal(settings) {
  if (!settings || typeof settings !== 'object') return 'Run the setup you want the room to run first: the push sends the run on screen.';
  if (settings.module && !libraryNamed(settings.module)) return 'This run uses a module of your own: a push carries no code. Run a built-in client or a library, then push.';
  return null;
}

/** The settings a pushed setup carries: the run's own, without its hand order. */
export function pushSettings(settings) {
  if (!settings || typeof settings !== 'object') return null;
  const { deliver, drop, ...setup } = settings;
  return setup;
}
