// The grader's score card, painted from lib/grader.js's rows: one button
// per check (`data-check`, opens its timeline), each with how many orders
// it was graded over (`data-orders`, `data-failing`); a check that failed
// in some order offers its shortest counterexample by hand
// (`data-action="show-counterexample"`) and as a link. The card says
// `data-state="running"` until every row is in.

import { h } from './dom.js';
import { ORDER_BOUND } from './lib/grader.js';

function clear(grade) {
  grade.hidden = true;
  grade.replaceChildren();
  for (const name of ['data-passed', 'data-total', 'data-state']) grade.removeAttribute(name);
}

function countAttributes(row) {
  if (row.orders == null) return {};
  return { 'data-orders': String(row.orders), 'data-failing': String(row.failing), 'data-exact': String(row.exact) };
}

function counterexample(row) {
  const cx = row.counterexample;
  if (!cx) return null;
  const show = h('button', {
    type: 'button',
    class: 'code-check-show',
    'data-action': 'show-counterexample',
    'data-for-check': row.id,
    title: `Open the shortest failing order (${cx.deliveries} deliveries, ${cx.policy} server) by hand, ready to step`,
  }, `Show me (${cx.deliveries} deliveries, ${cx.policy})`);
  const link = row.link
    ? h('a', { class: 'code-check-link', href: row.link, 'data-counterexample-link': row.id, title: 'A link to this order: the setup, the order and your module (it waits for Run)' }, 'link')
    : null;
  return h('p', { class: 'code-check-cx' }, show, link ? ' · ' : '', link ?? '');
}

/**
 * Paints `rows` ([{id, title, pass, why, orders?, failing?, counterexample?,
 * link?}]) into `grade`; null hides the card. `total`: how many rows the
 * card will have (it is running until they are all in).
 */
export function paintScoreCard(grade, rows, total = Array.isArray(rows) ? rows.length : 0) {
  if (!Array.isArray(rows)) {
    clear(grade);
    return;
  }
  const passed = rows.filter((r) => r.pass).length;
  const done = rows.length >= total;
  grade.hidden = false;
  grade.setAttribute('data-passed', String(passed));
  grade.setAttribute('data-total', String(rows.length));
  grade.setAttribute('data-state', done ? 'done' : 'running');
  grade.setAttribute('aria-busy', done ? 'false' : 'true');
  grade.classList.toggle('all-pass', done && rows.length > 0 && passed === rows.length);
  const explored = rows.some((row) => row.orders != null);
  grade.replaceChildren(
    h('h3', { class: 'code-grade-title' }, 'Score ', h('b', {}, `${passed}/${rows.length}`),
      h('span', { class: 'code-grade-sub' }, done ? ' · a check opens its timeline' : ` · checking ${rows.length + 1} of ${total}…`)),
    explored ? h('p', { class: 'code-grade-bound' }, `Checks with several requests pass only in ${ORDER_BOUND}.`) : '',
    h('ul', { class: 'code-checks' }, ...rows.map((row) => h('li', { class: 'code-check-row' },
      h('button', {
        type: 'button',
        class: `code-check ${row.pass ? 'pass' : 'fail'}`,
        'data-check': row.id,
        'data-pass': row.pass ? 'true' : 'false',
        ...countAttributes(row),
      },
      h('span', { class: 'code-check-mark', 'aria-hidden': 'true' }, row.pass ? '✓' : '✗'),
      h('span', { class: 'sr-only' }, row.pass ? 'passed: ' : 'failed: '),
      h('span', { class: 'code-check-title' }, row.title),
      h('span', { class: 'code-check-why' }, row.why)),
      counterexample(row) ?? ''))));
}
