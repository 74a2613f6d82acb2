import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenColor, tokenIndex, statusClass, statusColor, TOKEN_PALETTE, NO_TOKEN_COLOR, STATUS_COLORS } from '../../ui/lib/colors.js';

test('t1, t2, t3 get distinct stable colours', () => {
  assert.equal(tokenColor('t1'), TOKEN_PALETTE[0]);
  assert.equal(tokenColor('t2'), TOKEN_PALETTE[1]);
  assert.notEqual(tokenColor('t1'), tokenColor('t2'));
  assert.equal(tokenColor('t1'), tokenColor('t1'));
  assert.equal(tokenColor(`t${TOKEN_PALETTE.length + 1}`), tokenColor('t1'), 'palette wraps');
});

test('no token is grey; other ids hash into the palette', () => {
  assert.equal(tokenColor(null), NO_TOKEN_COLOR);
  assert.equal(tokenColor(''), NO_TOKEN_COLOR);
  assert.equal(tokenIndex('abc'), tokenIndex('abc'));
  assert.ok(TOKEN_PALETTE.includes(tokenColor('abc')));
});

test('token colours stay clear of the status colours', () => {
  for (const colour of TOKEN_PALETTE) assert.ok(!Object.values(STATUS_COLORS).includes(colour));
});

test('status classes: 2xx ok, 401, 400, other errors, pending', () => {
  assert.equal(statusClass(200), 'ok');
  assert.equal(statusClass(204), 'ok');
  assert.equal(statusClass(401), 'unauthorized');
  assert.equal(statusClass(400), 'bad');
  assert.equal(statusClass(500), 'error');
  assert.equal(statusClass('pending'), 'pending');
  assert.equal(statusClass(null), 'pending');
  assert.equal(statusClass('401'), 'unauthorized');
  assert.equal(statusColor(200), STATUS_COLORS.ok);
  assert.notEqual(statusColor(401), statusColor(400));
});
