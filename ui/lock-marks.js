// Which tab held the lock: a mark on each tab's heading in a run's
// timeline ("held the lock · tab 2", the lock's name and how often in a
// tooltip and in `data-lock-held`), from the lock views the page's tab hub records
// (ui/lib/tab-hub.js `foldLockHolds`). The timeline repaints its rows, so
// the marks are put back after each repaint; this file only paints.

import { describeHolds } from './lib/tab-hub.js';

const SVG = 'http://www.w3.org/2000/svg';

/** Marks `root` (a run's [data-timeline]) with `holds()` ({ tab: { lock: times } }), now and after each repaint. */
export function watchLockMarks(root, holds) {
  const paint = () => {
    const current = holds();
    for (const heading of root.querySelectorAll('[data-tab-heading]')) {
      const words = describeHolds(current[heading.getAttribute('data-tab-heading')]);
      const mark = heading.querySelector('[data-lock-mark]');
      if (!words) {
        if (mark) mark.remove();
        heading.removeAttribute('data-lock-held');
        continue;
      }
      if (heading.getAttribute('data-lock-held') === words && mark) continue;
      heading.setAttribute('data-lock-held', words);
      const tspan = mark ?? document.createElementNS(SVG, 'tspan');
      tspan.setAttribute('data-lock-mark', '');
      tspan.setAttribute('class', 'lock-mark');
      const title = document.createElementNS(SVG, 'title');
      title.textContent = words;
      // Words, not an emoji: the window's fonts may have no lock glyph.
      tspan.replaceChildren(document.createTextNode('held the lock · '), title);
      if (!mark) heading.prepend(tspan);
    }
  };
  const observer = new MutationObserver(paint);
  observer.observe(root, { childList: true, subtree: true });
  paint();
  return { paint, stop: () => observer.disconnect() };
}
