// The timeline's request rows as plain data (lib/timeline-model.js puts
// them in the frame): one row per request lane, a bar per attempt with its
// status, tokens and labels, the lane's fate; and the token chips the
// pinned rows share. No DOM.

import { visibleRange, textWidth } from './layout.js';
import { laneGroups, laneOutcome, attemptRevoked } from './run-queries.js';
import { tokenColor, tokenKind, statusClass, statusColor } from './colors.js';
import { attemptLabels, formatUs } from './format.js';
import { heldBarLabels } from './network.js';

const CHIP_W = 30;
const MAX_CHIPS = 5;

/** The request rows inside the scroll viewport (plus a few), and the scroll area's size. */
export function requestLanesModel(state, frame, { selectedJti = null, scrollTop = 0, viewportHeight = 0 } = {}) {
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
export function chipStrip(jtis, x, mid, height, { struck = false } = {}) {
  const chips = jtis.slice(0, MAX_CHIPS).map((jti, i) => chip(jti, x + i * (CHIP_W + 3), mid - height / 2, height, { struck }));
  const more = jtis.length > MAX_CHIPS ? { x: x + MAX_CHIPS * (CHIP_W + 3) + 2, y: mid, text: `+${jtis.length - MAX_CHIPS}` } : null;
  return { chips, more };
}

/** Width of a strip of chips (a "+N" takes the room of one more chip). */
export function stripWidth(jtis) {
  const shown = Math.min(jtis.length, MAX_CHIPS) + (jtis.length > MAX_CHIPS ? 1 : 0);
  return Math.max(1, shown) * (CHIP_W + 3);
}

/** The distinct tokens of merged markers, in order. */
export function distinctJtis(items) {
  // A store that holds an OAuth refresh token beside the access token shows both.
  return [...new Set(items.flatMap((i) => [i.jti, i.refresh]).filter((j) => j != null))];
}
