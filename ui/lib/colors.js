// Colours: the one home of every colour that both the script and the
// stylesheet use. No DOM. The page copies them into CSS custom properties
// at start (cssVariables, applied by app.js), so style.css says
// `var(--ok)` and never repeats a value from here.
//
// One stable colour per token (t1, t2, ...) and one per HTTP status class.
// Token colours avoid the status colours (green, orange, red) so "everyone
// used t1" reads at a glance next to "this one got a 401".

export const TOKEN_PALETTE = [
  '#4da3ff', // t1 blue
  '#ff6ec7', // t2 pink
  '#ffe14d', // t3 yellow
  '#3ee0e8', // t4 cyan
  '#b48cff', // t5 violet
  '#c8ff5a', // t6 lime
  '#ffffff', // t7 white
  '#ffa98a', // t8 salmon
  '#8ab4ff', // t9 periwinkle
  '#ff9ef0', // t10 orchid
];

export const NO_TOKEN_COLOR = '#8b949e';

/** Text on a token colour (all of them are light). */
export const TOKEN_TEXT_COLOR = '#0b0f14';

export const STATUS_COLORS = {
  ok: '#2ea043',
  unauthorized: '#f0883e',
  bad: '#8e1519',
  error: '#da3633',
  pending: '#6e7681',
};

/**
 * Two-colour stripes: in flight, waiting for someone else's refresh, and
 * a family revocation (the SVG patterns and the legend's swatches).
 */
export const STRIPES = {
  pending: ['#59636e', '#7d8590'],
  queued: ['#1b2a44', '#6f9cff'],
  family: ['#5a0008', '#b3001b'],
};

/** Palette index for a jti: `tN` → N-1 (mod palette), other strings hashed. */
export function tokenIndex(jti) {
  if (jti == null || jti === '') return -1;
  const match = /^t(\d+)$/.exec(String(jti));
  if (match) return (Number(match[1]) - 1 + TOKEN_PALETTE.length * 1000) % TOKEN_PALETTE.length;
  let hash = 0;
  for (const ch of String(jti)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % TOKEN_PALETTE.length;
}

/** The colour of a token; grey when there is none (a guest's request). */
export function tokenColor(jti) {
  const index = tokenIndex(jti);
  return index < 0 ? NO_TOKEN_COLOR : TOKEN_PALETTE[index];
}

/**
 * Status class of an attempt: `ok` (2xx), `unauthorized` (401),
 * `bad` (400: refresh refused), `error` (other failures), `pending`.
 */
export function statusClass(status) {
  if (status === 'pending' || status == null) return 'pending';
  const code = Number(status);
  if (!Number.isFinite(code)) return 'pending';
  if (code >= 200 && code < 300) return 'ok';
  if (code === 401) return 'unauthorized';
  if (code === 400) return 'bad';
  return 'error';
}

/** Fill colour for an attempt's status. */
export function statusColor(status) {
  return STATUS_COLORS[statusClass(status)];
}

/**
 * The CSS custom properties style.css reads: `--ok` … `--pending` (status
 * colours), `--t1` … `--t10`, `--no-token`, `--token-text`, and `--pending-a`
 * / `--pending-b` etc. for the stripes.
 */
export function cssVariables() {
  const vars = {};
  for (const [name, colour] of Object.entries(STATUS_COLORS)) vars[`--${name}`] = colour;
  TOKEN_PALETTE.forEach((colour, i) => { vars[`--t${i + 1}`] = colour; });
  vars['--no-token'] = NO_TOKEN_COLOR;
  vars['--token-text'] = TOKEN_TEXT_COLOR;
  for (const [name, [a, b]] of Object.entries(STRIPES)) {
    vars[`--${name}-a`] = a;
    vars[`--${name}-b`] = b;
  }
  return vars;
}
