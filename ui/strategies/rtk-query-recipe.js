// Redux Toolkit's documented recipe "Preventing multiple unauthorized
// errors" (RTK Query, "Customizing queries"): a baseQueryWithReauth that
// wraps fetchBaseQuery and serialises the refresh with async-mutex's Mutex.
// The real fetchBaseQuery and Mutex (ui/vendor/, unmodified); the recipe
// below is the docs' own, with the lab's names for its store actions.
//
// What RTK Query and the app supply around it, the lab supplies: each
// lane's query calls baseQueryWithReauth as RTK Query's thunk would, with
// a BaseQueryApi whose getState() is the app's auth state (the token the
// tabs share: api.token()) and whose dispatch is the app's reducer
// (tokenReceived → api.store, loggedOut → api.logout); fetchBaseQuery's
// `fetchFn` is an exchange through the lab's harness. One module per tab:
// one mutex per tab, as one store per tab.
import { fetchBaseQuery } from '../vendor/rtk-query.js';
import { Mutex } from '../vendor/async-mutex.js';

const LANE = 'x-lab-lane';
const lanes = new Map(); // lane → { req, api }
let refreshes = 0;

// An answer as fetch gives one, minus the body stream (a real Response's
// body settles a task later, after the tab told a held run it caught up).
function answer(status, body) {
  const text = JSON.stringify(body);
  const response = {
    ok: status >= 200 && status < 300,
    status,
    statusText: '',
    headers: new Headers({ 'content-type': 'application/json' }),
    json: async () => JSON.parse(text),
    text: async () => text,
    clone: () => answer(status, body),
  };
  return response;
}

/** fetchBaseQuery's fetchFn: the request through the lane's harness. */
async function fetchFn(request) {
  const { req, api } = lanes.get(request.headers.get(LANE));
  const bearer = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '');
  const token = bearer ? bearer[1] : null;
  if (new URL(request.url).pathname.endsWith('/refreshToken')) {
    refreshes += 1;
    if (token === null) return answer(401, { reason: 'missing' });
    const refreshed = await api.refresh(token);
    if (refreshed.ok) return answer(200, { token: refreshed.token });
    if (refreshed.status === 0) throw new TypeError('Failed to fetch');
    lanes.get(request.headers.get(LANE)).refusal = refreshed.reason;
    return answer(refreshed.status, { reason: refreshed.reason });
  }
  const { status, reason } = await api.send(req, token);
  if (status === 0) throw new TypeError('Failed to fetch');
  return answer(status, { reason });
}

// --- the docs' recipe --------------------------------------------------------

// create a new mutex
const mutex = new Mutex();
const baseQuery = fetchBaseQuery({
  baseUrl: 'https://lab.invalid/api',
  fetchFn,
  prepareHeaders: (headers, { getState, extra }) => {
    const token = getState().auth.token;
    if (token) headers.set('authorization', `Bearer ${token}`);
    headers.set(LANE, extra.lane);
    return headers;
  },
});
const baseQueryWithReauth = async (args, api, extraOptions) => {
  // wait until the mutex is available without locking it
  await mutex.waitForUnlock();
  let result = await baseQuery(args, api, extraOptions);
  if (result.error && result.error.status === 401) {
    // checking whether the mutex is locked
    if (!mutex.isLocked()) {
      const release = await mutex.acquire();
      try {
        const refreshResult = await baseQuery('/refreshToken', api, extraOptions);
        if (refreshResult.data) {
          api.dispatch(tokenReceived(refreshResult.data));
          // retry the initial query
          result = await baseQuery(args, api, extraOptions);
        } else {
          api.dispatch(loggedOut());
        }
      } finally {
        // release must be called once the mutex should be released again.
        release();
      }
    } else {
      // wait until the mutex is available without locking it
      await mutex.waitForUnlock();
      result = await baseQuery(args, api, extraOptions);
    }
  }
  return result;
};

// --- the app's auth slice, on the lab's store ----------------------------------
const tokenReceived = (data) => ({ type: 'auth/tokenReceived', payload: data });
const loggedOut = () => ({ type: 'auth/loggedOut' });

export async function request(req, api) {
  lanes.set(req.lane, { req, api, refusal: null });
  const thunkApi = {
    signal: new AbortController().signal,
    abort: () => {},
    getState: () => ({ auth: { token: api.token() } }),
    dispatch: (action) => {
      if (action.type === 'auth/tokenReceived') api.store(action.payload.token);
      if (action.type === 'auth/loggedOut') api.logout(lanes.get(req.lane).refusal ?? 'malformed');
      return action;
    },
    extra: { lane: req.lane },
    endpoint: req.route.replace(/^\/api\//, ''),
    type: 'query',
  };
  const result = await baseQueryWithReauth(req.route.replace(/^\/api/, ''), thunkApi, {});
  if (result.error) return { status: typeof result.error.status === 'number' ? result.error.status : 0 };
  return { status: 200 };
}

// What the code panel shows beside the source.
export function state() {
  return { locked: mutex.isLocked(), refreshes };
}
