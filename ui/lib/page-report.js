// How a tab's report reaches the lab: through the page's hub when tabs
// share one (it merges their reports), else straight to the run's report
// route. Pure: `fetch` and `shared` are given. ui/lib/page-tab.js sends
// every report through it.

/**
 * Sends `body`; resolves to null when the lab took it, else the lab's
 * message (or the HTTP status) of why it refused it.
 *   shared   the tab's shims (ui/lib/tab-shims.js), or null
 *   fetch    (url, init) -> Response-like { status, ok, json() }
 *   url      the run's report route (the start line's page.report)
 */
export async function sendReport({ shared, fetch, url }, body) {
  if (shared) {
    const answer = await shared.report(body);
    return answer.ok ? null : answer.message || `the lab refused a report (HTTP ${answer.status})`;
  }
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.ok) return null;
  try {
    return (await response.json()).message || `the lab refused a report (HTTP ${response.status})`;
  } catch {
    // not JSON: the status says enough
    return `the lab refused a report (HTTP ${response.status})`;
  }
}
