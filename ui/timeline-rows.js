// The timeline's rows painted in SVG from lib/timeline-model.js (the view,
// ui/timeline-view.js, places them and keeps what did not change): the
// request rows with their bars and waits, the pinned token-store and server
// rows, the axis and the vertical lines. Only paints: the model says where
// everything goes; `fill(name)` names a striped pattern of the view's own.

import { s } from './dom.js';

export function paintRequestRow(row, fill) {
  const g = s('g', { class: `row outcome-${row.outcome}${row.odd ? ' odd' : ''}${row.tabShaded ? ' tab-shaded' : ''}`, 'data-lane-row': row.name, 'data-outcome': row.outcome, 'data-tab': String(row.tab) });
  g.append(s('rect', { class: 'row-bg', x: 0, y: 0, width: row.width, height: row.height }));
  if (row.tabHeading) {
    g.append(s('line', { class: 'tab-rule', x1: 0, y1: 0.5, x2: row.width, y2: 0.5 }));
    g.append(s('text', { class: 'tab-heading', x: row.tabHeading.x, y: row.tabHeading.y, 'text-anchor': 'end', 'dominant-baseline': 'central', 'data-tab-heading': String(row.tab) }, row.tabHeading.text));
  }
  g.append(label('lane-label', row.label));
  for (const wait of row.waits) {
    const q = s('g', { class: 'queued', 'data-queued': '', 'data-lane': wait.lane });
    q.append(s('rect', { x: wait.x, y: wait.y, width: wait.width, height: wait.height, rx: 3, style: { fill: fill('queued') }, class: 'queued-body' }));
    if (wait.label) q.append(label('queued-label', wait.label));
    q.append(s('title', {}, wait.title));
    g.append(q);
  }
  for (const bar of row.bars) g.append(paintBar(bar, fill));
  if (row.done) g.append(s('text', { class: `done-mark ${row.done.ok ? 'ok' : 'failed'}`, x: row.done.x, y: row.done.y, 'dominant-baseline': 'central' }, row.done.text));
  if (row.done && row.done.fate) g.setAttribute('data-fate', row.done.fate);
  // A failure the client passed on without trying (ui/lib/timeline-model.js laneFate).
  if (row.done && row.done.note) {
    const note = s('g', { 'data-passed-to-caller': '' });
    note.append(s('title', {}, row.done.title), s('text', { class: 'done-note', x: row.done.x + 22, y: row.done.y, 'dominant-baseline': 'central' }, row.done.note));
    g.append(note);
  }
  return g;
}

function paintBar(bar, fill) {
  const g = s('g', {
    class: `bar kind-${bar.kind} status-${bar.statusClass}${bar.selected ? ' selected' : ''}${bar.revoked ? ` revoked revoked-${bar.revoked}` : ''}${bar.held ? ` held held-${bar.held}` : ''}${bar.atCursor ? ' at-cursor' : ''}`,
    'data-kind': bar.kind,
    'data-status': bar.status,
    'data-lane': bar.lane,
    'data-jti': bar.jti ?? '',
    'data-attempt': bar.attempt,
    'data-revoked': bar.revoked,
    'data-held': bar.held,
    'data-held-leg': bar.leg,
  });
  if (bar.outline) g.append(s('rect', { class: 'revoked-outline', ...bar.outline }));
  g.append(s('rect', { class: 'bar-body', x: bar.x, y: bar.y, width: bar.width, height: bar.height, rx: bar.rx, style: { fill: bar.pattern ? fill(bar.pattern) : bar.fill } }));
  if (bar.chip) appendChip(g, bar.chip);
  if (bar.stripe) g.append(s('rect', { class: 'stripe', x: bar.stripe.x, y: bar.stripe.y, width: bar.stripe.width, height: bar.stripe.height, style: { fill: bar.stripe.color } }));
  // The new token's chip is clickable on its own: it names another token than the bar.
  if (bar.newChip) appendChip(g, bar.newChip, { newToken: true });
  if (bar.label) g.append(label(`bar-label on-${bar.label.cls}`, bar.label));
  g.append(s('title', {}, bar.title));
  return g;
}

export function paintPinned(pinned, fill) {
  return s('g', {}, ...pinned.rows.map((row) => (row.name === 'server' ? paintServerRow(row, fill) : paintClientRow(row))));
}

function paintClientRow(row) {
  const g = s('g', { class: 'row pinned-row client-row', 'data-lane-row': 'client', transform: `translate(0,${row.y})` });
  g.append(s('rect', { class: 'row-bg', x: 0, y: 0, width: row.width, height: row.height }));
  g.append(label('lane-label', row.label));
  for (const m of row.markers) {
    if (m.kind === 'stored') {
      const mg = s('g', { class: 'stored-marker', 'data-marker': 'token_stored' });
      mg.append(s('line', { x1: m.tick.x, x2: m.tick.x, y1: m.tick.y1, y2: m.tick.y2, class: 'stored-tick', style: { stroke: m.tick.color } }));
      appendStrip(mg, m.strip);
      if (m.text) mg.append(label('marker-text', m.text));
      mg.append(s('title', {}, m.title));
      g.append(mg);
    } else if (m.kind === 'death') {
      const mg = s('g', { class: 'death-marker', 'data-marker': 'token_revoked', 'data-cause': 'family', 'data-jti': m.jti });
      mg.append(s('line', { x1: m.tick.x, x2: m.tick.x, y1: m.tick.y1, y2: m.tick.y2, class: 'death-tick' }));
      mg.append(s('rect', { ...m.box, rx: 5, class: 'death-box' }));
      mg.append(s('text', { x: m.skull.x, y: m.skull.y, 'dominant-baseline': 'central', class: 'death-skull' }, '☠'));
      appendStrip(mg, m.strip);
      mg.append(label('death-text', m.text));
      mg.append(s('title', {}, m.title));
      g.append(mg);
    } else {
      const mg = s('g', { class: 'logout-marker', 'data-marker': 'logged_out' });
      mg.append(s('line', { x1: m.tick.x, x2: m.tick.x, y1: m.tick.y1, y2: m.tick.y2, class: 'logout-tick' }));
      mg.append(s('rect', { ...m.box, rx: 5, class: 'logout-box' }));
      mg.append(label('logout-text', m.text));
      mg.append(s('title', {}, m.title));
      g.append(mg);
    }
  }
  return g;
}

function paintServerRow(row, fill) {
  const g = s('g', { class: 'row pinned-row server-row', 'data-lane-row': 'server', transform: `translate(0,${row.y})` });
  g.append(s('rect', { class: 'row-bg server-bg', x: 0, y: 0, width: row.width, height: row.height }));
  g.append(label('lane-label', row.label));
  for (const sub of row.subLabels) g.append(label('sub-label', sub));
  for (const m of row.markers) {
    const mg = s('g', {
      class: `server-marker marker-${m.kind}${m.cause ? ` cause-${m.cause}` : ''}`,
      'data-marker': m.kind,
      'data-cause': m.cause,
      'data-jti': m.jti || null,
    });
    if (m.strip) appendStrip(mg, m.strip);
    if (m.arrow) mg.append(s('path', { d: m.arrow.d, class: 'rotate-arrow', style: { fill: m.arrow.color } }));
    if (m.cross) mg.append(s('path', { d: m.cross, class: 'revoke-cross' }));
    if (m.familyBox) {
      const box = m.familyBox;
      mg.append(s('rect', { x: box.x, y: box.y, width: box.width, height: box.height, rx: 4, style: { fill: fill('family') }, class: 'family-box' }));
      mg.append(label('family-text', box.text));
      appendStrip(mg, box.strip);
    }
    if (m.dot) {
      mg.append(s('circle', { cx: m.dot.cx, cy: m.dot.cy, r: m.dot.r, class: m.dot.refresh ? 'reject-dot refresh' : 'reject-dot' }));
      mg.append(s('text', { x: m.dot.cx, y: m.dot.cy, 'text-anchor': 'middle', 'dominant-baseline': 'central', class: 'reject-x' }, '✖'));
    }
    if (m.label) mg.append(label(`marker-text text-${m.kind}`, m.label));
    mg.append(s('title', {}, m.title));
    g.append(mg);
  }
  return g;
}

/** A text at a model point `{ x, y, text }`, vertically centred. */
export function label(cls, { x, y, text }) {
  return s('text', { class: cls, x, y, 'dominant-baseline': 'central' }, text);
}

export function paintAxis(axis) {
  const g = s('g', {});
  g.append(s('text', { x: axis.caption.x, y: axis.caption.y, class: 'axis-caption' }, axis.caption.text));
  for (const tick of axis.ticks) {
    g.append(s('line', { x1: tick.x, x2: tick.x, y1: axis.tickY[0], y2: axis.tickY[1], class: 'tick' }));
    g.append(s('text', { x: tick.x, y: axis.labelY, class: 'tick-label', 'text-anchor': 'middle' }, tick.label));
  }
  g.append(s('line', { x1: axis.line.x1, x2: axis.line.x2, y1: axis.line.y, y2: axis.line.y, class: 'axis-line' }));
  return g;
}

export function verticals({ xs, height, cls = null }) {
  return s('g', {}, ...xs.map((x) => s('line', { x1: x, x2: x, y1: 0, y2: height, class: cls })));
}

/** A token chip on a bar: the bar carries the hooks, except for a refresh's new token. */
function appendChip(parent, chip, { newToken = false } = {}) {
  const jti = newToken ? chip.jti : null;
  parent.append(s('rect', { class: `chip-rect${newToken ? ' new' : ''}${chip.kind === 'refresh' ? ' refresh' : ''}`, x: chip.x, y: chip.y, width: chip.width, height: chip.height, rx: 4, style: { fill: chip.color }, 'data-jti': jti }));
  parent.append(s('text', { class: 'chip-text', x: chip.textX, y: chip.textY, 'text-anchor': 'middle', 'dominant-baseline': 'central', 'data-jti': jti }, chip.text));
  if (chip.strike) parent.append(s('path', { d: chip.strike, class: 'chip-strike' }));
}

/** Chips side by side, each clickable (its own data-jti). */
function appendStrip(parent, strip) {
  for (const chip of strip.chips) {
    const g = s('g', { class: `token-chip${chip.strike ? ' struck' : ''}`, 'data-jti': chip.jti });
    g.append(s('rect', { x: chip.x, y: chip.y, width: chip.width, height: chip.height, rx: 4, style: { fill: chip.color }, class: `chip-rect${chip.kind === 'refresh' ? ' refresh' : ''}` }));
    g.append(s('text', { x: chip.textX, y: chip.textY, 'text-anchor': 'middle', 'dominant-baseline': 'central', class: 'chip-text' }, chip.text));
    if (chip.strike) g.append(s('path', { d: chip.strike, class: 'chip-strike' }));
    parent.append(g);
  }
  if (strip.more) parent.append(label('marker-text', strip.more));
}
