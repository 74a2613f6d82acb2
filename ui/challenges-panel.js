// The challenges panel: a drawer over the page's right edge, opened on
// demand, listing the lab's challenges (GET /lab/options `challenges`)
// with their progress. It paints what app.js hands it and reports clicks;
// whether a challenge is solved comes from the lab's `done` messages.

import { h } from './dom.js';

export class ChallengesPanel {
  /**
   * @param {HTMLElement} root the drawer (`data-challenges`)
   * @param {object} on
   * @param {(id: string) => void} on.play    start the challenge's preset
   * @param {(id: string) => void} on.hint    show or hide its hint
   * @param {(id: string) => void} on.giveUp  give up (the impossible one)
   * @param {() => void} on.close
   */
  constructor(root, on) {
    this.root = root;
    this.on = on;
    this.paintedJson = null;
    this.list = h('ol', { class: 'challenge-list' });
    this.summary = h('p', { class: 'challenges-summary' }, '');
    root.replaceChildren(
      h('header', { class: 'challenges-head' },
        h('h2', { id: 'challenges-title' }, 'Challenges'),
        h('button', { type: 'button', class: 'rail-close', 'data-action': 'close-challenges', 'aria-label': 'Close the challenges' }, '✕')),
      h('p', { class: 'challenges-intro' }, 'Be the network: each challenge starts a run held by hand, and you deliver its legs in the order you choose. The lab checks the goal from the run’s events, not from your clicks.'),
      this.summary,
      this.list,
    );
    root.addEventListener('click', (event) => {
      const target = event.target instanceof Element ? event.target : null;
      if (!target) return;
      if (target.closest('[data-action="close-challenges"]')) {
        this.on.close();
        return;
      }
      const card = target.closest('[data-challenge]');
      const button = target.closest('button[data-action]');
      if (!card || !button) return;
      const id = card.getAttribute('data-challenge');
      const action = button.getAttribute('data-action');
      if (action === 'play') this.on.play(id);
      else if (action === 'hint') this.on.hint(id);
      else if (action === 'give-up') this.on.giveUp(id);
    });
  }

  get open() {
    return !this.root.hidden;
  }

  setOpen(open) {
    this.root.hidden = !open;
  }

  /** Moves the keyboard into the panel: its first Play button. */
  focus() {
    const first = this.root.querySelector('[data-action="play"]');
    if (first) first.focus();
  }

  /**
   * @param {Array<{challenge: object, status: object, hintShown: boolean, justSolved: boolean, playing: boolean}>} items
   */
  render(items) {
    const json = JSON.stringify(items);
    if (json === this.paintedJson) return;
    this.paintedJson = json;
    const solved = items.filter((i) => i.status.solved).length;
    const possible = items.filter((i) => i.challenge.possible).length;
    this.summary.textContent = `${solved} of ${possible} solved${items.length > possible ? `, and ${items.length - possible} that cannot be` : ''}.`;
    this.list.replaceChildren(...items.map(({ challenge: c, status, hintShown, justSolved, playing }) => h('li', {},
      h('article', {
        class: `challenge${status.solved ? ' solved' : ''}${justSolved ? ' just-solved' : ''}${playing ? ' playing' : ''}${c.possible ? '' : ' impossible'}`,
        'data-challenge': c.id,
        'data-solved': status.solved ? 'true' : 'false',
        'data-possible': c.possible ? 'true' : 'false',
        'aria-label': `${c.title}${status.solved ? ' (solved)' : ''}`,
      },
      h('h3', { class: 'challenge-name' },
        h('span', { class: 'challenge-check', 'aria-hidden': 'true' }, status.solved ? '✓' : c.possible ? '○' : '?'),
        ' ', c.title,
        playing ? h('span', { class: 'playing-tag' }, 'playing') : null),
      h('p', { class: 'challenge-goal' }, c.goal),
      h('p', { class: 'challenge-meta' }, `${c.settings.strategy} client · ${c.settings.policy} server · ${c.settings.secret} requests${status.tries ? ` · ${status.tries} ${status.tries === 1 ? 'run' : 'runs'}` : ''}`),
      h('div', { class: 'challenge-actions' },
        h('button', { type: 'button', class: 'challenge-button play', 'data-action': 'play' }, playing ? '▶ Play again' : '▶ Play'),
        c.hint ? h('button', { type: 'button', class: 'challenge-button', 'data-action': 'hint', 'aria-expanded': hintShown ? 'true' : 'false' }, hintShown ? 'Hide hint' : 'Hint') : null,
        status.offerGiveUp ? h('button', { type: 'button', class: 'challenge-button give-up', 'data-action': 'give-up' }, 'Give up') : null),
      hintShown && c.hint ? h('p', { class: 'challenge-hint', 'data-hint': '' }, h('b', {}, 'Hint: '), c.hint) : null,
      status.showWhy && c.why ? h('p', { class: 'challenge-why', 'data-why': '' }, h('b', {}, 'Why: '), c.why) : null))));
  }
}
