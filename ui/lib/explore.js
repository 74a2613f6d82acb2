// Explore, the page's side: what `POST lab/explore` streams (progress,
// then the exploration of every delivery order of the current setup), and
// the models the explore panel, the counterexample run and the hints paint.
// No DOM.

import { libraryFile } from './plan.js';

/** Settings the lab explores: the run's, by hand, from the start. */
export function exploreSettings(settings) {
  const { deliver, drop, ...rest } = settings;
  return { ...rest, network: 'hand', deliver: [] };
}

/** A fresh exploration as the panel tracks it. */
export function createExploreState() {
  return { status: 'idle', done: 0, states: 0, runs: 0, exploration: null, error: null };
}

/** Folds one stream line into `state` (returns it). */
export function applyExploreMessage(state, message) {
  if (!message || typeof message !== 'object') return state;
  if (message.type === 'progress') {
    state.status = 'running';
    state.done = clamp01(Number(message.done) || 0);
    state.states = message.states ?? state.states;
    state.runs = message.runs ?? state.runs;
  } else if (message.type === 'result' && message.exploration) {
    state.status = 'done';
    state.done = 1;
    state.exploration = message.exploration;
    state.states = message.exploration.states;
    state.runs = message.exploration.runs;
  } else if (message.type === 'error') {
    state.status = 'error';
    state.error = String(message.message ?? 'the exploration failed');
  }
  return state;
}

function clamp01(x) {
  return Math.min(1, Math.max(0, x));
}

const plural = (n, one, many) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/** What the orders of `outcome` do to the user, as "k of M orders …" ends. */
export function effect(outcome) {
  if (outcome.error) return 'end in an error of the client';
  if (outcome.hang) return 'leave a request hanging';
  if (outcome.logged_out) return 'log the user out';
  if (outcome.failed > 0) return 'lose a request';
  return 'end well';
}

/** "2 refreshes, 1 rejected, 1 failed". */
export function outcomeText(outcome) {
  const parts = [plural(outcome.refresh_calls, 'refresh', 'refreshes')];
  if (outcome.refresh_rejected) parts.push(`${outcome.refresh_rejected} rejected`);
  parts.push(outcome.failed ? `${outcome.failed} failed` : 'none failed');
  if (outcome.logged_out) parts.push('logged out');
  if (outcome.hang) parts.push('hangs');
  if (outcome.error) parts.push('the client failed');
  return parts.join(', ');
}

/** A stable key for a class (the hook's value). */
export function classKey(outcome) {
  return `${outcome.refresh_calls}r-${outcome.refresh_rejected}x-${outcome.failed}f${outcome.logged_out ? '-out' : ''}${outcome.hang ? '-hang' : ''}${outcome.error ? '-error' : ''}`;
}

/**
 * The chart: one bar per outcome class, widths as shares of all orders.
 * `headline` says the worst of it in one sentence.
 */
export function chartModel(exploration) {
  const { orders, failing, exact } = exploration;
  const least = exact ? '' : 'at least ';
  const classes = exploration.classes.map((c) => {
    const share = orders > 0 ? c.count / orders : 0;
    return {
      key: classKey(c.outcome),
      ok: c.ok,
      count: c.count,
      share,
      percent: `${(share * 100).toFixed(share > 0 && share < 0.001 ? 2 : 1)}%`,
      sentence: `${least}${c.count.toLocaleString('en')} of ${orders.toLocaleString('en')} orders ${effect(c.outcome)}`,
      detail: outcomeText(c.outcome),
      steps: c.shortest.length,
      noReturn: c.no_return ?? null,
      noReturnLeg: c.no_return != null ? c.shortest[c.no_return] : null,
      // What the client's failure said in the shortest order (an error class).
      error: c.outcome.error ? (c.error ?? 'the client failed') : null,
    };
  });
  const total = exact
    ? `${plural(orders, 'order', 'orders')}, exact`
    : `${orders.toLocaleString('en')} of at least ${plural(exploration.at_least, 'order', 'orders')} explored`;
  const headline = failing === 0
    ? `Every one of the ${plural(orders, 'order', 'orders')} ends well.`
    : `${least}${failing.toLocaleString('en')} of ${plural(orders, 'order', 'orders')} fail.`;
  return { orders, failing, exact, total, headline: headline[0].toUpperCase() + headline.slice(1), classes };
}

/**
 * The hand run that shows class `index`: a failing one stops right after
 * its point of no return (the rest is left to step), an ok one plays its
 * whole shortest order.
 */
export function counterexample(exploration, index) {
  const c = exploration.classes[index];
  if (!c) return null;
  const upTo = !c.ok && c.no_return != null ? c.no_return + 1 : c.shortest.length;
  const settings = { ...exploration.setup, network: 'hand', deliver: c.shortest.slice(0, upTo) };
  delete settings.drop;
  return {
    settings,
    noReturn: c.no_return ?? null,
    leg: c.no_return != null ? c.shortest[c.no_return] : null,
    caption: noReturnCaption(c),
    sentence: chartModel(exploration).classes[index].sentence,
  };
}

/** The caption naming the point of no return. */
export function noReturnCaption(c) {
  if (c.ok) return `An order that ends well, in ${plural(c.shortest.length, 'delivery', 'deliveries')}.`;
  if (c.no_return == null) return 'Lost before the first delivery: every order of this setup fails.';
  return `Point of no return: delivery ${c.no_return + 1} (${c.shortest[c.no_return]}). After it, every order fails; this one goes on to ${effect(c.outcome)}.`;
}

/** The hints: `data-fail-share` of each leg in flight ("k/M"), by leg id. */
export function failShares(exploration) {
  const shares = new Map();
  if (!exploration || !exploration.exact) return shares;
  for (const next of exploration.next ?? []) shares.set(next.leg, `${next.failing}/${next.orders}`);
  return shares;
}

/** The settings whose continuations the hints count: the held run so far. */
export function hintSettings(settings, delivered) {
  return { ...exploreSettings(settings), deliver: [...delivered] };
}

/**
 * What runs in the page for `run` (a run on screen: its settings, and the
 * learner's `source` or the `library` it was started with), as
 * explore-client.js's exploreLab takes it: the same module with the same
 * options, so an exploration from a held page run explores that client.
 * Null for a run of the Rust engine.
 */
export function pageClient(run) {
  const settings = run && run.settings;
  if (!settings || settings.runtime !== 'browser') return null;
  if (run.source) return { source: run.source };
  return { builtin: libraryFile(run, settings), options: run.libraryOptions ?? settings.module_options ?? null };
}

/**
 * An exploration as one line of a table: how many orders lose a request,
 * log the user out or hang, out of how many, and the shortest order that
 * loses a request (a `deliver` list; null when none does). A cut-short
 * exploration's counts are lower bounds (`exact: false`).
 */
export function lossSummary(exploration) {
  const sum = (keep) => exploration.classes.filter((c) => keep(c.outcome)).reduce((n, c) => n + c.count, 0);
  let shortest = null;
  for (const c of exploration.classes) {
    if (c.outcome.failed > 0 && (!shortest || c.shortest.length < shortest.shortest.length)) shortest = c;
  }
  return {
    orders: exploration.orders,
    exact: exploration.exact,
    atLeast: exploration.at_least ?? exploration.orders,
    failing: exploration.failing,
    lost: sum((o) => o.failed > 0),
    loggedOut: sum((o) => o.logged_out),
    hang: sum((o) => o.hang),
    shortest: shortest ? [...shortest.shortest] : null,
    shortestOutcome: shortest ? { ...shortest.outcome } : null,
  };
}

/** lossSummary() in words: "37 of 194 orders lose a request, 37 log out". */
export function lossText(summary) {
  const n = (x) => x.toLocaleString('en');
  const of = summary.exact
    ? `${n(summary.lost)} of ${n(summary.orders)} orders`
    : `at least ${n(summary.lost)} of at least ${n(summary.atLeast)} orders (${n(summary.orders)} explored)`;
  const parts = [`${of} lose a request`];
  if (summary.loggedOut) parts.push(`${n(summary.loggedOut)} log out`);
  if (summary.hang) parts.push(`${n(summary.hang)} hang`);
  return parts.join(', ');
}

/** Progress as the bar shows it. */
export function progressText(state) {
  if (state.status === 'error') return state.error;
  const pct = Math.floor(state.done * 100);
  return `exploring… ${pct}% · ${plural(state.states, 'state', 'states')}, ${plural(state.runs, 'run', 'runs')}`;
}
