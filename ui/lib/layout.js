// Lane ordering, row geometry and windowing. No DOM.
//
// A run has one lane per logical request (`secret#1`, `public#2`, `late#1`,
// and `timer#1` for a proactive client's timer), plus the `client` lane (the
// token store) and the `server` lane (the auth server's decisions). A run
// with several tabs names the lanes of tab 2 and up `tab2/secret#1`; they
// all share the one token store. Rows are shown in a fixed order: by tab,
// then secret, public, late, timer, any other request lane; then client and
// server. Large runs (10,000 requests) only draw the rows inside the scroll
// viewport.

const GROUP_ORDER = { secret: 0, public: 1, late: 2, timer: 3, other: 4, client: 5, server: 6 };
const KNOWN_GROUPS = new Set(['secret', 'public', 'late', 'timer']);

/** Splits a lane name into its tab, group and 1-based index. */
export function parseLane(name) {
  const text = String(name);
  if (text === 'client' || text === 'server') {
    return { name: text, group: text, tab: 0, index: 0, request: false };
  }
  const match = /^(?:tab([1-9]\d*)\/)?([a-z][a-z0-9_-]*)#(\d+)$/i.exec(text);
  if (match) {
    const prefix = match[2].toLowerCase();
    const group = KNOWN_GROUPS.has(prefix) ? prefix : 'other';
    return { name: text, group, prefix, tab: match[1] ? Number(match[1]) : 1, index: Number(match[3]), request: true };
  }
  return { name: text, group: 'other', prefix: text, tab: 1, index: 0, request: true };
}

/** Sort order of two lane names (numeric within a group: secret#2 < secret#10). */
export function compareLanes(a, b) {
  return compareParsed(parseLane(a), parseLane(b));
}

function compareParsed(pa, pb) {
  // Requests group by tab; client and server (tab 0) come after them all.
  if (pa.request && pb.request && pa.tab !== pb.tab) return pa.tab - pb.tab;
  const ga = GROUP_ORDER[pa.group];
  const gb = GROUP_ORDER[pb.group];
  if (ga !== gb) return ga - gb;
  if (pa.group === 'other' && pa.prefix !== pb.prefix) return pa.prefix < pb.prefix ? -1 : 1;
  if (pa.index !== pb.index) return pa.index - pb.index;
  return pa.name < pb.name ? -1 : pa.name > pb.name ? 1 : 0;
}

/** Lane names in display order, without duplicates. */
export function orderLanes(names) {
  // Parse each name once (decorate, sort, undecorate): 20,000 lanes sort fast.
  const decorated = [...new Set(names)].map((name) => ({ name, lane: parseLane(name) }));
  decorated.sort((a, b) => compareParsed(a.lane, b.lane));
  return decorated.map((d) => d.name);
}

/**
 * Splits lanes into the scrolling request rows and the pinned rows
 * (client, server) that stay visible under them however long the list is.
 */
export function splitLanes(names) {
  const ordered = orderLanes(names);
  return {
    requests: ordered.filter((n) => parseLane(n).request),
    pinned: ordered.filter((n) => !parseLane(n).request),
  };
}

/**
 * How ordered request rows group by tab: for row `i`, its tab, whether it
 * opens its tab's group (and so gets the tab's heading), and whether the
 * tab is an even one (2, 4, …: shaded apart). A run with one tab has no
 * groups: every row gets `{ tab: 1, opens: false, shaded: false }`.
 */
export function tabGroups(requests) {
  const tabs = requests.map((name) => parseLane(name).tab);
  const several = tabs.some((tab) => tab !== tabs[0]);
  return tabs.map((tab, i) => ({
    tab,
    opens: several && (i === 0 || tabs[i - 1] !== tab),
    shaded: several && tab % 2 === 0,
  }));
}

/**
 * Which rows of a uniform list are inside the viewport: [first, end).
 * `overscan` extra rows on each side avoid blank edges while scrolling.
 */
export function visibleRange({ rowCount, rowHeight, scrollTop = 0, viewportHeight, overscan = 3 }) {
  if (!(rowCount > 0) || !(rowHeight > 0)) return { first: 0, end: 0 };
  const top = Math.max(0, scrollTop);
  const height = Math.max(0, viewportHeight);
  let first = Math.floor(top / rowHeight) - overscan;
  let end = Math.ceil((top + height) / rowHeight) + overscan;
  first = Math.max(0, Math.min(first, rowCount));
  end = Math.max(first, Math.min(end, rowCount));
  return { first, end };
}

/**
 * Merges markers that would sit on top of each other: neighbours (in time
 * order) with the same `key` whose pixels are within `px` become one marker
 * with a `count`. Keeps a 10,000-request run's server lane drawable.
 */
export function mergeMarkers(markers, { x, key, px = 24 }) {
  const out = [];
  const lastByKey = new Map();
  for (const marker of markers) {
    const mx = x(marker);
    const k = key(marker);
    const last = lastByKey.get(k);
    if (last && mx - last.x <= px) {
      last.count += 1;
      last.items.push(marker);
      continue;
    }
    const merged = { x: mx, key: k, count: 1, first: marker, items: [marker] };
    out.push(merged);
    lastByKey.set(k, merged);
  }
  return out;
}

/**
 * Picks, for each marker in a row (sorted by x), the longest label variant
 * that fits between its text start and the next marker. `items` are
 * `{ x, textX, widths: [longest, ..., shortest] }`; returns the chosen
 * variant index per item, or -1 when even the shortest does not fit.
 */
export function fitLabels(items, { gap = 6, end = Infinity } = {}) {
  return items.map((item, i) => {
    const limit = i + 1 < items.length ? items[i + 1].x - gap : end;
    const room = limit - item.textX;
    return item.widths.findIndex((w) => w <= room);
  });
}

/**
 * Rough text width in px for a label at a font size (no DOM to measure).
 * `em` is the average glyph width in ems: ~0.6 for mixed text, more for
 * bold capitals.
 */
export function textWidth(text, fontSize = 14, em = 0.6) {
  return String(text).length * fontSize * em;
}

/**
 * Places boxes along one row without overlap: each item (in the order
 * given, which should be time order) wants to start at `x` and is
 * `width` wide; an item that would run into the previous one moves right
 * of it (plus `gap`). With `end`, boxes that would run past it move left
 * (the last ones first, still apart), as far as 0. Returns the start of
 * each item. The tick at the item's true time stays where it is; only its
 * box moves.
 */
export function placeRow(items, { gap = 4, end = Infinity } = {}) {
  const out = [];
  let last = -Infinity;
  for (const item of items) {
    const x = Math.max(item.x, last + gap);
    out.push(x);
    last = x + Math.max(0, item.width);
  }
  let limit = end;
  for (let i = items.length - 1; i >= 0; i--) {
    const width = Math.max(0, items[i].width);
    if (out[i] + width <= limit) break;
    out[i] = Math.max(0, limit - width);
    limit = out[i] - gap;
  }
  return out;
}
