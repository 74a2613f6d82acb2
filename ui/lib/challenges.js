// Challenge progress: which challenges were solved, how often each was
// played, which one the learner gave up on. No DOM: tested with
// `node --test`. The page keeps it in localStorage (app.js).
//
// Solved is read from the lab's `done` message (`solved`: the challenges
// the run reached, checked by the engine from the run's events and
// verdict), never from clicks: a replayed or scripted run solves a
// challenge the same way a played one does.

import { TRIES_BEFORE_WHY } from './network.js';

/** Where the page keeps the progress (localStorage key). */
export const STORAGE_KEY = 'refresh-race.challenges';

/** No progress yet. */
export function emptyProgress() {
  return { solved: [], tries: {}, gaveUp: [] };
}

/**
 * Progress from its stored text; anything unreadable counts as none.
 * Ids the lab does not offer (`known`, when given) are dropped.
 */
export function parseProgress(text, known = null) {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    return emptyProgress();
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return emptyProgress();
  const ok = (id) => typeof id === 'string' && (!known || known.includes(id));
  const list = (value) => [...new Set(Array.isArray(value) ? value.filter(ok) : [])];
  const tries = {};
  if (data.tries && typeof data.tries === 'object') {
    for (const [id, n] of Object.entries(data.tries)) if (ok(id) && Number.isInteger(n) && n > 0) tries[id] = n;
  }
  return { solved: list(data.solved), tries, gaveUp: list(data.gaveUp) };
}

/** The text to store. */
export function serializeProgress(progress) {
  return JSON.stringify({ solved: progress.solved, tries: progress.tries, gaveUp: progress.gaveUp });
}

/**
 * A run finished. `playing`: the challenge it was started for (Play, or an
 * undo of such a run), or null; `solved`: the `done` message's list.
 * Returns `{ progress, newlySolved }`; the input is not changed.
 */
export function recordFinished(progress, { playing = null, solved = [] } = {}) {
  const next = { solved: [...progress.solved], tries: { ...progress.tries }, gaveUp: [...progress.gaveUp] };
  const newlySolved = [];
  for (const id of Array.isArray(solved) ? solved : []) {
    if (typeof id !== 'string' || next.solved.includes(id)) continue;
    next.solved.push(id);
    newlySolved.push(id);
  }
  if (playing) next.tries[playing] = (next.tries[playing] ?? 0) + 1;
  return { progress: next, newlySolved };
}

/** The learner gave up on `id`. */
export function giveUp(progress, id) {
  if (progress.gaveUp.includes(id)) return progress;
  return { ...progress, gaveUp: [...progress.gaveUp, id] };
}

/**
 * What a challenge's card shows: solved, tries, and for the impossible
 * one whether to explain why (after TRIES_BEFORE_WHY finished runs without
 * solving it, or once the learner gave up) and whether to offer "Give up".
 */
export function challengeStatus(challenge, progress) {
  const id = challenge.id;
  const solved = progress.solved.includes(id);
  const tries = progress.tries[id] ?? 0;
  const impossible = challenge.possible === false;
  const gaveUp = progress.gaveUp.includes(id);
  const showWhy = impossible && !!challenge.why && (gaveUp || (!solved && tries >= TRIES_BEFORE_WHY));
  return { id, solved, tries, gaveUp, showWhy, offerGiveUp: impossible && !showWhy };
}

/** The challenges the lab offers (`/lab/options` `challenges`), checked. */
export function challengesFromOptions(raw) {
  if (!Array.isArray(raw)) return [];
  return raw.filter((c) => c && typeof c.id === 'string' && typeof c.title === 'string' && c.settings && typeof c.settings === 'object')
    .map((c) => ({
      id: c.id,
      title: c.title,
      goal: typeof c.goal === 'string' ? c.goal : '',
      hint: typeof c.hint === 'string' ? c.hint : '',
      possible: c.possible !== false,
      why: typeof c.why === 'string' ? c.why : null,
      settings: c.settings,
    }));
}
