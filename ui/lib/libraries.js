// The real interceptor libraries on the bench (docs/design.md, "Real
// libraries on the bench"; docs/libraries.md): the one list. Each entry
// names the library and its major version (the strategy control's value and
// a browser run's `module` label), the version vendored in ui/vendor/ (npm
// pins it in package.json; tests/ui-unit/libraries.test.mjs checks the two
// agree), its adapter in ui/strategies/, its docs, and the options its README
// documents, with the README's own words. Adding a library: vendor it
// (scripts/vendor-ui.mjs), write its adapter, add its line here.
//
// Pure: no DOM. `checkOptions` reads the "library options" JSON text.

const STATUS_CODES = {
  type: 'status-codes',
  default: [401],
  doc: 'You can specify multiple status codes that you want the interceptor to run for.',
};
const INTERCEPT_NETWORK_ERROR = {
  type: 'boolean',
  default: false,
  doc: 'To intercept any network error, enable the interceptNetworkError option. CAUTION: This should be used as a last resort.',
};
// Documented, but not data: they cannot come as JSON text.
const FUNCTIONS = {
  shouldRefresh: 'a function (error) => boolean',
  onRetry: 'a function (requestConfig) => requestConfig',
  retryInstance: 'an axios instance',
};

// Supabase's auth client: what its types document, and the lock the lab
// passes (a function in the library; here by name).
const supabaseOptions = (lockDefault, lockDoc) => ({
  lock: {
    type: 'choice',
    values: ['navigatorLock', 'none'],
    default: lockDefault,
    doc: lockDoc,
  },
  autoRefreshToken: {
    type: 'boolean',
    default: true,
    doc: 'Set to "true" if you want to automatically refresh the token before expiring.',
  },
  persistSession: {
    type: 'boolean',
    default: true,
    doc: 'Set to "true" if you want to automatically save the user session into local storage. If set to false, session will just be saved in memory.',
  },
});
const SUPABASE_SUMMARY = 'getSession() refreshes a session that expires within 90 s before handing it out; one refresh at a time per client.';

export const LIBRARIES = Object.freeze([
  {
    name: 'axios-auth-refresh@5',
    package: 'axios-auth-refresh',
    version: '5.0.2',
    npm: 'axios-auth-refresh-5',
    file: 'axios-auth-refresh-5',
    docs: 'https://www.npmjs.com/package/axios-auth-refresh/v/5.0.2',
    summary: 'The plugin stalls additional requests that have come in while waiting for a new authorization token and resolves them when a new token is available.',
    options: {
      statusCodes: STATUS_CODES,
      deduplicateRefresh: {
        type: 'boolean',
        default: true,
        doc: 'By default (deduplicateRefresh: true), the interceptor ensures that only one refresh call runs at a time. While the refresh is in progress, the axios instance is paused — any new requests are queued and resolved automatically once the refresh completes.',
      },
      maxRetries: {
        type: 'integer',
        min: 0,
        max: 10,
        default: 3,
        doc: 'Maximum number of consecutive refresh attempts before giving up. Prevents infinite refresh loops when the refresh call succeeds, but the retried request still fails with an auth error.',
      },
      interceptNetworkError: INTERCEPT_NETWORK_ERROR,
    },
    // 3.x's names, gone in 5.x: say what took their place.
    renamed: {
      pauseInstanceWhileRefreshing: 'deduplicateRefresh',
      skipWhileRefreshing: 'deduplicateRefresh',
    },
  },
  {
    name: 'axios-auth-refresh@3',
    package: 'axios-auth-refresh',
    version: '3.3.6',
    npm: 'axios-auth-refresh-3',
    file: 'axios-auth-refresh-3',
    docs: 'https://www.npmjs.com/package/axios-auth-refresh/v/3.3.6',
    summary: 'The plugin stalls additional requests that have come in while waiting for a new authorization token and resolves them when a new token is available.',
    options: {
      statusCodes: STATUS_CODES,
      pauseInstanceWhileRefreshing: {
        type: 'boolean',
        default: false,
        doc: 'In case your refresh logic does not make any calls, you should consider using the following flag when initializing the interceptor to pause the whole axios instance while the refreshing is pending. This prevents interceptor from running for each failed request.',
      },
      skipWhileRefreshing: {
        type: 'boolean',
        default: false,
        doc: 'Deprecated: its logic has been moved to the pauseInstanceWhileRefreshing flag.',
      },
      interceptNetworkError: INTERCEPT_NETWORK_ERROR,
    },
    renamed: {
      deduplicateRefresh: 'pauseInstanceWhileRefreshing',
    },
  },
  // Supabase's session lives an hour (its default JWT expiry): with the
  // lab's 5 s tokens every token would sit inside the library's 90 s
  // refresh margin and each getSession would refresh again.
  {
    name: 'supabase-auth@2.106',
    package: '@supabase/auth-js',
    version: '2.106.2',
    npm: 'supabase-auth-js-2-106',
    file: 'supabase-auth-2-106',
    docs: 'https://www.npmjs.com/package/@supabase/auth-js/v/2.106.2',
    summary: SUPABASE_SUMMARY,
    settings: { access_ttl_s: 3600 },
    options: supabaseOptions('navigatorLock', 'lock: a function that serialises session work across tabs. In a browser 2.106 defaults to navigatorLock (Web Locks, lock:<storageKey>); a Worker is no browser to the library, so the lab passes navigatorLock itself. "none": no lock, as outside a browser.'),
  },
  {
    name: 'supabase-auth@2.119',
    package: '@supabase/auth-js',
    version: '2.119.2',
    npm: 'supabase-auth-js-2-119',
    file: 'supabase-auth-2-119',
    docs: 'https://www.npmjs.com/package/@supabase/auth-js/v/2.119.2',
    summary: `${SUPABASE_SUMMARY} Since 2.107 without a lock across tabs.`,
    settings: { access_ttl_s: 3600 },
    options: supabaseOptions('none', 'lock: deprecated since 2.107 ("The client now coordinates session refreshes without a lock, so most apps can drop the option"). "navigatorLock" puts the Web Lock back (the legacy lock path); "none": the lockless default.'),
  },
  // A recipe the docs give, not a package: the lab runs the docs' code over
  // the real fetchBaseQuery and async-mutex.
  {
    name: 'rtk-query-recipe',
    package: '@reduxjs/toolkit',
    version: '2.16.0',
    npm: '@reduxjs/toolkit',
    file: 'rtk-query-recipe',
    docs: 'https://redux-toolkit.js.org/rtk-query/usage/customizing-queries#preventing-multiple-unauthorized-errors',
    summary: "Using async-mutex, it is possible to prevent multiple calls to '/refreshToken' when multiple calls fail with 401 Unauthorized errors.",
    also: { 'async-mutex': '0.5.0' },
    // No run settings of its own; measured in tabs like the session libraries.
    settings: {},
    options: {},
  },
  {
    name: 'ky-recipe',
    package: 'ky',
    version: '2.2.0',
    npm: 'ky',
    file: 'ky-recipe',
    docs: 'https://www.npmjs.com/package/ky/v/2.2.0#hooksafterresponse',
    summary: 'Or retry with a fresh token on a 401 error',
    settings: {},
    options: {},
  },
  // OAuth, not the article: the lab's OAuth mode (an opaque refresh token
  // in a form, RFC 6749 §6). An hour-long access token as an identity
  // provider issues: with the lab's 5 s tokens the library's own
  // expiring timer (60 s ahead) would renew on its own, on the wall clock.
  {
    name: 'oidc-client-ts@3',
    package: 'oidc-client-ts',
    version: '3.5.0',
    npm: 'oidc-client-ts',
    file: 'oidc-client-ts-3',
    docs: 'https://authts.github.io/oidc-client-ts/interfaces/UserManagerSettings.html',
    // signinSilent()'s own words; the app around it (ui/lib/oidc-bench.js)
    // retries a 401 once after signinSilent() and removes the user when the
    // refresh is refused.
    summary: 'Trigger a silent request (via refresh token or an iframe) to the authorization endpoint.',
    settings: { mode: 'oauth', access_ttl_s: 3600 },
    options: {
      userStore: {
        type: 'choice',
        values: ['sessionStorage', 'localStorage'],
        default: 'sessionStorage',
        doc: 'userStore: Storage object used to persist User for currently authenticated user (default: window.sessionStorage, InMemoryWebStorage iff no window). "sessionStorage": each tab its own copy of the user (as a duplicated tab starts with); "localStorage": one user every tab shares.',
      },
      automaticSilentRenew: {
        type: 'boolean',
        default: true,
        doc: 'Flag to indicate if there should be an automatic attempt to renew the access token prior to its expiration. The automatic renew attempt starts 1 minute before the access token expires (default: true).',
      },
      expiringNotificationTimeInSeconds: {
        type: 'integer',
        min: 1,
        max: 3600,
        default: 60,
        doc: 'The number of seconds before an access token is to expire to raise the accessTokenExpiring event (default: 60).',
      },
    },
  },
].map((library) => Object.freeze(library)));

/** The library named `name` (`axios-auth-refresh@5`), or null. */
export function libraryNamed(name) {
  return LIBRARIES.find((library) => library.name === name) ?? null;
}

/** One line per option: `name` (default …): the README's words. */
export function describeOptions(library) {
  return Object.entries(library.options).map(([name, option]) => ({
    name,
    default: JSON.stringify(option.default),
    doc: option.doc,
  }));
}

function checkValue(name, option, value) {
  if (option.type === 'boolean') {
    return typeof value === 'boolean' ? null : `${name} must be true or false, not ${JSON.stringify(value)}`;
  }
  if (option.type === 'choice') {
    return option.values.includes(value) ? null : `${name} must be one of ${option.values.map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(value)}`;
  }
  if (option.type === 'integer') {
    return Number.isInteger(value) && value >= option.min && value <= option.max
      ? null
      : `${name} must be a whole number from ${option.min} to ${option.max}, not ${JSON.stringify(value)}`;
  }
  if (option.type === 'status-codes') {
    if (!Array.isArray(value) || value.length === 0 || value.length > 10) {
      return `${name} must be a list of 1 to 10 HTTP status codes, like [401] or [401, 403]`;
    }
    const bad = value.find((code) => !Number.isInteger(code) || code < 100 || code > 599);
    return bad === undefined ? null : `${name}: ${JSON.stringify(bad)} is not an HTTP status code (100 to 599)`;
  }
  return `${name}: unknown option type`;
}

/**
 * Reads the options text for `library`. Empty text means the library's
 * defaults. Returns `{ ok: true, options }` (only what the text sets; the
 * library fills in its own defaults) or `{ ok: false, message }` in words
 * a learner can act on.
 */
export function checkOptions(library, text) {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (trimmed === '') return { ok: true, options: {} };
  let value;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    return { ok: false, message: `The options are not JSON: ${error.message}. Write an object, like {"statusCodes": [401]}.` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, message: 'The options must be one JSON object, like {"statusCodes": [401]} (or nothing, for the defaults).' };
  }
  const where = `${library.package} ${library.version}`;
  for (const [name, setting] of Object.entries(value)) {
    const option = library.options[name];
    if (!option) {
      if (FUNCTIONS[name]) {
        return { ok: false, message: `${name} is ${FUNCTIONS[name]} in ${where}: JSON cannot carry it, so the lab leaves it out.` };
      }
      const instead = library.renamed && library.renamed[name];
      const known = Object.keys(library.options).join(', ');
      return {
        ok: false,
        message: instead
          ? `${name} is not an option of ${where}; its nearest is ${instead}. Options: ${known}.`
          : `${name} is not an option of ${where}. Options: ${known}.`,
      };
    }
    const problem = checkValue(name, option, setting);
    if (problem) return { ok: false, message: problem };
  }
  return { ok: true, options: value };
}

/**
 * The settings of a run of `library` (the lab's run settings, from the
 * controls): the client runs in the page, the Rust side keeps `naive` as
 * its placeholder strategy, and `module` is the library's name, shown on
 * the timeline instead of the strategy; a library's own run settings
 * (`settings`: Supabase's hour-long tokens) apply. Options other than the defaults
 * ride along as `module_options`, so a saved run, an export or an undo
 * knows how the library was set up.
 */
export function libraryRun(settings, library, options = {}) {
  const run = { ...settings, ...(library.settings ?? {}), strategy: 'naive', runtime: 'browser', module: library.name };
  return options && Object.keys(options).length > 0 ? { ...run, module_options: options } : run;
}

/**
 * The client picker's groups (`<optgroup>`s), in order: the lab's built-in
 * strategies, then in the browser runtime the learner's own code (`own`,
 * the code panel's module) and the libraries, each with the exact version
 * the page runs. `[{ key, label, options: [{ value, label, title }] }]`.
 */
export function pickerGroups({ builtins = [], runtime = 'rust', own = null } = {}) {
  const groups = [{ key: 'builtins', label: 'built-in strategies', options: builtins.map((name) => ({ value: name, label: name, title: '' })) }];
  if (runtime !== 'browser') return groups;
  if (own) groups.push({ key: 'own', label: 'your code', options: [{ value: own, label: own, title: 'the module in the code panel, run in the page' }] });
  groups.push({
    key: 'libraries',
    label: 'libraries (their real code)',
    // The name gives the major (or minor); the label the exact version the page runs.
    options: LIBRARIES.map((library) => ({ value: library.name, label: `${library.name} (${library.version})`, title: `${library.package} ${library.version}, unmodified, in the page` })),
  });
  return groups;
}

/** The other versions on the bench of the library named `name` (supabase-auth@2.106 → [supabase-auth@2.119]). */
export function siblingVersions(name) {
  const library = libraryNamed(name);
  if (!library) return [];
  return LIBRARIES.filter((other) => other !== library && other.package === library.package).map((other) => other.name);
}

/**
 * The run settings a library brings that override the lab's controls
 * (`settings`: Supabase's and the identity provider's hour-long tokens,
 * OAuth mode), as `{ control, value, words }` for the controls that show
 * them: a library run uses these, not what the control holds.
 */
export function libraryOverrides(library) {
  const settings = (library && library.settings) || {};
  const out = [];
  if (Number.isFinite(settings.access_ttl_s)) {
    out.push({ control: 'access-ttl', value: String(settings.access_ttl_s), words: `${library.name} runs with ${settings.access_ttl_s} s tokens (its own), not this lifetime` });
  }
  if (typeof settings.mode === 'string') {
    out.push({ control: 'mode', value: settings.mode, words: `${library.name} runs in ${settings.mode} mode (its own)` });
  }
  return out;
}
