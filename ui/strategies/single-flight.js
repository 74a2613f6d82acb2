// Single flight: one shared refresh per failed token. A 401 first checks
// whether the stored token already changed (someone refreshed: just retry);
// otherwise it joins the refresh already running for that token, or starts
// it. A late 401 carrying the old token finds the new one in the store.
let flight = null; // { key, promise, done, outcome, joined }

export async function request(req, api) {
  const used = api.token();
  const answer = await api.send(req, used);
  if (answer.status !== 401 || used === null) return answer;
  const fresh = await acrossTabs(req, api, used, () => freshToken(used, api));
  return fresh ? api.send(req, fresh) : answer;
}

// With cross_tab "lock" (req.crossTab) the tabs take one Web Lock around
// their refresh and read the shared store again once they hold it: another
// tab may have refreshed (or logged out) meanwhile.
function acrossTabs(req, api, used, handle) {
  if (req.crossTab !== 'lock') return handle();
  return api.lock('refresh', () => {
    const current = api.token();
    if (current === null) return null;
    return current !== used ? current : handle();
  });
}

function freshToken(used, api) {
  const current = api.token();
  if (current !== null && current !== used) return current;
  if (flight && flight.key === used) {
    if (flight.done) return flight.outcome;
    api.queued();
    flight.joined += 1;
    return flight.promise;
  }
  const mine = { key: used, promise: null, done: false, outcome: null, joined: 0 };
  flight = mine;
  mine.promise = refreshAndStore(used, api).then((fresh) => {
    mine.done = true;
    mine.outcome = fresh;
    return fresh;
  });
  return mine.promise;
}

async function refreshAndStore(used, api) {
  const refreshed = await api.refresh(used);
  if (refreshed.ok) {
    api.store(refreshed.token);
    return refreshed.token;
  }
  api.logout(refreshed.reason);
  return null;
}

// What the code panel shows beside the source.
export function state() {
  return {
    flight: flight ? 'token …' + flight.key.slice(-6) : null,
    running: flight !== null && !flight.done,
    joined: flight ? flight.joined : 0,
  };
}
