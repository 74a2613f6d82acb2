// The room as one, on a page: on an attendee's page, the seat's number, the
// banner that says what the instructor pushed (and when the room closed),
// and the push itself opened as a link; on the instructor's page, the
// results panel (room-results-view.js). What each event means is decided in
// lib/room.js.
//
// A pushed setup is opened as any link: the page's address gets its
// fragment and the page's own link handling (app.js) fills the controls and
// runs it with this seat's lab; a module the learner has in the editor is
// not touched (a pushed setup carries none). A pushed step opens the
// lesson panel at that step (`onStep`).

import { h } from './dom.js';
import { SEEN_KEY, initialSeat, onRoomEvent, onDisconnect, seatLabel, bannerText } from './lib/room.js';
import { mountRoomResults } from './room-results-view.js';

function readKept(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function keep(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // no storage here: the page may open the push again after a reload
  }
}

/** Resolves once the page has loaded its options and opened its own link. */
function pageReady() {
  if (document.body.getAttribute('data-ready') === 'true') return Promise.resolve();
  return new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (document.body.getAttribute('data-ready') !== 'true') return;
      observer.disconnect();
      resolve();
    });
    observer.observe(document.body, { attributes: true, attributeFilter: ['data-ready'] });
  });
}

/** The attendee's side: the seat badge, the banner, the room's stream. */
function mountSeat({ onStep, onProgress }) {
  const badge = h('output', { class: 'room-seat', 'data-room-seat': '', 'aria-live': 'polite' });
  const tools = document.querySelector('.masthead-tools') || document.querySelector('.masthead');
  if (tools) tools.prepend(badge);
  const text = h('span', { class: 'room-banner-text', 'data-room-banner-text': '' });
  const dismiss = h('button', { type: 'button', class: 'room-banner-close', 'data-action': 'dismiss-room-banner', 'aria-label': 'Hide this message' }, '✕');
  const banner = h('div', { class: 'room-banner', 'data-room-banner': '', role: 'status', hidden: true }, text, dismiss);
  const masthead = document.querySelector('.masthead');
  if (masthead) masthead.after(banner);
  else document.body.prepend(banner);

  let state = initialSeat(readKept(SEEN_KEY));
  let shown = null; // the push the banner is about
  let dismissed = false;
  const paint = () => {
    badge.textContent = seatLabel(state);
    badge.hidden = !state.seat;
    if (state.seat) badge.setAttribute('data-seat', String(state.seat));
    const sentence = bannerText(state, shown);
    text.textContent = sentence;
    banner.hidden = !sentence || (dismissed && !state.closed && state.connected);
    banner.setAttribute('data-state', state.closed ? 'closed' : state.connected ? 'pushed' : 'reconnecting');
    document.body.toggleAttribute('data-room-closed', state.closed);
  };
  dismiss.addEventListener('click', () => {
    dismissed = true;
    paint();
  });

  const open = async (push) => {
    await pageReady();
    if (push.setup) window.location.hash = push.setup; // app.js opens it as a link
    if (push.step && onStep) onStep(push.step);
  };

  const source = new EventSource('lab/room/events');
  source.addEventListener('room', (event) => {
    let data = null;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    const result = onRoomEvent(state, 'room', data);
    state = result.state;
    if (result.open) {
      keep(SEEN_KEY, JSON.stringify(state.seen));
      shown = result.open;
      dismissed = false;
      open(result.open);
    }
    paint();
  });
  source.addEventListener('closed', () => {
    state = onRoomEvent(state, 'closed', null).state;
    source.close();
    paint();
  });
  source.addEventListener('error', () => {
    state = onDisconnect(state);
    paint();
  });

  // The lesson's progress, for the instructor's results.
  if (onProgress) {
    onProgress((steps) => {
      if (state.closed) return;
      fetch('lab/room/progress', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ steps }),
      }).catch(() => {});
    });
  }
  paint();
  return { state: () => state };
}

/**
 * Starts the room's part of this page: asks the lab whose page this is,
 * then mounts the attendee's side or the instructor's.
 * `setup()`: the settings of the run on screen (null without one), for a push.
 * `onStep(id)`: open the lesson at a step. `onProgress(listener)`: calls
 * `listener(stepIds)` whenever the lesson's progress changes.
 */
export async function mountRoom({ setup, linkBounds, onStep, onProgress, showError } = {}) {
  let status = 0;
  let body = null;
  try {
    const response = await fetch('lab/classroom/status', { headers: { accept: 'application/json' } });
    status = response.status;
    body = await response.json();
  } catch {
    return null;
  }
  if (status !== 200 || !body) return null;
  if (body.role === 'attendee') return mountSeat({ onStep, onProgress });
  if (body.role === 'instructor') return mountRoomResults({ setup, linkBounds, showError });
  return null;
}
