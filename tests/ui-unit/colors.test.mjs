import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  tokenColor, tokenIndex, tokenKind, statusClass, statusColor, stripeColors, cssVariables, resolveColor, themeName, contrastRatio, relativeLuminance,
  PALETTES, THEMES, TOKEN_PALETTE, NO_TOKEN_COLOR, STATUS_COLORS, STRIPES, TOKEN_TEXT_COLOR,
} from '../../ui/lib/colors.js';

test('tN takes the N-th palette colour, wrapping around', () => {
  assert.deepEqual(['t1', 't2', 't3'].map(tokenColor), ['var(--t1)', 'var(--t2)', 'var(--t3)']);
  assert.deepEqual(['t1', 't2', 't3'].map((t) => resolveColor(tokenColor(t))), TOKEN_PALETTE.slice(0, 3));
  assert.deepEqual(['t1', 't2'].map((t) => resolveColor(tokenColor(t), 'presenter')), PALETTES.presenter.tokens.slice(0, 2));
  assert.equal(tokenColor(`t${TOKEN_PALETTE.length + 1}`), 'var(--t1)');
  // OAuth refresh tokens share the numbering, so r2 sits between t1 and t3.
  assert.deepEqual(['t1', 'r2', 't3'].map(tokenColor), ['var(--t1)', 'var(--t2)', 'var(--t3)']);
  assert.deepEqual(['t1', 'r2', 'rotation', null].map(tokenKind), ['access', 'refresh', 'access', 'access']);
  assert.equal(tokenIndex('t0'), TOKEN_PALETTE.length - 1);
});

test('no token is grey; other ids hash into the palette', () => {
  assert.equal(tokenColor(null), 'var(--no-token)');
  assert.equal(resolveColor(tokenColor('')), NO_TOKEN_COLOR);
  assert.equal(tokenIndex(null), -1);
  assert.ok(TOKEN_PALETTE.includes(resolveColor(tokenColor('abc'))));
  assert.ok(tokenIndex('abc') >= 0 && tokenIndex('abc') < TOKEN_PALETTE.length);
});

test('status classes: 2xx ok, 401, 400, other errors, pending', () => {
  assert.deepEqual([200, 204, 401, 400, 500, 0, 'pending', null, '401'].map(statusClass),
    ['ok', 'ok', 'unauthorized', 'bad', 'error', 'error', 'pending', 'pending', 'unauthorized']);
  assert.equal(resolveColor(statusColor(200)), STATUS_COLORS.ok);
  assert.equal(resolveColor(statusColor(401)), STATUS_COLORS.unauthorized);
  assert.equal(resolveColor(statusColor(400), 'presenter'), PALETTES.presenter.status.bad);
  assert.deepEqual(stripeColors('family').map((c) => resolveColor(c)), STRIPES.family);
  assert.equal(resolveColor(TOKEN_TEXT_COLOR, 'presenter'), PALETTES.presenter.tokenText);
});

test('two themes, each a full palette of the same shape', () => {
  assert.deepEqual(THEMES, ['dark', 'presenter']);
  assert.equal(themeName('presenter'), 'presenter');
  assert.equal(themeName('neon'), 'dark');
  assert.equal(themeName(undefined), 'dark');
  assert.deepEqual(Object.keys(cssVariables('presenter')), Object.keys(cssVariables('dark')));
  assert.deepEqual(cssVariables(), cssVariables('dark'));
  for (const theme of THEMES) {
    for (const value of Object.values(cssVariables(theme))) assert.match(value, /^#[0-9a-f]{6}$/, `${theme}: ${value}`);
  }
});

for (const theme of THEMES) {
  const p = PALETTES[theme];
  test(`${theme}: ten distinct token colours, clear of the status colours, each seen on the page and under its text`, () => {
    assert.equal(p.tokens.length, TOKEN_PALETTE.length);
    assert.equal(new Set(p.tokens).size, p.tokens.length);
    for (const colour of p.tokens) {
      assert.ok(!Object.values(p.status).includes(colour), colour);
      // A chip stands out from the page (WCAG non-text contrast 3:1), and its name reads (4.5:1).
      assert.ok(contrastRatio(colour, p.page) >= 3, `${theme}: ${colour} on the page ${contrastRatio(colour, p.page).toFixed(2)}`);
      assert.ok(contrastRatio(colour, p.tokenText) >= 4.5, `${theme}: ${p.tokenText} on ${colour} ${contrastRatio(colour, p.tokenText).toFixed(2)}`);
    }
    // No two alike; t1, t2, t3 (the ones a race shows) far apart.
    const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    for (let i = 0; i < p.tokens.length; i++) {
      for (let j = i + 1; j < p.tokens.length; j++) {
        const d = Math.hypot(...rgb(p.tokens[i]).map((c, k) => c - rgb(p.tokens[j])[k]));
        const min = j < 3 ? 120 : 45;
        assert.ok(d >= min, `${theme}: t${i + 1} ${p.tokens[i]} and t${j + 1} ${p.tokens[j]} are too alike (${d.toFixed(0)})`);
      }
    }
  });
}

test('contrast ratios as WCAG computes them', () => {
  assert.equal(relativeLuminance('#000000'), 0);
  assert.equal(relativeLuminance('#fff'), 1);
  assert.equal(contrastRatio('#000', '#fff'), 21);
  assert.equal(contrastRatio('#fff', '#000'), 21);
  assert.ok(Math.abs(contrastRatio('#767676', '#ffffff') - 4.54) < 0.01);
});

test('the stylesheet\'s colour variables come from here', () => {
  const vars = cssVariables();
  assert.equal(vars['--ok'], STATUS_COLORS.ok);
  assert.equal(vars['--bad'], STATUS_COLORS.bad);
  assert.equal(vars['--t1'], TOKEN_PALETTE[0]);
  assert.equal(vars['--t10'], TOKEN_PALETTE[9]);
  assert.equal(vars['--token-text'], PALETTES.dark.tokenText);
  assert.deepEqual([vars['--family-a'], vars['--family-b']], STRIPES.family);
  assert.equal(cssVariables('presenter')['--t1'], PALETTES.presenter.tokens[0]);
});

test('style.css uses those variables and repeats none of their values (either theme)', () => {
  const sheets = ['style.css', 'export-menu.css'].map((file) => [file, readFileSync(new URL(`../../ui/${file}`, import.meta.url), 'utf8')]);
  const all = sheets.map(([, css]) => css).join('\n');
  for (const [file, css] of sheets) {
    for (const theme of THEMES) {
      const vars = cssVariables(theme);
      for (const [name, value] of Object.entries(vars)) {
        assert.ok(!new RegExp(`${name}\\s*:`).test(css), `${file} defines ${name} itself`);
        assert.ok(!new RegExp(`${value}(?![0-9a-f])`, 'i').test(css), `${file} repeats ${value} (${theme} ${name})`);
      }
    }
    const vars = cssVariables();
    for (const used of css.matchAll(/var\((--[a-z0-9-]+)/g)) {
      const defined = used[1] in vars || new RegExp(`${used[1]}\\s*:`).test(all);
      assert.ok(defined, `${file} uses ${used[1]}, which nobody defines`);
    }
  }
});
