// The bench an axios interceptor library runs on in the browser runtime
// (docs/design.md, "Real libraries on the bench"). One tab = one axios
// instance, shared by all its lanes, as an app has one. The library plugs
// into that instance exactly as its README shows; the lab only supplies
// what an app supplies around it:
//   - the transport: an axios `adapter` that makes each HTTP exchange with
//     `api.send(req, token)`, so every request, retry and answer still goes
//     through the tab harness (real fetch, recorded at the lab's edge);
//   - the token: a request interceptor reading `api.token()` (the tab's
//     store), as the README's `getAccessToken()` reads localStorage;
//   - the refresh logic (`refreshAuthLogic`): `api.refresh(token)` with the
//     token the failed request carried (the lab's refresh credential is the
//     expired access token), then `api.store(…)` or `api.logout(why)`.
// It also tells the lab when the library holds a request for a refresh
// (`api.queued()`): a library that waits for the refresh calls `then` (or
// `catch`) on the promise `refreshAuthLogic` returned, right in the response
// handler where it decided — so that promise reports each waiter, and the
// lane is the one whose error the library was handed last.
//
// Pure: axios and the library come in as arguments; no DOM.

/** The token an axios request config carries in its Authorization header, or null. */
export function bearerOf(headers) {
  const value = headers && (typeof headers.get === 'function' ? headers.get('Authorization') : headers.Authorization);
  const match = /^Bearer (.+)$/.exec(typeof value === 'string' ? value : '');
  return match ? match[1] : null;
}

/** The status a caller of axios sees for an error: its response's, or 0 (no answer: transport, cancelled). */
export function statusOf(error) {
  const status = error && error.response && error.response.status;
  return Number.isInteger(status) ? status : 0;
}

/**
 * A bench: `install(instance, refreshAuthLogic, options)` is the library's
 * own set-up call (e.g. `createAuthRefresh`). Returns the strategy module's
 * `configure(options)`, `request(req, api)` and `state()`.
 */
export function createBench({ axios, AxiosError, install }) {
  let options = {};
  let instance = null;
  const lanes = new Map(); // lane → { req, api }: the adapter sends with the lane's own api
  let handed = null; // the lane whose error the library's response handler is about to decide on
  let refreshing = false;
  let held = 0; // requests the library holds for the refresh in flight now
  let toCaller = 0; // requests whose error reached the caller (the library gave up on them)

  const laneOf = (config) => (config && typeof config.labLane === 'string' ? config.labLane : null);

  /** axios's transport: one exchange through the tab harness; answers as axios's own adapters settle them. */
  async function adapter(config) {
    const { req, api } = lanes.get(laneOf(config));
    const { status, reason } = await api.send(req, bearerOf(config.headers));
    const request = { status }; // what the library reads of the XHR (interceptNetworkError)
    if (status === 0) throw new AxiosError('Network Error', AxiosError.ERR_NETWORK, config, request);
    const response = { data: { reason }, status, statusText: '', headers: {}, config, request };
    const validate = config.validateStatus;
    if (!validate || validate(status)) return response;
    throw new AxiosError(
      `Request failed with status code ${status}`,
      status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST,
      config, request, response,
    );
  }

  /** The refresh an app writes for the README's `refreshAuthLogic(failedRequest)`. */
  function refreshAuthLogic(failedRequest) {
    const lane = laneOf(failedRequest.config);
    handed = null; // this lane starts the refresh: it is not held
    const { api } = lanes.get(lane);
    const used = bearerOf(failedRequest.config.headers);
    refreshing = true;
    const done = (async () => {
      if (used === null) {
        // A guest: nothing to present. The app has no session to refresh.
        throw failedRequest;
      }
      const refreshed = await api.refresh(used);
      if (refreshed.ok) {
        api.store(refreshed.token);
        // As the README does; the token interceptor sets it again on the retry.
        failedRequest.response.config.headers.Authorization = `Bearer ${refreshed.token}`;
        return;
      }
      api.logout(refreshed.reason);
      // What `axios.post('/refresh')` rejects with, as the README's logic would.
      const response = { data: { reason: refreshed.reason }, status: refreshed.status, statusText: '', headers: {}, config: failedRequest.config, request: { status: refreshed.status } };
      throw new AxiosError(`Request failed with status code ${refreshed.status}`, AxiosError.ERR_BAD_REQUEST, failedRequest.config, response.request, response);
    })();
    done.then(() => { refreshing = false; held = 0; }, () => { refreshing = false; held = 0; });
    // Every `then`/`catch` the library calls on this promise after its own
    // first one is a request it holds until the refresh is over.
    let first = true;
    const then = done.then;
    done.then = function watched(...args) {
      if (first) first = false;
      else if (handed !== null) {
        lanes.get(handed).api.queued();
        held += 1;
        handed = null;
      }
      return then.apply(this, args);
    };
    return done;
  }

  function client() {
    if (instance) return instance;
    instance = axios.create({ adapter });
    // The README's request interceptor: the token, read fresh for each request.
    instance.interceptors.request.use((request) => {
      const token = lanes.get(laneOf(request)).api.token();
      if (token !== null) request.headers.Authorization = `Bearer ${token}`;
      return request;
    });
    // The app's own error hook, before the library's: it runs just before
    // the library's handler gets the same error.
    instance.interceptors.response.use((response) => response, (error) => {
      handed = laneOf(error && error.config);
      return Promise.reject(error);
    });
    install(instance, refreshAuthLogic, options);
    return instance;
  }

  return {
    /** The library's options (ui/lib/libraries.js checked them); before the first request. */
    configure(next) {
      options = { ...next };
    },
    async request(req, api) {
      lanes.set(req.lane, { req, api });
      try {
        const response = await client().get(req.route, { labLane: req.lane });
        return { status: response.status };
      } catch (error) {
        // The library gave up on this request: the caller gets its error.
        if (handed === req.lane) handed = null;
        toCaller += 1;
        return { status: statusOf(error) };
      }
    },
    state() {
      return { refreshing, held, errorsToCaller: toCaller };
    },
  };
}
