// A run as a link, on screen: the Copy link button's popover (the link,
// selected, in case the clipboard is not at hand) and the bar of a link
// that was opened (its module waits for Run; its delivery order can be
// played leg by leg or at once). Both float over the page, so nothing under
// them moves and the verdict stays where it is. Paints only: what a link
// holds and what comes next is decided in lib/link.js, the rest in app.js.

import { h } from './dom.js';

/**
 * Mounts the Copy link popover next to `button` ([data-action="copy-link"]).
 * Returns `{ show(url), showError(message), hide() }`.
 */
export function mountCopyLink(button) {
  const input = h('input', { type: 'text', class: 'link-url', 'data-link-url': '', readonly: true, 'aria-label': 'Link to this run' });
  const status = h('output', { class: 'link-status', 'data-link-status': '', 'aria-live': 'polite' });
  const close = h('button', { type: 'button', class: 'link-close', 'data-action': 'close-link', 'aria-label': 'Close' }, '✕');
  const pop = h('div', { class: 'link-pop', id: 'link-pop', 'data-link-pop': '', role: 'group', 'aria-label': 'Link to this run', hidden: true },
    h('div', { class: 'link-pop-row' }, input, close), status);
  button.setAttribute('aria-controls', 'link-pop');
  button.setAttribute('aria-expanded', 'false');
  button.after(pop);

  const hide = () => {
    pop.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  };
  const open = () => {
    pop.hidden = false;
    button.setAttribute('aria-expanded', 'true');
  };
  close.addEventListener('click', () => {
    hide();
    button.focus();
  });
  pop.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      hide();
      button.focus();
    }
  });
  return {
    /** Shows the link; `copied`: whether it is on the clipboard too. */
    show(url, { copied }) {
      input.value = url;
      pop.removeAttribute('data-failed');
      status.textContent = copied
        ? `Copied: ${url.length} characters. Anyone who opens it gets this setup.`
        : 'Select and copy it (the clipboard is not available here).';
      open();
      input.focus();
      input.select();
    },
    showError(message) {
      input.value = '';
      pop.setAttribute('data-failed', 'true');
      status.textContent = message;
      open();
    },
    hide,
  };
}

/**
 * Mounts the bar of an opened link in `root` ([data-link-bar], inside the
 * network controls, so it takes no line of its own). `onNext()`, `onPlay()`:
 * deliver the order's next leg, or replay it all; `onClose()`: forget the
 * link. Returns `{ render(model) }` where model is null (hidden) or
 * `{ waitsForRun, order, done, next, delivered }`.
 */
export function mountLinkBar(root, { onNext, onPlay, onClose }) {
  const label = h('span', { class: 'link-bar-label', title: 'Deliveries of the link\'s order so far' });
  const text = h('span', { class: 'sr-only', 'data-link-text': '' });
  const next = h('button', { type: 'button', class: 'net-button link-bar-button', 'data-action': 'link-next', title: 'Deliver the next leg of the link\'s order' });
  const play = h('button', { type: 'button', class: 'net-button link-bar-button', 'data-action': 'link-play', title: 'Play the link\'s whole order from the start' }, '⇶ Play');
  const close = h('button', { type: 'button', class: 'link-bar-close', 'data-action': 'close-link-bar', 'aria-label': 'Forget the link', title: 'Forget the link' }, '✕');
  root.replaceChildren(label, text, next, play, close);
  next.addEventListener('click', () => onNext());
  play.addEventListener('click', () => onPlay());
  close.addEventListener('click', () => onClose());

  return {
    render(model) {
      root.hidden = !model;
      if (!model) return;
      const count = model.order.length;
      root.setAttribute('data-order', model.order.join(','));
      const parts = ['Opened from a link.'];
      if (model.waitsForRun) parts.push('Its module is in the editor: read it, then press ▶ Run (nothing runs before).');
      if (count) parts.push(model.done ? `Its order of ${count} deliveries is played.` : `Hand mode, at the start of its order of ${count} deliveries.`);
      const sentence = parts.join(' ');
      if (text.textContent !== sentence) text.textContent = sentence;
      root.title = sentence;
      label.textContent = count ? `${Math.min(model.delivered ?? 0, count)}/${count}` : 'link';
      next.hidden = !count || !model.next;
      next.textContent = model.next ? `⇥ ${model.next}` : '';
      play.hidden = !count || model.waitsForRun;
    },
  };
}
