// ky's README recipe "retry with a fresh token on a 401 error" (hooks,
// afterResponse): on a first 401, ask for a new token, set it on the
// request and `return ky.retry({request, code: 'TOKEN_REFRESHED'})`. The
// real ky (ui/vendor/, unmodified); the hook below is the README's, with
// the lab's refresh route, the expired token as its credential (the lab's
// article mode) and the app's two lines around it: store the new token,
// and put the stored token on each request (a beforeRequest hook).
// ky's transport is its `fetch` option: an exchange through the lab's
// harness. One ky instance per tab, as an app has one.
import ky from '../vendor/ky.js';

const LANE = 'x-lab-lane';
const BASE = 'https://lab.invalid/api';
const lanes = new Map(); // lane → { req, api }
let refreshes = 0;

const answer = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** ky's fetch: the request through its lane's harness. */
async function labFetch(input, init) {
  const request = input instanceof Request ? input : new Request(input, init);
  const { req, api } = lanes.get(request.headers.get(LANE));
  const bearer = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '');
  const token = bearer ? bearer[1] : null;
  if (new URL(request.url).pathname.endsWith('/refresh')) {
    refreshes += 1;
    if (token === null) return answer(401, { reason: 'missing' });
    const refreshed = await api.refresh(token);
    if (refreshed.status === 0) throw new TypeError('Failed to fetch');
    return refreshed.ok ? answer(200, { token: refreshed.token }) : answer(refreshed.status, { reason: refreshed.reason });
  }
  const { status, reason } = await api.send(req, token);
  if (status === 0) throw new TypeError('Failed to fetch');
  return answer(status, { reason });
}

const client = ky.create({
  fetch: labFetch,
  hooks: {
    // The app: the stored token on each request.
    beforeRequest: [
      ({ request }) => {
        const { api } = lanes.get(request.headers.get(LANE));
        const token = api.token();
        if (token !== null) request.headers.set('Authorization', `Bearer ${token}`);
      },
    ],
    afterResponse: [
      // The README's hook: retry with a fresh token on a 401 error.
      async ({ request, response, retryCount }) => {
        if (response.status === 401 && retryCount === 0) {
          // Only refresh on first 401, not on subsequent retries
          const { token } = await ky.post(`${BASE}/refresh`, { fetch: labFetch, headers: { [LANE]: request.headers.get(LANE), authorization: request.headers.get('authorization') ?? '' } }).json();
          // The app keeps it for the next requests.
          lanes.get(request.headers.get(LANE)).api.store(token);

          const headers = new Headers(request.headers);
          headers.set('Authorization', `Bearer ${token}`);

          return ky.retry({
            request: new Request(request, { headers }),
            code: 'TOKEN_REFRESHED',
          });
        }
      },
    ],
  },
});

export async function request(req, api) {
  lanes.set(req.lane, { req, api });
  try {
    const response = await client.get(`${BASE}${req.route.replace(/^\/api/, '')}`, { headers: { [LANE]: req.lane } });
    return { status: response.status };
  } catch (error) {
    // An HTTPError carries the answer; the refresh's own failure too.
    return { status: error && error.response ? error.response.status : 0 };
  }
}

// What the code panel shows beside the source.
export function state() {
  return { refreshes };
}
