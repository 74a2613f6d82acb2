// The event log: the same events as text, newest at the bottom, following
// the newest line unless the reader scrolled up.
//
// A 10,000-request run has ~70,000 events, and a replay may add hundreds
// per animation frame, so the log is a virtual list: it keeps every entry
// in memory but only the lines inside its box (plus a few) are elements,
// a small pool reused on every frame. All lines have the same height, so
// the scroll position maps to an entry by division; sizes are read once
// (and again on resize), never in the middle of a frame's writes.

import { h } from './dom.js';
import { eventLine } from './lib/format.js';
import { tokenColor } from './lib/colors.js';
import { visibleRange } from './lib/layout.js';

const MAX_ENTRIES = 500_000; // a memory bound far above any run the lab allows
const LINE_EM = 1.25; // line height in rem (style.css: .log-lines .line)
const FOLLOW_SLACK_PX = 40;

export class LogView {
  constructor(container) {
    this.container = container;
    this.spacer = h('div', { class: 'log-spacer' });
    this.window = h('div', { class: 'log-window' });
    this.spacer.append(this.window);
    container.replaceChildren(this.spacer);
    this.entries = [];
    this.events = 0;
    this.pending = 0; // entries added since the last flush
    this.dropped = 0;
    this.follow = true;
    this.scrollTop = 0;
    this.viewport = 0;
    this.lineHeight = 0;
    this.pool = [];
    this.drawn = { first: -1, end: -1, count: -1 };
    this.measure();
    this.expectTop = null; // where our own follow-scroll put the box
    container.addEventListener('scroll', () => {
      const top = container.scrollTop;
      const ours = this.expectTop != null && Math.abs(top - this.expectTop) < 2;
      this.expectTop = null;
      this.scrollTop = top;
      // Judged against the lines drawn so far: more may have arrived since,
      // and that must not look like the reader scrolling up.
      if (!ours) this.follow = top + this.viewport >= this.drawn.count * this.lineHeight - FOLLOW_SLACK_PX;
      this.draw();
    }, { passive: true });
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => {
        this.measure();
        this.drawn.count = -1;
        this.draw();
      }).observe(container);
    }
  }

  /** Line height and box height in px (reads layout: only on setup and resize). */
  measure() {
    const root = parseFloat(getComputedStyle(document.documentElement).fontSize) || 18;
    this.lineHeight = root * LINE_EM;
    this.viewport = this.container.clientHeight || this.lineHeight * 12;
  }

  clear() {
    this.entries = [];
    this.events = 0;
    this.pending = 0;
    this.dropped = 0;
    this.follow = true;
    this.scrollTop = 0;
    this.container.scrollTop = 0;
    this.drawn = { first: -1, end: -1, count: -1 };
    this.draw();
  }

  /** Queues one event (with an optional prefix naming its run). */
  add(event, prefix = '') {
    this.push({ event, prefix });
    this.events += 1;
  }

  /** Queues a plain note (start, done, errors). */
  note(text, kind = 'note') {
    this.push({ note: text, kind });
  }

  push(entry) {
    this.entries.push(entry);
    this.pending += 1;
    if (this.entries.length > MAX_ENTRIES) {
      const extra = this.entries.length - MAX_ENTRIES;
      this.entries.splice(0, extra);
      this.dropped += extra;
    }
  }

  /** Shows what was added since the last flush (once per animation frame). */
  flush() {
    if (this.pending === 0) return;
    this.pending = 0;
    this.draw();
  }

  /** Sizes the scroll area, follows the newest line, and fills the visible lines. */
  draw() {
    const count = this.entries.length;
    const lh = this.lineHeight;
    const total = count * lh;
    if (count !== this.drawn.count) {
      this.spacer.style.height = `${total}px`;
      this.container.setAttribute('data-events', String(this.events));
      if (this.dropped > 0) this.container.setAttribute('data-dropped', String(this.dropped));
      if (this.follow) {
        const bottom = Math.max(0, total - this.viewport);
        if (Math.abs(bottom - this.scrollTop) > 0.5) {
          this.scrollTop = bottom;
          this.expectTop = bottom;
          this.container.scrollTop = bottom;
        }
      }
    }
    const { first, end } = visibleRange({
      rowCount: count,
      rowHeight: lh,
      scrollTop: this.scrollTop,
      viewportHeight: this.viewport,
      overscan: 4,
    });
    if (first === this.drawn.first && end === this.drawn.end && count === this.drawn.count) return;
    this.drawn = { first, end, count };
    this.window.style.transform = `translateY(${first * lh}px)`;
    const n = end - first;
    while (this.pool.length < n) {
      const line = h('div', { class: 'line' });
      line.entry = null;
      this.pool.push(line);
      this.window.append(line);
    }
    for (let i = 0; i < this.pool.length; i++) {
      const line = this.pool[i];
      const entry = i < n ? this.entries[first + i] : null;
      line.hidden = !entry;
      if (entry && line.entry !== entry) fillLine(line, entry);
      line.entry = entry;
    }
  }
}

/** Writes one entry into a pooled line element. */
function fillLine(line, entry) {
  if (entry.note != null) {
    line.className = `line note note-${entry.kind}`;
    line.textContent = entry.note;
    line.title = entry.note;
    line.removeAttribute('data-seq');
    line.style.borderLeftColor = '';
    return;
  }
  const ev = entry.event;
  line.className = `line k-${ev.kind}${ev.cause === 'family' ? ' family' : ''}`;
  line.title = '';
  line.setAttribute('data-seq', String(ev.seq));
  if (entry.prefix) {
    line.replaceChildren(h('span', { class: 'run-prefix' }, entry.prefix), eventLine(ev));
  } else {
    line.textContent = eventLine(ev);
  }
  line.style.borderLeftColor = ev.jti ? tokenColor(ev.jti) : '';
}
