// The timeline's pinned rows as plain data (lib/timeline-model.js puts
// them under the request lanes): the tab's token store (stored tokens,
// deaths, logouts) and the server (tokens issued, revocations, refusals,
// the family alarm). No DOM.

import { mergeMarkers, fitLabels, textWidth, placeRow } from './layout.js';
import { laneGroups, storeDeaths } from './run-queries.js';
import { tokenColor } from './colors.js';
import { formatUs, logoutReason } from './format.js';
import { chipStrip, stripWidth, distinctJtis } from './timeline-lanes.js';

/** The server lane stacks three kinds of markers, one sub-row each. */
export const SERVER_ROWS = ['tokens', 'revoked', 'rejected'];

const FAMILY_TEXT = '⚠ FAMILY REVOKED';
/** Same-time client markers: the token is stored, then dies, then the tab logs out. */
const KIND_ORDER = { stored: 0, death: 1, logout: 2 };
/** Where a server marker's label starts, right of its symbol. */
const TEXT_OFFSET = { issued: 36, rotated: 12, revoked: 10, rejected: 12 };

/** The pinned rows under the request lanes: the token store, then the server. */
export function pinnedModel(state, frame, { selectedJti = null } = {}) {
  const { sizes } = frame;
  let y = 0;
  const rows = [];
  for (const name of laneGroups(state).pinned) {
    const height = name === 'server' ? sizes.server * SERVER_ROWS.length + 8 : sizes.client;
    rows.push(name === 'server' ? serverRow(state, frame, y, height) : clientRow(state, frame, y, height, selectedJti));
    y += height;
  }
  return { width: frame.width, height: y, rows };
}

/**
 * The token store: each token stored (close ones share a strip of chips),
 * the moment a held token died with its family, and each logout. One row of
 * boxes in time order; a box that would run into the one before it moves
 * right, its tick stays at its time.
 */
function clientRow(state, { sizes, scale, rowWidth }, y, height) {
  const mid = height / 2;
  const at = (m) => scale.x(m.tUs);
  const stored = mergeMarkers(state.client.filter((m) => m.kind === 'token_stored'), { x: at, key: () => 'stored', px: 40 });
  const logouts = mergeMarkers(state.client.filter((m) => m.kind === 'logged_out'), { x: at, key: () => 'logged_out', px: 60 });
  const deaths = mergeMarkers(storeDeaths(state), { x: at, key: () => 'death', px: 40 });
  const skullW = textWidth('☠', sizes.big, 1);
  const items = [
    ...stored.map((m) => {
      const jtis = distinctJtis(m.items);
      return { kind: 'stored', m, jtis, x: m.x + 3, width: stripWidth(jtis) };
    }),
    ...deaths.map((m) => {
      const jtis = distinctJtis(m.items);
      return { kind: 'death', m, jtis, x: m.x + 3, width: skullW + stripWidth(jtis) + textWidth('revoked', sizes.font) + 22 };
    }),
    ...logouts.map((m) => {
      const text = `LOGGED OUT${m.count > 1 ? ` ×${m.count}` : ''}`;
      return { kind: 'logout', m, text, x: m.x + 3, width: textWidth(text, sizes.big, 0.78) + 16 };
    }),
  ].sort((p, q) => p.m.first.tUs - q.m.first.tUs || KIND_ORDER[p.kind] - KIND_ORDER[q.kind]);
  // A box near the end of the axis (a late logout) moves left of its tick rather than off the row.
  const placed = placeRow(items, { gap: 6, end: rowWidth - 4 });
  items.forEach((it, i) => { it.x = placed[i]; });
  const markers = items.map((it, i) => {
    const next = items[i + 1];
    const room = (next ? next.x - 6 : rowWidth) - (it.x + it.width);
    const tickX = it.m.x;
    const first = it.m.first;
    if (it.kind === 'stored') {
      const last = it.m.items[it.m.items.length - 1].jti;
      return {
        kind: 'stored',
        tick: { x: tickX, y1: 4, y2: height - 4, color: tokenColor(last) },
        x: it.x,
        width: it.width,
        strip: chipStrip(it.jtis, it.x, mid, sizes.bar - 4),
        text: room >= textWidth('stored', sizes.font) + 5 ? { x: it.x + it.width + 5, y: mid, text: 'stored' } : null,
        title: it.jtis.length > 1
          ? `the token store was overwritten ${it.m.count} times: ${it.m.items.map((s) => s.jti).join(', ')}; it keeps ${last}`
          : `the tab's token store now holds ${last}${it.m.items[it.m.items.length - 1].refresh ? ` and the refresh token ${it.m.items[it.m.items.length - 1].refresh}` : ''}`,
      };
    }
    if (it.kind === 'death') {
      const chipsX = it.x + 8 + skullW;
      const names = it.jtis.join(', ');
      return {
        kind: 'death',
        jti: it.jtis.join(' '),
        tick: { x: tickX, y1: 2, y2: height - 2 },
        x: it.x,
        width: it.width,
        box: { x: it.x, y: mid - sizes.bar / 2, width: it.width, height: sizes.bar },
        skull: { x: it.x + 6, y: mid },
        strip: chipStrip(it.jtis, chipsX, mid, sizes.bar - 8, { struck: true }),
        text: { x: chipsX + stripWidth(it.jtis) + 3, y: mid, text: 'revoked' },
        title: first.storedUs > first.revokedUs
          ? `${names} was stored at ${formatUs(first.storedUs)}, but reuse detection had revoked its whole family at ${formatUs(first.revokedUs)}: the tab holds a dead token`
          : `${names}, the token this tab holds, was revoked with its whole family at ${formatUs(first.revokedUs)}: every request with it now fails`,
      };
    }
    return {
      kind: 'logout',
      jti: first.jti,
      reason: first.reason,
      tick: { x: tickX, y1: 2, y2: height - 2 },
      x: it.x,
      width: it.width,
      box: { x: it.x, y: mid - sizes.bar / 2, width: it.width, height: sizes.bar },
      text: { x: it.x + 8, y: mid, text: it.text },
      title: `logged out: ${logoutReason(first)}${it.m.count > 1 ? ` (${it.m.count} times)` : ''}`,
    };
  });
  return { name: 'client', y, height, width: rowWidth, label: { x: 12, y: mid, text: 'token store' }, markers };
}

/**
 * The server: tokens issued (a rotation is told on the new token's marker,
 * "replaces t1"), revocations (a family revocation is one alarming box
 * naming every token it killed) and refusals, each on its own sub-row.
 * Markers never overlap; each label takes the longest wording that fits.
 */
function serverRow(state, { sizes, scale, rowWidth }, y, height) {
  const issued = new Set();
  const rotatedFrom = new Map();
  for (const m of state.server) {
    if (m.kind === 'issued') issued.add(m.jti);
    if (m.kind === 'rotated' && m.newJti) rotatedFrom.set(m.newJti, m.jti);
  }
  const byRow = { tokens: [], revoked: [], rejected: [] };
  for (const m of state.server) {
    // (clock jumps are told in the header's setup note; acceptances by the bars)
    if (m.kind === 'issued' || (m.kind === 'rotated' && !issued.has(m.newJti))) byRow.tokens.push(m);
    else if (m.kind === 'revoked') byRow.revoked.push(m);
    else if (m.kind === 'rejected') byRow.rejected.push(m);
  }
  const markers = [];
  SERVER_ROWS.forEach((rowName, i) => {
    const mid = 4 + sizes.server * (i + 0.5);
    const merged = mergeMarkers(byRow[rowName], {
      x: (m) => scale.x(m.tUs),
      // A family revocation is one event that kills several tokens: merged by cause.
      key: (m) => (m.kind === 'issued' ? 'issued' : m.kind === 'revoked' ? `revoked:${m.cause}` : `${m.kind}:${m.jti}:${m.reason}:${m.cause}:${m.route}`),
      px: 40,
    });
    const items = merged.map((m) => {
      const kind = m.first.kind;
      const family = kind === 'revoked' && m.first.cause === 'family';
      const variants = serverTexts(m, rotatedFrom);
      const offset = kind === 'issued' ? stripWidth(distinctJtis(m.items)) + 4 : (TEXT_OFFSET[kind] ?? 10);
      // How much room the symbol takes (a refusal's dot is centred on its x).
      const width = family ? familyBoxWidth(m, sizes) : kind === 'rejected' ? sizes.server - 8 : offset;
      return { m, variants, x: m.x, width, offset, widths: variants.map((t) => textWidth(t, sizes.font)) };
    });
    // The family box is always shown whole; other labels shrink or go.
    const placed = placeRow(items, { gap: 6 });
    items.forEach((it, k) => {
      it.x = placed[k];
      it.textX = it.x + it.offset;
    });
    const chosen = fitLabels(items, { gap: 8, end: rowWidth });
    items.forEach((it, k) => markers.push(serverMarker(it, it.variants[chosen[k]] ?? null, mid, sizes)));
  });
  return {
    name: 'server',
    y,
    height,
    width: rowWidth,
    label: { x: 12, y: sizes.server * 0.5 + 4, text: 'server' },
    subLabels: SERVER_ROWS.slice(1).map((text, i) => ({ x: 24, y: 4 + sizes.server * (i + 1.5), text })),
    markers,
  };
}

function familyBoxWidth(m, sizes) {
  return textWidth(FAMILY_TEXT, sizes.big, 0.75) + 22 + stripWidth(distinctJtis(m.items)) + 6;
}

/** One (merged) server marker at `it.x`; `shown` is the label that fits, or null. */
function serverMarker(it, shown, mid, sizes) {
  const { m, x, textX } = it;
  const first = m.first;
  const half = sizes.server / 2 - 3;
  const text = it.variants[0];
  const out = {
    kind: first.kind,
    cause: first.cause,
    jti: first.jti,
    count: m.count,
    x,
    mid,
    label: shown ? { x: textX, y: mid, text: shown } : null,
    title: `${text} at ${formatUs(first.tUs)}`,
  };
  switch (first.kind) {
    case 'issued':
      out.jti = null; // the chips name the tokens, each clickable
      out.strip = chipStrip(distinctJtis(m.items), x - 2, mid, half * 2);
      break;
    case 'rotated':
      out.jti = first.newJti ?? first.jti ?? '';
      out.arrow = { d: `M${x} ${mid - half} L${x + 8} ${mid} L${x} ${mid + half} Z`, color: tokenColor(first.newJti) };
      break;
    case 'revoked': {
      const jtis = distinctJtis(m.items);
      out.jti = jtis.join(' ');
      if (first.cause === 'family') {
        // Alarming on purpose: every token of the login dies here, the fresh one too.
        out.label = null;
        out.familyBox = {
          x: x - 2,
          y: mid - half - 1,
          width: familyBoxWidth(m, sizes),
          height: half * 2 + 2,
          text: { x: x + 8, y: mid, text: FAMILY_TEXT },
          strip: chipStrip(jtis, x + 8 + textWidth(FAMILY_TEXT, sizes.big, 0.75) + 8, mid, half * 2 - 6, { struck: true }),
        };
        out.title = `${text} at ${formatUs(first.tUs)}: reuse detection revoked every token of the login, including the fresh one`;
      } else {
        out.cross = `M${x - 6} ${mid - 6} L${x + 6} ${mid + 6} M${x + 6} ${mid - 6} L${x - 6} ${mid + 6}`;
      }
      break;
    }
    case 'rejected':
      out.dot = { cx: x, cy: mid, r: half - 2, refresh: first.route === '/api/refresh' };
      break;
    default:
      break;
  }
  return out;
}

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
