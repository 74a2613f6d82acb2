import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  tokenColor, tokenIndex, statusClass, statusColor, cssVariables, TOKEN_PALETTE, NO_TOKEN_COLOR, STATUS_COLORS, STRIPES, TOKEN_TEXT_COLOR,
} from '../../ui/lib/colors.js';

test('tN takes the N-th palette colour, wrapping around', () => {
  assert.deepEqual(['t1', 't2', 't3'].map(tokenColor), TOKEN_PALETTE.slice(0, 3));
  assert.equal(new Set(TOKEN_PALETTE).size, TOKEN_PALETTE.length, 'ten distinct colours');
  assert.equal(tokenColor(`t${TOKEN_PALETTE.length + 1}`), TOKEN_PALETTE[0]);
  assert.equal(tokenIndex('t0'), TOKEN_PALETTE.length - 1);
});

test('no token is grey; other ids hash into the palette', () => {
  assert.equal(tokenColor(null), NO_TOKEN_COLOR);
  assert.equal(tokenColor(''), NO_TOKEN_COLOR);
  assert.equal(tokenIndex(null), -1);
  assert.ok(TOKEN_PALETTE.includes(tokenColor('abc')));
  assert.ok(tokenIndex('abc') >= 0 && tokenIndex('abc') < TOKEN_PALETTE.length);
});

test('token colours stay clear of the status colours', () => {
  for (const colour of TOKEN_PALETTE) assert.ok(!Object.values(STATUS_COLORS).includes(colour), colour);
});

test('status classes: 2xx ok, 401, 400, other errors, pending', () => {
  assert.deepEqual([200, 204, 401, 400, 500, 0, 'pending', null, '401'].map(statusClass),
    ['ok', 'ok', 'unauthorized', 'bad', 'error', 'error', 'pending', 'pending', 'unauthorized']);
  assert.equal(statusColor(200), STATUS_COLORS.ok);
  assert.equal(statusColor(401), STATUS_COLORS.unauthorized);
  assert.equal(statusColor(400), STATUS_COLORS.bad);
});

test('the stylesheet\'s colour variables come from here', () => {
  const vars = cssVariables();
  assert.equal(vars['--ok'], STATUS_COLORS.ok);
  assert.equal(vars['--bad'], STATUS_COLORS.bad);
  assert.equal(vars['--t1'], TOKEN_PALETTE[0]);
  assert.equal(vars['--t10'], TOKEN_PALETTE[9]);
  assert.equal(vars['--token-text'], TOKEN_TEXT_COLOR);
  assert.deepEqual([vars['--family-a'], vars['--family-b']], STRIPES.family);
});

test('style.css uses those variables and repeats none of their values', () => {
  const css = readFileSync(new URL('../../ui/style.css', import.meta.url), 'utf8');
  const vars = cssVariables();
  for (const [name, value] of Object.entries(vars)) {
    assert.ok(!new RegExp(`${name}\\s*:`).test(css), `style.css defines ${name} itself`);
    assert.ok(!new RegExp(`${value}(?![0-9a-f])`, 'i').test(css), `style.css repeats ${value} (${name})`);
  }
  for (const used of css.matchAll(/var\((--[a-z0-9-]+)\)/g)) {
    const defined = used[1] in vars || new RegExp(`${used[1]}\\s*:`).test(css);
    assert.ok(defined, `style.css uses ${used[1]}, which nobody defines`);
  }
});
