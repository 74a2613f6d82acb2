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
import { splitLanes, visibleRange, mergeMarkers, fitLabels, textWidth } from './lib/layout.js';
import { orderedLanes, laneOutcome, verdictView } from './lib/reducer.js';
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
   * @param {(jti: string, state: object) => void} [o.onToken] token chip clicked
   */
  constructor({ strategy, policy, compact = false, onToken = () => {} }) {
    this.id = `tl${nextViewId++}`;
    this.baseSize = compact ? SIZES.compact : SIZES.normal;
    this.size = scaledSizes(this.baseSize);
    this.onToken = onToken;
    this.state = null;
    this.width = 0;
    this.selectedJti = null;

    this.title = h('h2', { class: 'timeline-title' },
      h('span', { class: 'strategy-name' }, strategy), ' client · ', h('span', { class: 'policy-name' }, policy), ' server');
    this.pill = h('span', { class: 'state-pill' }, 'starting');
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
      'aria-label': `timeline: ${strategy} client, ${policy} server`,
    },
    h('header', { class: 'timeline-head' }, this.title, this.pill, this.note),
    this.axis, this.scroll, this.pinnedSvg, this.verdict);

    this.defs = this.makeDefs();
    this.scroll.addEventListener('scroll', () => this.render(this.lastFrame), { passive: true });
    // pointerdown, not click: while live the bars are redrawn every frame,
    // so the element under mousedown may be gone by mouseup.
    this.root.addEventListener('pointerdown', (event) => {
      const target = event.target instanceof Element ? event.target.closest('[data-jti]') : null;
      const jti = target && target.getAttribute('data-jti');
      if (jti && this.state) this.onToken(jti, this.state);
    });
    if (typeof ResizeObserver === 'function') {
      this.resizer = new ResizeObserver(() => {
        const width = this.root.clientWidth;
        if (width !== this.width) {
          this.width = width;
          this.size = scaledSizes(this.baseSize);
          this.axis.setAttribute('height', this.size.axis);
          if (this.lastFrame) this.render(this.lastFrame);
        }
      });
      this.resizer.observe(this.root);
    }
    this.lastFrame = null;
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
    const width = this.width || this.root.clientWidth || 1000;
    this.width = width;
    const plotEnd = Math.max(sz.label + 50, width - RIGHT_PAD);
    const scale = createScale([0, frame.domainEndUs], [sz.label, plotEnd]);
    const tickValues = scale.ticks(Math.max(3, Math.floor((plotEnd - sz.label) / 110)));
    const live = state.status === 'running' || state.status === 'idle';
    const nowUs = live && frame.nowUs != null ? Math.max(frame.nowUs, state.maxUs) : null;
    const endForPending = nowUs ?? state.maxUs;

    this.drawAxis(scale, tickValues, width, nowUs);

    // Request lanes: only the rows in the scroll viewport.
    const { requests, pinned } = this.splitCached(state);
    const total = requests.length * sz.row;
    this.spacer.style.height = `${total}px`;
    const viewport = this.scroll.clientHeight || Math.min(total, 600);
    const { first, end } = visibleRange({
      rowCount: requests.length,
      rowHeight: sz.row,
      scrollTop: this.scroll.scrollTop,
      viewportHeight: viewport,
      overscan: 4,
    });
    const familyXs = state.server
      .filter((m) => m.kind === 'revoked' && m.cause === 'family')
      .map((m) => scale.x(m.tUs));
    const lanesHeight = Math.max(0, (end - first) * sz.row);
    this.lanesSvg.style.top = `${first * sz.row}px`;
    this.lanesSvg.setAttribute('width', width);
    this.lanesSvg.setAttribute('height', lanesHeight);
    const lanesContent = [this.defs.build(), this.grid(tickValues, scale, lanesHeight)];
    for (let i = first; i < end; i++) {
      const name = requests[i];
      lanesContent.push(this.requestRow(state.lanes.get(name), (i - first) * sz.row, i, scale, endForPending));
    }
    lanesContent.push(...this.verticals(scale, lanesHeight, nowUs, familyXs));
    this.lanesSvg.replaceChildren(...lanesContent);

    // Pinned lanes: client and server, always visible.
    const pinnedContent = [this.defs.build()];
    let y = 0;
    const pinnedRows = [];
    for (const name of pinned) {
      const height = name === 'server' ? sz.server * SERVER_ROWS.length + 8 : sz.client;
      pinnedRows.push({ name, y, height });
      y += height;
    }
    this.pinnedSvg.setAttribute('width', width);
    this.pinnedSvg.setAttribute('height', y);
    pinnedContent.push(this.grid(tickValues, scale, y));
    for (const row of pinnedRows) {
      pinnedContent.push(row.name === 'server'
        ? this.serverRow(state, row, scale)
        : this.clientRow(state, row, scale));
    }
    pinnedContent.push(...this.verticals(scale, y, nowUs, familyXs));
    this.pinnedSvg.replaceChildren(...pinnedContent);

    this.updateVerdict(state);
    this.updateNote(state);
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

  drawAxis(scale, tickValues, width, nowUs) {
    const sz = this.size;
    const step = tickValues.length > 1 ? tickValues[1] - tickValues[0] : niceStep(scale.domain[1], 5);
    const parts = [s('text', { x: 12, y: sz.axis - 9, class: 'axis-caption' }, 'since start')];
    for (const t of tickValues) {
      const x = scale.x(t);
      parts.push(s('line', { x1: x, x2: x, y1: sz.axis - 6, y2: sz.axis, class: 'tick' }));
      parts.push(s('text', { x, y: sz.axis - 10, class: 'tick-label', 'text-anchor': 'middle' }, formatTick(t, step)));
    }
    parts.push(s('line', { x1: sz.label, x2: scale.range[1], y1: sz.axis - 0.5, y2: sz.axis - 0.5, class: 'axis-line' }));
    if (nowUs != null) {
      const x = scale.clampedX(nowUs);
      parts.push(s('rect', { x: x - 24, y: 2, width: 48, height: sz.axis - 10, rx: 4, class: 'now-flag' }));
      parts.push(s('text', { x, y: sz.axis - 12, class: 'now-label', 'text-anchor': 'middle' }, 'now'));
    }
    this.axis.setAttribute('width', width);
    this.axis.replaceChildren(...parts);
  }

  grid(tickValues, scale, height) {
    const g = s('g', { class: 'grid' });
    for (const t of tickValues) {
      const x = scale.x(t);
      g.append(s('line', { x1: x, x2: x, y1: 0, y2: height }));
    }
    return g;
  }

  /** The now-cursor and the alarming family-revocation lines. */
  verticals(scale, height, nowUs, familyXs) {
    const out = [];
    for (const x of familyXs) {
      out.push(s('line', { x1: x, x2: x, y1: 0, y2: height, class: 'family-line' }));
    }
    if (nowUs != null) {
      const x = scale.clampedX(nowUs);
      out.push(s('line', { x1: x, x2: x, y1: 0, y2: height, class: 'now-cursor' }));
    }
    return out;
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
    const g = s('g', {
      class: `bar kind-${attempt.kind} status-${cls}${attempt.jti && attempt.jti === this.selectedJti ? ' selected' : ''}`,
      'data-kind': attempt.kind,
      'data-status': pending ? 'pending' : String(attempt.status),
      'data-lane': attempt.lane,
      'data-jti': attempt.jti ?? '',
      'data-attempt': attempt.id,
    });
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
    // a stripe along the bar otherwise.
    const chipW = 30;
    let textX = x0 + 8;
    const colour = tokenColor(attempt.jti);
    if (w >= chipW + 10) {
      const cx = x0 + (isRefresh ? height / 2 - 2 : 3);
      g.append(s('rect', { class: 'chip-rect', x: cx, y: y + 3, width: chipW, height: height - 6, rx: 4, fill: colour }));
      g.append(s('text', { class: 'chip-text', x: cx + chipW / 2, y: y + height / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, attempt.jti ?? '—'));
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
      `${formatUs(attempt.startUs)} → ${attempt.endUs == null ? 'now' : formatUs(attempt.endUs)}`,
    ].join('\n')));
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
    // Token chips first; a logout box that lands on a chip moves right of it.
    const chips = stored.map((m) => {
      const jtis = distinctJtis(m.items);
      return { m, jtis, x: m.x + 3, end: m.x + 3 + stripWidth(jtis) };
    });
    const boxes = logouts.map((m) => {
      const text = `LOGGED OUT${m.count > 1 ? ` ×${m.count}` : ''}`;
      let x = m.x + 3;
      for (const chip of chips) {
        if (chip.x < x + 4 && chip.end + 4 > x) x = chip.end + 4;
      }
      return { m, text, x, width: textWidth(text, sz.big, 0.78) + 16 };
    });
    for (const { m, jtis, x, end } of chips) {
      const last = m.items[m.items.length - 1].jti;
      const mg = s('g', { class: 'stored-marker', 'data-marker': 'token_stored' });
      mg.append(s('line', { x1: m.x, x2: m.x, y1: 4, y2: row.height - 4, class: 'stored-tick', stroke: tokenColor(last) }));
      chipStrip(mg, jtis, x, mid, sz.bar - 4);
      const textX = end + 5;
      const textEnd = textX + textWidth('stored', sz.font);
      const blocked = boxes.some((b) => b.x < textEnd + 4 && b.x + b.width > textX)
        || chips.some((c) => c.x > x && c.x < textEnd + 4);
      if (!blocked) mg.append(s('text', { x: textX, y: mid, 'dominant-baseline': 'central', class: 'marker-text' }, 'stored'));
      mg.append(s('title', {}, jtis.length > 1
        ? `the token store was overwritten ${m.count} times: ${m.items.map((i) => i.jti).join(', ')}; it keeps ${last}`
        : `the tab's token store now holds ${last}`));
      g.append(mg);
    }
    for (const { m, text, x, width } of boxes) {
      const mg = s('g', { class: 'logout-marker', 'data-marker': 'logged_out' });
      mg.append(s('line', { x1: m.x, x2: m.x, y1: 2, y2: row.height - 2, class: 'logout-tick' }));
      mg.append(s('rect', { x, y: mid - sz.bar / 2, width, height: sz.bar, rx: 5, class: 'logout-box' }));
      mg.append(s('text', { x: x + 8, y: mid, 'dominant-baseline': 'central', class: 'logout-text' }, text));
      mg.append(s('title', {}, `logged out: ${m.first.reason ?? ''}${m.count > 1 ? ` (${m.count} times)` : ''}`));
      g.append(mg);
    }
    return g;
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
        key: (m) => (m.kind === 'issued' ? 'issued' : `${m.kind}:${m.jti}:${m.reason}:${m.cause}:${m.route}`),
        px: 40,
      });
      // Each label takes the longest wording that fits before the next marker.
      const items = merged.map((m) => {
        const variants = serverTexts(m, this.rotatedFrom);
        const offset = m.first.kind === 'issued' ? stripWidth(distinctJtis(m.items)) + 4 : (TEXT_OFFSET[m.first.kind] ?? 10);
        return { m, variants, x: m.x, textX: m.x + offset, widths: variants.map((t) => textWidth(t, sz.font)) };
      });
      const chosen = fitLabels(items, { gap: 8, end: scale.range[1] + RIGHT_PAD });
      items.forEach((it, k) => g.append(this.serverMarker(it.m, it.variants[0], it.variants[chosen[k]] ?? null, mid, it.textX)));
    });
    return g;
  }

  /** One (merged) server marker; `shown` is the label that fits, or null. */
  serverMarker(m, text, shown, mid, textX) {
    const sz = this.size;
    const first = m.first;
    const half = sz.server / 2 - 3;
    const g = s('g', { class: `server-marker marker-${first.kind}${first.cause ? ` cause-${first.cause}` : ''}`, 'data-marker': first.kind });
    if (first.cause) g.setAttribute('data-cause', first.cause);
    if (first.jti) g.setAttribute('data-jti', first.jti);
    const x = m.x;
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
      case 'revoked':
        if (first.cause === 'family') {
          const w = textWidth(text, sz.big, 0.75) + 24;
          g.append(s('rect', { x: x - 2, y: mid - half - 1, width: w, height: half * 2 + 2, rx: 4, fill: `url(#${this.defs.family})`, class: 'family-box' }));
          g.append(s('text', { x: x + 8, y: mid, 'dominant-baseline': 'central', class: 'family-text' }, text));
          g.append(s('title', {}, `${text}: reuse detection revoked every token of the login, including the fresh one`));
          return g;
        }
        g.append(s('path', { d: `M${x - 6} ${mid - 6} L${x + 6} ${mid + 6} M${x + 6} ${mid - 6} L${x - 6} ${mid + 6}`, class: 'revoke-cross' }));
        break;
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
function chipStrip(parent, jtis, x, mid, height) {
  let cx = x;
  for (const jti of jtis.slice(0, MAX_CHIPS)) {
    const chip = s('g', { class: 'token-chip', 'data-jti': jti });
    chip.append(s('rect', { x: cx, y: mid - height / 2, width: CHIP_W, height, rx: 4, fill: tokenColor(jti), class: 'chip-rect' }));
    chip.append(s('text', { x: cx + CHIP_W / 2, y: mid, 'text-anchor': 'middle', 'dominant-baseline': 'central', class: 'chip-text' }, jti));
    parent.append(chip);
    cx += CHIP_W + 3;
  }
  if (jtis.length > MAX_CHIPS) {
    parent.append(s('text', { x: cx + 2, y: mid, 'dominant-baseline': 'central', class: 'marker-text' }, `+${jtis.length - MAX_CHIPS}`));
  }
}

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
    case 'revoked':
      return first.cause === 'family'
        ? [`⚠ FAMILY REVOKED ${first.jti}${times}`]
        : [`${first.jti} revoked${times}`, `${first.jti}${times}`];
    case 'rejected': {
      const what = first.route === '/api/refresh' ? 'refresh ' : '';
      return [`${what}${first.jti ?? 'no token'} ${first.reason}${times}`, `${first.reason}${times}`, times.trim()].filter(Boolean);
    }
    default:
      return [`${first.kind}${times}`];
  }
}
