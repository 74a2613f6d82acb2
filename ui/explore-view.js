// Explore: "does this client survive every order?" A drawer over the
// page's right edge (opened by the Explore button, so the first screen is
// unchanged) that explores every delivery order of the current setup on
// the lab (POST lab/explore), shows the outcome classes as a chart, and
// opens a class's shortest order by hand. Also the hand-mode Hints: each
// leg card in the tray gets the share of the continuations after it that
// fail. This file paints and fetches; the models are lib/explore.js's.

import { h } from './dom.js';
import { exploreLab } from './explore-client.js';
import {
  exploreSettings, createExploreState, applyExploreMessage, chartModel, counterexample,
  failShares, hintSettings, progressText,
} from './lib/explore.js';

/** How long the hints may explore from one point (they say nothing past it). */
const HINT_BUDGET_S = 20;

/**
 * @param {object} o
 * @param {HTMLElement} o.panel        the drawer (`data-explore-panel`)
 * @param {HTMLButtonElement} o.button the Explore button
 * @param {HTMLInputElement} o.hints   the Hints checkbox (`data-control="hints"`)
 * @param {HTMLElement} o.rail         the rail whose tray holds the leg cards
 * @param {() => {settings?: object, error?: string}} o.currentSettings the setup on screen
 * @param {() => {settings: object, delivered: string[], client?: object|null}|null} o.heldRun the run held by hand, if any
 *   (`client`: what runs in the page for a browser-runtime run, lib/explore.js pageClient())
 * @param {(cx: object) => void} o.open opens a counterexample (lib/explore.js counterexample())
 * @param {() => object} [o.client] what runs in the page for a browser-runtime setup (explore-client.js)
 * @param {(settings: object) => Promise<string|null>} [o.makeLink] a `#s=…` link to a hand run
 */
export function mountExplore({ panel, button, hints, rail, currentSettings, heldRun, open, client = () => ({}), makeLink = async () => null }) {
  let state = createExploreState();
  let controller = null;
  let links = new Map(); // class index → its shortest order's `#s=…` link
  const progress = h('progress', { max: '1', value: '0', 'data-explore-progress': '', 'aria-label': 'exploration progress' });
  const progressNote = h('span', { class: 'explore-progress-note' }, '');
  const cancel = h('button', { type: 'button', class: 'explore-cancel', 'data-action': 'cancel-explore' }, 'Cancel');
  const running = h('div', { class: 'explore-running', hidden: true }, progress, progressNote, cancel);
  const result = h('div', { class: 'explore-result', 'aria-live': 'polite' });
  const setupLine = h('p', { class: 'explore-setup' }, '');
  panel.replaceChildren(
    h('header', { class: 'explore-head' },
      h('h2', { id: 'explore-title' }, 'Every order'),
      h('button', { type: 'button', class: 'rail-close', 'data-action': 'close-explore', 'aria-label': 'Close the exploration' }, '✕')),
    h('p', { class: 'explore-intro' }, 'Does this client survive every order? The lab plays every order in which the network can deliver this setup’s requests and answers, on its real server, and counts them by outcome. Prefixes that reach the same state share their futures, so no order is skipped and none is sampled.'),
    setupLine,
    running,
    result,
  );

  function setOpen(value) {
    panel.hidden = !value;
    button.setAttribute('aria-expanded', value ? 'true' : 'false');
  }

  function paint() {
    running.hidden = state.status !== 'running';
    progress.value = state.done;
    progressNote.textContent = progressText(state);
    if (state.status === 'error') {
      result.replaceChildren(h('p', { class: 'explore-error', role: 'alert', 'data-explore-error': '' }, state.error));
      return;
    }
    if (state.status !== 'done') {
      result.replaceChildren();
      return;
    }
    const ex = state.exploration;
    const chart = chartModel(ex);
    const rows = chart.classes.map((c, index) => h('li', {
      class: `explore-class ${c.ok ? 'ok' : 'failing'}`,
      'data-explore-class': c.key,
      'data-count': String(c.count),
      'data-ok': String(c.ok),
    },
    h('div', { class: 'explore-bar', 'aria-hidden': 'true' },
      h('span', { class: 'explore-fill', style: { width: `${Math.max(0.5, c.share * 100)}%` } })),
    h('p', { class: 'explore-sentence' }, h('b', {}, c.sentence), ` (${c.percent})`),
    h('p', { class: 'explore-detail' }, c.detail,
      c.noReturnLeg ? ` · no return after delivery ${c.noReturn + 1} (${c.noReturnLeg})` : ''),
    c.error ? h('p', { class: 'explore-error-message', 'data-explore-error-message': '' }, `The client failed: ${c.error}`) : '',
    h('button', {
      type: 'button',
      class: 'explore-show',
      'data-action': 'show-order',
      'data-class-index': String(index),
      title: 'Open this class’s shortest order by hand, stopped at its point of no return',
    }, `Show me (${c.steps} deliveries)`),
    links.has(index)
      ? h('a', { class: 'explore-link', href: links.get(index), 'data-explore-link': c.key, title: 'A link to this order: the setup and the order, opened by hand' }, 'link')
      : ''));
    result.replaceChildren(h('section', {
      class: 'explore-chart',
      'data-explore': '',
      'data-orders': String(chart.orders),
      'data-failing': String(chart.failing),
      'data-exact': String(chart.exact),
      'aria-labelledby': 'explore-headline',
    },
    h('p', { class: `explore-headline ${chart.failing ? 'bad' : 'good'}`, id: 'explore-headline' }, chart.headline),
    h('p', { class: 'explore-total' }, `${chart.total} · ${ex.states.toLocaleString('en')} distinct states, ${ex.runs.toLocaleString('en')} real runs`),
    h('ol', { class: 'explore-classes' }, ...rows)));
  }

  async function explore() {
    const current = currentSettings();
    if (current.error) {
      state = applyExploreMessage(createExploreState(), { type: 'error', message: current.error });
      setOpen(true);
      paint();
      return;
    }
    stop();
    links = new Map();
    const settings = exploreSettings(current.settings);
    setupLine.textContent = `${settings.module ?? settings.strategy} client, ${settings.policy} server, ${settings.secret} secret + ${settings.public} public${settings.late ? ' + late' : ''}${settings.tabs > 1 ? `, ${settings.tabs} tabs` : ''}`;
    state = createExploreState();
    state.status = 'running';
    setOpen(true);
    paint();
    const mine = new AbortController();
    controller = mine;
    try {
      await exploreLab({ settings }, {
        signal: mine.signal,
        client: client(),
        onMessage: (message) => {
          if (controller !== mine) return;
          applyExploreMessage(state, message);
          paint();
        },
      });
      if (controller === mine && state.status === 'running') {
        applyExploreMessage(state, { type: 'error', message: 'the lab ended the exploration without a result' });
      }
    } catch (error) {
      if (controller !== mine || (error && error.name === 'AbortError')) return;
      applyExploreMessage(state, { type: 'error', message: error && error.message ? error.message : String(error) });
    }
    if (controller === mine) controller = null;
    paint();
    if (state.status === 'done' && controller === null) linkClasses(state.exploration);
  }

  /** Each class's shortest order as a link (the whole order, from the start). */
  async function linkClasses(exploration) {
    const made = await Promise.all(exploration.classes.map((c) => makeLink({ ...exploration.setup, network: 'hand', deliver: [...c.shortest] }).catch(() => null)));
    if (state.exploration !== exploration) return;
    links = new Map(made.flatMap((link, index) => (link ? [[index, link]] : [])));
    paint();
  }

  function stop() {
    if (controller) controller.abort();
    controller = null;
  }

  button.addEventListener('click', () => explore());
  panel.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest('[data-action="close-explore"]')) {
      stop();
      if (state.status === 'running') state = createExploreState();
      setOpen(false);
      return;
    }
    if (target.closest('[data-action="cancel-explore"]')) {
      stop();
      state = createExploreState();
      result.replaceChildren(h('p', { class: 'explore-cancelled', 'data-explore-cancelled': '' }, 'Cancelled: the lab stopped exploring and freed its runs.'));
      running.hidden = true;
      return;
    }
    const show = target.closest('[data-action="show-order"]');
    if (show && state.exploration) {
      const cx = counterexample(state.exploration, Number(show.getAttribute('data-class-index')));
      if (!cx) return;
      setOpen(false);
      open(cx);
    }
  });

  // ---- hints: the share of failing continuations on each leg card ----
  let hint = { key: null, shares: new Map(), controller: null };

  function decorate() {
    for (const card of rail.querySelectorAll('[data-leg]')) {
      const share = hints.checked ? hint.shares.get(card.getAttribute('data-leg')) : undefined;
      const badge = card.querySelector('.leg-hint');
      if (share === undefined) {
        if (card.hasAttribute('data-fail-share')) card.removeAttribute('data-fail-share');
        if (badge) badge.remove();
        continue;
      }
      if (card.getAttribute('data-fail-share') !== share) card.setAttribute('data-fail-share', share);
      const [k, m] = share.split('/').map(Number);
      const text = `${share} fail`;
      if (badge && badge.textContent === text) continue;
      const tone = k === 0 ? 'safe' : k === m ? 'lost' : 'risky';
      const next = h('span', { class: `leg-hint ${tone}`, title: `${k} of the ${m} orders that go on with this delivery fail` }, text);
      if (badge) badge.replaceWith(next);
      else card.append(next);
    }
  }

  async function refreshHints() {
    const held = hints.checked ? heldRun() : null;
    const key = held ? JSON.stringify([held.settings, held.delivered, held.client ?? null]) : null;
    if (key === hint.key) {
      decorate();
      return;
    }
    if (hint.controller) hint.controller.abort();
    hint = { key, shares: new Map(), controller: null };
    decorate();
    if (!held) return;
    const mine = new AbortController();
    hint.controller = mine;
    let exploration = null;
    try {
      await exploreLab({ settings: hintSettings(held.settings, held.delivered), budget_s: HINT_BUDGET_S }, {
        signal: mine.signal,
        // A run in the page: its tabs' Workers play the same module for every explored run.
        client: held.client ?? {},
        onMessage: (message) => {
          if (message.type === 'result') exploration = message.exploration;
        },
      });
    } catch {
      return; // aborted, or refused: no hints for this point
    }
    if (hint.controller !== mine) return;
    hint.shares = failShares(exploration);
    hint.controller = null;
    decorate();
  }

  hints.addEventListener('change', () => refreshHints());
  // The rail repaints its cards after every delivery: put the hints back on.
  new MutationObserver(() => {
    if (hints.checked) refreshHints();
  }).observe(rail, { childList: true, subtree: true });

  return {
    /** Shows or hides the Hints toggle (a run held by hand is on screen). */
    sync() {
      const held = heldRun();
      const label = hints.closest('label') ?? hints;
      if (label.hidden !== !held) label.hidden = !held;
      if (hints.checked) refreshHints();
    },
    close() {
      stop();
      setOpen(false);
    },
  };
}
