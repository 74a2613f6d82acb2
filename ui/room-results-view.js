// The room's results, for the instructor to project: a panel over the whole
// page (large type; it follows presenter mode's theme and fits 1280×720)
// with the pushed setup, how many seats ran it and were logged out, the
// refresh calls of each seat's last run as a histogram, and every seat with
// the challenges and lesson steps it did. From it the instructor pushes the
// run on screen's setup or a lesson step to every seat, and closes the room.
//
// Its button appears in the masthead while a room is open (the classroom
// panel's share button says so with `data-room-open`). Results are read
// every RESULTS_POLL_MS while the panel is open; lib/room.js shapes them.

import { h } from './dom.js';
import { encodeLink } from './lib/link.js';
import { LESSON } from './lib/lesson.js';
import { RESULTS_POLL_MS, resultsFrom, headline, rowOutcome, pushErrorMessage, pushRefusal, pushSettings, stepNumber } from './lib/room.js';

async function call(url, init = {}) {
  try {
    const response = await fetch(url, { ...init, headers: { accept: 'application/json', ...(init.headers || {}) } });
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON
    }
    return { status: response.status, body };
  } catch {
    return { status: 0, body: null };
  }
}

export function mountRoomResults({ setup, linkBounds, showError }) {
  const shareButton = document.querySelector('[data-action="share-room"]');
  const button = h('button', { type: 'button', class: 'room-results-button', 'data-action': 'room-results', 'aria-expanded': 'false', 'aria-controls': 'room-results', hidden: true }, 'Room results');
  if (shareButton) shareButton.after(button);
  else (document.querySelector('.masthead-tools') || document.body).append(button);

  const title = h('h2', { id: 'room-results-title' }, 'The room');
  const pushButton = h('button', { type: 'button', class: 'room-action', 'data-action': 'push-to-room' }, 'Push this run\u2019s setup');
  const stepSelect = h('select', { class: 'room-step-select', 'data-control': 'push-step', 'aria-label': 'Lesson step to push' },
    ...LESSON.map((step, i) => h('option', { value: step.id }, `${i + 1}. ${step.title}`)));
  const stepButton = h('button', { type: 'button', class: 'room-action', 'data-action': 'push-step' }, 'Push step');
  const closeButton = h('button', { type: 'button', class: 'room-action room-close', 'data-action': 'close-room' }, 'Close the room');
  const note = h('p', { class: 'room-note', 'data-room-note': '', role: 'status' });
  const pushed = h('p', { class: 'room-pushed', 'data-room-pushed': '' });
  const head = h('p', { class: 'room-headline', 'data-room-headline': '' });
  const figures = h('dl', { class: 'room-figures' });
  const bars = h('ol', { class: 'room-histogram', 'data-room-histogram': '', 'aria-label': 'Refresh calls of each seat\u2019s last run' });
  const seats = h('ol', { class: 'room-seats', 'data-room-seat-list': '', 'aria-label': 'Seats' });
  const steps = h('ol', { class: 'room-steps', 'data-room-steps': '', 'aria-label': 'Lesson steps done' });
  const results = h('section', { class: 'room-results-body', 'data-room-results': '', 'aria-labelledby': 'room-results-title' },
    h('div', { class: 'room-columns' },
      h('div', {}, pushed, head, figures, h('h3', {}, 'Refresh calls'), bars),
      h('div', {}, h('h3', {}, 'Lesson steps'), steps)),
    h('h3', {}, 'Seats'), seats);
  const panel = h('aside', { class: 'room-results', id: 'room-results', role: 'dialog', 'aria-labelledby': 'room-results-title', hidden: true },
    h('header', { class: 'room-results-head' }, title,
      h('div', { class: 'room-actions' }, pushButton, stepSelect, stepButton, closeButton,
        h('button', { type: 'button', class: 'room-action', 'data-action': 'close-room-results', 'aria-label': 'Close the room results' }, '\u2715'))),
    note, results);
  document.body.append(panel);

  let timer = null;
  let painted = null;
  let closed = false; // closed from here: no more reads (each would be a 404)
  let inflight = null; // the read on its way, which closing waits for
  const setOpen = (open) => {
    panel.hidden = !open;
    if (open) closed = false;
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) read();
    else if (timer != null) {
      clearTimeout(timer);
      timer = null;
    }
  };

  async function read() {
    if (timer != null) clearTimeout(timer);
    timer = null;
    if (closed) return;
    inflight = call('lab/classroom/results');
    const { status, body } = await inflight;
    inflight = null;
    if (panel.hidden || closed) return;
    if (status === 200) paint(resultsFrom(body));
    else if (status === 404) note.textContent = 'The room is closed.';
    timer = setTimeout(() => {
      timer = null;
      if (!panel.hidden && !document.hidden) read();
    }, RESULTS_POLL_MS);
  }

  function paint(r) {
    const json = JSON.stringify(r);
    if (json === painted) return;
    painted = json;
    results.setAttribute('data-seats', String(r.seats));
    results.setAttribute('data-runs', String(r.ran));
    results.setAttribute('data-logged-out', String(r.loggedOut));
    results.setAttribute('data-version', String(r.version));
    pushed.textContent = r.push
      ? `Pushed: ${r.push.setup ? r.push.summary : ''}${r.push.setup && r.push.step ? ' · ' : ''}${r.push.step ? `lesson step ${stepNumber(r.push.step)}` : ''}`
      : 'Nothing pushed yet.';
    head.textContent = headline(r);
    const figure = (label, value, key) => h('div', { class: 'room-figure' }, h('dt', {}, label), h('dd', { 'data-figure': key }, String(value)));
    figures.replaceChildren(
      figure('seats', r.seats, 'seats'),
      figure('ran it', r.ran, 'ran'),
      figure('logged out', r.loggedOut, 'logged-out'),
      figure('runs', r.runs, 'runs'),
    );
    bars.replaceChildren(...(r.bars.length ? r.bars.map((b) => h('li', { class: 'room-bar', 'data-calls': String(b.calls), 'data-bar-seats': String(b.seats) },
      h('span', { class: 'room-bar-label' }, `${b.calls} ${b.calls === 1 ? 'call' : 'calls'}`),
      h('span', { class: 'room-bar-track' }, h('span', { class: 'room-bar-fill', style: { width: `${Math.round(b.share * 100)}%` } })),
      h('span', { class: 'room-bar-count' }, `${b.seats} ${b.seats === 1 ? 'seat' : 'seats'}`)))
      : [h('li', { class: 'room-empty' }, 'No runs of the pushed setup yet.')]));
    steps.replaceChildren(...r.steps.map((s) => h('li', { 'data-step': s.id, 'data-step-seats': String(s.seats.length) },
      h('span', { class: 'room-step-name' }, `${stepNumber(s.id)}. ${(LESSON.find((l) => l.id === s.id) || { title: s.id }).title}`),
      h('span', { class: 'room-step-count' }, String(s.seats.length)))));
    seats.replaceChildren(...r.rows.map((row) => h('li', {
      class: `room-seat-row ${row.runs ? (row.loggedOut ? 'is-out' : 'is-in') : 'is-idle'}`,
      'data-seat': String(row.number),
      'data-seat-runs': String(row.runs),
      'data-seat-logged-out': row.loggedOut == null ? '' : String(row.loggedOut),
      'data-seat-refresh-calls': row.refreshCalls == null ? '' : String(row.refreshCalls),
      'data-seat-steps': row.steps.join(' '),
      'data-seat-solved': row.solved.join(' '),
    },
    h('span', { class: 'room-seat-number' }, `Seat ${row.number}`),
    h('span', { class: 'room-seat-outcome' }, rowOutcome(row)),
    row.steps.length || row.solved.length
      ? h('span', { class: 'room-seat-done' }, `${row.steps.length} ${row.steps.length === 1 ? 'step' : 'steps'}, ${row.solved.length} ${row.solved.length === 1 ? 'challenge' : 'challenges'}`)
      : null)));
  }

  async function push(body) {
    const { status, body: answer } = await call('lab/classroom/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (status === 200) {
      note.textContent = `Pushed to every seat: ${answer.summary}.`;
      read();
    } else {
      note.textContent = pushErrorMessage(status, answer);
    }
  }

  pushButton.addEventListener('click', async () => {
    const settings = pushSettings(setup ? setup() : null);
    const bounds = linkBounds ? linkBounds() : null;
    const refusal = pushRefusal(settings) || (bounds ? null : 'The lab\u2019s options have not loaded yet.');
    if (refusal) {
      note.textContent = refusal;
      return;
    }
    const made = await encodeLink({ settings }, bounds);
    if (!made.ok) {
      note.textContent = made.message;
      return;
    }
    push({ setup: made.fragment });
  });
  stepButton.addEventListener('click', () => push({ step: stepSelect.value }));
  closeButton.addEventListener('click', async () => {
    closed = true;
    if (timer != null) clearTimeout(timer);
    timer = null;
    if (inflight) await inflight;
    const { status, body } = await call('lab/classroom/close', { method: 'POST' });
    if (status === 200) {
      note.textContent = 'The room is closed: every seat\u2019s page says so.';
      results.setAttribute('data-closed', 'true');
    } else if (showError) {
      closed = false;
      showError(`Could not close the room: ${(body && body.message) || `HTTP ${status}`}`);
    }
  });
  button.addEventListener('click', () => setOpen(panel.hidden));
  panel.querySelector('[data-action="close-room-results"]').addEventListener('click', () => setOpen(false));
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') setOpen(false);
    event.stopPropagation(); // the page's own keys (1–4, P, Space) stay off while the panel is open
  });

  // The button while a room is open.
  const sync = () => {
    const open = !!shareButton && shareButton.getAttribute('data-room-open') === 'true';
    button.hidden = !open;
  };
  if (shareButton) new MutationObserver(sync).observe(shareButton, { attributes: true, attributeFilter: ['data-room-open', 'hidden'] });
  sync();
  return { setOpen, read };
}
