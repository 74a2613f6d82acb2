// A run as a link (lib/link.js, link-view.js). Copy link puts the run on
// screen in a #s= link: its settings as the lab echoed them, its delivery
// order, the learner's module. Opening one fills the controls and starts
// it, held at the start of its order; a module waits in the editor until
// the learner presses Run. The last setup run is kept the same way
// (SETUP_KEY) and comes back into the controls next time.

import { SETUP_KEY, encodeLink, decodeLink, checkLinkSettings, runLinkSettings, openPlan, nextInOrder } from './lib/link.js';
import { mountCopyLink, mountLinkBar } from './link-view.js';
import { OWN_MODULE_KEY } from './code-panel.js';
import { LIBRARIES } from './lib/libraries.js';
import { isLive } from './lib/reducer.js';
import { OWN_MODULE_NAME, settingsPlan, replanWith } from './lib/plan.js';
import { readStored, store as keep } from './view-mode.js';

/**
 * Mounts Copy link and the link bar. `app` gives the store and, late-bound,
 * the controls, the runs, the network UI and the code panel's wiring.
 */
export function mountLinks(app, { copyLinkButton, linkBar: linkBarRoot }) {
  const { store } = app;
  const copyLink = mountCopyLink(copyLinkButton);
  const linkBar = mountLinkBar(linkBarRoot, {
    onNext: () => {
      const run = app.net.controlledRun();
      const leg = run ? nextInOrder(store.state.opened.order, run.state.delivered) : null;
      if (leg) app.net.sendCommand({ command: 'deliver', leg });
    },
    onPlay: playOrder,
    onClose: () => {
      store.update({ opened: { ...store.state.opened, active: false } });
      render();
    },
  });

  /** The run a link can hold: the one run on screen. */
  function linkedRun() {
    const { active } = store.state;
    if (!active || active.compare || active.runs.length !== 1) return null;
    const run = active.runs[0];
    return run.state.settings ? run : null;
  }

  function render() {
    const { opened, linkBounds } = store.state;
    const run = linkedRun();
    copyLinkButton.disabled = !run || !linkBounds;
    if (!opened.active) {
      linkBar.render(null);
      return;
    }
    const held = app.net.controlledRun();
    const delivered = held ? held.state.delivered : [];
    const next = held && isLive(held.state) ? nextInOrder(opened.order, delivered) : null;
    const done = opened.order.length > 0 && delivered.length >= opened.order.length
      && opened.order.every((leg, i) => delivered[i] === leg);
    linkBar.render({ waitsForRun: opened.waitsForRun && !(run && run.source), order: opened.order, next, done, delivered: delivered.length });
  }

  async function copy() {
    const run = linkedRun();
    const { linkBounds } = store.state;
    if (!run || !linkBounds) return;
    const settings = runLinkSettings(run.state.settings, run.state.delivered, run.state.drops);
    const made = await encodeLink({ settings, source: run.source ?? null }, linkBounds);
    if (!made.ok) {
      copyLink.showError(made.message);
      return;
    }
    const url = `${window.location.origin}${window.location.pathname}${made.fragment}`;
    let copied = false;
    try {
      await navigator.clipboard.writeText(url);
      copied = true;
    } catch {
      // no clipboard here (or no permission): the link is shown, selected
    }
    copyLink.show(url, { copied });
  }

  /** The names a link's settings may use: those the lab and the page offer. */
  function linkOffered() {
    const { offered } = store.state;
    return {
      ...app.controls.offeredNames(),
      strategies: offered.strategies,
      policies: offered.policies,
      runtimes: offered.runtimes,
      modules: [OWN_MODULE_NAME, ...LIBRARIES.map((library) => library.name)],
    };
  }

  /** Reads and checks a link: its contents, or null (the refusal shown). */
  async function readLink(text, { quiet = false } = {}) {
    const { linkBounds, limits } = store.state;
    if (!linkBounds || !limits) return null;
    const decoded = await decodeLink(text, linkBounds);
    let check = decoded.ok
      ? checkLinkSettings(decoded.link.settings, { limits, offered: linkOffered(), knobs: app.controls.knobsFor(decoded.link.settings.policy) })
      : decoded;
    if (check.ok && decoded.link.settings.module === OWN_MODULE_NAME && decoded.link.source == null) {
      check = { ok: false, message: 'The link was refused: it names a module of its own but does not carry it.' };
    }
    if (!check.ok) {
      if (!quiet && !decoded.none) app.controls.showError(check.message);
      return null;
    }
    return decoded.link;
  }

  /** Opens a link: the setup in the controls, then its run (or its module in the editor, waiting for Run). */
  async function openLink(text) {
    const link = await readLink(text);
    if (!link) return false;
    const plan = openPlan(link);
    app.controls.clearError();
    app.controls.markInvalid([]);
    app.controls.applySetup(plan.settings);
    store.update({ opened: { active: true, order: plan.order, waitsForRun: plan.waitsForRun } });
    if (plan.waitsForRun) {
      const { active } = store.state;
      if (active) app.runs.abandon(active.token);
      const before = readStored(OWN_MODULE_KEY);
      if (before != null && before !== plan.source) keep(`${OWN_MODULE_KEY}.before-link`, before);
      app.code.panel.open();
      app.code.panel.loadOwn(plan.source, `From a link: read it, then press ▶ Run.${before != null && before !== plan.source ? ' (Your previous module is kept: Ctrl+Z in the editor brings it back.)' : ''}`);
      app.runs.renderAll();
      return true;
    }
    const { settings } = plan;
    const runPlan = settingsPlan(settings);
    store.update({ playing: null });
    app.runs.launch([runPlan], {
      note: `${settings.case}: ${runPlan.label} client, ${settings.policy} server, from a link${plan.order.length ? ` (by hand, at the start of its order of ${plan.order.length} deliveries)` : ''}`,
    });
    return true;
  }

  /** The run on screen again, by hand, with the link's whole order. */
  function playOrder() {
    const run = app.net.controlledRun();
    const { opened, net } = store.state;
    if (!run || !opened.order.length || net.busy) return;
    const settings = { ...run.state.settings, network: 'hand', deliver: [...opened.order] };
    app.runs.launch([replanWith(run, settings)], { note: `the link's order: ${opened.order.length} deliveries` });
  }

  /** Keeps the setup of a run that starts, for the next visit (its order and module aside). */
  function keepSetup(settings) {
    const { linkBounds } = store.state;
    if (!linkBounds || !settings) return;
    const { deliver, drop, ...setup } = settings;
    if (setup.module === OWN_MODULE_NAME) delete setup.module; // the module itself is kept on its own
    encodeLink({ settings: setup }, linkBounds).then((made) => {
      if (made.ok) keep(SETUP_KEY, made.fragment);
    }, () => {});
  }

  /** At load: the link in the address, if any (then the address is cleaned), else the last setup into the controls. */
  async function openAtLoad() {
    if (window.location.hash.startsWith('#s=')) {
      const hash = window.location.hash;
      window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}`);
      await openLink(hash);
      return;
    }
    const kept = readStored(SETUP_KEY);
    const link = kept ? await readLink(kept, { quiet: true }) : null;
    if (link) app.controls.applySetup(openPlan(link).settings);
  }

  copyLinkButton.addEventListener('click', copy);
  window.addEventListener('hashchange', () => {
    if (window.location.hash.startsWith('#s=')) openAtLoad();
  });

  return { render, keepSetup, openAtLoad, linkedRun };
}
