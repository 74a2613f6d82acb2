// What each of the lab's choices means, for its option's tooltip in the
// controls (the names themselves come from GET /lab/options).

/** What each cross-tab choice does, for its option's tooltip. */
export const CROSS_TAB_TITLES = {
  none: 'each tab refreshes on its own: the tabs race each other',
  lock: 'one lock for all tabs (Web Locks), and a re-read of the stored token after taking it',
};

/** What each mode makes the refresh credential, for its option's tooltip. */
export const MODE_TITLES = {
  article: 'the article\'s: the expired access token is its own refresh credential',
  oauth: 'OAuth 2: a short JWT access token and an opaque refresh token, sent as a form and rotated',
};

/** Where a client's code runs, for its option's tooltip. */
export const RUNTIME_TITLES = {
  rust: 'The lab\'s own reqwest clients, in the engine',
  browser: 'The strategy as JavaScript in this page: a Web Worker per tab, real fetch',
};

/** What each network driver does, for its option's tooltip. */
export const NETWORK_TITLES = {
  timer: 'each leg goes when its latency is up (pause with Space)',
  step: 'the run stands still; Step (→) delivers the next due leg',
  hand: 'nothing moves until you deliver a leg from the tray',
};
