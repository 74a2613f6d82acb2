// The article's interceptor: a module-level flag and a queue. The first 401
// sets `isRefreshing` and refreshes; every 401 that comes while the flag is
// up waits in the queue and retries with the new token.
// Its weakness, kept on purpose: a 401 that arrives *after* the refresh
// ended finds the flag down and refreshes again, with the old, spent token.
let isRefreshing = false;
let queue = [];

export async function request(req, api) {
  const token = api.token();
  const answer = await api.send(req, token);
  if (answer.status !== 401 || token === null) return answer;
  const fresh = await acrossTabs(req, api, token, () => handle401(token, api));
  return fresh ? api.send(req, fresh) : answer;
}

async function handle401(token, api) {
  if (isRefreshing) {
    api.queued();
    return new Promise((resolve) => queue.push(resolve));
  }
  isRefreshing = true;
  const refreshed = await api.refresh(token);
  const fresh = refreshed.ok ? refreshed.token : null;
  if (fresh) api.store(fresh);
  else api.logout(refreshed.reason);
  isRefreshing = false;
  for (const resolve of queue.splice(0)) resolve(fresh);
  return fresh;
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

// What the code panel shows beside the source.
export function state() {
  return { isRefreshing, queue: queue.length };
}
