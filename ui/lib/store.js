// The page's one state object, changed only through update(): who reads
// it gets the state as it is now, who subscribes hears which fields an
// update changed. Top-level fields are replaced, never mutated, so a
// subscriber can compare before and after; the objects some fields hold
// (the runs on screen, the network command in flight) are owned by the
// module that updates them.

import { emptyProgress } from './challenges.js';

/** What the page starts with, before GET /lab/options answered. */
export function initialAppState() {
  return {
    currentCase: null, // the lab's default case, once /lab/options answered
    runToken: 0, // bumped by every run that takes the screen; older callbacks check it
    /** @type {null | {token: number, compare: boolean, replay: boolean, runs: Array, domainEndUs: number}} */
    active: null,
    limits: null, // the lab's, once /lab/options answered: no run starts before
    linkBounds: null, // the lab's limits for links, once loaded
    // What the lab offers (from /lab/options).
    offered: {
      strategies: [],
      policies: [],
      runtimes: [],
      policyTitles: new Map(),
      policyKnobs: new Map(), // preset name → knobsOf(...): its parameters and defaults
      pageStrategies: null, // strategies with a module of the page (null: options not loaded)
      challenges: [],
    },
    // A network command on its way: it is over when the lab answered and the
    // run's stream has caught up (its next `network` message, or the run ended).
    net: { busy: false, run: null, seq: 0, answered: false },
    cursorIndex: null, // event under the cursor of a finished run (← / →)
    playing: null, // id of the challenge the active run plays
    justSolved: [], // challenges the last finished run solved for the first time
    hintsShown: new Set(), // challenges whose hint is open
    progress: emptyProgress(), // the challenges' progress (lib/challenges.js), read from storage once the lab's challenges are known
    graded: null, // { source, rows } of the last grading: its rows open their timelines
    opened: { active: false, order: [], waitsForRun: false }, // the link opened last
  };
}

/** A store holding `initial`; update(patch) replaces the fields it names. */
export function createStore(initial) {
  let state = Object.freeze({ ...initial });
  const listeners = new Set();
  return {
    /** The state as it is now (frozen at the top: change it with update). */
    get state() {
      return state;
    },
    /** Replaces the fields `patch` names; listeners hear the ones that changed. Returns them. */
    update(patch) {
      const changed = Object.keys(patch).filter((key) => !Object.is(state[key], patch[key]));
      for (const key of Object.keys(patch)) {
        if (!(key in state)) throw new Error(`the state has no field ${JSON.stringify(key)}`);
      }
      if (changed.length === 0) return changed;
      state = Object.freeze({ ...state, ...patch });
      for (const listener of listeners) listener(state, changed);
      return changed;
    },
    /** Calls `listener(state, changedFields)` after every update that changed something; returns the unsubscribe. */
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
