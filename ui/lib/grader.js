// The fixed check list a learner's interceptor is graded on (docs/design.md,
// "Your own interceptor"): the four cases, a late 401, a refused refresh, a
// hand-made order in which the refresh answer comes back after another
// request's 401, and tabs sharing one token. Each check is a run's settings
// plus what its verdict must show; the same settings open the check's
// timeline. A check with several requests is graded over every order the
// network can deliver them in (the lab's explorer, ORDER_BOUND): it passes
// only if every order passes, under each of ORDER_POLICIES. Pure: no DOM.

/** Settings every check shares: the strict server, no jitter, the browser runtime. */
const BASE = { policy: 'strict', jitter_ms: 0, runtime: 'browser' };

export const CHECKS = Object.freeze([
  {
    id: 'guest',
    title: 'A guest: no token, nothing to refresh',
    settings: { case: 'guest', secret: 3, public: 3 },
    expect: (v) => (v.refresh_calls === 0 ? null : `${v.refresh_calls} refresh calls without any token`)
      ?? (v.public_ok === 3 ? null : `${v.public_failed} public requests failed`),
  },
  {
    id: 'valid',
    title: 'A valid token: everything just works',
    settings: { case: 'valid', secret: 3, public: 3 },
    expect: (v) => (v.refresh_calls === 0 ? null : `${v.refresh_calls} refresh calls for a valid token`)
      ?? (v.failed === 0 ? null : `${v.failed} requests failed`),
  },
  {
    id: 'several-requests',
    title: 'Three requests, one expired token',
    settings: { case: 'expired-refreshable', secret: 3, public: 3 },
    orders: { secret: 2, public: 0 },
    expect: (v) => oneRefreshAllOk(v),
  },
  {
    id: 'refresh-refused',
    title: 'The refresh is refused (the refresh window is over)',
    settings: { case: 'expired-not-refreshable', secret: 3, public: 0 },
    orders: { secret: 2 },
    expect: (v) => (v.refresh_calls === 1 ? null : `${v.refresh_calls} refresh calls for one dead token (one is enough)`)
      ?? (v.logouts === 1 ? null : `${v.logouts} logouts (the user should be logged out once)`)
      ?? (v.secret_ok === 0 ? null : `${v.secret_ok} requests claimed success with a dead token`),
  },
  {
    id: 'late-401',
    title: 'A late 401: it lands after the refresh ended',
    settings: { case: 'expired-refreshable', secret: 3, public: 0, late: true },
    orders: { secret: 1 },
    expect: (v) => oneRefreshAllOk(v),
  },
  {
    id: 'answer-after-401s',
    title: 'By hand: the refresh answer comes back after the other 401',
    settings: {
      case: 'expired-refreshable',
      secret: 2,
      public: 0,
      network: 'step',
      // secret#1 gets its 401 and its refresh reaches the server; then
      // secret#2 gets its 401 while that refresh's answer is still out.
      deliver: ['secret#1>', 'secret#1<', 'secret#1>', 'secret#2>', 'secret#2<'],
    },
    // Every order that goes on from the hand-made one.
    orders: {},
    expect: (v) => oneRefreshAllOk(v),
  },
  {
    id: 'several-tabs',
    title: 'Tabs share the token: one refresh for the browser',
    settings: {
      case: 'expired-refreshable',
      secret: 1,
      public: 0,
      tabs: 3,
      // No lock from the lab: the module coordinates its tabs itself (api.lock).
      cross_tab: 'none',
      // Due order: every tab's 401 lands before the first refresh answer.
      network: 'step',
    },
    // Every order of two of the tabs (a request each): the explorer's bound
    // for a client in the page is ORDER_LANES request lanes over all tabs.
    orders: { tabs: 2 },
    expect: (v) => oneRefreshAllOk(v),
  },
].map((check) => Object.freeze({
  ...check,
  settings: Object.freeze({ ...BASE, ...check.settings }),
  orders: check.orders ? Object.freeze({ ...check.orders }) : null,
})));

function oneRefreshAllOk(v) {
  if (v.refresh_calls !== 1) return `${v.refresh_calls} refresh calls for one expired token`;
  if (v.logouts !== 0) return `the user was logged out ${v.logouts === 1 ? 'once' : `${v.logouts} times`}`;
  if (v.failed !== 0) return `${v.failed} of ${v.requests} requests failed`;
  return null;
}

/**
 * One row of the score card from a check and how its run ended: the done
 * line's verdict, or the run's error (a module that failed, an order that
 * could not be played).
 */
export function gradeRow(check, { verdict = null, error = null } = {}) {
  if (error) return { id: check.id, title: check.title, pass: false, why: error };
  if (!verdict) return { id: check.id, title: check.title, pass: false, why: 'the run did not finish' };
  const problem = check.expect(verdict);
  return {
    id: check.id,
    title: check.title,
    pass: problem === null,
    why: problem ?? `${verdict.refresh_calls} refresh call${verdict.refresh_calls === 1 ? '' : 's'}, ${verdict.ok} of ${verdict.requests} requests ok`,
  };
}

/** The card's totals. */
export function score(rows) {
  return { passed: rows.filter((row) => row.pass).length, total: rows.length };
}

// ---- over every order ----

/** The servers every order is graded under. */
export const ORDER_POLICIES = Object.freeze(['strict', 'family']);
/** Request lanes an order check explores (the lab's bound for a client in the page). */
export const ORDER_LANES = 2;
/** The bound, as the score card and the docs say it. */
export const ORDER_BOUND = `every order of ${ORDER_LANES} request lanes, under ${ORDER_POLICIES.join(' and ')}`;

/** The settings `check` is explored with under `policy`: its own, cut to the bound, by hand. */
export function orderSettings(check, policy) {
  const settings = { ...check.settings, ...check.orders, policy, network: 'hand' };
  settings.deliver = check.settings.deliver ? [...check.settings.deliver] : [];
  return settings;
}

/** What an order's outcome says as the verdict fields the checks read. */
export function orderVerdict(outcome, settings) {
  const tabs = Math.max(1, Number(settings.tabs) || 1);
  const secret = tabs * ((settings.secret ?? 0) + (settings.late ? 1 : 0));
  const requests = secret + tabs * (settings.public ?? 0);
  // The order checks explore no public request: every failure is a secret one.
  return {
    refresh_calls: outcome.refresh_calls,
    logouts: outcome.logged_out ? 1 : 0,
    failed: outcome.failed,
    requests,
    ok: requests - outcome.failed,
    secret_ok: secret - outcome.failed,
    public_ok: tabs * (settings.public ?? 0),
    public_failed: 0,
  };
}

/**
 * Why an order of `exploration` fails `check`, or null when it passes.
 * `error`: what the module's failure said, for an order that ended in one.
 */
export function orderProblem(check, outcome, settings, error = null) {
  if (outcome.error) return `the module failed: ${error ?? 'an error'}`;
  if (outcome.hang) return 'a request never finished';
  return check.expect(orderVerdict(outcome, settings));
}

const count = (n) => n.toLocaleString('en');

/**
 * One row of the score card from a check graded over every order:
 * `results` is one `{ policy, exploration }` per ORDER_POLICIES (what the
 * lab's explorer returned), or `{ error }` when one could not be explored.
 * The row counts the orders (`orders`, `failing`) and, when some fail,
 * names the shortest one (`counterexample`: hand-run settings, its policy,
 * its delivery count, the problem).
 */
export function gradeOrders(check, results) {
  const base = { id: check.id, title: check.title };
  const broken = results.find((r) => r.error);
  if (broken) return { ...base, pass: false, why: broken.error, orders: null, failing: null, exact: false, counterexample: null };
  let orders = 0;
  let failing = 0;
  let exact = true;
  let worst = null;
  for (const { policy, exploration } of results) {
    orders += exploration.orders;
    exact = exact && exploration.exact;
    for (const c of exploration.classes) {
      const problem = orderProblem(check, c.outcome, exploration.setup, c.error ?? null);
      if (problem === null) continue;
      failing += c.count;
      if (!worst || c.shortest.length < worst.deliver.length) {
        worst = { policy, deliver: c.shortest, problem, setup: exploration.setup };
      }
    }
  }
  const least = exact ? '' : 'at least ';
  const bound = `${ORDER_POLICIES.join(' and ')}`;
  if (!worst) {
    return {
      ...base,
      pass: exact,
      why: exact
        ? `passes in all ${count(orders)} orders (${bound})`
        : `none of the ${count(orders)} orders explored failed, but the exploration was cut short`,
      orders, failing, exact, counterexample: null,
    };
  }
  return {
    ...base,
    pass: false,
    why: `fails in ${least}${count(failing)} of ${count(orders)} orders: ${worst.problem} (${worst.policy}, shortest in ${worst.deliver.length} deliveries)`,
    orders, failing, exact,
    counterexample: {
      settings: { ...worst.setup, network: 'hand', deliver: [...worst.deliver] },
      policy: worst.policy,
      deliveries: worst.deliver.length,
      problem: worst.problem,
    },
  };
}
