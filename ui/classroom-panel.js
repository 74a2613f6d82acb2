// "Share with the room": the instructor's classroom panel, a drawer over
// the page's right edge, opened on demand (so the verdict never moves).
//
// On load the page asks GET lab/classroom/status whose it is. On the
// instructor's page (loopback) the share button opens the panel: it shows
// the open room (GET lab/classroom) or opens one on the machine's
// room-facing address (POST lab/classroom/open, no body), then paints the
// join URL, the code in large type, the QR code and the roster, read again
// every few seconds while the panel is open. On an attendee's page (the
// room's address) the button stays hidden. What each answer means is
// decided in lib/classroom.js.

import { h } from './dom.js';
import { fetchOptions } from './transport.js';
import { challengesFromOptions } from './lib/challenges.js';
import {
  ROSTER_POLL_MS, initialState, panelState, afterProbe, afterRoster, afterOpen, afterClose, toggle, startOpening, nextStep, canShare,
  seatRow, rosterSummary, limitsLine, codeGroups, openErrorMessage, QR_ELEMENTS, qrAttributeAllowed, qrViewBox,
} from './lib/classroom.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** GETs or POSTs `url`; resolves `{ status, body }` (status 0: no answer). */
async function call(url, init = {}) {
  let response;
  try {
    response = await fetch(url, { ...init, headers: { accept: 'application/json', ...(init.headers || {}) } });
  } catch {
    return { status: 0, body: null };
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status says enough
  }
  return { status: response.status, body };
}

/**
 * The QR code's SVG text as a node for this document: parsed as
 * image/svg+xml, then copied element by element keeping only what a QR
 * code needs (lib/classroom.js), sized by CSS. Null when it is not an SVG.
 */
export function qrNode(svgText, label) {
  if (typeof svgText !== 'string' || !svgText) return null;
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const source = doc.documentElement;
  if (!source || source.localName !== 'svg' || source.namespaceURI !== SVG_NS) return null;
  if (doc.getElementsByTagName('parsererror').length) return null;
  const copy = (node) => {
    if (node.namespaceURI !== SVG_NS || !QR_ELEMENTS.has(node.localName)) return null;
    const out = document.createElementNS(SVG_NS, node.localName);
    for (const attr of node.attributes) {
      if (qrAttributeAllowed(attr.name, attr.value)) out.setAttribute(attr.name, attr.value);
    }
    for (const child of node.children) {
      const kept = copy(child);
      if (kept) out.append(kept);
    }
    return out;
  };
  const svg = copy(source);
  const viewBox = qrViewBox({
    viewBox: source.getAttribute('viewBox'),
    width: source.getAttribute('width'),
    height: source.getAttribute('height'),
  });
  if (!svg || !viewBox) return null;
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  svg.setAttribute('viewBox', viewBox);
  svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  return svg;
}

export class ClassroomPanel {
  /**
   * @param {object} o
   * @param {HTMLButtonElement} o.button  the share button (`data-action="share-room"`)
   * @param {HTMLElement} o.root          the drawer (`data-classroom`)
   * @param {(message: string) => void} o.showError   the page's error area
   * @param {() => void} [o.clearError]
   */
  constructor({ button, root, showError, clearError }) {
    this.button = button;
    this.root = root;
    this.showError = showError;
    this.clearError = clearError || (() => {});
    this.state = initialState();
    this.timer = null;
    this.inflight = false;
    this.lastError = null;
    this.paintedUrl = null;
    this.paintedRoster = null;
    this.titles = new Map();
    this.titlesLoaded = false;

    this.status = h('p', { class: 'classroom-status', 'data-classroom-status': '', 'aria-live': 'polite' });
    this.retry = h('button', { type: 'button', class: 'classroom-button', 'data-action': 'open-room', hidden: true }, 'Try again');
    this.qr = h('div', { class: 'room-qr', 'data-room-qr': '' });
    this.code = h('p', { class: 'room-code', 'data-room-code': '' });
    this.url = h('code', { class: 'room-url', 'data-join-url': '' });
    this.copyStatus = h('output', { class: 'copy-status', 'data-copy-status': '', 'aria-live': 'polite' });
    this.copyButton = h('button', { type: 'button', class: 'classroom-button', 'data-action': 'copy-join-url' }, 'Copy link');
    this.limits = h('p', { class: 'room-limits', 'data-room-limits': '' });
    this.closeRoom = h('button', { type: 'button', class: 'classroom-button', 'data-action': 'close-room' }, 'Close the room');
    this.share = h('div', { class: 'room-share', hidden: true },
      this.qr,
      h('div', { class: 'room-join' },
        h('p', { class: 'room-label' }, 'Code'),
        this.code,
        h('p', { class: 'room-label' }, 'Join link'),
        this.url,
        h('p', { class: 'room-copy' }, this.copyButton, ' ', this.copyStatus),
        h('p', { class: 'room-close' }, this.closeRoom)));
    this.summary = h('p', { class: 'roster-summary', 'data-roster-summary': '' });
    this.roster = h('ol', { class: 'roster', 'data-roster': '', 'aria-label': 'Attendees, in joining order' });
    this.rosterSection = h('section', { class: 'roster-section', 'aria-labelledby': 'roster-title', hidden: true },
      h('h3', { id: 'roster-title' }, 'Roster'),
      this.summary,
      this.roster);
    root.replaceChildren(
      h('header', { class: 'classroom-head' },
        h('h2', { id: 'classroom-title' }, 'Share with the room'),
        h('button', { type: 'button', class: 'rail-close', 'data-action': 'close-classroom', 'aria-label': 'Close the classroom panel' }, '✕')),
      h('p', { class: 'classroom-intro' }, 'Attendees open the link in a browser on the room’s network, or scan the QR code, or open the address and type the code. Nothing to install.'),
      h('p', { class: 'classroom-state' }, this.status, ' ', this.retry),
      this.share,
      this.limits,
      this.rosterSection,
    );

    button.addEventListener('click', () => this.setShown(!this.state.shown));
    root.addEventListener('click', (event) => {
      const target = event.target instanceof Element ? event.target.closest('[data-action]') : null;
      if (!target) return;
      const action = target.getAttribute('data-action');
      if (action === 'close-classroom') this.setShown(false, { focusButton: true });
      else if (action === 'open-room') this.open();
      else if (action === 'copy-join-url') this.copy();
      else if (action === 'close-room') this.close();
      else if (action === 'remove-seat') this.remove(target.getAttribute('data-seat-number'));
    });
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.state.shown) this.setShown(false, { focusButton: true });
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.state.shown && this.state.room) this.read();
    });
  }

  /** GET lab/classroom/status: is this the instructor's page, is a room open. */
  async probe() {
    if (this.inflight) return;
    this.stopPolling();
    this.inflight = true;
    const { status, body } = await call('lab/classroom/status');
    this.inflight = false;
    this.state = afterProbe(this.state, status, body);
    this.render();
    this.next();
  }

  setShown(shown, { focusButton = false } = {}) {
    this.state = toggle(this.state, shown);
    this.render();
    if (shown) {
      const target = this.state.room ? this.copyButton : this.root.querySelector('[data-action="close-classroom"]');
      if (target) target.focus();
      this.loadTitles();
      // A room on screen: its roster now. Else ask again: the room may
      // have been opened since the page loaded.
      if (this.state.room) this.read();
      else this.probe();
    } else {
      this.stopPolling();
      if (focusButton) this.button.focus();
    }
  }

  /** GET lab/classroom: the open room and its roster. */
  async read() {
    if (this.inflight) return;
    this.stopPolling();
    this.inflight = true;
    const { status, body } = await call('lab/classroom');
    this.inflight = false;
    this.state = afterRoster(this.state, status, body);
    this.render();
    this.next();
  }

  /** POST lab/classroom/open (no body: the machine's room-facing address). */
  async open() {
    if (this.state.phase === 'opening') return;
    this.stopPolling();
    this.state = startOpening(this.state);
    this.render();
    const { status, body } = await call('lab/classroom/open', { method: 'POST' });
    this.state = afterOpen(this.state, status, body);
    if (this.state.phase === 'open') {
      this.dropOwnError();
    } else {
      this.lastError = openErrorMessage(status, body);
      this.showError(this.lastError);
    }
    this.render();
    this.next();
  }

  /** POST lab/classroom/close: the room's port closes, every seat is gone. */
  async close() {
    this.stopPolling();
    const { status, body } = await call('lab/classroom/close', { method: 'POST' });
    if (status === 200) {
      this.state = afterClose(this.state);
    } else {
      this.showError(`Could not close the room: ${(body && body.message) || `HTTP ${status}`}`);
    }
    this.render();
    this.next();
  }

  /** POST lab/classroom/seats/N/remove, then the roster again. */
  async remove(number) {
    if (!/^\d+$/.test(number || '')) return;
    const { status, body } = await call(`lab/classroom/seats/${number}/remove`, { method: 'POST' });
    if (status !== 200) this.showError(`Could not remove seat ${number}: ${(body && body.message) || `HTTP ${status}`}`);
    this.read();
  }

  next() {
    const step = nextStep(this.state);
    if (step === 'open') this.open();
    else if (step === 'read') this.read();
    else if (step === 'poll') this.schedule();
  }

  schedule() {
    this.stopPolling();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (document.hidden) return; // visibilitychange reads it again
      this.read();
    }, ROSTER_POLL_MS);
  }

  stopPolling() {
    if (this.timer != null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Our own earlier message leaves the error area once the room is open. */
  dropOwnError() {
    const box = document.querySelector('[data-error]');
    if (this.lastError && box && !box.hidden && box.textContent === this.lastError) this.clearError();
    this.lastError = null;
  }

  /** Challenge titles for the roster (once; ids are shown until then). */
  async loadTitles() {
    if (this.titlesLoaded) return;
    this.titlesLoaded = true;
    try {
      const options = await fetchOptions();
      this.titles = new Map(challengesFromOptions(options.challenges).map((c) => [c.id, c.title]));
      this.paintedRoster = null;
      this.render();
    } catch {
      this.titlesLoaded = false;
    }
  }

  async copy() {
    const room = this.state.room;
    if (!room) return;
    try {
      await navigator.clipboard.writeText(room.joinUrl);
      this.copyStatus.textContent = 'Copied.';
    } catch {
      // No clipboard for this page: select the link so Ctrl+C copies it.
      const selection = window.getSelection();
      if (selection) selection.selectAllChildren(this.url);
      this.copyStatus.textContent = 'Selected: press Ctrl+C.';
    }
  }

  render() {
    const { phase, shown, room } = this.state;
    const share = canShare(phase);
    if (this.button.hidden === share) this.button.hidden = !share;
    this.button.setAttribute('aria-expanded', shown ? 'true' : 'false');
    this.button.setAttribute('data-room-open', phase === 'open' ? 'true' : 'false');
    this.root.hidden = !(shown && share);
    this.root.setAttribute('data-state', panelState(this.state));

    const closedAgain = phase === 'closed' && this.state.tried; // opened here, since closed
    const statusText = {
      unknown: 'Reading the classroom…',
      closed: closedAgain ? 'The lab is not open to the room.' : 'Opening the lab to the room…',
      opening: 'Opening the lab to the room…',
      open: room ? '● Open to the room' : 'Reading the room…',
      failed: 'The lab is not open to the room: the message at the top of the page says why.',
      unavailable: 'The lab did not answer.',
      attendee: '',
    }[phase] ?? '';
    if (this.status.textContent !== statusText) this.status.textContent = statusText;
    this.retry.hidden = !(phase === 'failed' || closedAgain);

    this.share.hidden = !room;
    this.rosterSection.hidden = !room;
    if (!room) {
      this.paintedUrl = null;
      return;
    }
    if (this.paintedUrl !== room.joinUrl) {
      this.paintedUrl = room.joinUrl;
      this.code.replaceChildren(...codeGroups(room.code).map((group) => h('span', { class: 'room-code-group' }, group)));
      this.url.textContent = room.joinUrl;
      this.url.setAttribute('data-join-url', room.joinUrl);
      this.copyStatus.textContent = '';
      const svg = qrNode(room.qrSvg, `QR code of the join link ${room.joinUrl}`);
      this.qr.replaceChildren(svg || h('p', { class: 'room-no-qr' }, 'No QR code: share the link or the code.'));
      this.limits.textContent = limitsLine(room.limits);
    }
    const rows = room.seats.map((seat) => ({ seat, row: seatRow(seat, this.titles) }));
    const json = JSON.stringify(rows);
    if (json === this.paintedRoster) return;
    this.paintedRoster = json;
    this.summary.textContent = rosterSummary(room.seats);
    this.roster.setAttribute('data-seats', String(room.seats.length));
    this.roster.replaceChildren(...rows.map(({ seat, row }) => h('li', {
      class: `seat seat-${row.state}`,
      'data-seat': String(row.number),
      'data-runs-live': String(seat.runsLive),
      'data-runs-done': String(seat.runsDone),
      'data-solved': seat.solved.join(' '),
    },
    h('span', { class: 'seat-label' }, row.label),
    h('span', { class: 'seat-runs' }, row.runs),
    h('button', { type: 'button', class: 'seat-remove', 'data-action': 'remove-seat', 'data-seat-number': String(row.number), 'aria-label': `Remove ${row.label}` }, 'Remove'),
    row.solved.length
      ? h('span', { class: 'seat-solved' }, ...row.solved.map((c) => h('span', { class: 'seat-challenge', 'data-challenge-solved': c.id }, `✓ ${c.title}`)))
      : null)));
  }
}

/**
 * Starts the panel on this page: finds the share button and the drawer,
 * asks the lab who this page is. `showError`/`clearError`: the page's
 * error area (app.js).
 */
export function startClassroom({ showError, clearError } = {}) {
  const button = document.querySelector('[data-action="share-room"]');
  const root = document.querySelector('[data-classroom]');
  if (!button || !root) return null;
  const fallbackError = (message) => {
    const box = document.querySelector('[data-error]');
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  };
  const panel = new ClassroomPanel({ button, root, showError: showError || fallbackError, clearError });
  panel.probe();
  return panel;
}
