// What the timeline shows, as plain data: rows, bars, markers, their
// geometry, labels and tooltips. No DOM: tested with `node --test` on the
// engine-recorded fixtures. ui/timeline-view.js only turns this into SVG.
//
// Layout (top to bottom): the time axis; the request lanes (a scroll box:
// only the rows in its viewport are modelled, so a 10,000-request run stays
// light); the pinned client and server lanes; the caption line; the
// verdict card. Times map to x with lib/scale.js; a row's y is its index
// times the row height. While the run is held, a bar whose leg waits in the
// network is marked `held` (the view makes it pulse); once the run is over,
// an event cursor can mark one event and the caption tells it.
// Here: the frame (sizes, scale), the axis, the caption and the verdict.

import { createScale, formatTick, niceStep } from './scale.js';
import { isHeld, captionAt } from './reducer.js';
import { verdictView } from './run-queries.js';
import { eventText } from './format.js';
import { requestLanesModel } from './timeline-lanes.js';
import { pinnedModel } from './timeline-pinned.js';

// This module is the public entry: the request rows are modelled in
// timeline-lanes.js, the pinned token-store and server rows in
// timeline-pinned.js; what the view and the tests use is re-exported here.
export { laneFate } from './timeline-lanes.js';
export { SERVER_ROWS } from './timeline-pinned.js';

/**
 * Pixel sizes for an 18px root font: normal, compact for compare mode, and
 * presenter (bars as tall as normal's, rows closer together: a case 3 run
 * and its verdict fit a 1280×720 beamer in presenter's larger type).
 */
export const SIZES = {
  normal: { row: 40, bar: 26, label: 150, axis: 30, server: 34, client: 40, font: 15, big: 17 },
  compact: { row: 30, bar: 20, label: 150, axis: 26, server: 26, client: 32, font: 13, big: 15 },
  presenter: { row: 31, bar: 26, label: 150, axis: 28, server: 25, client: 33, font: 15, big: 17 },
};

/** Which of SIZES a timeline uses: compact when compared (in any theme), presenter's in presenter mode. */
export function baseSizes({ compact = false, theme = 'dark' } = {}) {
  if (compact) return SIZES.compact;
  return theme === 'presenter' ? SIZES.presenter : SIZES.normal;
}

/** Room right of the plot, so the last marker's label has space. */
export const RIGHT_PAD = 28;

/**
 * The sizes for a root font of `rootPx`: the stylesheet scales the root
 * font with the window (bigger on a projector) and the geometry follows.
 * The label column only grows, so lane names never get cut.
 */
export function scaledSizes(base, rootPx = 18) {
  const k = (rootPx || 18) / 18;
  const out = {};
  for (const [key, value] of Object.entries(base)) out[key] = Math.round(value * (key === 'label' ? Math.max(1, k) : k));
  return out;
}

/**
 * The whole timeline of `state` (lib/reducer.js) at one moment.
 * @param {object} state
 * @param {object} o
 * @param {number} o.width          px of the timeline
 * @param {object} o.sizes          scaledSizes(SIZES.normal | SIZES.compact, rootPx)
 * @param {number} o.domainEndUs    end of the time axis (shared by compared runs)
 * @param {number|null} [o.nowUs]   the live now-cursor (ignored once the run is over)
 * @param {string|null} [o.selectedJti] the token shown in the inspector
 * @param {number} [o.scrollTop]    of the request lanes' scroll box
 * @param {number} [o.viewportHeight] of that box (0: not measured yet)
 * @param {number|null} [o.cursorIndex] the event under the cursor (a finished run), or null
 * @param {number|null} [o.markUs]  a moment marked on the timeline (an order's point of no return), or null
 */
export function timelineModel(state, { width, sizes, domainEndUs, nowUs = null, selectedJti = null, scrollTop = 0, viewportHeight = 0, cursorIndex = null, markUs = null }) {
  const frame = createFrame(state, { width, sizes, domainEndUs, nowUs });
  const cursor = cursorModel(state, frame, cursorIndex);
  frame.cursorAttempt = cursor ? cursor.attempt : null;
  const axis = axisModel(frame);
  return {
    width: frame.width,
    axis,
    gridXs: axis.ticks.map((t) => t.x),
    familyXs: familyLineXs(state, frame.scale),
    nowX: frame.nowX,
    markX: markUs == null ? null : frame.scale.clampedX(markUs),
    cursor,
    lanes: requestLanesModel(state, frame, { selectedJti, scrollTop, viewportHeight }),
    pinned: pinnedModel(state, frame, { selectedJti }),
    caption: captionModel(state, cursor ? cursor.index : null),
    network: networkModel(state),
    verdict: verdictModel(state),
    note: setupNote(state),
  };
}

/** The event under the cursor: where, and which exchange it belongs to. */
function cursorModel(state, frame, index) {
  if (index == null) return null;
  const ev = state.events[index];
  if (!ev) return null;
  return { index, x: frame.scale.clampedX(ev.t_us), lane: ev.lane ?? null, attempt: ev.attempt ?? null, seq: ev.seq ?? null };
}

/** The caption line: the latest event's sentence, or the one under the cursor. */
function captionModel(state, cursorIndex) {
  const at = captionAt(state, cursorIndex);
  if (!at) return { text: '', index: null, cursor: false, of: state.events.length };
  const ev = state.events[at.index];
  // Recordings without narration still say something under the cursor.
  const text = at.text ?? (ev ? `${ev.lane ?? ''} ${eventText(ev)}`.trim() : '');
  return { text, index: at.index, cursor: cursorIndex != null, of: state.events.length };
}

/** The network as the timeline's hooks tell it: held or not, the driver, deliveries so far. */
function networkModel(state) {
  const view = state.network;
  return {
    held: isHeld(state),
    driver: view ? view.driver ?? null : (state.settings && state.settings.network) || null,
    delivered: state.delivered.length,
    run: state.run,
  };
}

/** Legs in flight of a held run, by the attempt they carry (and by lane for those without one). */
function heldLegs(state) {
  const byAttempt = new Map();
  const byLane = new Map();
  if (!isHeld(state)) return { byAttempt, byLane };
  for (const leg of state.network.legs || []) {
    if (leg.attempt != null) byAttempt.set(leg.attempt, leg);
    else if (leg.lane) byLane.set(leg.lane, leg);
  }
  return { byAttempt, byLane };
}

/** Scale and clock of one drawing. */
export function createFrame(state, { width, sizes, domainEndUs, nowUs = null }) {
  const plotEnd = Math.max(sizes.label + 50, width - RIGHT_PAD);
  const scale = createScale([0, domainEndUs], [sizes.label, plotEnd]);
  const live = state.status === 'running' || state.status === 'idle';
  const now = live && nowUs != null ? Math.max(nowUs, state.maxUs) : null;
  return {
    width,
    sizes,
    scale,
    rowWidth: plotEnd + RIGHT_PAD,
    nowX: now == null ? null : scale.clampedX(now),
    // Bars still in flight grow to the now-cursor (to the last event once over).
    endForPending: now ?? state.maxUs,
    held: heldLegs(state),
    cursorAttempt: null,
  };
}

/** The time axis: ticks at nice values (0, 100 ms, ...) about 110 px apart. */
function axisModel({ width, sizes, scale }) {
  const [left, right] = scale.range;
  const values = scale.ticks(Math.max(3, Math.floor((right - left) / 110)));
  const step = values.length > 1 ? values[1] - values[0] : niceStep(scale.domain[1], 5);
  return {
    width,
    height: sizes.axis,
    caption: { x: 12, y: sizes.axis - 9, text: 'since start' },
    ticks: values.map((t) => ({ x: scale.x(t), label: formatTick(t, step) })),
    tickY: [sizes.axis - 6, sizes.axis],
    labelY: sizes.axis - 10,
    line: { x1: sizes.label, x2: right, y: sizes.axis - 0.5 },
    flag: { height: sizes.axis - 10, textY: sizes.axis - 12 },
  };
}

/** Where the family revocations happened: alarming lines across every lane. */
function familyLineXs(state, scale) {
  const xs = [];
  for (const m of state.server) if (m.kind === 'revoked' && m.cause === 'family') xs.push(scale.x(m.tUs));
  return xs;
}

/** The verdict card, the live/done pill and the timeline's state hook. */
function verdictModel(state) {
  const view = verdictView(state);
  const status = state.status === 'idle' ? 'running' : state.status;
  return {
    ...view,
    status,
    pill: { running: 'live', done: 'done', error: 'failed', aborted: 'cancelled', abandoned: 'abandoned' }[status] ?? status,
    familyRevoked: state.familyRevoked,
  };
}

/** The case's setup in words: the login's token and the lab clock jump. */
function setupNote(state) {
  const parts = [];
  const login = [];
  for (const m of state.server) {
    // The login's tokens (an access token, and in OAuth mode a refresh
    // token): issued outside any client attempt of the run.
    if (m.kind === 'issued' && (m.attempt == null || !state.attempts.has(m.attempt))) {
      if (!login.length) parts.push(login);
      login.push(m.jti);
    } else if (m.kind === 'clock_advanced') parts.push(`lab clock +${((m.byMs ?? 0) / 1000).toFixed(0)} s`);
  }
  const at = parts.indexOf(login);
  if (at >= 0) parts[at] = `login → ${login.join(' + ')}`;
  if (state.settings && state.settings.case === 'guest') parts.unshift('no token');
  return parts.length ? `setup: ${parts.join(', ')}` : '';
}
