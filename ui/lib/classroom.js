// Classroom mode, as the instructor's page sees it: who this page is (the
// instructor's, or an attendee's in the room), the open room read from
// GET /lab/classroom, the roster's rows, the join URL. No DOM: tested with
// `node --test` (tests/ui-unit/classroom.test.mjs); classroom-panel.js
// paints it.
//
// Who this page is comes from GET /lab/classroom/status, which always
// answers 200 (a failed request on every load would be an error in the
// page's console): `{"role":"instructor","open":…}` on the lab's own
// loopback address, `{"role":"attendee","seat":N}` on the room's address.
// GET /lab/classroom is the open room and its roster (the instructor's:
// 404 when none is open, 403 on the room's address); POST
// /lab/classroom/open opens one on the machine's room-facing address, POST
// /lab/classroom/close closes it, POST /lab/classroom/seats/N/remove frees
// a seat.

/** How often the roster is read while the panel is open. */
export const ROSTER_POLL_MS = 3000;

/**
 * What an answer of GET /lab/classroom/status says about this page:
 * `open` (the instructor's page; a room is open), `closed` (the
 * instructor's page; none yet), `attendee` (the room's page: no share
 * button) or `unavailable` (no answer, or one we do not know: an engine
 * without classroom mode).
 */
export function phaseFromProbe(status, body) {
  if (status === 401 || status === 403) return 'attendee';
  if (status !== 200 || !body || typeof body !== 'object') return 'unavailable';
  if (body.role === 'attendee') return 'attendee';
  if (body.role === 'instructor') return body.open === true ? 'open' : 'closed';
  return 'unavailable';
}

/** What an answer of GET /lab/classroom (the roster) says. */
export function phaseFromStatus(status) {
  if (status === 200) return 'open';
  if (status === 404) return 'closed';
  if (status === 401 || status === 403) return 'attendee';
  return 'unavailable';
}

/**
 * The panel's `data-state`: the phase, except `reading` while a room is
 * open but not read yet (so `open` means the room is on screen).
 */
export function panelState(state) {
  return state.phase === 'open' && !state.room ? 'reading' : state.phase;
}

/** The page may offer "Share with the room" (it is the instructor's). */
export function canShare(phase) {
  return phase === 'open' || phase === 'closed' || phase === 'opening' || phase === 'failed';
}

const count = (value) => (Number.isInteger(value) && value >= 0 ? value : 0);

/**
 * The join URL's parts: `{ url, origin, host, port, code }`, or null when
 * it is not an http(s) URL of `/join` carrying a code.
 */
export function parseJoinUrl(text) {
  if (typeof text !== 'string') return null;
  let url;
  try {
    url = new URL(text.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.pathname !== '/join') return null;
  const code = url.searchParams.get('code');
  if (!code) return null;
  return {
    url: url.href,
    origin: url.origin,
    host: url.hostname,
    port: url.port ? Number(url.port) : (url.protocol === 'https:' ? 443 : 80),
    code,
  };
}

/** One seat of the lab's roster, checked; null when unreadable. */
export function seatFrom(raw) {
  if (!raw || typeof raw !== 'object') return null;
  if (!Number.isInteger(raw.number) || raw.number < 1) return null;
  return {
    number: raw.number,
    runsLive: count(raw.runs_live),
    runsDone: count(raw.runs_done),
    solved: Array.isArray(raw.solved) ? [...new Set(raw.solved.filter((id) => typeof id === 'string'))] : [],
  };
}

/**
 * The open room from GET /lab/classroom (or POST /lab/classroom/open),
 * checked: `{ code, joinUrl, qrSvg, limits, seats }` with seats in joining
 * order, or null when the answer is not a room.
 */
export function roomFrom(raw) {
  if (!raw || typeof raw !== 'object') return null;
  if (typeof raw.code !== 'string' || !raw.code) return null;
  const join = parseJoinUrl(raw.join_url);
  if (!join) return null;
  const limits = raw.limits && typeof raw.limits === 'object' ? raw.limits : {};
  const seats = (Array.isArray(raw.seats) ? raw.seats : []).map(seatFrom).filter(Boolean)
    .sort((a, b) => a.number - b.number);
  return {
    code: raw.code,
    joinUrl: join.url,
    qrSvg: typeof raw.qr_svg === 'string' ? raw.qr_svg : '',
    limits: {
      maxAttendees: count(limits.max_attendees),
      runsPerAttendee: count(limits.runs_per_attendee),
      requestsPerRun: count(limits.requests_per_run),
    },
    seats,
  };
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * A roster row: `{ number, label, runs, solved: [{id, title}], state }`.
 * `titles` maps challenge ids to their titles (from /lab/options); an id
 * it does not know is shown as it is. `state`: `running` (a run is live),
 * `active` (runs done, none live) or `new` (joined, nothing run yet).
 */
export function seatRow(seat, titles = new Map()) {
  const parts = [];
  if (seat.runsDone) parts.push(`${plural(seat.runsDone, 'run')} done`);
  if (seat.runsLive) parts.push(`${seat.runsLive} running`);
  if (!parts.length) parts.push('joined, no run yet');
  return {
    number: seat.number,
    label: `Seat ${seat.number}`,
    runs: parts.join(' · '),
    solved: seat.solved.map((id) => ({ id, title: titles.get(id) || id })),
    state: seat.runsLive ? 'running' : seat.runsDone ? 'active' : 'new',
  };
}

/** The line over the roster. */
export function rosterSummary(seats) {
  if (!seats.length) return 'Nobody has joined yet.';
  const done = seats.reduce((n, s) => n + s.runsDone, 0);
  const running = seats.filter((s) => s.runsLive).length;
  const solvers = seats.filter((s) => s.solved.length).length;
  const parts = [`${plural(seats.length, 'attendee')}`, `${plural(done, 'run')} done`];
  if (running) parts.push(`${running} running now`);
  if (solvers) parts.push(`${solvers} solved a challenge`);
  return `${parts.join(' · ')}.`;
}

/**
 * The code in groups of five, as the room reads it off the screen (the
 * join form ignores the gaps and dashes people type between them).
 */
export function codeGroups(code) {
  const text = String(code || '');
  if (text.length <= 6) return text ? [text] : [];
  const groups = [];
  for (let at = 0; at < text.length; at += 5) groups.push(text.slice(at, at + 5));
  return groups;
}

/** What each attendee may use, in a sentence; '' when the lab did not say. */
export function limitsLine(limits) {
  if (!limits || !limits.runsPerAttendee || !limits.requestsPerRun) return '';
  const seats = limits.maxAttendees ? `; up to ${limits.maxAttendees} seats` : '';
  return `Each attendee has their own runs, lab clock and tokens: ${plural(limits.runsPerAttendee, 'run')} at a time, ${limits.requestsPerRun} requests a run${seats}.`;
}

/** The message for the page's error area when opening the room failed. */
export function openErrorMessage(status, body) {
  const said = body && typeof body.message === 'string' && body.message ? body.message : null;
  if (said) return `Could not open the lab to the room: ${said}`;
  if (!status) return 'Could not open the lab to the room: the lab did not answer.';
  return `Could not open the lab to the room (HTTP ${status}).`;
}

/**
 * The panel's state: `phase` (`unknown`, `attendee`, `unavailable`,
 * `closed`, `opening`, `open`, `failed`), whether it is `shown`, the
 * `room`, and whether opening was already `tried` since the panel was
 * shown (so a failure is not retried in a loop).
 */
export function initialState() {
  return { phase: 'unknown', shown: false, room: null, tried: false };
}

/** GET /lab/classroom/status answered `status` with `body` (parsed JSON or null). */
export function afterProbe(state, status, body) {
  const phase = phaseFromProbe(status, body);
  if (state.phase === 'opening') return state; // the POST's answer decides
  if (phase === 'open') return { ...state, phase };
  if (phase === 'closed') return { ...state, phase: state.phase === 'failed' ? 'failed' : 'closed', room: null };
  if (phase === 'unavailable' && state.room) return state; // keep showing the room through a blip
  return { ...state, phase, room: null };
}

/** GET /lab/classroom (the open room and its roster) answered. */
export function afterRoster(state, status, body) {
  if (state.phase === 'opening') return state;
  const phase = phaseFromStatus(status);
  if (phase === 'open') {
    const room = roomFrom(body);
    if (room) return { ...state, phase: 'open', room };
    return { ...state, phase: state.room ? 'open' : 'unavailable' };
  }
  if (phase === 'closed') return { ...state, phase: 'closed', room: null };
  if (phase === 'unavailable' && state.room) return state;
  return { ...state, phase, room: null };
}

/** POST /lab/classroom/open answered. */
export function afterOpen(state, status, body) {
  const room = status === 200 ? roomFrom(body) : null;
  if (room) return { ...state, phase: 'open', room };
  return { ...state, phase: 'failed' };
}

/**
 * POST /lab/classroom/close answered (the room's port is closed): nothing
 * on screen, and not opened again by itself while the panel stays shown.
 */
export function afterClose(state) {
  return { ...state, phase: 'closed', room: null, tried: true };
}

/**
 * The share button was pressed (or Escape, or the close button). Showing
 * the panel again after a failure tries again.
 */
export function toggle(state, shown = !state.shown) {
  if (!shown) return { ...state, shown: false };
  return { ...state, shown: true, tried: false, phase: state.phase === 'failed' ? 'closed' : state.phase };
}

/** POST /lab/classroom/open is on its way (once per showing, or "Try again"). */
export function startOpening(state) {
  return { ...state, phase: 'opening', tried: true };
}

/**
 * What the panel does next: `open` (POST /lab/classroom/open: shown, no
 * room open, not tried since shown), `read` (GET /lab/classroom now: shown,
 * a room is open but not read yet), `poll` (read it again after
 * ROSTER_POLL_MS) or `none`.
 */
export function nextStep(state) {
  if (!state.shown) return 'none';
  if (state.phase === 'closed' && !state.tried) return 'open';
  if (state.phase === 'open') return state.room ? 'poll' : 'read';
  return 'none';
}

// The QR code comes from the lab as SVG text. The page draws it from a
// parsed copy that keeps only these elements and attributes (no script,
// no event handler, no link, no style: the page's CSP would refuse those
// anyway).

/** Elements the QR code's SVG may keep. */
export const QR_ELEMENTS = new Set(['svg', 'g', 'rect', 'path']);

const QR_ATTRIBUTES = new Set(['viewBox', 'x', 'y', 'width', 'height', 'd', 'fill', 'shape-rendering', 'transform']);

/** Whether an attribute of the QR code's SVG is kept. */
export function qrAttributeAllowed(name, value) {
  if (!QR_ATTRIBUTES.has(name)) return false;
  const text = String(value);
  return !/[<>"'`]|url\(|javascript:/i.test(text);
}

/**
 * The viewBox to draw the QR code in: its own, else `0 0 width height`,
 * else null.
 */
export function qrViewBox({ viewBox, width, height }) {
  if (typeof viewBox === 'string' && /^\s*[-\d.]+(\s+[-\d.]+){3}\s*$/.test(viewBox)) return viewBox.trim();
  const w = Number.parseFloat(width);
  const hgt = Number.parseFloat(height);
  if (w > 0 && hgt > 0) return `0 0 ${w} ${hgt}`;
  return null;
}
