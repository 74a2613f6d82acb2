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

import { createScale, formatTick, niceStep } from './scale.js';
import { visibleRange, mergeMarkers, fitLabels, textWidth, placeRow } from './layout.js';
import { laneGroups, laneOutcome, verdictView, attemptRevoked, storeDeaths, isHeld, captionAt } from './reducer.js';
import { tokenColor, tokenKind, statusClass, statusColor } from './colors.js';
import { attemptLabels, formatUs, logoutReason, eventText } from './format.js';
import { heldBarLabels } from './network.js';

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

/** The server lane stacks three kinds of markers, one sub-row each. */
export const SERVER_ROWS = ['tokens', 'revoked', 'rejected'];

const CHIP_W = 30;
const MAX_CHIPS = 5;
const FAMILY_TEXT = '⚠ FAMILY REVOKED';
/** Same-time client markers: the token is stored, then dies, then the tab logs out. */
const KIND_ORDER = { stored: 0, death: 1, logout: 2 };
/** Where a server marker's label starts, right of its symbol. */
const TEXT_OFFSET = { issued: 36, rotated: 12, revoked: 10, rejected: 12 };

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

/** The request rows inside the scroll viewport (plus a few), and the scroll area's size. */
function requestLanesModel(state, frame, { selectedJti = null, scrollTop = 0, viewportHeight = 0 } = {}) {
  const { requests } = laneGroups(state);
  const rowHeight = frame.sizes.row;
  const total = requests.length * rowHeight;
  const { first, end } = visibleRange({
    rowCount: requests.length,
    rowHeight,
    scrollTop,
    viewportHeight: viewportHeight || Math.min(total, 600),
    overscan: 4,
  });
  const { tabs } = laneGroups(state);
  const rows = [];
  for (let i = first; i < end; i++) rows.push(requestRow(state, requests[i], i, frame, selectedJti, tabs[i]));
  return { total, first, end, top: first * rowHeight, height: Math.max(0, (end - first) * rowHeight), rowHeight, rows };
}

/**
 * One request lane: its waits, one bar per attempt, and how it ended. With
 * several tabs, `group` says the row's tab; the first row of a tab carries
 * the tab's heading (a rule across the row and "tab N" on the right).
 */
function requestRow(state, name, index, frame, selectedJti = null, group = { tab: 1, opens: false, shaded: false }) {
  const { sizes, scale, endForPending } = frame;
  const lane = state.lanes.get(name);
  const barY = (sizes.row - sizes.bar) / 2;
  const mid = sizes.row / 2;
  const waits = lane.queued.map((wait) => {
    const x = scale.x(wait.startUs);
    const w = Math.max(2, scale.x(wait.endUs ?? endForPending) - x);
    let label = null;
    if (w > textWidth('waiting for refresh', sizes.font) + 10) label = { x: x + 6, y: mid, text: 'waiting for refresh' };
    else if (w > textWidth('wait', sizes.font) + 8) label = { x: x + 4, y: mid, text: 'wait' };
    return {
      lane: name,
      x,
      y: barY + 3,
      width: w,
      height: sizes.bar - 6,
      label,
      title: `${name} waits for someone else's refresh (${formatUs(wait.startUs)} → ${wait.endUs == null ? 'now' : formatUs(wait.endUs)})`,
    };
  });
  return {
    name,
    index,
    outcome: laneOutcome(lane),
    odd: index % 2 === 1,
    width: frame.rowWidth,
    height: sizes.row,
    label: { x: 12, y: mid, text: name },
    tab: group.tab,
    tabShaded: group.shaded,
    tabHeading: group.opens ? { x: frame.rowWidth - 8, y: 9, text: `tab ${group.tab}` } : null,
    waits,
    bars: lane.attempts.map((attempt) => bar(state, attempt, barY, frame, selectedJti)),
    done: lane.done ? { x: scale.x(lane.done.tUs) + 8, y: mid, ok: lane.done.ok, text: lane.done.ok ? '✔' : '✖', ...fateNote(laneFate(lane)) } : null,
  };
}

/**
 * How a finished lane's request ended, for what a client (a library above
 * all) did with its failure: `passed` — its one request failed and the
 * client handed that answer to the caller, no refresh, no wait, no retry
 * on this lane (axios-auth-refresh 5 does this with a 401 that lands while
 * another request's refresh is out); `waited` — it waited for someone
 * else's refresh (`queued`); `refreshed` — it refreshed itself; `answered`
 * — its first answer was its last and it was ok. Null while it runs.
 */
export function laneFate(lane) {
  if (!lane || !lane.done) return null;
  if (lane.queued.length > 0) return 'waited';
  if (lane.attempts.some((a) => a.kind === 'refresh')) return 'refreshed';
  const only = lane.attempts.length === 1 ? lane.attempts[0] : null;
  if (!lane.done.ok && only && only.kind === 'request' && only.status === lane.done.status) return 'passed';
  return 'answered';
}

/** The words beside a lane's ✖ when the client passed its failure on. */
function fateNote(fate) {
  return fate === 'passed'
    ? { fate, note: 'passed to the caller', title: 'The client handed this answer to the caller: no refresh, no wait, no retry for this request' }
    : { fate };
}

/**
 * One HTTP attempt: a bar (a pill for a refresh) in its status colour,
 * striped while in flight, with the token it carried (a chip when there is
 * room, a stripe otherwise), a refresh's new token, the longest label that
 * fits, and a dashed outline when the token was already revoked.
 */
function bar(state, attempt, barY, { sizes, scale, endForPending, held, cursorAttempt }, selectedJti = null) {
  const pending = attempt.status === 'pending';
  const leg = pending ? (held.byAttempt.get(attempt.id) ?? held.byLane.get(attempt.lane) ?? null) : null;
  const cls = statusClass(attempt.status);
  const x = scale.x(attempt.startUs);
  const width = Math.max(4, scale.x(attempt.endUs ?? endForPending) - x);
  const refresh = attempt.kind === 'refresh';
  const y = refresh ? barY + 1 : barY;
  const height = refresh ? sizes.bar - 2 : sizes.bar;
  const revoked = attemptRevoked(state, attempt);
  const out = {
    kind: attempt.kind,
    status: pending ? 'pending' : String(attempt.status),
    statusClass: cls,
    lane: attempt.lane,
    jti: attempt.jti ?? null,
    attempt: attempt.id,
    revoked,
    selected: attempt.jti != null && attempt.jti === selectedJti,
    // Waiting in the held network for someone to deliver it: which way it travels, and its leg.
    held: leg ? leg.direction : null,
    leg: leg ? leg.id : null,
    atCursor: cursorAttempt != null && attempt.id === cursorAttempt,
    x,
    y,
    width,
    height,
    rx: refresh ? height / 2 : 4,
    fill: pending ? null : statusColor(attempt.status),
    pattern: pending ? 'pending' : null,
    outline: revoked ? { x: x - 3, y: y - 3, width: width + 6, height: height + 6, rx: refresh ? height / 2 + 3 : 6 } : null,
    chip: null,
    stripe: null,
    newChip: null,
    label: null,
    title: '',
  };
  let textX = x + 8;
  if (width >= CHIP_W + 10) {
    const cx = x + (refresh ? height / 2 - 2 : 3);
    out.chip = chip(attempt.jti, cx, y + 3, height - 6, { struck: !!revoked, text: attempt.jti ?? '—' });
    textX = cx + CHIP_W + 6;
  } else {
    out.stripe = { x, y: y + height - 5, width, height: 5, color: tokenColor(attempt.jti) };
  }
  // A successful refresh ends with the new token's chip.
  let rightReserve = 0;
  if (refresh && attempt.newJti && width >= 2 * CHIP_W + 24) {
    out.newChip = chip(attempt.newJti, x + width - CHIP_W - height / 2 + 2, y + 3, height - 6);
    rightReserve = CHIP_W + height / 2;
  }
  const room = x + width - textX - 6 - rightReserve;
  const labels = leg ? [...heldBarLabels(leg), ...attemptLabels(attempt)] : attemptLabels(attempt);
  const text = labels.find((t) => textWidth(t, sizes.font) <= room);
  if (text) out.label = { x: textX, y: y + height / 2, text, cls };
  const reason = attempt.reason || attempt.serverReason;
  out.title = [
    `${attempt.lane} · ${attempt.kind} ${attempt.route ?? ''}`,
    `token ${attempt.jti ?? 'none'}${attempt.newJti ? ` → ${attempt.newJti}` : ''}`,
    `status ${pending ? 'in flight' : attempt.status}${reason ? ` (${reason})` : ''}`,
    leg ? `held in the network: deliver ${leg.id} from the tray` : null,
    revoked === 'family' ? `${attempt.jti} was already dead: reuse detection revoked its whole family` : null,
    revoked === 'rotation' ? `${attempt.jti} was already revoked: a refresh rotated it away` : null,
    `${formatUs(attempt.startUs)} → ${attempt.endUs == null ? 'now' : formatUs(attempt.endUs)}`,
  ].filter(Boolean).join('\n');
  return out;
}

/** A token chip: a box in the token's colour with its name; struck through once revoked. */
function chip(jti, x, y, height, { struck = false, text = jti } = {}) {
  const mid = y + height / 2;
  return {
    jti,
    x,
    y,
    width: CHIP_W,
    height,
    color: tokenColor(jti),
    // A refresh token (OAuth mode) is drawn apart from access tokens.
    kind: tokenKind(jti),
    text,
    textX: x + CHIP_W / 2,
    textY: mid,
    strike: struck ? `M${x - 2} ${mid + 0.5} L${x + CHIP_W + 2} ${mid + 0.5}` : null,
  };
}

/** Chips side by side from `x`, centred on `mid`, with a "+N" past MAX_CHIPS. */
function chipStrip(jtis, x, mid, height, { struck = false } = {}) {
  const chips = jtis.slice(0, MAX_CHIPS).map((jti, i) => chip(jti, x + i * (CHIP_W + 3), mid - height / 2, height, { struck }));
  const more = jtis.length > MAX_CHIPS ? { x: x + MAX_CHIPS * (CHIP_W + 3) + 2, y: mid, text: `+${jtis.length - MAX_CHIPS}` } : null;
  return { chips, more };
}

/** Width of a strip of chips (a "+N" takes the room of one more chip). */
function stripWidth(jtis) {
  const shown = Math.min(jtis.length, MAX_CHIPS) + (jtis.length > MAX_CHIPS ? 1 : 0);
  return Math.max(1, shown) * (CHIP_W + 3);
}

/** The distinct tokens of merged markers, in order. */
function distinctJtis(items) {
  // A store that holds an OAuth refresh token beside the access token shows both.
  return [...new Set(items.flatMap((i) => [i.jti, i.refresh]).filter((j) => j != null))];
}

/** The pinned rows under the request lanes: the token store, then the server. */
function pinnedModel(state, frame, { selectedJti = null } = {}) {
  const { sizes } = frame;
  let y = 0;
  const rows = [];
  for (const name of laneGroups(state).pinned) {
    const height = name === 'server' ? sizes.server * SERVER_ROWS.length + 8 : sizes.client;
    rows.push(name === 'server' ? serverRow(state, frame, y, height) : clientRow(state, frame, y, height, selectedJti));
    y += height;
  }
  return { width: frame.width, height: y, rows };
}

/**
 * The token store: each token stored (close ones share a strip of chips),
 * the moment a held token died with its family, and each logout. One row of
 * boxes in time order; a box that would run into the one before it moves
 * right, its tick stays at its time.
 */
function clientRow(state, { sizes, scale, rowWidth }, y, height) {
  const mid = height / 2;
  const at = (m) => scale.x(m.tUs);
  const stored = mergeMarkers(state.client.filter((m) => m.kind === 'token_stored'), { x: at, key: () => 'stored', px: 40 });
  const logouts = mergeMarkers(state.client.filter((m) => m.kind === 'logged_out'), { x: at, key: () => 'logged_out', px: 60 });
  const deaths = mergeMarkers(storeDeaths(state), { x: at, key: () => 'death', px: 40 });
  const skullW = textWidth('☠', sizes.big, 1);
  const items = [
    ...stored.map((m) => {
      const jtis = distinctJtis(m.items);
      return { kind: 'stored', m, jtis, x: m.x + 3, width: stripWidth(jtis) };
    }),
    ...deaths.map((m) => {
      const jtis = distinctJtis(m.items);
      return { kind: 'death', m, jtis, x: m.x + 3, width: skullW + stripWidth(jtis) + textWidth('revoked', sizes.font) + 22 };
    }),
    ...logouts.map((m) => {
      const text = `LOGGED OUT${m.count > 1 ? ` ×${m.count}` : ''}`;
      return { kind: 'logout', m, text, x: m.x + 3, width: textWidth(text, sizes.big, 0.78) + 16 };
    }),
  ].sort((p, q) => p.m.first.tUs - q.m.first.tUs || KIND_ORDER[p.kind] - KIND_ORDER[q.kind]);
  // A box near the end of the axis (a late logout) moves left of its tick rather than off the row.
  const placed = placeRow(items, { gap: 6, end: rowWidth - 4 });
  items.forEach((it, i) => { it.x = placed[i]; });
  const markers = items.map((it, i) => {
    const next = items[i + 1];
    const room = (next ? next.x - 6 : rowWidth) - (it.x + it.width);
    const tickX = it.m.x;
    const first = it.m.first;
    if (it.kind === 'stored') {
      const last = it.m.items[it.m.items.length - 1].jti;
      return {
        kind: 'stored',
        tick: { x: tickX, y1: 4, y2: height - 4, color: tokenColor(last) },
        x: it.x,
        width: it.width,
        strip: chipStrip(it.jtis, it.x, mid, sizes.bar - 4),
        text: room >= textWidth('stored', sizes.font) + 5 ? { x: it.x + it.width + 5, y: mid, text: 'stored' } : null,
        title: it.jtis.length > 1
          ? `the token store was overwritten ${it.m.count} times: ${it.m.items.map((s) => s.jti).join(', ')}; it keeps ${last}`
          : `the tab's token store now holds ${last}${it.m.items[it.m.items.length - 1].refresh ? ` and the refresh token ${it.m.items[it.m.items.length - 1].refresh}` : ''}`,
      };
    }
    if (it.kind === 'death') {
      const chipsX = it.x + 8 + skullW;
      const names = it.jtis.join(', ');
      return {
        kind: 'death',
        jti: it.jtis.join(' '),
        tick: { x: tickX, y1: 2, y2: height - 2 },
        x: it.x,
        width: it.width,
        box: { x: it.x, y: mid - sizes.bar / 2, width: it.width, height: sizes.bar },
        skull: { x: it.x + 6, y: mid },
        strip: chipStrip(it.jtis, chipsX, mid, sizes.bar - 8, { struck: true }),
        text: { x: chipsX + stripWidth(it.jtis) + 3, y: mid, text: 'revoked' },
        title: first.storedUs > first.revokedUs
          ? `${names} was stored at ${formatUs(first.storedUs)}, but reuse detection had revoked its whole family at ${formatUs(first.revokedUs)}: the tab holds a dead token`
          : `${names}, the token this tab holds, was revoked with its whole family at ${formatUs(first.revokedUs)}: every request with it now fails`,
      };
    }
    return {
      kind: 'logout',
      jti: first.jti,
      reason: first.reason,
      tick: { x: tickX, y1: 2, y2: height - 2 },
      x: it.x,
      width: it.width,
      box: { x: it.x, y: mid - sizes.bar / 2, width: it.width, height: sizes.bar },
      text: { x: it.x + 8, y: mid, text: it.text },
      title: `logged out: ${logoutReason(first)}${it.m.count > 1 ? ` (${it.m.count} times)` : ''}`,
    };
  });
  return { name: 'client', y, height, width: rowWidth, label: { x: 12, y: mid, text: 'token store' }, markers };
}

/**
 * The server: tokens issued (a rotation is told on the new token's marker,
 * "replaces t1"), revocations (a family revocation is one alarming box
 * naming every token it killed) and refusals, each on its own sub-row.
 * Markers never overlap; each label takes the longest wording that fits.
 */
function serverRow(state, { sizes, scale, rowWidth }, y, height) {
  const issued = new Set();
  const rotatedFrom = new Map();
  for (const m of state.server) {
    if (m.kind === 'issued') issued.add(m.jti);
    if (m.kind === 'rotated' && m.newJti) rotatedFrom.set(m.newJti, m.jti);
  }
  const byRow = { tokens: [], revoked: [], rejected: [] };
  for (const m of state.server) {
    // (clock jumps are told in the header's setup note; acceptances by the bars)
    if (m.kind === 'issued' || (m.kind === 'rotated' && !issued.has(m.newJti))) byRow.tokens.push(m);
    else if (m.kind === 'revoked') byRow.revoked.push(m);
    else if (m.kind === 'rejected') byRow.rejected.push(m);
  }
  const markers = [];
  SERVER_ROWS.forEach((rowName, i) => {
    const mid = 4 + sizes.server * (i + 0.5);
    const merged = mergeMarkers(byRow[rowName], {
      x: (m) => scale.x(m.tUs),
      // A family revocation is one event that kills several tokens: merged by cause.
      key: (m) => (m.kind === 'issued' ? 'issued' : m.kind === 'revoked' ? `revoked:${m.cause}` : `${m.kind}:${m.jti}:${m.reason}:${m.cause}:${m.route}`),
      px: 40,
    });
    const items = merged.map((m) => {
      const kind = m.first.kind;
      const family = kind === 'revoked' && m.first.cause === 'family';
      const variants = serverTexts(m, rotatedFrom);
      const offset = kind === 'issued' ? stripWidth(distinctJtis(m.items)) + 4 : (TEXT_OFFSET[kind] ?? 10);
      // How much room the symbol takes (a refusal's dot is centred on its x).
      const width = family ? familyBoxWidth(m, sizes) : kind === 'rejected' ? sizes.server - 8 : offset;
      return { m, variants, x: m.x, width, offset, widths: variants.map((t) => textWidth(t, sizes.font)) };
    });
    // The family box is always shown whole; other labels shrink or go.
    const placed = placeRow(items, { gap: 6 });
    items.forEach((it, k) => {
      it.x = placed[k];
      it.textX = it.x + it.offset;
    });
    const chosen = fitLabels(items, { gap: 8, end: rowWidth });
    items.forEach((it, k) => markers.push(serverMarker(it, it.variants[chosen[k]] ?? null, mid, sizes)));
  });
  return {
    name: 'server',
    y,
    height,
    width: rowWidth,
    label: { x: 12, y: sizes.server * 0.5 + 4, text: 'server' },
    subLabels: SERVER_ROWS.slice(1).map((text, i) => ({ x: 24, y: 4 + sizes.server * (i + 1.5), text })),
    markers,
  };
}

function familyBoxWidth(m, sizes) {
  return textWidth(FAMILY_TEXT, sizes.big, 0.75) + 22 + stripWidth(distinctJtis(m.items)) + 6;
}

/** One (merged) server marker at `it.x`; `shown` is the label that fits, or null. */
function serverMarker(it, shown, mid, sizes) {
  const { m, x, textX } = it;
  const first = m.first;
  const half = sizes.server / 2 - 3;
  const text = it.variants[0];
  const out = {
    kind: first.kind,
    cause: first.cause,
    jti: first.jti,
    count: m.count,
    x,
    mid,
    label: shown ? { x: textX, y: mid, text: shown } : null,
    title: `${text} at ${formatUs(first.tUs)}`,
  };
  switch (first.kind) {
    case 'issued':
      out.jti = null; // the chips name the tokens, each clickable
      out.strip = chipStrip(distinctJtis(m.items), x - 2, mid, half * 2);
      break;
    case 'rotated':
      out.jti = first.newJti ?? first.jti ?? '';
      out.arrow = { d: `M${x} ${mid - half} L${x + 8} ${mid} L${x} ${mid + half} Z`, color: tokenColor(first.newJti) };
      break;
    case 'revoked': {
      const jtis = distinctJtis(m.items);
      out.jti = jtis.join(' ');
      if (first.cause === 'family') {
        // Alarming on purpose: every token of the login dies here, the fresh one too.
        out.label = null;
        out.familyBox = {
          x: x - 2,
          y: mid - half - 1,
          width: familyBoxWidth(m, sizes),
          height: half * 2 + 2,
          text: { x: x + 8, y: mid, text: FAMILY_TEXT },
          strip: chipStrip(jtis, x + 8 + textWidth(FAMILY_TEXT, sizes.big, 0.75) + 8, mid, half * 2 - 6, { struck: true }),
        };
        out.title = `${text} at ${formatUs(first.tUs)}: reuse detection revoked every token of the login, including the fresh one`;
      } else {
        out.cross = `M${x - 6} ${mid - 6} L${x + 6} ${mid + 6} M${x + 6} ${mid - 6} L${x - 6} ${mid + 6}`;
      }
      break;
    }
    case 'rejected':
      out.dot = { cx: x, cy: mid, r: half - 2, refresh: first.route === '/api/refresh' };
      break;
    default:
      break;
  }
  return out;
}

/** Label wordings of a server marker, longest first. */
function serverTexts(m, rotatedFrom) {
  const first = m.first;
  const times = m.count > 1 ? ` ×${m.count}` : '';
  switch (first.kind) {
    case 'issued': {
      // The chips show how many; say what they replace.
      const old = rotatedFrom.get(first.jti);
      return old ? [`issued, replaces ${old}`, 'issued'] : ['issued'];
    }
    case 'rotated':
      return [`${first.jti} → ${first.newJti}${times}`];
    case 'revoked': {
      const jtis = distinctJtis(m.items);
      const names = jtis.length <= 3 ? jtis.join(', ') : `${jtis.length} tokens`;
      return first.cause === 'family'
        ? [`${FAMILY_TEXT}: ${names}`]
        : [`${names} revoked (rotated)`, `${names} revoked`, names];
    }
    case 'rejected': {
      const what = first.route === '/api/refresh' ? 'refresh ' : '';
      return [`${what}${first.jti ?? 'no token'} ${first.reason}${times}`, `${first.reason}${times}`, times.trim()].filter(Boolean);
    }
    default:
      return [`${first.kind}${times}`];
  }
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
