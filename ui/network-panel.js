// The rail beside the timeline: the challenge being played, the tab's
// hidden state and the network tray. It paints what app.js hands it (the
// models of lib/network.js and lib/challenges.js) and reports clicks; it
// decides nothing. Closed unless a run is held or a challenge is in play,
// so a first-timer's screen is unchanged.

import { h } from './dom.js';
import { tokenColor, TOKEN_TEXT_COLOR, statusClass } from './lib/colors.js';

export class NetworkPanel {
  /**
   * @param {HTMLElement} root the rail (`data-rail`)
   * @param {object} on
   * @param {(leg: string) => void} on.deliver        a leg card was clicked
   * @param {(filter: string) => void} on.deliverAll  a group button was clicked
   * @param {(leg: string) => void} on.dropLeg        "lose" was clicked on a refresh's answer
   * @param {() => void} on.closeChallenge            stop playing the challenge
   * @param {() => void} on.openChallenges            show every challenge
   * @param {(action: object) => void} on.life         sleep, close-tab or freeze-tab by hand
   */
  constructor(root, on) {
    this.root = root;
    this.on = on;
    this.painted = { challenge: null, tab: null, tray: null };
    this.busy = false;

    this.challenge = h('section', { class: 'rail-section rail-challenge', 'aria-live': 'polite' });
    this.tab = h('section', { class: 'rail-section tab-state', 'data-tab-state': '', 'aria-label': 'Hidden state of the tab' });
    this.trayTitle = h('h3', { class: 'rail-title' }, 'Network');
    this.trayHelp = h('p', { class: 'rail-help' }, '');
    this.legs = h('div', { class: 'tray-legs', role: 'group', 'aria-label': 'Legs in flight' });
    this.tray = h('section', { class: 'rail-section tray', 'data-tray': '', 'aria-label': 'The network: legs in flight' },
      this.trayTitle, this.trayHelp, this.legs);
    root.replaceChildren(this.challenge, this.tab, this.tray);

    root.addEventListener('click', (event) => {
      const target = event.target instanceof Element ? event.target : null;
      if (!target) return;
      // While a command is on its way the cards wait (aria-disabled: a
      // disabled button would drop the keyboard focus).
      const lose = target.closest('[data-drop-leg]');
      if (lose && !this.busy) {
        this.on.dropLeg(lose.getAttribute('data-drop-leg'));
        return;
      }
      const leg = target.closest('[data-leg]');
      if (leg && !this.busy) {
        this.on.deliver(leg.getAttribute('data-leg'));
        return;
      }
      const group = target.closest('[data-action="deliver-all"][data-filter]');
      if (group && !this.busy) {
        this.on.deliverAll(group.getAttribute('data-filter'));
        return;
      }
      const life = target.closest('[data-action="sleep"], [data-action="close-tab"], [data-action="freeze-tab"]');
      if (life && !this.busy && this.on.life) {
        const command = life.getAttribute('data-action');
        if (command === 'sleep') {
          const input = this.tab.querySelector('[data-control="sleep-s"]');
          this.on.life({ command, seconds: Number(input && input.value) || 0 });
        } else {
          this.on.life({ command, tab: Number(life.closest('[data-tab]').getAttribute('data-tab')) });
        }
        return;
      }
      if (target.closest('[data-action="close-challenge"]')) this.on.closeChallenge();
      else if (target.closest('[data-action="open-challenges"]')) this.on.openChallenges();
    });
  }

  /**
   * @param {object} m
   * @param {object|null} m.challenge  the challenge in play and its status, or null
   * @param {object|null} m.tab        tabStateModel of the held run, or null
   * @param {object|null} m.tray       trayModel of the held run, or null
   * @param {boolean} m.busy           a command is on its way: cards wait
   */
  render({ challenge = null, tab = null, tray = null, busy = false }) {
    const open = !!(challenge || tray);
    if (this.root.hidden === open) this.root.hidden = !open;
    this.root.classList.toggle('held', !!tray);
    this.paintPart('challenge', challenge, () => this.paintChallenge(challenge));
    this.paintPart('tab', tab, () => this.paintTab(tab));
    this.paintPart('tray', tray, () => this.paintTray(tray));
    // Busy only greys the cards out: they stay where they are, so nothing jumps under the pointer.
    this.busy = busy;
    this.tray.toggleAttribute('aria-busy', busy);
    for (const button of this.legs.querySelectorAll('button')) {
      if ((button.getAttribute('aria-disabled') === 'true') !== busy) button.setAttribute('aria-disabled', busy ? 'true' : 'false');
    }
  }

  paintPart(name, model, paint) {
    const json = JSON.stringify(model);
    if (this.painted[name] === json) return;
    this.painted[name] = json;
    paint();
  }

  paintChallenge(c) {
    const el = this.challenge;
    el.hidden = !c;
    if (!c) {
      el.removeAttribute('data-challenge-current');
      el.replaceChildren();
      return;
    }
    el.setAttribute('data-challenge-current', c.id);
    el.setAttribute('data-solved', c.solved ? 'true' : 'false');
    el.classList.toggle('solved', c.solved);
    el.classList.toggle('just-solved', !!c.justSolved);
    const runs = c.tries ? ` · ${c.tries} ${c.tries === 1 ? 'run' : 'runs'} so far` : '';
    const status = c.solved ? null : h('p', { class: 'challenge-status' }, `not solved yet${runs}`);
    // replaceChildren would print a null: only the parts there are.
    el.replaceChildren(...[
      h('header', { class: 'rail-head' },
        h('span', { class: 'rail-kicker' }, 'Challenge'),
        h('button', { type: 'button', class: 'rail-link', 'data-action': 'open-challenges' }, 'all challenges'),
        h('button', { type: 'button', class: 'rail-close', 'data-action': 'close-challenge', title: 'Stop playing this challenge', 'aria-label': 'Stop playing this challenge' }, '✕')),
      h('h3', { class: 'challenge-title' }, c.title),
      h('p', { class: 'challenge-goal' }, c.goal),
      c.solved ? h('p', { class: 'solved-banner', 'data-solved-moment': '' }, h('span', { class: 'solved-mark', 'aria-hidden': 'true' }, '✓'), ' Solved! ', h('span', { class: 'solved-sub' }, 'the lab checked it from the run’s events')) : null,
      status,
      c.hintShown && c.hint ? h('p', { class: 'challenge-hint' }, h('b', {}, 'Hint: '), c.hint) : null,
      c.showWhy && c.why ? h('p', { class: 'challenge-why' }, h('b', {}, 'Why: '), c.why) : null,
    ].filter(Boolean));
  }

  paintTab(t) {
    const el = this.tab;
    el.hidden = !t;
    for (const name of [...el.getAttributeNames()]) {
      if (name.startsWith('data-') && name !== 'data-tab-state') el.removeAttribute(name);
    }
    if (!t) {
      el.replaceChildren();
      return;
    }
    for (const [name, value] of Object.entries(t.attrs)) el.setAttribute(name, value);
    const chip = t.token
      ? h('span', { class: 'chip tab-token', 'data-jti': t.token }, t.token)
      : h('span', { class: 'tab-none' }, 'empty (logged out)');
    if (t.token) {
      chip.style.background = tokenColor(t.token);
      chip.style.color = TOKEN_TEXT_COLOR;
    }
    el.replaceChildren(
      h('h3', { class: 'rail-title' }, 'Hidden state ', h('span', { class: 'rail-sub' }, `the tab · ${t.strategy ?? '?'} client`)),
      h('dl', { class: 'tab-rows' },
        h('div', { class: 'tab-row' }, h('dt', {}, 'token store'), h('dd', {}, chip)),
        ...t.rows.map((row) => h('div', { class: 'tab-row', 'data-field': row.name },
          h('dt', {}, row.name),
          h('dd', { title: row.note }, h('code', { class: `tab-value v-${row.value}` }, row.value), h('span', { class: 'tab-note' }, row.note))))),
      ...(t.life ? [this.lifeRows(t.life)] : []),
    );
  }

  /** The lifecycle by hand: the laptop's sleep, and each tab's close and freeze. */
  lifeRows(life) {
    const sleep = h('div', { class: 'life-sleep' },
      h('label', {}, 'sleep ', h('input', { type: 'number', min: '1', max: String(life.maxSleep), value: '8', 'data-control': 'sleep-s', 'aria-label': 'Sleep, seconds', disabled: life.canSleep ? null : '' }), ' s'),
      h('button', { type: 'button', class: 'life-button', 'data-action': 'sleep', disabled: life.canSleep ? null : '', title: 'The laptop sleeps: the lab clock jumps, then every open tab wakes at once' }, 'Sleep'));
    const tabs = life.tabs.map((t) => h('div', { class: `life-tab life-${t.state}`, 'data-tab': String(t.tab), 'data-tab-life': t.state },
      h('span', { class: 'life-name' }, `tab ${t.tab}`),
      ...(t.state === 'open'
        ? [h('button', { type: 'button', class: 'life-button', 'data-action': 'close-tab', title: `Close tab ${t.tab}: its requests are abandoned, its locks released` }, 'Close'),
          h('button', { type: 'button', class: 'life-button', 'data-action': 'freeze-tab', title: `Freeze tab ${t.tab}: it keeps its locks` }, 'Freeze')]
        : [h('span', { class: 'life-state' }, t.state)])));
    return h('div', { class: 'life', 'data-life': '' }, h('h4', { class: 'rail-sub' }, 'Lifecycle'), sleep, ...tabs);
  }

  paintTray(tray) {
    // A keyboard user who delivered a leg stays in the tray: on its first card.
    const hadFocus = this.legs.contains(document.activeElement);
    this.paintTrayCards(tray);
    if (hadFocus && !this.legs.contains(document.activeElement)) {
      const first = this.legs.querySelector('button');
      if (first) first.focus();
    }
  }

  paintTrayCards(tray) {
    this.tray.hidden = !tray;
    if (!tray) {
      this.legs.replaceChildren();
      this.tray.removeAttribute('data-delivered');
      this.tray.removeAttribute('data-legs');
      return;
    }
    this.tray.setAttribute('data-delivered', String(tray.delivered));
    this.tray.setAttribute('data-legs', String(tray.count));
    this.trayTitle.replaceChildren('Network ', h('span', { class: 'rail-sub' },
      tray.count === 0 ? 'nothing in flight' : `${tray.count.toLocaleString('en')} ${tray.count === 1 ? 'leg' : 'legs'} in flight · ${tray.delivered} delivered`));
    this.trayHelp.textContent = tray.count === 0
      ? 'Every exchange has arrived.'
      : tray.mode === 'cards'
        ? 'You are the network: click a leg to deliver it.'
        : 'Too many for a card each: deliver them by kind.';
    if (tray.mode === 'cards') {
      this.legs.replaceChildren(...tray.cards.map((card) => {
        const tone = card.direction === 'to-client' ? `answer-${statusClass(card.status)}` : card.direction;
        const button = h('button', {
          type: 'button',
          class: `leg leg-${card.direction} ${tone}${card.next ? ' next' : ''}`,
          'data-leg': card.id,
          'data-lane': card.lane,
          'data-exchange': card.exchange,
          'data-direction': card.direction,
          title: `deliver ${card.id}`,
        },
        h('span', { class: 'leg-arrow', 'aria-hidden': 'true' }, card.direction === 'to-server' ? '→' : card.direction === 'commit' ? '=' : '←'),
        h('span', { class: 'leg-label' }, card.label),
        card.next ? h('span', { class: 'leg-next', title: 'Step (→) delivers this one' }, 'next') : null);
        if (!card.droppable) return button;
        // A refresh's answer can also be lost: the server rotated, the tab never hears.
        return h('div', { class: 'leg-wrap' }, button, h('button', {
          type: 'button',
          class: 'leg-drop',
          'data-drop-leg': card.id,
          title: `lose ${card.id}: the server has rotated, the tab gets a network error`,
        }, '✂ lose'));
      }));
    } else {
      this.legs.replaceChildren(...tray.groups.map((group) => h('button', {
        type: 'button',
        class: `leg leg-group leg-${group.direction}`,
        'data-action': 'deliver-all',
        'data-filter': group.filter,
        'data-direction': group.direction,
        'data-count': String(group.count),
      }, h('span', { class: 'leg-arrow', 'aria-hidden': 'true' }, group.direction === 'to-server' ? '→' : group.direction === 'commit' ? '=' : '←'),
      h('span', { class: 'leg-label' }, group.label))));
    }
  }
}
