import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeJwt, base64UrlDecode, tokenTimes, tokenState, lifeBar, lifeCountdowns, labNow, formatLabTime, answerText, STATE_TEXT,
} from '../../ui/lib/token-life.js';

const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const IAT = 1_795_846_691;
const jwt = (payload) => `${b64url({ typ: 'JWT', alg: 'HS256' })}.${b64url(payload)}.c2ln`;

test('decodes a compact JWT (base64url, no padding, UTF-8)', () => {
  const token = jwt({ sub: 'adá', iat: IAT, exp: IAT + 5, jti: 't1', fam: 'f1' });
  const decoded = decodeJwt(token);
  assert.deepEqual(decoded.header, { typ: 'JWT', alg: 'HS256' });
  assert.deepEqual(decoded.payload, { sub: 'adá', iat: IAT, exp: IAT + 5, jti: 't1', fam: 'f1' });
  assert.equal(base64UrlDecode('-_8'), Buffer.from('-_8', 'base64url').toString());
});

test('junk is not a JWT', () => {
  assert.equal(decodeJwt('a.b'), null);
  assert.equal(decodeJwt('!!.??.x'), null);
  assert.equal(decodeJwt(null), null);
  assert.equal(decodeJwt(`${b64url({})}.${b64url(7)}.x`), null, 'a payload must be an object');
});

test('token times: iat, exp and the end of the refresh window in ms', () => {
  assert.deepEqual(tokenTimes({ iat: IAT, exp: IAT + 5 }, 10), {
    iatMs: IAT * 1000, expMs: (IAT + 5) * 1000, refreshUntilMs: (IAT + 15) * 1000,
  });
  assert.equal(tokenTimes({ iat: IAT }, 10), null, 'no exp, no life');
  assert.equal(tokenTimes({ iat: IAT, exp: IAT + 5 }, undefined).refreshUntilMs, (IAT + 5) * 1000, 'no window: dead at exp');
});

test('state follows the server boundaries: expired at exp, window over at exp + window', () => {
  const t = tokenTimes({ iat: IAT, exp: IAT + 5 }, 10);
  assert.equal(tokenState(t, IAT * 1000), 'valid');
  assert.equal(tokenState(t, t.expMs - 1), 'valid');
  assert.equal(tokenState(t, t.expMs), 'refreshable', 'now >= exp is expired');
  assert.equal(tokenState(t, t.refreshUntilMs - 1), 'refreshable');
  assert.equal(tokenState(t, t.refreshUntilMs), 'dead', 'now >= exp + window is over');
  assert.equal(tokenState(t, t.refreshUntilMs + 86_400_000), 'dead');
  assert.equal(tokenState(null, 0), null);
  for (const s of ['valid', 'refreshable', 'dead']) assert.ok(STATE_TEXT[s].title);
});

test('life bar: three segments that tile the bar, a clamped now-marker', () => {
  const t = tokenTimes({ iat: IAT, exp: IAT + 5 }, 10);
  const bar = lifeBar(t, t.expMs, { tailFraction: 0.25 });
  // 15 s of life + 3.75 s dead tail = 18.75 s.
  assert.equal(bar.endMs - bar.startMs, 18_750);
  const [valid, refreshable, dead] = bar.segments;
  assert.equal(valid.from, 0);
  assert.equal(valid.to, refreshable.from);
  assert.equal(refreshable.to, dead.from);
  assert.equal(dead.to, 1);
  assert.ok(Math.abs(valid.to - 5 / 18.75) < 1e-12);
  assert.ok(Math.abs(refreshable.to - 15 / 18.75) < 1e-12);
  assert.equal(bar.now, valid.to, 'now at exp sits on the boundary');
  assert.equal(bar.offScale, null);
  const late = lifeBar(t, t.refreshUntilMs + 60_000);
  assert.equal(late.now, 1);
  assert.equal(late.offScale, 'after');
  const early = lifeBar(t, t.iatMs - 500);
  assert.equal(early.now, 0);
  assert.equal(early.offScale, 'before');
});

test('countdowns to exp and to the end of the window', () => {
  const t = tokenTimes({ iat: IAT, exp: IAT + 5 }, 10);
  assert.deepEqual(lifeCountdowns(t, IAT * 1000 + 6000), { toExpMs: -1000, toWindowEndMs: 9000 });
  assert.equal(lifeCountdowns(t, NaN), null);
});

test('lab clock: a reading runs on with the local clock, never backwards', () => {
  const reading = { labNowMs: 1_000_000, atMs: 500 };
  assert.equal(labNow(reading, 500), 1_000_000);
  assert.equal(labNow(reading, 1750), 1_001_250);
  assert.equal(labNow(reading, 100), 1_000_000);
  assert.equal(labNow(null, 100), null);
});

test('lab time and answers for people', () => {
  assert.equal(formatLabTime(Date.UTC(2026, 10, 28, 6, 18, 11, 452)), '06:18:11.4');
  assert.equal(formatLabTime(NaN), '—');
  assert.equal(answerText(200, { token: 'x' }), '200 OK');
  assert.equal(answerText(401, { error: 'invalid_token', reason: 'expired' }), '401 expired');
  assert.equal(answerText(400, { error: 'invalid_grant', reason: 'window_over' }), '400 window_over');
  assert.equal(answerText(404, { error: 'not_found' }), '404 not_found');
  assert.equal(answerText(502, null), '502');
});
