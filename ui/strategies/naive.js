// Naive: every request that gets a 401 refreshes on its own. Three requests
// with one expired token make three refresh calls: the first rotates the
// token, the others present a spent one and, on a strict server, log out.
export async function request(req, api) {
  const token = api.token();
  const answer = await api.send(req, token);
  if (answer.status !== 401 || token === null) return answer;
  const fresh = await acrossTabs(req, api, token, () => refresh(token, api));
  return fresh ? api.send(req, fresh) : answer;
}

async function refresh(token, api) {
  const refreshed = await api.refresh(token);
  if (!refreshed.ok) {
    api.logout(refreshed.reason);
    return null;
  }
  api.store(refreshed.token);
  return refreshed.token;
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
