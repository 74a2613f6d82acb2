// Naive: every request that gets a 401 refreshes on its own. Three requests
// with one expired token make three refresh calls: the first rotates the
// token, the others present a spent one and, on a strict server, log out.
export async function request(req, api) {
  const token = api.token();
  const answer = await api.send(req, token);
  if (answer.status !== 401 || token === null) return answer;
  const refreshed = await api.refresh(token);
  if (!refreshed.ok) {
    api.logout(refreshed.reason);
    return answer;
  }
  api.store(refreshed.token);
  return api.send(req, refreshed.token);
}
