// The fixed check list a learner's interceptor is graded on (docs/design.md,
// "Your own interceptor"): the four cases, a late 401, a refused refresh, a
// hand-made order in which the refresh answer comes back after another
// request's 401, and three tabs sharing one token. Each check is a run's settings plus what its verdict must
// show; the same settings open the check's timeline. Pure: no DOM.

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
    expect: (v) => oneRefreshAllOk(v),
  },
  {
    id: 'refresh-refused',
    title: 'The refresh is refused (the refresh window is over)',
    settings: { case: 'expired-not-refreshable', secret: 3, public: 0 },
    expect: (v) => (v.refresh_calls === 1 ? null : `${v.refresh_calls} refresh calls for one dead token (one is enough)`)
      ?? (v.logouts === 1 ? null : `${v.logouts} logouts (the user should be logged out once)`)
      ?? (v.secret_ok === 0 ? null : `${v.secret_ok} requests claimed success with a dead token`),
  },
  {
    id: 'late-401',
    title: 'A late 401: it lands after the refresh ended',
    settings: { case: 'expired-refreshable', secret: 3, public: 0, late: true },
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
    expect: (v) => oneRefreshAllOk(v),
  },
  {
    id: 'several-tabs',
    title: 'Three tabs share the token: one refresh for the browser',
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
    expect: (v) => oneRefreshAllOk(v),
  },
].map((check) => Object.freeze({ ...check, settings: Object.freeze({ ...BASE, ...check.settings }) })));

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
