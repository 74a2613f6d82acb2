// Compare mode: two timelines that differ in one thing only: the client
// strategy (same server policy), the server policy (same client), or where
// the client runs (the same strategy in the Rust engine and in the page).
// In the browser runtime a client comparison also offers the libraries on
// the bench, and a library's default other side is its other version
// (supabase-auth@2.106 ⇄ supabase-auth@2.119).
// No DOM: tested with `node --test`.

import { LIBRARIES, siblingVersions } from './libraries.js';

/** What a comparison can vary, and the default pair for each. */
export const COMPARE_BY = {
  strategies: { noun: 'client', pair: ['naive', 'single-flight'] },
  policies: { noun: 'server', pair: ['strict', 'family'] },
  runtimes: { noun: 'runtime', pair: ['rust', 'browser'] },
};

/** The compare-by value a control holds, or the default. */
export function compareBy(value) {
  return Object.hasOwn(COMPARE_BY, value) ? value : 'strategies';
}

/**
 * The pair to show when the main control says `current`: your choice
 * against the default other side (naive ⇄ single-flight, strict ⇄ family),
 * or the default pair when your choice is the other side already.
 * `names` are the values the lab offers; names it does not offer are skipped.
 */
export function defaultPair(by, names, current) {
  const spec = COMPARE_BY[by] || COMPARE_BY.strategies;
  const known = (name) => !names || names.length === 0 || names.includes(name);
  const [d0, d1] = spec.pair;
  // Two versions of one library, side by side.
  const sibling = by === 'strategies' && current && known(current) ? siblingVersions(current).find(known) : null;
  if (sibling) return [current, sibling];
  let a = current && known(current) ? current : d0;
  let b = d1;
  if (a === b) a = d0;
  if (!known(b)) b = (names || []).find((n) => n !== a) ?? b;
  if (!known(a)) a = (names || []).find((n) => n !== b) ?? a;
  return [a, b];
}

/**
 * The runs of a comparison: `[{ strategy, policy, label }, …]` where the
 * label names what differs. `a`/`b` are strategies or policies, per `by`.
 */
export function comparePlan({ by, a, b, strategy, policy }) {
  if (by === 'runtimes') {
    return [a, b].map((runtime) => ({ strategy, policy, runtime, label: `${strategy} in ${runtime}` }));
  }
  if (by === 'policies') {
    return [a, b].map((p) => ({ strategy, policy: p, label: p }));
  }
  return [a, b].map((s) => ({ strategy: s, policy, label: s }));
}

/**
 * The names a comparison's A/B offer: the lab's `names` for `by`, and for
 * clients in the browser runtime the libraries on the bench too.
 */
export function compareNames(by, names, runtime) {
  return by === 'strategies' && runtime === 'browser' ? [...names, ...LIBRARIES.map((library) => library.name)] : names;
}

/** The compare button's label: "naive ⇄ single-flight". */
export function compareLabel({ a, b }) {
  return `${a} ⇄ ${b}`;
}

/** A sentence for the log and the button's tooltip. */
export function compareTitle({ by, a, b, strategy, policy }) {
  if (by === 'runtimes') {
    return `Run the current case twice at once: the ${strategy} client in ${a} against the same client in ${b}, ${policy} server, same time scale`;
  }
  return by === 'policies'
    ? `Run the current case twice at once: ${a} server against ${b} server, both with the ${strategy} client, same time scale`
    : `Run the current case twice at once: ${a} client against ${b} client, both against the ${policy} server, same time scale`;
}
