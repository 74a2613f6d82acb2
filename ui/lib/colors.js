// Colours: the one home of every colour that both the script and the
// stylesheet use, for each theme. No DOM. The page copies the theme's
// palette into CSS custom properties (cssVariables(theme), applied by
// app.js, again whenever the theme changes), so style.css says `var(--ok)`
// and never repeats a value from here, and what the script paints names
// the same variables (tokenColor('t1') is `var(--t1)`): a theme switch
// recolours the page without repainting it.
//
// One stable colour per token (t1, t2, ...) and one per HTTP status class.
// Token colours avoid the status colours (green, orange, red) so "everyone
// used t1" reads at a glance next to "this one got a 401".
//
// Two palettes: `dark` (the default: light tokens on a dark page, dark text
// on them) and `presenter` (a projector's light, high-contrast theme: dark,
// saturated tokens that stay distinguishable on white, white text on them).

export const PALETTES = {
  dark: {
    tokens: [
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
    ],
    noToken: '#8b949e',
    /** Text on a token colour (all of them are light). */
    tokenText: '#0b0f14',
    /** The page the tokens sit on (for the contrast checks in the tests). */
    page: '#0a0e13',
    status: {
      ok: '#2ea043',
      unauthorized: '#f0883e',
      bad: '#8e1519',
      error: '#da3633',
      pending: '#6e7681',
    },
    /**
     * Two-colour stripes: in flight, waiting for someone else's refresh, and
     * a family revocation (the SVG patterns and the legend's swatches).
     */
    stripes: {
      pending: ['#59636e', '#7d8590'],
      queued: ['#1b2a44', '#6f9cff'],
      family: ['#5a0008', '#b3001b'],
    },
  },
  presenter: {
    tokens: [
      '#0a5fd6', // t1 blue
      '#c0267e', // t2 magenta
      '#7a5c00', // t3 ochre
      '#00727d', // t4 teal
      '#6f42c1', // t5 violet
      '#4f5b66', // t6 slate
      '#24292f', // t7 charcoal
      '#a63c00', // t8 rust
      '#3b4a9e', // t9 indigo
      '#5c2d91', // t10 deep purple
    ],
    noToken: '#6e7781',
    /** Text on a token colour (all of them are dark). */
    tokenText: '#ffffff',
    page: '#ffffff',
    status: {
      ok: '#1a7f37',
      unauthorized: '#ec7a2c',
      bad: '#8e1519',
      error: '#cf222e',
      pending: '#6e7781',
    },
    stripes: {
      pending: ['#5f6873', '#848d97'],
      queued: ['#dfe9fc', '#3f6fd1'],
      family: ['#5a0008', '#b3001b'],
    },
  },
};

/** The themes, the default first. */
export const THEMES = Object.keys(PALETTES);

// The dark palette under the names the modules had before there were two.
export const TOKEN_PALETTE = PALETTES.dark.tokens;
export const NO_TOKEN_COLOR = PALETTES.dark.noToken;
export const STATUS_COLORS = PALETTES.dark.status;
export const STRIPES = PALETTES.dark.stripes;

/** Text on a token colour, in whichever theme the page is in. */
export const TOKEN_TEXT_COLOR = 'var(--token-text)';

/**
 * Which kind of token a name is: the engine names OAuth refresh tokens `r2`
 * (its RefreshId) and access tokens `t1`; they share one numbering.
 */
export function tokenKind(jti) {
  return /^r\d+$/.test(String(jti ?? '')) ? 'refresh' : 'access';
}

/** Palette index for a jti: `tN` or `rN` → N-1 (mod palette), other strings hashed. */
export function tokenIndex(jti) {
  const size = TOKEN_PALETTE.length;
  if (jti == null || jti === '') return -1;
  const match = /^[tr](\d+)$/.exec(String(jti));
  if (match) return (Number(match[1]) - 1 + size * 1000) % size;
  let hash = 0;
  for (const ch of String(jti)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % size;
}

/** The colour of a token (a CSS variable of the theme); grey when there is none (a guest's request). */
export function tokenColor(jti) {
  const index = tokenIndex(jti);
  return index < 0 ? 'var(--no-token)' : `var(--t${index + 1})`;
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

/** Fill colour for an attempt's status (a CSS variable of the theme). */
export function statusColor(status) {
  return `var(--${statusClass(status)})`;
}

/** The stripe colours of `name` (pending, queued, family) as CSS variables: [a, b]. */
export function stripeColors(name) {
  return [`var(--${name}-a)`, `var(--${name}-b)`];
}

/** A known theme's name: anything else is the default (dark). */
export function themeName(name) {
  return Object.hasOwn(PALETTES, name) ? name : THEMES[0];
}

/**
 * The CSS custom properties of a theme's palette: `--ok` … `--pending`
 * (status colours), `--t1` … `--t10`, `--no-token`, `--token-text`, and
 * `--pending-a` / `--pending-b` etc. for the stripes.
 */
export function cssVariables(theme = 'dark') {
  const palette = PALETTES[themeName(theme)];
  const vars = {};
  for (const [name, colour] of Object.entries(palette.status)) vars[`--${name}`] = colour;
  palette.tokens.forEach((colour, i) => { vars[`--t${i + 1}`] = colour; });
  vars['--no-token'] = palette.noToken;
  vars['--token-text'] = palette.tokenText;
  for (const [name, [a, b]] of Object.entries(palette.stripes)) {
    vars[`--${name}-a`] = a;
    vars[`--${name}-b`] = b;
  }
  return vars;
}

/** The value a colour of this module stands for in `theme`: `var(--t1)` → '#4da3ff'; plain colours as they are. */
export function resolveColor(colour, theme = 'dark') {
  const match = /^var\((--[a-z0-9-]+)\)$/.exec(String(colour));
  return match ? cssVariables(theme)[match[1]] : colour;
}

/** WCAG relative luminance of `#rgb` / `#rrggbb` (alpha ignored). */
export function relativeLuminance(hex) {
  let digits = String(hex).replace(/^#/, '');
  if (digits.length === 3 || digits.length === 4) digits = [...digits.slice(0, 3)].map((c) => c + c).join('');
  const [r, g, b] = [0, 2, 4]
    .map((i) => parseInt(digits.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two opaque colours, 1 … 21. */
export function contrastRatio(a, b) {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}
