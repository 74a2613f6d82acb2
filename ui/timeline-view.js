// The live timeline of one run, painted in SVG from lib/timeline-model.js.
//
// This file only paints: the model says where every row, bar and marker
// goes, what it says and which test hooks it carries (docs/ui-hooks.md:
// data-kind, data-status, data-lane, data-jti on each attempt; the verdict's
// counts; a held leg's bar). Each painted part remembers the model it was painted from and is
// rebuilt only when that model changed, so a frame costs what changed; the
// now-cursor is the one thing moved every frame. app.js decides when to render.
// The rows themselves are painted in timeline-rows.js.

import { h, s } from './dom.js';
import { timelineModel, baseSizes, scaledSizes } from './lib/timeline-model.js';
import { stripeColors } from './lib/colors.js';
import { paintRequestRow, paintPinned, paintAxis, verticals } from './timeline-rows.js';

let nextViewId = 1;

export class TimelineView {
  /**
   * @param {object} o
   * @param {string} o.strategy  client strategy of the run
   * @param {string} o.policy    server policy of the run
   * @param {boolean} [o.compact] smaller rows (compare mode)
   * @param {string|null} [o.replay] file name when this replays a saved run
   * @param {'rust'|'browser'} [o.runtime] where the client runs
   * @param {'strategy'|'policy'|'runtime'|null} [o.varies] what a comparison varies (highlighted in the title)
   * @param {string|null} [o.badge] a word on the run in the header (e.g. the challenge it plays)
   * @param {(jti: string, state: object) => void} [o.onToken] token chip clicked
   */
  constructor({ strategy, policy, runtime = 'rust', compact = false, replay = null, varies = null, badge = null, onToken = () => {} }) {
    // SVG ids are document-wide: two views side by side need their own patterns.
    this.id = `tl${nextViewId++}`;
    this.compact = compact;
    this.sizes = this.measureSizes();
    this.onToken = onToken;
    this.state = null;
    this.selectedJti = null;
    this.width = 0;
    this.viewport = 0;
    this.scrollTop = 0;
    this.lastFrame = null;
    this.painted = new Map(); // part → { json, node, frame }: the model each part was painted from
    this.frameNo = 0;
    this.noReturn = null; // an explored order's point of no return: setNoReturn()

    this.title = h('h2', { class: 'timeline-title' },
      h('span', { class: `strategy-name${varies === 'strategy' ? ' varies' : ''}` }, strategy), ' client',
      runtime === 'browser' || varies === 'runtime'
        ? h('span', { class: `runtime-name${varies === 'runtime' ? ' varies' : ''}` }, runtime === 'browser' ? ' (JS in the page)' : ' (Rust engine)')
        : '',
      ' · ',
      h('span', { class: `policy-name${varies === 'policy' ? ' varies' : ''}` }, policy), ' server');
    this.pill = h('span', { class: 'state-pill' }, 'starting');
    this.note = h('span', { class: 'setup-note' }, '');
    this.axis = s('svg', { class: 'axis', height: this.sizes.axis, 'aria-hidden': 'true' });
    this.lanesSvg = s('svg', { class: 'lanes', role: 'img', 'aria-label': 'request lanes' });
    this.spacer = h('div', { class: 'lanes-spacer' }, this.lanesSvg);
    // Focusable: with more lanes than fit, a keyboard scrolls them (nothing inside takes focus).
    this.scroll = h('div', { class: 'lanes-scroll', tabindex: '0', role: 'group', 'aria-label': 'request lanes' }, this.spacer);
    this.pinnedSvg = s('svg', { class: 'pinned', role: 'img', 'aria-label': 'client and server lanes' });
    // The narration of the latest event (or of the one under the cursor).
    this.caption = h('p', { class: 'caption', 'data-caption': '', 'aria-live': 'off' }, '');
    this.sentence = h('p', { class: 'verdict-sentence' }, '');
    this.counts = {
      refreshCalls: h('b', {}, '0'),
      ok: h('b', {}, '0'),
      failed: h('b', {}, '0'),
      logouts: h('b', {}, '0'),
    };
    // "1 logout", "2 logouts": the nouns follow their counts.
    this.nouns = { refreshCalls: document.createTextNode(' refresh calls'), logouts: document.createTextNode(' logouts') };
    this.verdict = h('div', { class: 'verdict tone-running', 'data-verdict': '', 'aria-live': 'polite' },
      this.sentence,
      h('ul', { class: 'verdict-counts' },
        h('li', { class: 'count-refresh' }, this.counts.refreshCalls, this.nouns.refreshCalls),
        h('li', { class: 'count-ok' }, this.counts.ok, ' ok'),
        h('li', { class: 'count-failed' }, this.counts.failed, ' failed'),
        h('li', { class: 'count-logouts' }, this.counts.logouts, this.nouns.logouts)));
    this.root = h('section', {
      class: `timeline${compact ? ' compact' : ''}`,
      'data-timeline': '',
      'data-strategy': strategy,
      'data-runtime': runtime,
      'data-policy': policy,
      'data-state': 'running',
      'data-replay': replay ? '' : null,
      'aria-label': `timeline: ${strategy} client, ${policy} server${replay ? ' (replay)' : ''}`,
    },
    h('header', { class: 'timeline-head' }, this.title, this.pill,
      replay ? h('span', { class: 'replay-badge', title: `replay of the saved run ${replay}` }, `replay · ${replay}`) : null,
      badge ? h('span', { class: 'run-badge' }, badge) : null,
      this.note),
    this.axis, this.scroll, this.pinnedSvg, this.caption, this.verdict);

    this.lanesParts = this.svgLayers(this.lanesSvg);
    this.pinnedParts = this.svgLayers(this.pinnedSvg);
    this.axisTicks = s('g', { class: 'axis-ticks' });
    this.nowFlag = s('g', { class: 'now-mark' },
      s('rect', { x: -24, y: 2, width: 48, height: 10, rx: 4, class: 'now-flag' }),
      s('text', { x: 0, y: 0, class: 'now-label', 'text-anchor': 'middle' }, 'now'));
    this.axis.append(this.axisTicks);

    // Scrolling redraws the rows on the next animation frame (once per frame, however many events).
    this.scroll.addEventListener('scroll', () => {
      this.scrollTop = this.scroll.scrollTop;
      this.scheduleOwnFrame();
    }, { passive: true });
    // pointerdown, not click: while live the bars are repainted every frame,
    // so the element under mousedown may be gone by mouseup.
    this.root.addEventListener('pointerdown', (event) => {
      const target = event.target instanceof Element ? event.target.closest('[data-jti]') : null;
      const jti = target && target.getAttribute('data-jti');
      if (jti && this.state) this.onToken(jti, this.state);
    });
    // Sizes are read here, when layout is fresh, never in the middle of a frame's writes.
    if (typeof ResizeObserver === 'function') {
      this.resizer = new ResizeObserver(() => {
        this.width = this.root.clientWidth;
        this.viewport = this.scroll.clientHeight;
        this.sizes = this.measureSizes();
        if (this.lastFrame) this.render(this.lastFrame);
      });
      this.resizer.observe(this.root);
      this.resizer.observe(this.scroll);
    }
  }

  /** Pattern defs, grid, rows, family lines and the now-cursor of one SVG. */
  svgLayers(svg) {
    const parts = {
      grid: s('g', { class: 'grid' }),
      rows: s('g', { class: 'rows' }),
      family: s('g', { class: 'family-lines' }),
      now: s('line', { class: 'now-cursor', x1: 0, x2: 0, y1: 0, y2: 0 }),
      cursor: s('line', { class: 'event-cursor', 'data-event-cursor': '', x1: 0, x2: 0, y1: 0, y2: 0 }),
    };
    svg.append(this.patterns(), parts.grid, parts.rows, parts.family);
    return parts;
  }

  /** The striped fills (in flight, waiting, family revoked), in this view's own ids. */
  patterns() {
    const stripe = (name, size, rotate) => {
      const [a, b] = stripeColors(name);
      return s('pattern', { id: `${this.id}-${name}`, width: size, height: size, patternUnits: 'userSpaceOnUse', patternTransform: `rotate(${rotate})` },
        s('rect', { width: size, height: size, style: { fill: a } }),
        s('rect', { width: name === 'queued' ? 3 : size / 2, height: size, style: { fill: b } }));
    };
    return s('defs', {}, stripe('pending', 10, 45), stripe('queued', 8, -45), stripe('family', 14, 45));
  }

  fill(name) {
    return `url(#${this.id}-${name})`;
  }

  /** The geometry for the page's theme and root font size now. */
  measureSizes() {
    return scaledSizes(baseSizes({ compact: this.compact, theme: document.body.getAttribute('data-theme') }), rootFontPx());
  }

  /**
   * The theme or the page scale changed: new geometry, drawn now. (Colours
   * need nothing: they are the theme's CSS variables.)
   */
  restyle() {
    this.width = this.root.clientWidth || this.width;
    this.viewport = this.scroll.clientHeight;
    this.sizes = this.measureSizes();
    if (this.lastFrame) this.render(this.lastFrame);
  }

  scheduleOwnFrame() {
    if (this.ownFrame != null) return;
    this.ownFrame = requestAnimationFrame(() => {
      this.ownFrame = null;
      if (this.lastFrame) this.render(this.lastFrame);
    });
  }

  /** Shows `state` (from lib/reducer.js). */
  setRun(state) {
    this.state = state;
  }

  /** Highlights the token shown in the inspector. */
  select(jti) {
    this.selectedJti = jti;
  }

  /**
   * Marks an explored order's point of no return: once the run has made
   * `delivered` deliveries, the latest event is where it was lost. The
   * caption names it until the next delivery.
   * @param {{leg: string, delivered: number, caption: string}} mark
   */
  setNoReturn(mark) {
    this.noReturn = { ...mark, tUs: null };
  }

  destroy() {
    if (this.resizer) this.resizer.disconnect();
    this.root.remove();
  }

  /**
   * The node painted from `model` under `part`: the one from the last frame
   * when the model is the same, else a new one from `paint(model)`.
   */
  reuse(part, model, paint) {
    const json = JSON.stringify(model);
    let entry = this.painted.get(part);
    if (!entry || entry.json !== json) {
      entry = { json, node: paint(model) };
      this.painted.set(part, entry);
    }
    entry.frame = this.frameNo;
    return entry.node;
  }

  /**
   * Draws the view.
   * @param {{nowUs: number|null, domainEndUs: number, cursorIndex?: number|null}} frame
   *   nowUs: the moving now-cursor (null once the run is over);
   *   cursorIndex: the event under the event cursor of a finished run
   */
  render(frame) {
    if (!frame || !this.state) return;
    this.lastFrame = frame;
    this.frameNo += 1;
    const model = timelineModel(this.state, {
      width: this.width || 1000,
      sizes: this.sizes,
      domainEndUs: frame.domainEndUs,
      nowUs: frame.nowUs,
      selectedJti: this.selectedJti,
      scrollTop: this.scrollTop,
      viewportHeight: this.viewport,
      cursorIndex: frame.cursorIndex ?? null,
      markUs: this.markUs(),
    });

    // The axis, with the "now" flag moved every frame.
    set(this.axis, 'width', model.width);
    set(this.axis, 'height', model.axis.height);
    place(this.axisTicks, [this.reuse('axis', model.axis, paintAxis)]);
    if (model.nowX == null) this.nowFlag.remove();
    else {
      const [rect, text] = this.nowFlag.children;
      set(rect, 'height', model.axis.flag.height);
      set(text, 'y', model.axis.flag.textY);
      set(this.nowFlag, 'transform', `translate(${model.nowX},0)`);
      if (!this.nowFlag.isConnected) this.axis.append(this.nowFlag);
    }

    // Request lanes: the scroll area has every row's height, the SVG only the visible rows.
    const lanes = model.lanes;
    setStyle(this.spacer, 'height', `${lanes.total}px`);
    setStyle(this.lanesSvg, 'top', `${lanes.top}px`);
    set(this.lanesSvg, 'width', model.width);
    set(this.lanesSvg, 'height', lanes.height);
    const rows = lanes.rows.map((row) => {
      const node = this.reuse(`row:${row.name}`, row, (r) => paintRequestRow(r, (name) => this.fill(name)));
      set(node, 'transform', `translate(0,${(row.index - lanes.first) * lanes.rowHeight})`);
      return node;
    });
    place(this.lanesParts.rows, rows);
    this.paintOverlays('lanes', this.lanesParts, model, lanes.height);

    // Pinned lanes: the token store and the server, always in view.
    set(this.pinnedSvg, 'width', model.width);
    set(this.pinnedSvg, 'height', model.pinned.height);
    place(this.pinnedParts.rows, [this.reuse('pinned', model.pinned, (p) => paintPinned(p, (name) => this.fill(name)))]);
    this.paintOverlays('pinned', this.pinnedParts, model, model.pinned.height);

    const marked = this.noReturn && this.noReturn.tUs != null && this.state.delivered.length === this.noReturn.delivered;
    this.paintCaption(marked ? { ...model.caption, text: `${this.noReturn.caption} ${model.caption.text}` } : model.caption);
    // Read aloud only while someone steps through the run: a timer run would talk over itself.
    set(this.caption, 'aria-live', model.network.held || model.caption.cursor ? 'polite' : 'off');
    this.paintNetwork(model.network);
    this.paintVerdict(model.verdict);
    if (this.note.textContent !== model.note) this.note.textContent = model.note;

    for (const [part, entry] of this.painted) if (entry.frame !== this.frameNo) this.painted.delete(part);
  }

  /** Where the point of no return is, once the run reached it. */
  markUs() {
    const mark = this.noReturn;
    if (!mark) return null;
    const events = this.state.events;
    if (mark.tUs == null && this.state.delivered.length >= mark.delivered && events.length) {
      mark.tUs = events[events.length - 1].t_us;
    }
    return mark.tUs;
  }

  /** Grid lines, family revocation lines, the event cursor and the now-cursor over one SVG. */
  paintOverlays(name, parts, model, height) {
    if (model.markX == null) {
      if (parts.mark) parts.mark.remove();
    } else {
      if (!parts.mark) {
        parts.mark = s('g', { class: 'no-return', ...(name === 'lanes' ? { 'data-no-return': this.noReturn.leg } : {}) },
          s('line', { class: 'no-return-line', x1: 0, x2: 0, y1: 0, y2: 0 }),
          name === 'lanes' ? s('text', { class: 'no-return-label', x: 4, y: 12 }, 'no return') : null);
      }
      set(parts.mark, 'transform', `translate(${model.markX},0)`);
      set(parts.mark.firstChild, 'y2', height);
      if (!parts.mark.isConnected) parts.family.after(parts.mark);
    }
    place(parts.grid, [this.reuse(`${name}:grid`, { xs: model.gridXs, height }, verticals)]);
    place(parts.family, [this.reuse(`${name}:family`, { xs: model.familyXs, height, cls: 'family-line' }, verticals)]);
    if (model.cursor == null) parts.cursor.remove();
    else {
      set(parts.cursor, 'x1', model.cursor.x);
      set(parts.cursor, 'x2', model.cursor.x);
      set(parts.cursor, 'y2', height);
      if (!parts.cursor.isConnected) parts.family.after(parts.cursor);
    }
    if (model.nowX == null) {
      parts.now.remove();
      return;
    }
    set(parts.now, 'x1', model.nowX);
    set(parts.now, 'x2', model.nowX);
    set(parts.now, 'y2', height);
    if (!parts.now.isConnected) parts.family.after(parts.now);
  }

  paintCaption(c) {
    const json = JSON.stringify(c);
    if (this.paintedCaption === json) return;
    this.paintedCaption = json;
    this.caption.textContent = c.text;
    this.caption.hidden = !c.text;
    this.caption.classList.toggle('at-cursor', c.cursor);
    this.caption.setAttribute('data-event', c.index == null ? '' : String(c.index));
    if (c.cursor) this.caption.setAttribute('data-cursor', `${c.index + 1}/${c.of}`);
    else this.caption.removeAttribute('data-cursor');
  }

  /** The run's id, whether its network holds, and how many legs were delivered: hooks on the root. */
  paintNetwork(n) {
    set(this.root, 'data-run', n.run ?? '');
    set(this.root, 'data-held', n.held ? 'true' : 'false');
    set(this.root, 'data-network', n.driver ?? '');
    set(this.root, 'data-delivered', n.delivered);
    this.root.classList.toggle('is-held', n.held);
  }

  paintVerdict(v) {
    const json = JSON.stringify(v);
    if (this.paintedVerdict === json) return;
    this.paintedVerdict = json;
    const el = this.verdict;
    el.className = `verdict tone-${v.tone}`;
    el.setAttribute('data-refresh-calls', String(v.refreshCalls));
    el.setAttribute('data-ok', String(v.ok));
    el.setAttribute('data-failed', String(v.failed));
    el.setAttribute('data-logouts', String(v.logouts));
    el.setAttribute('data-final', v.final ? 'true' : 'false');
    el.setAttribute('data-verdict-kind', v.kind ?? 'running');
    this.sentence.textContent = v.sentence;
    this.counts.refreshCalls.textContent = String(v.refreshCalls);
    this.counts.ok.textContent = String(v.ok);
    this.counts.failed.textContent = String(v.failed);
    this.counts.logouts.textContent = String(v.logouts);
    this.nouns.refreshCalls.textContent = v.refreshCalls === 1 ? ' refresh call' : ' refresh calls';
    this.nouns.logouts.textContent = v.logouts === 1 ? ' logout' : ' logouts';
    this.pill.textContent = v.pill;
    this.pill.className = `state-pill pill-${v.status}`;
    this.root.classList.toggle('family-revoked', v.familyRevoked);
    // Last: tests wait for data-state="done" and then read the verdict.
    this.root.setAttribute('data-state', v.status);
  }
}

/** The root font size in px: the stylesheet scales it with the window. */
function rootFontPx() {
  return parseFloat(getComputedStyle(document.documentElement).fontSize) || 18;
}

/** Sets an attribute only when it changes (a write invalidates style even when equal). */
function set(el, name, value) {
  const text = String(value);
  if (el.getAttribute(name) !== text) el.setAttribute(name, text);
}

function setStyle(el, name, value) {
  if (el.style[name] !== value) el.style[name] = value;
}

/** Makes `nodes` the children of `parent`, touching the DOM only when they differ. */
function place(parent, nodes) {
  const current = parent.children;
  let same = current.length === nodes.length;
  for (let i = 0; same && i < nodes.length; i++) same = current[i] === nodes[i];
  if (!same) parent.replaceChildren(...nodes);
}
