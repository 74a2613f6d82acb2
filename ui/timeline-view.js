// The live timeline of one run, drawn in SVG.
//
// Layout (top to bottom): a header (strategy · policy, live/done pill), the
// time axis, the request lanes (a scroll box: only the rows inside the
// viewport get SVG elements, so a 10,000-request run stays light), the
// pinned client and server lanes, and the verdict card.
//
// Every HTTP attempt is one <g> carrying the test hooks of DESIGN.md §7:
// data-kind, data-status ("pending" while in flight), data-lane, data-jti.
// The view only reads the reducer's state; app.js decides when to render.

import { h, s } from './dom.js';
import { createScale, formatTick, niceStep } from './lib/scale.js';
import { splitLanes, visibleRange, mergeMarkers, fitLabels, textWidth, placeRow } from './lib/layout.js';
import { orderedLanes, laneOutcome, verdictView, attemptRevoked, storeDeaths } from './lib/reducer.js';
import { tokenColor, statusClass, statusColor } from './lib/colors.js';
import { attemptLabels, formatUs } from './lib/format.js';

const SIZES = {
  normal: { row: 40, bar: 26, label: 150, axis: 30, server: 34, client: 40, font: 15, big: 17 },
  compact: { row: 30, bar: 20, label: 150, axis: 26, server: 26, client: 32, font: 13, big: 15 },
};
const RIGHT_PAD = 28;

/**
 * SIZES are for an 18px root font; the stylesheet scales the root font with
 * the window (bigger on a projector), so the geometry follows it.
 */
function scaledSizes(base) {
  const root = parseFloat(getComputedStyle(document.documentElement).fontSize) || 18;
  const k = root / 18;
  const out = {};
  for (const [key, value] of Object.entries(base)) out[key] = key === 'label' ? Math.round(value * Math.max(1, k)) : Math.round(value * k);
  return out;
}
const SERVER_ROWS = ['tokens', 'revoked', 'rejected'];

let nextViewId = 1;

export class TimelineView {
  /**
   * @param {object} o
   * @param {string} o.strategy  client strategy of the run
   * @param {string} o.policy    server policy of the run
   * @param {boolean} [o.compact] smaller rows (compare mode)
   * @param {string|null} [o.replay] file name when this replays a saved run
   * @param {'strategy'|'policy'|null} [o.varies] what a comparison varies (highlighted in the title)
   * @param {(jti: string, state: object) => void} [o.onToken] token chip clicked
   */
  constructor({ strategy, policy, compact = false, replay = null, varies = null, onToken = () => {} }) {
    this.id = `tl${nextViewId++}`;
    this.baseSize = compact ? SIZES.compact : SIZES.normal;
    this.size = scaledSizes(this.baseSize);
    this.onToken = onToken;
    this.state = null;
    this.width = 0;
    this.selectedJti = null;

    this.title = h('h2', { class: 'timeline-title' },
      h('span', { class: `strategy-name${varies === 'strategy' ? ' varies' : ''}` }, strategy), ' client · ',
      h('span', { class: `policy-name${varies === 'policy' ? ' varies' : ''}` }, policy), ' server');
    this.pill = h('span', { class: 'state-pill' }, 'starting');
    this.replayBadge = replay ? h('span', { class: 'replay-badge', title: `replay of the saved run ${replay}` }, `replay · ${replay}`) : null;
    this.note = h('span', { class: 'setup-note' }, '');
    this.axis = s('svg', { class: 'axis', height: this.size.axis, 'aria-hidden': 'true' });
    this.lanesSvg = s('svg', { class: 'lanes', role: 'img', 'aria-label': 'request lanes' });
    this.spacer = h('div', { class: 'lanes-spacer' }, this.lanesSvg);
    this.scroll = h('div', { class: 'lanes-scroll' }, this.spacer);
    this.pinnedSvg = s('svg', { class: 'pinned', role: 'img', 'aria-label': 'client and server lanes' });
    this.sentence = h('p', { class: 'verdict-sentence' }, '');
    this.countEls = {
      refreshCalls: h('b', {}, '0'),
      ok: h('b', {}, '0'),
      failed: h('b', {}, '0'),
      logouts: h('b', {}, '0'),
    };
    this.verdict = h('div', { class: 'verdict tone-running', 'data-verdict': '', 'aria-live': 'polite' },
      this.sentence,
      h('ul', { class: 'verdict-counts' },
        h('li', { class: 'count-refresh' }, this.countEls.refreshCalls, ' refresh calls'),
        h('li', { class: 'count-ok' }, this.countEls.ok, ' ok'),
        h('li', { class: 'count-failed' }, this.countEls.failed, ' failed'),
        h('li', { class: 'count-logouts' }, this.countEls.logouts, ' logouts')));

    this.root = h('section', {
      class: `timeline${compact ? ' compact' : ''}`,
      'data-timeline': '',
      'data-strategy': strategy,
      'data-policy': policy,
      'data-state': 'running',
      'data-replay': replay ? '' : null,
      'aria-label': `timeline: ${strategy} client, ${policy} server${replay ? ' (replay)' : ''}`,
    },
    h('header', { class: 'timeline-head' }, this.title, this.pill, this.replayBadge, this.note),
    this.axis, this.scroll, this.pinnedSvg, this.verdict);

    this.defs = this.makeDefs();
    this.scrollTop = 0;
    this.viewport = 0;
    this.rowCache = new Map(); // lane name → { g, key }: rows are redrawn only when they changed
    this.keys = {};
    this.buildStatic();
    // Scrolling redraws the rows on the next animation frame (once per frame, however many events).
    this.scroll.addEventListener('scroll', () => {
      this.scrollTop = this.scroll.scrollTop;
      this.scheduleOwnFrame();
    }, { passive: true });
    // pointerdown, not click: while live the bars are redrawn every frame,
    // so the element under mousedown may be gone by mouseup.
    this.root.addEventListener('pointerdown', (event) => {
      const target = event.target instanceof Element ? event.target.closest('[data-jti]') : null;
      const jti = target && target.getAttribute('data-jti');
      if (jti && this.state) this.onToken(jti, this.state);
    });
    // Sizes are read here, when layout is fresh, never in the middle of a frame's writes.
    if (typeof ResizeObserver === 'function') {
      this.resizer = new ResizeObserver(() => {
        const width = this.root.clientWidth;
        this.viewport = this.scroll.clientHeight;
        if (width !== this.width) {
          this.width = width;
          this.size = scaledSizes(this.baseSize);
          this.axis.setAttribute('height', this.size.axis);
          this.rowCache.clear();
          this.keys = {};
        }
        if (this.lastFrame) this.render(this.lastFrame);
      });
      this.resizer.observe(this.root);
      this.resizer.observe(this.scroll);
    }
    this.lastFrame = null;
  }

  scheduleOwnFrame() {
    if (this.ownFrame != null) return;
    this.ownFrame = requestAnimationFrame(() => {
      this.ownFrame = null;
      if (this.lastFrame) this.render(this.lastFrame);
    });
  }

  /**
   * The SVG parts that live as long as the view: pattern defs, grid, rows,
   * the family lines and the now-cursor of both SVGs, the axis parts.
   */
  buildStatic() {
    const make = (svg) => {
      const parts = {
        defs: this.defs.build(),
        grid: s('g', { class: 'grid' }),
        rows: s('g', { class: 'rows' }),
        family: s('g', { class: 'family-lines' }),
        now: s('line', { class: 'now-cursor', x1: 0, x2: 0, y1: 0, y2: 0 }),
      };
      svg.append(parts.defs, parts.grid, parts.rows, parts.family);
      return parts;
    };
    this.lanesParts = make(this.lanesSvg);
    this.pinnedParts = make(this.pinnedSvg);
    this.axisTicks = s('g', { class: 'axis-ticks' });
    this.nowFlag = s('g', { class: 'now-mark' },
      s('rect', { x: -24, y: 2, width: 48, height: 10, rx: 4, class: 'now-flag' }),
      s('text', { x: 0, y: 0, class: 'now-label', 'text-anchor': 'middle' }, 'now'));
    this.axis.append(this.axisTicks);
  }

  /** Shows `state` (from lib/reducer.js). */
  setRun(state) {
    this.state = state;
  }

  /** Highlights the token shown in the inspector. */
  select(jti) {
    this.selectedJti = jti;
  }

  destroy() {
    if (this.resizer) this.resizer.disconnect();
    this.root.remove();
  }

  /** Per-view SVG pattern ids (ids are document-wide; two views must not clash). */
  makeDefs() {
    const id = this.id;
    return {
      pending: `${id}-pending`,
      queued: `${id}-queued`,
      family: `${id}-family`,
      build: () => s('defs', {},
        s('pattern', { id: `${id}-pending`, width: 10, height: 10, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
          s('rect', { width: 10, height: 10, fill: '#59636e' }),
          s('rect', { width: 5, height: 10, fill: '#7d8590' })),
        s('pattern', { id: `${id}-queued`, width: 8, height: 8, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(-45)' },
          s('rect', { width: 8, height: 8, fill: '#1b2a44' }),
          s('rect', { width: 3, height: 8, fill: '#6f9cff' })),
        s('pattern', { id: `${id}-family`, width: 14, height: 14, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
          s('rect', { width: 14, height: 14, fill: '#5a0008' }),
          s('rect', { width: 7, height: 14, fill: '#b3001b' }))),
    };
  }

  /**
   * Draws the view.
   * @param {{nowUs: number|null, domainEndUs: number}} frame
   *   nowUs: the moving now-cursor (null once the run is over)
   */
  render(frame) {
    if (!frame || !this.state) return;
    this.lastFrame = frame;
    const state = this.state;
    const sz = this.size;
    const width = this.width || 1000;
    const plotEnd = Math.max(sz.label + 50, width - RIGHT_PAD);
    const scale = createScale([0, frame.domainEndUs], [sz.label, plotEnd]);
    const scaleKey = `${frame.domainEndUs}|${width}|${sz.row}`;
    let tickValues = this.tickCache && this.tickCache.key === scaleKey ? this.tickCache.values : null;
    if (!tickValues) {
      tickValues = scale.ticks(Math.max(3, Math.floor((plotEnd - sz.label) / 110)));
      this.tickCache = { key: scaleKey, values: tickValues };
    }
    const live = state.status === 'running' || state.status === 'idle';
    const nowUs = live && frame.nowUs != null ? Math.max(frame.nowUs, state.maxUs) : null;
    const endForPending = nowUs ?? state.maxUs;
    const nowX = nowUs == null ? null : scale.clampedX(nowUs);

    this.drawAxis(scale, tickValues, width, scaleKey);
    this.placeNowFlag(nowX);

    // The family revocations' vertical lines (alarming, across every lane).
    const familyKey = `${scaleKey}|${state.revocationCount}`;
    if (this.keys.familyXs !== familyKey) {
      this.keys.familyXs = familyKey;
      this.familyXs = [];
      for (const m of state.server) if (m.kind === 'revoked' && m.cause === 'family') this.familyXs.push(scale.x(m.tUs));
    }

    // Request lanes: only the rows in the scroll viewport, each redrawn only when it changed.
    const { requests, pinned } = this.splitCached(state);
    const total = requests.length * sz.row;
    if (this.keys.total !== total) {
      this.keys.total = total;
      this.spacer.style.height = `${total}px`;
    }
    const viewport = this.viewport || Math.min(total, 600);
    const { first, end } = visibleRange({
      rowCount: requests.length,
      rowHeight: sz.row,
      scrollTop: this.scrollTop,
      viewportHeight: viewport,
      overscan: 4,
    });
    const lanesHeight = Math.max(0, (end - first) * sz.row);
    const frameKey = `${first}|${lanesHeight}|${width}`;
    if (this.keys.lanesFrame !== frameKey) {
      this.keys.lanesFrame = frameKey;
      this.lanesSvg.style.top = `${first * sz.row}px`;
      this.lanesSvg.setAttribute('width', width);
      this.lanesSvg.setAttribute('height', lanesHeight);
    }
    this.drawGrid(this.lanesParts, 'lanesGrid', tickValues, scale, lanesHeight, scaleKey);
    this.drawRows(state, requests, first, end, scale, scaleKey, endForPending, nowUs);
    this.drawFamilyLines(this.lanesParts, 'lanesFamily', lanesHeight, familyKey);
    this.drawNow(this.lanesParts, nowX, lanesHeight);

    // Pinned lanes: client and server, always visible; redrawn when the run changed.
    let y = 0;
    const pinnedRows = [];
    for (const name of pinned) {
      const height = name === 'server' ? sz.server * SERVER_ROWS.length + 8 : sz.client;
      pinnedRows.push({ name, y, height });
      y += height;
    }
    const pinnedKey = `${state.version}|${scaleKey}|${this.selectedJti}|${pinned.join(',')}`;
    if (this.keys.pinned !== pinnedKey) {
      this.keys.pinned = pinnedKey;
      this.pinnedSvg.setAttribute('width', width);
      this.pinnedSvg.setAttribute('height', y);
      this.pinnedParts.rows.replaceChildren(...pinnedRows.map((row) => (row.name === 'server'
        ? this.serverRow(state, row, scale)
        : this.clientRow(state, row, scale))));
    }
    this.drawGrid(this.pinnedParts, 'pinnedGrid', tickValues, scale, y, scaleKey);
    this.drawFamilyLines(this.pinnedParts, 'pinnedFamily', y, familyKey);
    this.drawNow(this.pinnedParts, nowX, y);

    if (this.keys.verdict !== state.version) {
      this.keys.verdict = state.version;
      this.updateVerdict(state);
      this.updateNote(state);
    }
  }

  /** Visible request rows: cached `<g>`s, rebuilt when their lane, the scale or the selection changed. */
  drawRows(state, requests, first, end, scale, scaleKey, endForPending, nowUs) {
    const sz = this.size;
    const rows = [];
    const seen = new Set();
    for (let i = first; i < end; i++) {
      const name = requests[i];
      const lane = state.lanes.get(name);
      const last = lane.attempts[lane.attempts.length - 1];
      const openWait = lane.queued.length > 0 && lane.queued[lane.queued.length - 1].endUs == null;
      // A row with a bar in flight grows with the now-cursor: redrawn every frame.
      const growing = (last && last.status === 'pending') || openWait;
      const key = `${lane.v}|${scaleKey}|${this.selectedJti}|${state.revocationCount}|${i & 1}${growing ? `|${endForPending}` : ''}`;
      let cached = this.rowCache.get(name);
      if (!cached || cached.key !== key) {
        const g = this.requestRow(lane, 0, i, scale, endForPending);
        cached = { g, key, y: null };
        this.rowCache.set(name, cached);
      }
      const y = (i - first) * sz.row;
      if (cached.y !== y) {
        cached.g.setAttribute('transform', `translate(0,${y})`);
        cached.y = y;
      }
      rows.push(cached.g);
      seen.add(name);
    }
    for (const name of this.rowCache.keys()) if (!seen.has(name)) this.rowCache.delete(name);
    const container = this.lanesParts.rows;
    const current = container.children;
    let same = current.length === rows.length;
    for (let k = 0; same && k < rows.length; k++) same = current[k] === rows[k];
    if (!same) container.replaceChildren(...rows);
  }

  drawGrid(parts, keyName, tickValues, scale, height, scaleKey) {
    const key = `${scaleKey}|${height}`;
    if (this.keys[keyName] === key) return;
    this.keys[keyName] = key;
    parts.grid.replaceChildren(...tickValues.map((t) => {
      const x = scale.x(t);
      return s('line', { x1: x, x2: x, y1: 0, y2: height });
    }));
  }

  drawFamilyLines(parts, keyName, height, familyKey) {
    const key = `${familyKey}|${height}`;
    if (this.keys[keyName] === key) return;
    this.keys[keyName] = key;
    parts.family.replaceChildren(...this.familyXs.map((x) => s('line', { x1: x, x2: x, y1: 0, y2: height, class: 'family-line' })));
  }

  /** The now-cursor: one line moved every frame, gone once the run is over. */
  drawNow(parts, nowX, height) {
    if (nowX == null) {
      if (parts.now.isConnected) parts.now.remove();
      return;
    }
    parts.now.setAttribute('x1', nowX);
    parts.now.setAttribute('x2', nowX);
    parts.now.setAttribute('y2', height);
    if (!parts.now.isConnected) parts.family.after(parts.now);
  }

  /** The case's setup in words: the login's token and the lab clock jump. */
  updateNote(state) {
    const parts = [];
    for (const m of state.server) {
      // The login's token: issued outside any client attempt of the run.
      if (m.kind === 'issued' && (m.attempt == null || !state.attempts.has(m.attempt))) parts.push(`login → ${m.jti}`);
      else if (m.kind === 'clock_advanced') parts.push(`lab clock +${((m.byMs ?? 0) / 1000).toFixed(0)} s`);
    }
    if (state.settings && state.settings.case === 'guest') parts.unshift('no token');
    const text = parts.length ? `setup: ${parts.join(', ')}` : '';
    if (this.note.textContent !== text) this.note.textContent = text;
  }

  splitCached(state) {
    const lanes = orderedLanes(state);
    if (this.splitFor !== lanes) {
      this.splitFor = lanes;
      this.split = splitLanes(lanes);
    }
    return this.split;
  }

  drawAxis(scale, tickValues, width, scaleKey) {
    if (this.keys.axis === scaleKey) return;
    this.keys.axis = scaleKey;
    const sz = this.size;
    const step = tickValues.length > 1 ? tickValues[1] - tickValues[0] : niceStep(scale.domain[1], 5);
    const parts = [s('text', { x: 12, y: sz.axis - 9, class: 'axis-caption' }, 'since start')];
    for (const t of tickValues) {
      const x = scale.x(t);
      parts.push(s('line', { x1: x, x2: x, y1: sz.axis - 6, y2: sz.axis, class: 'tick' }));
      parts.push(s('text', { x, y: sz.axis - 10, class: 'tick-label', 'text-anchor': 'middle' }, formatTick(t, step)));
    }
    parts.push(s('line', { x1: sz.label, x2: scale.range[1], y1: sz.axis - 0.5, y2: sz.axis - 0.5, class: 'axis-line' }));
    this.axis.setAttribute('width', width);
    this.axisTicks.replaceChildren(...parts);
    const [rect, text] = this.nowFlag.children;
    rect.setAttribute('height', sz.axis - 10);
    text.setAttribute('y', sz.axis - 12);
  }

  /** The "now" flag on the axis: moved with a transform every frame. */
  placeNowFlag(nowX) {
    if (nowX == null) {
      if (this.nowFlag.isConnected) this.nowFlag.remove();
      return;
    }
    this.nowFlag.setAttribute('transform', `translate(${nowX},0)`);
    if (!this.nowFlag.isConnected) this.axis.append(this.nowFlag);
  }

  requestRow(lane, y, index, scale, endForPending) {
    const sz = this.size;
    const outcome = laneOutcome(lane);
    const g = s('g', {
      class: `row outcome-${outcome}${index % 2 ? ' odd' : ''}`,
      'data-lane-row': lane.name,
      'data-outcome': outcome,
      transform: `translate(0,${y})`,
    });
    g.append(s('rect', { class: 'row-bg', x: 0, y: 0, width: scale.range[1] + RIGHT_PAD, height: sz.row }));
    g.append(s('text', { class: 'lane-label', x: 12, y: sz.row / 2, 'dominant-baseline': 'central' }, lane.name));
    const barY = (sz.row - sz.bar) / 2;

    for (const wait of lane.queued) {
      const x0 = scale.x(wait.startUs);
      const x1 = scale.x(wait.endUs ?? endForPending);
      const w = Math.max(2, x1 - x0);
      const q = s('g', { class: 'queued', 'data-queued': '', 'data-lane': lane.name });
      q.append(s('rect', { x: x0, y: barY + 3, width: w, height: sz.bar - 6, rx: 3, fill: `url(#${this.defs.queued})`, class: 'queued-body' }));
      if (w > textWidth('waiting for refresh', sz.font) + 10) {
        q.append(s('text', { x: x0 + 6, y: sz.row / 2, 'dominant-baseline': 'central', class: 'queued-label' }, 'waiting for refresh'));
      } else if (w > textWidth('wait', sz.font) + 8) {
        q.append(s('text', { x: x0 + 4, y: sz.row / 2, 'dominant-baseline': 'central', class: 'queued-label' }, 'wait'));
      }
      q.append(s('title', {}, `${lane.name} waits for someone else's refresh (${formatUs(wait.startUs)} → ${wait.endUs == null ? 'now' : formatUs(wait.endUs)})`));
      g.append(q);
    }

    for (const attempt of lane.attempts) {
      g.append(this.bar(attempt, barY, scale, endForPending));
    }

    if (lane.done) {
      const x = scale.x(lane.done.tUs) + 8;
      g.append(s('text', {
        class: `done-mark ${lane.done.ok ? 'ok' : 'failed'}`,
        x,
        y: sz.row / 2,
        'dominant-baseline': 'central',
      }, lane.done.ok ? '✔' : '✖'));
    }
    return g;
  }

  bar(attempt, barY, scale, endForPending) {
    const sz = this.size;
    const pending = attempt.status === 'pending';
    const cls = statusClass(attempt.status);
    const x0 = scale.x(attempt.startUs);
    const x1 = scale.x(attempt.endUs ?? endForPending);
    const w = Math.max(4, x1 - x0);
    const isRefresh = attempt.kind === 'refresh';
    const y = isRefresh ? barY + 1 : barY;
    const height = isRefresh ? sz.bar - 2 : sz.bar;
    // Did it present a token the server had already revoked?
    const revoked = attemptRevoked(this.state, attempt);
    const g = s('g', {
      class: `bar kind-${attempt.kind} status-${cls}${attempt.jti && attempt.jti === this.selectedJti ? ' selected' : ''}${revoked ? ` revoked revoked-${revoked}` : ''}`,
      'data-kind': attempt.kind,
      'data-status': pending ? 'pending' : String(attempt.status),
      'data-lane': attempt.lane,
      'data-jti': attempt.jti ?? '',
      'data-attempt': attempt.id,
      'data-revoked': revoked,
    });
    if (revoked) {
      g.append(s('rect', { class: 'revoked-outline', x: x0 - 3, y: y - 3, width: w + 6, height: height + 6, rx: isRefresh ? height / 2 + 3 : 6 }));
    }
    g.append(s('rect', {
      class: 'bar-body',
      x: x0,
      y,
      width: w,
      height,
      rx: isRefresh ? height / 2 : 4,
      fill: pending ? `url(#${this.defs.pending})` : statusColor(attempt.status),
    }));

    // The token this attempt carried: a chip when the bar is wide enough,
    // a stripe along the bar otherwise. A revoked token's chip is struck through.
    const chipW = 30;
    let textX = x0 + 8;
    const colour = tokenColor(attempt.jti);
    if (w >= chipW + 10) {
      const cx = x0 + (isRefresh ? height / 2 - 2 : 3);
      g.append(s('rect', { class: 'chip-rect', x: cx, y: y + 3, width: chipW, height: height - 6, rx: 4, fill: colour }));
      g.append(s('text', { class: 'chip-text', x: cx + chipW / 2, y: y + height / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, attempt.jti ?? '—'));
      if (revoked) g.append(strike(cx, y + 3, chipW, height - 6));
      textX = cx + chipW + 6;
    } else {
      g.append(s('rect', { class: 'stripe', x: x0, y: y + height - 5, width: w, height: 5, fill: colour }));
    }
    // A successful refresh ends with the new token's chip.
    let rightReserve = 0;
    if (isRefresh && attempt.newJti && w >= 2 * chipW + 24) {
      const cx = x0 + w - chipW - height / 2 + 2;
      g.append(s('rect', { class: 'chip-rect new', x: cx, y: y + 3, width: chipW, height: height - 6, rx: 4, fill: tokenColor(attempt.newJti), 'data-jti': attempt.newJti }));
      g.append(s('text', { class: 'chip-text', x: cx + chipW / 2, y: y + height / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central', 'data-jti': attempt.newJti }, attempt.newJti));
      rightReserve = chipW + height / 2;
    }
    const room = x0 + w - textX - 6 - rightReserve;
    const label = attemptLabels(attempt).find((text) => textWidth(text, sz.font) <= room);
    if (label) {
      g.append(s('text', { class: `bar-label on-${cls}`, x: textX, y: y + height / 2, 'dominant-baseline': 'central' }, label));
    }
    const reason = attempt.reason || attempt.serverReason;
    g.append(s('title', {}, [
      `${attempt.lane} · ${attempt.kind} ${attempt.route ?? ''}`,
      `token ${attempt.jti ?? 'none'}${attempt.newJti ? ` → ${attempt.newJti}` : ''}`,
      `status ${pending ? 'in flight' : attempt.status}${reason ? ` (${reason})` : ''}`,
      revoked === 'family' ? `${attempt.jti} was already dead: reuse detection revoked its whole family` : null,
      revoked === 'rotation' ? `${attempt.jti} was already revoked: a refresh rotated it away` : null,
      `${formatUs(attempt.startUs)} → ${attempt.endUs == null ? 'now' : formatUs(attempt.endUs)}`,
    ].filter(Boolean).join('\n')));
    return g;
  }

  clientRow(state, row, scale) {
    const sz = this.size;
    const mid = row.height / 2;
    const g = s('g', { class: 'row pinned-row client-row', 'data-lane-row': 'client', transform: `translate(0,${row.y})` });
    g.append(s('rect', { class: 'row-bg', x: 0, y: 0, width: scale.range[1] + RIGHT_PAD, height: row.height }));
    g.append(s('text', { class: 'lane-label', x: 12, y: mid, 'dominant-baseline': 'central' }, 'token store'));
    // Tokens stored close together (several refreshes won) share one strip of chips.
    const stored = mergeMarkers(state.client.filter((m) => m.kind === 'token_stored'), {
      x: (m) => scale.x(m.tUs), key: () => 'stored', px: 40,
    });
    const logouts = mergeMarkers(state.client.filter((m) => m.kind === 'logged_out'), {
      x: (m) => scale.x(m.tUs), key: () => 'logged_out', px: 60,
    });
    // The token the store held, killed by a family revocation: a skull at that moment.
    const deaths = mergeMarkers(storeDeaths(state), { x: (m) => scale.x(m.tUs), key: () => 'death', px: 40 });
    // One row of boxes in time order; a box that would run into the one
    // before it moves right (its tick stays at its time).
    const items = [
      ...stored.map((m) => {
        const jtis = distinctJtis(m.items);
        return { kind: 'stored', m, jtis, x: m.x + 3, width: stripWidth(jtis) };
      }),
      ...deaths.map((m) => {
        const jtis = distinctJtis(m.items);
        return { kind: 'death', m, jtis, x: m.x + 3, width: textWidth('☠', sz.big, 1) + stripWidth(jtis) + textWidth('revoked', sz.font) + 22 };
      }),
      ...logouts.map((m) => {
        const text = `LOGGED OUT${m.count > 1 ? ` ×${m.count}` : ''}`;
        return { kind: 'logout', m, text, x: m.x + 3, width: textWidth(text, sz.big, 0.78) + 16 };
      }),
    ].sort((p, q) => p.m.first.tUs - q.m.first.tUs || KIND_ORDER[p.kind] - KIND_ORDER[q.kind]);
    const placed = placeRow(items, { gap: 6 });
    items.forEach((it, i) => { it.x = placed[i]; });
    items.forEach((it, i) => {
      const next = items[i + 1];
      const room = (next ? next.x - 6 : scale.range[1] + RIGHT_PAD) - (it.x + it.width);
      if (it.kind === 'stored') g.append(this.storedMarker(it, mid, row.height, room));
      else if (it.kind === 'death') g.append(this.deathMarker(it, mid, row.height));
      else g.append(this.logoutMarker(it, mid, row.height));
    });
    return g;
  }

  storedMarker({ m, jtis, x, width }, mid, height, room) {
    const sz = this.size;
    const last = m.items[m.items.length - 1].jti;
    const mg = s('g', { class: 'stored-marker', 'data-marker': 'token_stored' });
    mg.append(s('line', { x1: m.x, x2: m.x, y1: 4, y2: height - 4, class: 'stored-tick', stroke: tokenColor(last) }));
    chipStrip(mg, jtis, x, mid, sz.bar - 4);
    if (room >= textWidth('stored', sz.font) + 5) {
      mg.append(s('text', { x: x + width + 5, y: mid, 'dominant-baseline': 'central', class: 'marker-text' }, 'stored'));
    }
    mg.append(s('title', {}, jtis.length > 1
      ? `the token store was overwritten ${m.count} times: ${m.items.map((i) => i.jti).join(', ')}; it keeps ${last}`
      : `the tab's token store now holds ${last}`));
    return mg;
  }

  /** The token in the store was revoked with its family: it is dead although the tab still holds it. */
  deathMarker({ m, jtis, x, width }, mid, height) {
    const sz = this.size;
    const mg = s('g', { class: 'death-marker', 'data-marker': 'token_revoked', 'data-cause': 'family', 'data-jti': jtis.join(' ') });
    mg.append(s('line', { x1: m.x, x2: m.x, y1: 2, y2: height - 2, class: 'death-tick' }));
    mg.append(s('rect', { x, y: mid - sz.bar / 2, width, height: sz.bar, rx: 5, class: 'death-box' }));
    const skullW = textWidth('☠', sz.big, 1);
    mg.append(s('text', { x: x + 6, y: mid, 'dominant-baseline': 'central', class: 'death-skull' }, '☠'));
    const chipsX = x + 8 + skullW;
    chipStrip(mg, jtis, chipsX, mid, sz.bar - 8, { struck: true });
    mg.append(s('text', { x: chipsX + stripWidth(jtis) + 3, y: mid, 'dominant-baseline': 'central', class: 'death-text' }, 'revoked'));
    const late = m.first.storedUs > m.first.revokedUs;
    mg.append(s('title', {}, late
      ? `${jtis.join(', ')} was stored at ${formatUs(m.first.storedUs)}, but reuse detection had revoked its whole family at ${formatUs(m.first.revokedUs)}: the tab holds a dead token`
      : `${jtis.join(', ')}, the token this tab holds, was revoked with its whole family at ${formatUs(m.first.revokedUs)}: every request with it now fails`));
    return mg;
  }

  logoutMarker({ m, text, x, width }, mid, height) {
    const sz = this.size;
    const mg = s('g', { class: 'logout-marker', 'data-marker': 'logged_out' });
    mg.append(s('line', { x1: m.x, x2: m.x, y1: 2, y2: height - 2, class: 'logout-tick' }));
    mg.append(s('rect', { x, y: mid - sz.bar / 2, width, height: sz.bar, rx: 5, class: 'logout-box' }));
    mg.append(s('text', { x: x + 8, y: mid, 'dominant-baseline': 'central', class: 'logout-text' }, text));
    mg.append(s('title', {}, `logged out: ${m.first.reason ?? ''}${m.count > 1 ? ` (${m.count} times)` : ''}`));
    return mg;
  }

  serverRow(state, row, scale) {
    const sz = this.size;
    const g = s('g', { class: 'row pinned-row server-row', 'data-lane-row': 'server', transform: `translate(0,${row.y})` });
    g.append(s('rect', { class: 'row-bg server-bg', x: 0, y: 0, width: scale.range[1] + RIGHT_PAD, height: row.height }));
    g.append(s('text', { class: 'lane-label', x: 12, y: sz.server * 0.5 + 4, 'dominant-baseline': 'central' }, 'server'));
    SERVER_ROWS.forEach((name, i) => {
      if (i > 0) g.append(s('text', { class: 'sub-label', x: 24, y: 4 + sz.server * (i + 0.5), 'dominant-baseline': 'central' }, name));
    });
    const byRow = { tokens: [], revoked: [], rejected: [] };
    // A rotation is told on the new token's "issued" marker ("replaces t1");
    // only a rotation without its issued event gets a marker of its own.
    const issued = new Set(state.server.filter((m) => m.kind === 'issued').map((m) => m.jti));
    this.rotatedFrom = new Map();
    for (const m of state.server) {
      if (m.kind === 'rotated' && m.newJti) this.rotatedFrom.set(m.newJti, m.jti);
    }
    for (const m of state.server) {
      if (m.kind === 'rotated' && issued.has(m.newJti)) continue;
      // (clock jumps are told in the header's setup note, not drawn here)
      if (m.kind === 'issued' || m.kind === 'rotated') byRow.tokens.push(m);
      else if (m.kind === 'revoked') byRow.revoked.push(m);
      else if (m.kind === 'rejected') byRow.rejected.push(m);
    }
    SERVER_ROWS.forEach((name, i) => {
      const mid = 4 + sz.server * (i + 0.5);
      const merged = mergeMarkers(byRow[name], {
        x: (m) => scale.x(m.tUs),
        // Revocations merge by cause: a family revocation is one event that kills several tokens.
        key: (m) => (m.kind === 'issued' ? 'issued' : m.kind === 'revoked' ? `revoked:${m.cause}` : `${m.kind}:${m.jti}:${m.reason}:${m.cause}:${m.route}`),
        px: 40,
      });
      const items = merged.map((m) => {
        const variants = serverTexts(m, this.rotatedFrom);
        const kind = m.first.kind;
        const family = kind === 'revoked' && m.first.cause === 'family';
        const offset = kind === 'issued' ? stripWidth(distinctJtis(m.items)) + 4 : (TEXT_OFFSET[kind] ?? 10);
        // How much room the symbol takes (a rejection's dot is centred on its x).
        const width = family ? this.familyBoxWidth(m) : kind === 'rejected' ? sz.server - 8 : offset;
        return { m, variants, x: m.x, width, offset, widths: variants.map((t) => textWidth(t, sz.font)) };
      });
      // Symbols (and the family box, which is always shown whole) never overlap;
      // each label then takes the longest wording that fits before the next one.
      const placed = placeRow(items, { gap: 6 });
      items.forEach((it, k) => {
        it.x = placed[k];
        it.textX = it.x + it.offset;
      });
      const chosen = fitLabels(items, { gap: 8, end: scale.range[1] + RIGHT_PAD });
      items.forEach((it, k) => g.append(this.serverMarker(it.m, it.variants[0], it.variants[chosen[k]] ?? null, mid, it.textX, it.x)));
    });
    return g;
  }

  familyBoxWidth(m) {
    const sz = this.size;
    return textWidth(FAMILY_TEXT, sz.big, 0.75) + 22 + stripWidth(distinctJtis(m.items)) + 6;
  }

  /** One (merged) server marker at `x`; `shown` is the label that fits, or null. */
  serverMarker(m, text, shown, mid, textX, x = m.x) {
    const sz = this.size;
    const first = m.first;
    const half = sz.server / 2 - 3;
    const g = s('g', { class: `server-marker marker-${first.kind}${first.cause ? ` cause-${first.cause}` : ''}`, 'data-marker': first.kind });
    if (first.cause) g.setAttribute('data-cause', first.cause);
    if (first.jti) g.setAttribute('data-jti', first.jti);
    switch (first.kind) {
      case 'issued':
        g.removeAttribute('data-jti');
        chipStrip(g, distinctJtis(m.items), x - 2, mid, half * 2);
        break;
      case 'rotated': {
        g.setAttribute('data-jti', first.newJti ?? first.jti ?? '');
        g.append(s('path', { d: `M${x} ${mid - half} L${x + 8} ${mid} L${x} ${mid + half} Z`, class: 'rotate-arrow', fill: tokenColor(first.newJti) }));
        break;
      }
      case 'clock_advanced':
        g.append(s('path', { d: `M${x} ${mid - half} L${x + 7} ${mid} L${x} ${mid + half} M${x + 7} ${mid - half} L${x + 14} ${mid} L${x + 7} ${mid + half}`, class: 'clock-mark' }));
        break;
      case 'revoked': {
        const jtis = distinctJtis(m.items);
        g.setAttribute('data-jti', jtis.join(' '));
        if (first.cause === 'family') {
          // Alarming on purpose: every token of the login dies here, the fresh one too.
          const w = this.familyBoxWidth(m);
          g.append(s('rect', { x: x - 2, y: mid - half - 1, width: w, height: half * 2 + 2, rx: 4, fill: `url(#${this.defs.family})`, class: 'family-box' }));
          g.append(s('text', { x: x + 8, y: mid, 'dominant-baseline': 'central', class: 'family-text' }, FAMILY_TEXT));
          chipStrip(g, jtis, x + 8 + textWidth(FAMILY_TEXT, sz.big, 0.75) + 8, mid, half * 2 - 6, { struck: true });
          g.append(s('title', {}, `${text} at ${formatUs(first.tUs)}: reuse detection revoked every token of the login, including the fresh one`));
          return g;
        }
        g.append(s('path', { d: `M${x - 6} ${mid - 6} L${x + 6} ${mid + 6} M${x + 6} ${mid - 6} L${x - 6} ${mid + 6}`, class: 'revoke-cross' }));
        break;
      }
      case 'rejected': {
        const refresh = first.route === '/api/refresh';
        g.append(s('circle', { cx: x, cy: mid, r: half - 2, class: refresh ? 'reject-dot refresh' : 'reject-dot' }));
        g.append(s('text', { x, y: mid, 'text-anchor': 'middle', 'dominant-baseline': 'central', class: 'reject-x' }, '✖'));
        break;
      }
      default:
        break;
    }
    if (shown) g.append(s('text', { x: textX, y: mid, 'dominant-baseline': 'central', class: `marker-text text-${first.kind}` }, shown));
    g.append(s('title', {}, `${text} at ${formatUs(first.tUs)}`));
    return g;
  }

  updateVerdict(state) {
    const v = verdictView(state);
    const el = this.verdict;
    el.className = `verdict tone-${v.tone}`;
    el.setAttribute('data-refresh-calls', String(v.refreshCalls));
    el.setAttribute('data-ok', String(v.ok));
    el.setAttribute('data-failed', String(v.failed));
    el.setAttribute('data-logouts', String(v.logouts));
    el.setAttribute('data-final', v.final ? 'true' : 'false');
    if (this.sentence.textContent !== v.sentence) this.sentence.textContent = v.sentence;
    this.countEls.refreshCalls.textContent = String(v.refreshCalls);
    this.countEls.ok.textContent = String(v.ok);
    this.countEls.failed.textContent = String(v.failed);
    this.countEls.logouts.textContent = String(v.logouts);

    const status = state.status === 'idle' ? 'running' : state.status;
    const pillText = { running: 'live', done: 'done', error: 'failed', aborted: 'cancelled' }[status] ?? status;
    if (this.pill.textContent !== pillText) this.pill.textContent = pillText;
    this.pill.className = `state-pill pill-${status}`;
    if (state.familyRevoked) this.root.classList.add('family-revoked');
    // Last: tests wait for data-state="done" and then read the verdict.
    if (this.root.getAttribute('data-state') !== status) this.root.setAttribute('data-state', status);
  }
}

const CHIP_W = 30;
const MAX_CHIPS = 5;

/** The distinct tokens of merged markers, in order. */
function distinctJtis(items) {
  return [...new Set(items.map((i) => i.jti).filter((j) => j != null))];
}

/** Width of a strip of token chips (with a "+N" chip when there are many). */
function stripWidth(jtis) {
  const shown = Math.min(jtis.length, MAX_CHIPS) + (jtis.length > MAX_CHIPS ? 1 : 0);
  return Math.max(1, shown) * (CHIP_W + 3);
}

/** Draws token chips side by side from `x`, centred on `mid`; each is clickable. */
function chipStrip(parent, jtis, x, mid, height, { struck = false } = {}) {
  let cx = x;
  for (const jti of jtis.slice(0, MAX_CHIPS)) {
    const chip = s('g', { class: `token-chip${struck ? ' struck' : ''}`, 'data-jti': jti });
    chip.append(s('rect', { x: cx, y: mid - height / 2, width: CHIP_W, height, rx: 4, fill: tokenColor(jti), class: 'chip-rect' }));
    chip.append(s('text', { x: cx + CHIP_W / 2, y: mid, 'text-anchor': 'middle', 'dominant-baseline': 'central', class: 'chip-text' }, jti));
    if (struck) chip.append(strike(cx, mid - height / 2, CHIP_W, height));
    parent.append(chip);
    cx += CHIP_W + 3;
  }
  if (jtis.length > MAX_CHIPS) {
    parent.append(s('text', { x: cx + 2, y: mid, 'dominant-baseline': 'central', class: 'marker-text' }, `+${jtis.length - MAX_CHIPS}`));
  }
}

/** A line struck through a chip's text: this token is revoked. */
function strike(x, y, width, height) {
  const mid = y + height / 2 + 0.5;
  return s('path', { d: `M${x - 2} ${mid} L${x + width + 2} ${mid}`, class: 'chip-strike' });
}

/** Same-time client markers: the token is stored, then dies, then the tab logs out. */
const KIND_ORDER = { stored: 0, death: 1, logout: 2 };

const FAMILY_TEXT = '⚠ FAMILY REVOKED';

/** Where a server marker's label starts, right of its symbol. */
const TEXT_OFFSET = { issued: 36, rotated: 12, clock_advanced: 18, revoked: 10, rejected: 12 };

/** Label wordings of a server marker, longest first. */
function serverTexts(m, rotatedFrom) {
  const first = m.first;
  const times = m.count > 1 ? ` ×${m.count}` : '';
  switch (first.kind) {
    case 'issued': {
      // The chips show how many; say what they replace.
      const old = rotatedFrom.get(first.jti);
      return old ? [`issued, replaces ${old}`, 'issued'] : ['issued'];
    }
    case 'rotated':
      return [`${first.jti} → ${first.newJti}${times}`];
    case 'clock_advanced':
      return [`lab clock +${((first.byMs ?? 0) / 1000).toFixed(0)} s`, `+${((first.byMs ?? 0) / 1000).toFixed(0)} s`];
    case 'revoked': {
      const jtis = distinctJtis(m.items);
      const names = jtis.length <= 3 ? jtis.join(', ') : `${jtis.length} tokens`;
      return first.cause === 'family'
        ? [`${FAMILY_TEXT}: ${names}`]
        : [`${names} revoked (rotated)`, `${names} revoked`, names];
    }
    case 'rejected': {
      const what = first.route === '/api/refresh' ? 'refresh ' : '';
      return [`${what}${first.jti ?? 'no token'} ${first.reason}${times}`, `${first.reason}${times}`, times.trim()].filter(Boolean);
    }
    default:
      return [`${first.kind}${times}`];
  }
}
