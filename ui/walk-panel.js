// "Walk one token by hand": the long-lived auth server on the lab's own
// port (strict rotation, no latency), driven one call at a time, with time
// travel on its lab clock (docs/lab-api.md, "GET /lab/clock, POST /lab/clock").
//
// The panel logs in, moves the lab clock forward by 1/5/10 s, calls
// /api/secret and /api/refresh, and shows each HTTP status and reason. A bar
// draws the token's life (valid → refreshable → dead) with a now-marker at
// lab time, and a label and two countdowns say where the token stands.
// The maths lives in lib/token-life.js.

import { h } from './dom.js';
import { tokenColor, TOKEN_TEXT_COLOR } from './lib/colors.js';
import { formatCountdown } from './lib/format.js';
import {
  decodeJwt, tokenTimes, tokenState, lifeBar, lifeCountdowns, labNow, formatLabTime, answerText, STATE_TEXT,
} from './lib/token-life.js';

const LOGIN = { login: 'ada', password: 'lab' };
const HISTORY = 6;

export class WalkPanel {
  /** @param {HTMLElement} root the `[data-walk]` section of index.html */
  constructor(root) {
    this.root = root;
    this.q = (sel) => root.querySelector(sel);
    this.buttons = [...root.querySelectorAll('button[data-action]')];
    this.results = {
      login: this.q('[data-walk-result="login"]'),
      clock: this.q('[data-walk-result="clock"]'),
      secret: this.q('[data-walk-result="secret"]'),
      refresh: this.q('[data-walk-result="refresh"]'),
    };
    this.history = this.q('[data-walk-history]');
    this.clockEl = this.q('[data-lab-clock]');
    this.travelledEl = this.q('[data-travelled]');
    this.stateEl = this.q('[data-token-state]');
    this.stateTitle = this.q('[data-token-state-title]');
    this.stateDetail = this.q('[data-token-state-detail]');
    this.chipEl = this.q('[data-walk-token]');
    this.formerEl = this.q('[data-walk-former]');
    this.expEl = this.q('[data-countdown="exp"]');
    this.windowEl = this.q('[data-countdown="window"]');
    this.bar = this.q('[data-life-bar]');
    this.segs = {
      valid: this.q('[data-seg="valid"]'),
      refreshable: this.q('[data-seg="refreshable"]'),
      dead: this.q('[data-seg="dead"]'),
    };
    this.marker = this.q('[data-now-marker]');
    this.ticks = {
      iat: this.q('[data-tick="iat"]'),
      exp: this.q('[data-tick="exp"]'),
      window: this.q('[data-tick="window"]'),
    };

    this.reading = null; // { labNowMs, atMs }
    this.travelledS = 0;
    this.token = null; // { raw, jti, payload, times }
    this.former = []; // jtis this walk replaced
    this.busy = false;
    this.frame = null;

    root.addEventListener('click', (event) => {
      const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
      if (!button || !root.contains(button)) return;
      const action = button.getAttribute('data-action');
      if (action === 'walk-login') this.run(() => this.login());
      else if (action === 'time-travel') this.run(() => this.travel(Number(button.getAttribute('data-seconds'))));
      else if (action === 'walk-secret') this.run(() => this.secret());
      else if (action === 'walk-refresh') this.run(() => this.refresh());
    });
    // The clock and the countdowns run while the panel is on screen.
    this.visible = true;
    if (typeof IntersectionObserver === 'function') {
      this.visible = false;
      new IntersectionObserver((entries) => {
        this.visible = entries.some((e) => e.isIntersecting);
        if (this.visible) this.render();
      }).observe(root);
    }
    this.render();
    this.syncClock().then(() => this.render(), () => {});
  }

  /** One call at a time: the buttons are disabled while it runs. */
  async run(step) {
    if (this.busy) return;
    this.busy = true;
    this.root.setAttribute('aria-busy', 'true');
    for (const b of this.buttons) b.disabled = true;
    try {
      await step();
    } finally {
      this.busy = false;
      this.root.removeAttribute('aria-busy');
      for (const b of this.buttons) b.disabled = false;
      this.render();
    }
  }

  async syncClock() {
    const { status, body, at } = await call('lab/clock', { method: 'GET' });
    if (status === 200 && body) this.setReading(body, at);
  }

  setReading(body, at) {
    if (typeof body.lab_now_ms === 'number') this.reading = { labNowMs: body.lab_now_ms, atMs: at };
    if (typeof body.refresh_window_s === 'number') this.refreshWindowS = body.refresh_window_s;
  }

  async login() {
    const answer = await call('api/login', { method: 'POST', json: LOGIN });
    if (answer.status === 200 && answer.body && answer.body.token) {
      this.former = [];
      this.adopt(answer.body);
    }
    this.show('login', 'POST /api/login', answer, answer.status === 200 && this.token ? `new token ${this.token.jti}` : '');
    await this.syncClock().catch(() => {});
  }

  async travel(seconds) {
    const answer = await call('lab/clock', { method: 'POST', json: { advance_s: seconds } });
    if (answer.status === 200 && answer.body) {
      this.setReading(answer.body, answer.at);
      this.travelledS += seconds;
    }
    this.show('clock', `lab clock +${seconds} s`, answer, answer.status === 200 ? `now ${formatLabTime(answer.body.lab_now_ms)}` : '');
  }

  async secret() {
    const answer = await call('api/secret', { method: 'GET', bearer: this.token && this.token.raw });
    this.show('secret', `GET /api/secret${this.token ? ` with ${this.token.jti}` : ' without a token'}`, answer);
  }

  async refresh() {
    const old = this.token;
    const answer = await call('api/refresh', { method: 'POST', bearer: old && old.raw });
    let note = '';
    if (answer.status === 200 && answer.body && answer.body.token) {
      this.adopt(answer.body);
      if (old) this.former = [...this.former, old.jti].slice(-4);
      note = `${old ? old.jti : '?'} → ${this.token.jti}`;
    }
    this.show('refresh', `POST /api/refresh${old ? ` with ${old.jti}` : ' without a token'}`, answer, note);
    await this.syncClock().catch(() => {});
  }

  /** Takes the token of a login/refresh answer as the walked token. */
  adopt(body) {
    const decoded = decodeJwt(body.token);
    if (!decoded) return;
    const windowS = typeof body.refresh_window === 'number' ? body.refresh_window : this.refreshWindowS;
    this.token = {
      raw: body.token,
      jti: decoded.payload.jti ?? '?',
      payload: decoded.payload,
      times: tokenTimes(decoded.payload, windowS),
    };
  }

  /** Writes an answer next to its button and on top of the history. */
  show(slot, what, answer, extra = '') {
    const text = answer.status === 0 ? `network error: ${answer.error}` : answerText(answer.status, answer.body);
    const shown = extra ? `${text} · ${extra}` : text;
    const tone = answer.status >= 200 && answer.status < 300 ? 'ok' : answer.status === 0 ? 'error' : `s${answer.status}`;
    const out = this.results[slot];
    if (out) {
      out.textContent = shown;
      out.className = `walk-result tone-${tone}`;
      out.setAttribute('data-status', String(answer.status));
      const reason = answer.body && typeof answer.body === 'object' ? answer.body.reason ?? '' : '';
      out.setAttribute('data-reason', reason || '');
    }
    const message = answer.body && typeof answer.body.message === 'string' ? answer.body.message : '';
    const line = h('li', { class: `tone-${tone}` },
      h('span', { class: 'walk-what' }, what),
      h('b', { class: 'walk-status' }, text),
      extra ? h('span', { class: 'walk-extra' }, extra) : null,
      message ? h('span', { class: 'walk-message' }, message) : null);
    this.history.prepend(line);
    while (this.history.childElementCount > HISTORY) this.history.lastElementChild.remove();
  }

  /** Redraws the clock, the state label, the bar and the countdowns; loops while on screen. */
  render() {
    if (this.visible) this.startLoop();
    else this.stopLoop();
    const now = labNow(this.reading, performance.now());
    setText(this.clockEl, now == null ? 'lab clock —' : `lab clock ${formatLabTime(now)}`);
    setText(this.travelledEl, this.travelledS > 0 ? `(travelled +${this.travelledS} s on this page)` : '');

    const token = this.token;
    this.root.classList.toggle('has-token', !!token);
    if (!token || !token.times || now == null) {
      if (this.stateEl.getAttribute('data-token-state') !== 'none') this.stateEl.setAttribute('data-token-state', 'none');
      setText(this.stateTitle, token ? 'TOKEN' : 'NO TOKEN');
      setText(this.stateDetail, token ? '' : 'Log in to get one: it is valid for a few seconds, then refreshable, then dead.');
      this.chipEl.hidden = true;
      setText(this.expEl, '');
      setText(this.windowEl, '');
      this.bar.classList.add('empty');
      return;
    }
    const state = tokenState(token.times, now);
    if (this.stateEl.getAttribute('data-token-state') !== state) this.stateEl.setAttribute('data-token-state', state);
    setText(this.stateTitle, STATE_TEXT[state].title);
    setText(this.stateDetail, STATE_TEXT[state].detail);
    this.chipEl.hidden = false;
    setText(this.chipEl, token.jti);
    this.chipEl.style.backgroundColor = tokenColor(token.jti);
    this.chipEl.style.color = TOKEN_TEXT_COLOR;
    setText(this.formerEl, this.former.length ? `replaced ${this.former.join(', ')} (revoked by the rotation)` : '');

    const c = lifeCountdowns(token.times, now);
    setText(this.expEl, c.toExpMs > 0 ? `expires ${formatCountdown(c.toExpMs)}` : `expired ${formatCountdown(c.toExpMs)}`);
    this.expEl.className = `countdown ${c.toExpMs > 0 ? 'valid' : 'expired'}`;
    setText(this.windowEl, c.toWindowEndMs > 0
      ? `refresh window ends ${formatCountdown(c.toWindowEndMs)}`
      : `refresh window ended ${formatCountdown(c.toWindowEndMs)}`);
    this.windowEl.className = `countdown ${c.toWindowEndMs > 0 ? (c.toExpMs > 0 ? 'valid' : 'warn') : 'expired'}`;

    const bar = lifeBar(token.times, now);
    this.bar.classList.remove('empty');
    const t = token.times;
    const labels = {
      valid: `valid ${seconds(t.expMs - t.iatMs)}`,
      refreshable: `refreshable ${seconds(t.refreshUntilMs - t.expMs)}`,
      dead: 'dead',
    };
    for (const seg of bar.segments) {
      const el = this.segs[seg.state];
      el.style.left = pct(seg.from);
      el.style.width = pct(seg.to - seg.from);
      setText(el.firstElementChild, labels[seg.state]);
    }
    this.marker.style.left = pct(bar.now);
    this.marker.classList.toggle('off-scale', bar.offScale === 'after');
    // Near an edge the flag hangs inwards instead of overflowing the panel.
    this.marker.classList.toggle('near-end', bar.now > 0.93);
    this.marker.classList.toggle('near-start', bar.now < 0.04);
    const [valid, refreshable] = bar.segments;
    this.placeTick(this.ticks.iat, valid.from, `iat ${formatLabTime(token.times.iatMs)}`);
    this.placeTick(this.ticks.exp, valid.to, `exp ${formatLabTime(token.times.expMs)}`);
    this.placeTick(this.ticks.window, refreshable.to, `window ends ${formatLabTime(token.times.refreshUntilMs)}`);
  }

  placeTick(el, fraction, text) {
    el.style.left = pct(fraction);
    setText(el, text);
  }

  startLoop() {
    if (this.frame != null) return;
    const loop = () => {
      this.frame = null;
      this.render();
    };
    this.frame = requestAnimationFrame(loop);
  }

  stopLoop() {
    if (this.frame != null) cancelAnimationFrame(this.frame);
    this.frame = null;
  }
}

/** Writes text only when it changed (the panel redraws every frame). */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function seconds(ms) {
  return `${Math.round(ms / 100) / 10} s`;
}

function pct(fraction) {
  return `${(fraction * 100).toFixed(3)}%`;
}

/**
 * One HTTP call on the lab's origin. Never throws: `{ status, body, at }`
 * with status 0 when the server could not be reached. `at` is the local
 * time the answer arrived (anchors the lab clock).
 */
async function call(url, { method, json, bearer }) {
  const headers = { accept: 'application/json' };
  if (json) headers['content-type'] = 'application/json';
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  try {
    const response = await fetch(url, { method, headers, body: json ? JSON.stringify(json) : undefined });
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON: the status says enough
    }
    return { status: response.status, body, at: performance.now() };
  } catch (error) {
    return { status: 0, body: null, at: performance.now(), error: error && error.message ? error.message : String(error) };
  }
}
