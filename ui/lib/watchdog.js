// The page's watchdog over its tabs' Workers, as a decision without the
// DOM (tested with `node --test`): which Worker went too long without
// answering a ping. ui/page-runtime.js keeps the clocks and acts on it.

/**
 * A tick that comes this much later than the previous one means the page's
 * own thread was stalled (a busy machine), not a Worker: an endless loop in
 * a Worker leaves the page's ticks on time.
 */
export const PAGE_STALL_MS = 1000;

/**
 * One tick. `lastPong[i]`: when Worker i last answered a ping (null: not
 * booted yet, its scripts still load). After a stalled page the Workers'
 * answers may still wait in its queue behind this very tick, so nobody is
 * judged and every booted Worker's clock starts again now.
 * Returns `{ hung, lastPong }`: the index of the first Worker silent for
 * more than `limitMs` (-1: none) and the clocks to keep.
 */
export function watchdogTick({ now, lastTick, lastPong, limitMs }) {
  if (lastTick !== null && now - lastTick > PAGE_STALL_MS) {
    return { hung: -1, lastPong: lastPong.map((at) => (at === null ? null : now)) };
  }
  return { hung: lastPong.findIndex((at) => at !== null && now - at > limitMs), lastPong };
}
