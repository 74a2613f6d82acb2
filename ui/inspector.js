// The token inspector: pick a token (chip on the timeline or in the list)
// and see the JWT the server issued, its header and payload decoded (the
// `issued` event carries the token), with live countdowns to `exp` and to
// the end of the refresh window, counted on the lab clock, not the wall
// clock. A recording made before `issued` carried the token shows the
// event's claims and says the header is not in it.

import { h } from './dom.js';
import { tokenColor, tokenKind, TOKEN_TEXT_COLOR } from './lib/colors.js';
import { decodedToken, labNowMs, tokenCountdowns, tokenKindNote } from './lib/reducer.js';
import { formatCountdown } from './lib/format.js';

export class Inspector {
  constructor({ list, detail, onSelect = () => {} }) {
    this.list = list;
    this.detail = detail;
    this.onSelect = onSelect;
    this.runs = []; // [{ label, state }]
    this.selected = null; // { jti, state }
    this.listKey = '';
    this.timer = null;
    this.hint = detail.firstElementChild ? detail.firstElementChild.cloneNode(true) : null;
  }

  /** The runs whose tokens can be inspected (one, or two when comparing). */
  setRuns(runs) {
    this.runs = runs;
    this.selected = null;
    this.listKey = '';
    this.refreshList();
    this.detail.replaceChildren(...(this.hint ? [this.hint.cloneNode(true)] : []));
    this.stopTimer();
  }

  /** Re-draws the token buttons when new tokens were issued. */
  refreshList() {
    const key = this.runs.map((r) => `${r.label}:${r.state.tokenOrder.join(',')}`).join('|')
      + `#${this.selected ? this.selected.jti : ''}`;
    if (key === this.listKey) return;
    this.listKey = key;
    const groups = this.runs.map((run) => {
      const buttons = run.state.tokenOrder.map((jti) => {
        const selected = this.selected && this.selected.state === run.state && this.selected.jti === jti;
        const button = h('button', { type: 'button', class: `chip token-button token-kind-${tokenKind(jti)}${selected ? ' selected' : ''}`, 'data-token': jti, 'aria-pressed': selected ? 'true' : 'false' }, jti);
        button.style.backgroundColor = tokenColor(jti);
        button.style.color = TOKEN_TEXT_COLOR;
        button.addEventListener('click', () => this.select(jti, run.state));
        return button;
      });
      return h('div', { class: 'token-group' }, this.runs.length > 1 ? h('span', { class: 'token-group-label' }, run.label) : null, ...buttons);
    });
    this.list.replaceChildren(...groups);
  }

  /**
   * Shows token `jti` of run `state`. `highlight` (a person picked it) also
   * outlines that token's bars on the timeline.
   */
  select(jti, state, { highlight = true } = {}) {
    if (!state.tokens.has(jti)) return;
    this.selected = { jti, state };
    this.onSelect(highlight ? jti : null, state);
    this.refreshList();
    this.renderDetail();
    this.startTimer();
  }

  startTimer() {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), 100);
  }

  stopTimer() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  tick() {
    if (!this.selected || !this.countdownEls) return;
    const token = this.selected.state.tokens.get(this.selected.jti);
    const lab = labNowMs(this.selected.state, performance.now());
    const c = tokenCountdowns(token, lab);
    if (!c) return;
    const exp = this.countdownEls.exp;
    const win = this.countdownEls.window;
    exp.textContent = c.expiresInMs > 0 ? `expires ${formatCountdown(c.expiresInMs)}` : `expired ${formatCountdown(c.expiresInMs)}`;
    exp.className = `countdown ${c.expiresInMs > 0 ? 'valid' : 'expired'}`;
    win.textContent = c.windowEndsInMs > 0 ? `refresh window ends ${formatCountdown(c.windowEndsInMs)}` : `refresh window ended ${formatCountdown(c.windowEndsInMs)}`;
    win.className = `countdown ${c.windowEndsInMs > 0 ? 'valid' : 'expired'}`;
    // A refresh token's end is its exp: one countdown says it all.
    win.hidden = token.kind === 'refresh';
    const revoked = this.selected.state.server.some((m) => m.kind === 'revoked' && m.jti === this.selected.jti);
    this.countdownEls.revoked.hidden = !revoked;
  }

  renderDetail() {
    const { jti, state } = this.selected;
    const token = state.tokens.get(jti);
    const decoded = decodedToken(token);
    const note = tokenKindNote(state, token);
    const chip = h('span', { class: `chip big-chip token-kind-${note.kind}` }, jti);
    chip.style.backgroundColor = tokenColor(jti);
    chip.style.color = TOKEN_TEXT_COLOR;
    this.countdownEls = {
      exp: h('p', { class: 'countdown' }, ''),
      window: h('p', { class: 'countdown' }, ''),
      revoked: h('p', { class: 'countdown expired revoked-note', hidden: true }, 'revoked on the server'),
    };
    const run = this.runs.find((r) => r.state === state);
    this.detail.replaceChildren(
      h('div', { class: 'token-head' }, chip,
        h('span', { class: 'token-meta' }, `sub ${token.sub} · family ${token.fam}${run && this.runs.length > 1 ? ` · ${run.label}` : ''}`)),
      this.countdownEls.exp,
      this.countdownEls.window,
      this.countdownEls.revoked,
      h('div', { class: 'token-kind', 'data-token-kind': note.kind },
        h('strong', {}, note.title),
        h('ul', {}, ...note.lines.map((line) => h('li', {}, line)))),
      h('div', { class: 'jwt', 'data-jwt': decoded.fromJwt ? 'decoded' : decoded.kind === 'refresh' ? 'opaque' : 'claims' },
        h('div', { class: 'jwt-part' }, h('span', { class: 'jwt-name' }, 'header'), decoded.header
          ? h('pre', { class: 'jwt-header' }, JSON.stringify(decoded.header))
          : h('pre', { class: 'jwt-header missing' }, decoded.kind === 'refresh' ? 'none: an opaque token' : 'not in this recording')),
        h('div', { class: 'jwt-part' }, h('span', { class: 'jwt-name' }, decoded.kind === 'refresh' ? 'on the server' : 'payload'), h('pre', { class: 'jwt-payload' }, JSON.stringify(decoded.payload, null, 1).replace(/\n\s*/g, ' ')))),
    );
    this.tick();
  }
}
