// The network of a held run, and the challenges. A single live run from the
// lab can be held and played by hand: the network buttons and keys (the
// action registry's) send commands (POST lab/runs/{id}/network), the rail
// beside the timeline shows the tray of legs in flight and the tab's hidden
// state, undo restarts the run with every delivery but the last. What each
// button, key and card means is decided in lib/network.js and
// lib/challenges.js; the stream's messages stay the one source of the
// run's state (a command's answer only tells that it was accepted).

import { NetworkPanel } from './network-panel.js';
import { ChallengesPanel } from './challenges-panel.js';
import { networkCommand, LabError } from './transport.js';
import { isLive, isHeld } from './lib/reducer.js';
import { trayModel, tabStateModel, undoSettings, lifeModel, withLifeAction, moveCursor, MAX_SLEEP_S } from './lib/network.js';
import {
  STORAGE_KEY, parseProgress, serializeProgress, recordFinished, giveUp, challengeStatus, emptyProgress,
} from './lib/challenges.js';
import { replanWith } from './lib/plan.js';

/** The network buttons, by their action's name (the registry's) and their lib/network.js controlState key. */
export const NET_BUTTONS = [
  ['pause', 'pause'],
  ['resume', 'resume'],
  ['step', 'step'],
  ['deliver-all', 'deliverAll'],
  ['undo', 'undo'],
];

/**
 * Mounts the rail and the challenges panel. `app` gives the store, the
 * action registry and, late-bound, the runs, the controls, the explore
 * drawer and the link's bar.
 */
export function mountNetworkUi(app, { rail: railRoot, challengesRoot, challengesButton, challengesCount, netButtons }) {
  const { store } = app;

  /** The one live-or-finished lab run on screen that network controls act on, or null. */
  function controlledRun() {
    const { active } = store.state;
    if (!active || active.compare || active.replay || active.runs.length !== 1) return null;
    return active.runs[0];
  }

  /** What the buttons and keys may do now. */
  function context() {
    const { active, net } = store.state;
    const run = controlledRun();
    const state = run ? run.state : null;
    const single = active && !active.compare && active.runs.length === 1 ? active.runs[0].state : null;
    return {
      controllable: !!(state && state.run != null),
      live: !!(state && isLive(state)),
      paused: !!(state && isHeld(state)),
      busy: net.busy,
      legs: state && state.network ? (state.network.legs || []).length : 0,
      delivered: state ? state.delivered.length : 0,
      canUndo: !!(state && !net.busy && state.delivered.length > 0 && state.settings),
      finished: !!(single && !isLive(single)),
      events: single ? single.events.length : 0,
    };
  }

  const setNet = (patch) => store.update({ net: { ...store.state.net, ...patch } });

  /** Sends one command to the controlled run; a refusal is shown and changes nothing. */
  async function sendCommand(command) {
    const run = controlledRun();
    if (!run || run.state.run == null || store.state.net.busy || !isLive(run.state)) return;
    const token = store.state.active.token;
    store.update({ net: { busy: true, run, seq: run.state.networkSeq, answered: false } });
    render();
    try {
      await networkCommand(run.state.run, command);
      if (token !== store.state.runToken) return;
      app.controls.clearError();
      setNet({ answered: true });
    } catch (error) {
      if (token !== store.state.runToken) return;
      setNet({ busy: false });
      // A run that ended meanwhile (Space just as it finished: 404 unknown_run)
      // is no mistake of the user's; its stream tells how it ended.
      const ended = !isLive(run.state) || (error instanceof LabError && error.status === 404);
      if (!ended) app.controls.showError(error && error.message ? error.message : String(error));
    }
    app.runs.renderAll();
  }

  /**
   * A lifecycle action by hand (sleep, close or freeze a tab): sent as a
   * network command, and kept in the run's settings at its point, so that an
   * undo or a saved run takes it again.
   */
  async function lifeAction(action) {
    const run = controlledRun();
    if (!run || !run.state.settings) return;
    const at = run.state.delivered.length;
    const before = run.state.settings;
    run.state.settings = withLifeAction(before, action, at);
    await sendCommand(action);
    const { net } = store.state;
    if (!net.answered && !net.busy && isLive(run.state)) run.state.settings = before;
  }

  /** A command is over once the stream caught up with it (or the run ended). */
  function syncBusy() {
    const { net } = store.state;
    if (!net.busy || !net.answered) return;
    const state = net.run && net.run.state;
    if (!state || !isLive(state) || state.networkSeq > net.seq) setNet({ busy: false });
  }

  /** Undo: the same run again, by hand, with every delivery but the last. */
  function undo() {
    const run = controlledRun();
    if (!run || store.state.net.busy) return;
    const settings = undoSettings(run.state.settings, run.state.delivered, run.state.drops);
    if (!settings) return;
    app.runs.launch([replanWith(run, settings)], { note: `undo: the same run by hand, replaying ${settings.deliver.length} of ${run.state.delivered.length} deliveries` });
  }

  /** ← / → over a finished run: the event under the cursor (and its line in the code panel). */
  function moveEventCursor(delta) {
    const { active } = store.state;
    const single = active && active.runs.length === 1 ? active.runs[0] : null;
    if (!single) return;
    const cursorIndex = moveCursor(store.state.cursorIndex, delta, single.state.events.length);
    store.update({ cursorIndex });
    app.code.markCursorLine(single, cursorIndex);
    app.runs.renderAll();
  }

  /** Starts challenge `id` on its preset (held by hand). */
  function play(id) {
    const c = store.state.offered.challenges.find((x) => x.id === id);
    if (!c) return;
    app.controls.clearError();
    app.controls.markInvalid([]);
    if (app.controls.CASES.includes(c.settings.case)) app.controls.setCase(c.settings.case);
    store.update({ playing: id });
    challengesPanel.setOpen(false);
    syncChallengesButton();
    app.runs.launch([{ strategy: c.settings.strategy, policy: c.settings.policy, label: c.settings.strategy, settings: c.settings, badge: 'challenge' }], {
      note: `challenge: ${c.title} (${c.settings.strategy} client, ${c.settings.policy} server, by hand)`,
    });
  }

  /** A single lab run finished: record it for the challenges (solved comes from the lab). */
  function finishedForChallenges(state) {
    const result = recordFinished(store.state.progress, { playing: store.state.playing, solved: state.solved });
    store.update({ progress: result.progress, justSolved: result.newlySolved });
    saveProgress();
    // A run of one's own that solves a challenge gets its solved moment too.
    if (!store.state.playing && result.newlySolved.length) store.update({ playing: result.newlySolved[0] });
    for (const id of result.newlySolved) {
      const c = store.state.offered.challenges.find((x) => x.id === id);
      app.log.note(`✓ challenge solved: ${c ? c.title : id}`, 'done');
    }
  }

  /** The progress kept in localStorage, for the challenges the lab offers now. */
  function loadProgress(known) {
    let progress;
    try {
      const text = window.localStorage.getItem(STORAGE_KEY);
      progress = text ? parseProgress(text, known) : emptyProgress();
    } catch {
      progress = emptyProgress(); // storage off (private mode): progress lives as long as the page
    }
    store.update({ progress });
    challengesButton.hidden = store.state.offered.challenges.length === 0;
  }

  function saveProgress() {
    try {
      window.localStorage.setItem(STORAGE_KEY, serializeProgress(store.state.progress));
    } catch {
      // storage full or off: keep it in memory
    }
  }

  function syncChallengesButton() {
    challengesButton.setAttribute('aria-expanded', challengesPanel.open ? 'true' : 'false');
  }

  function challengeView(c) {
    const { progress, hintsShown } = store.state;
    const status = challengeStatus(c, progress);
    return {
      id: c.id,
      title: c.title,
      goal: c.goal,
      hint: c.hint,
      why: c.why,
      possible: c.possible,
      hintShown: hintsShown.has(c.id),
      solved: status.solved,
      tries: status.tries,
      showWhy: status.showWhy,
    };
  }

  /** Buttons, rail and challenges panel from the current state. */
  function render() {
    syncBusy();
    const ctx = context();
    for (const [name, button] of netButtons) {
      const allowed = app.actions.enabled(name, { network: ctx });
      if (button.disabled !== !allowed) button.disabled = !allowed;
    }
    const { offered, playing, justSolved, progress, hintsShown, net } = store.state;
    const run = controlledRun();
    const state = run ? run.state : null;
    const held = !!(state && isHeld(state));
    let tray = null;
    if (held) {
      if (run.trayOf !== state.network) {
        const byAttempt = new Map();
        for (const token of state.tokens.values()) if (token.attempt != null) byAttempt.set(token.attempt, token.jti);
        run.trayOf = state.network;
        run.tray = trayModel(state.network, { newToken: (attempt) => byAttempt.get(attempt) ?? null });
      }
      tray = run.tray;
    }
    const current = playing ? offered.challenges.find((c) => c.id === playing) : null;
    const challenge = current && run ? { ...challengeView(current), justSolved: justSolved.includes(current.id) } : null;
    const tab = held ? tabStateModel(state.network.tab) : null;
    const life = tab && state.settings && state.settings.runtime !== 'browser' ? lifeModel(state.settings, state.events) : null;
    rail.render({
      challenge,
      tab: tab && life ? { ...tab, life: { ...life, maxSleep: MAX_SLEEP_S } } : tab,
      tray,
      busy: net.busy,
    });
    if (app.explore) app.explore.sync();
    challengesPanel.render(offered.challenges.map((c) => ({
      challenge: c,
      status: challengeStatus(c, progress),
      hintShown: hintsShown.has(c.id),
      justSolved: justSolved.includes(c.id),
      playing: c.id === playing,
    })));
    const solved = offered.challenges.filter((c) => progress.solved.includes(c.id)).length;
    const text = `${solved}/${offered.challenges.filter((c) => c.possible).length}`;
    if (challengesCount.textContent !== text) challengesCount.textContent = text;
    app.link.render();
  }

  const rail = new NetworkPanel(railRoot, {
    deliver: (leg) => sendCommand({ command: 'deliver', leg }),
    dropLeg: (leg) => sendCommand({ command: 'drop', leg }),
    deliverAll: (filter) => sendCommand({ command: 'deliver-all', filter }),
    life: (action) => lifeAction(action),
    closeChallenge: () => {
      store.update({ playing: null });
      render();
    },
    openChallenges: () => {
      challengesPanel.setOpen(true);
      syncChallengesButton();
    },
  });
  const challengesPanel = new ChallengesPanel(challengesRoot, {
    play,
    hint: (id) => {
      const hintsShown = new Set(store.state.hintsShown);
      if (hintsShown.has(id)) hintsShown.delete(id);
      else hintsShown.add(id);
      store.update({ hintsShown });
      render();
    },
    giveUp: (id) => {
      store.update({ progress: giveUp(store.state.progress, id) });
      saveProgress();
      render();
    },
    close: () => closeChallenges(),
  });

  function closeChallenges() {
    challengesPanel.setOpen(false);
    syncChallengesButton();
    challengesButton.focus();
  }

  function toggleChallenges() {
    challengesPanel.setOpen(!challengesPanel.open);
    syncChallengesButton();
    render();
    if (challengesPanel.open) challengesPanel.focus();
  }

  return {
    controlledRun,
    context,
    sendCommand,
    undo,
    moveEventCursor,
    finishedForChallenges,
    loadProgress,
    render,
    closeChallenges,
    toggleChallenges,
    challengesOpen: () => challengesPanel.open,
    stopPlaying: () => store.update({ playing: null }),
  };
}
