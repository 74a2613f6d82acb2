// The event log: the same events as text, newest at the bottom, following
// the newest line unless the reader scrolled up. Lines are added in batches
// (once per animation frame) and only the newest MAX_LINES are kept.

import { h } from './dom.js';
import { eventLine } from './lib/format.js';
import { tokenColor } from './lib/colors.js';

const MAX_LINES = 1500;

export class LogView {
  constructor(container) {
    this.container = container;
    this.pending = [];
    this.dropped = 0;
  }

  clear() {
    this.pending = [];
    this.dropped = 0;
    this.container.replaceChildren();
  }

  /** Queues one event (with an optional prefix naming its run). */
  add(event, prefix = '') {
    this.pending.push({ event, prefix });
  }

  /** Queues a plain note (start, done, errors). */
  note(text, kind = 'note') {
    this.pending.push({ note: text, kind });
  }

  /** Writes the queued lines. */
  flush() {
    if (this.pending.length === 0) return;
    const box = this.container;
    const follow = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    let batch = this.pending;
    this.pending = [];
    if (batch.length > MAX_LINES) {
      this.dropped += batch.length - MAX_LINES;
      batch = batch.slice(batch.length - MAX_LINES);
    }
    const fragment = document.createDocumentFragment();
    for (const item of batch) {
      if (item.note) {
        fragment.append(h('div', { class: `line note note-${item.kind}` }, item.note));
        continue;
      }
      const ev = item.event;
      const line = h('div', { class: `line k-${ev.kind}${ev.cause === 'family' ? ' family' : ''}`, 'data-seq': ev.seq },
        item.prefix ? h('span', { class: 'run-prefix' }, item.prefix) : null,
        eventLine(ev));
      if (ev.jti) line.style.borderLeftColor = tokenColor(ev.jti);
      fragment.append(line);
    }
    box.append(fragment);
    let extra = box.childElementCount - MAX_LINES;
    if (extra > 0) this.dropped += extra;
    while (extra-- > 0) box.firstElementChild.remove();
    if (this.dropped > 0) box.setAttribute('data-dropped', String(this.dropped));
    if (follow) box.scrollTop = box.scrollHeight;
  }
}
