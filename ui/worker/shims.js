// Puts a tab's shared-browser shims (ui/lib/tab-shims.js) where the code of
// a page finds the browser's own: `localStorage`, `navigator.locks`,
// `BroadcastChannel`, and `storage` events on the global scope. A Worker
// has none of them (or only the real ones, which would leave the lab); the
// shims stay inside the lab, relayed through the page.

/** Installs `shims` on `scope` (the Worker's global). Returns the names it could not install. */
export function installShims(scope, shims) {
  const missed = [];
  const put = (target, name, value) => {
    try {
      Object.defineProperty(target, name, { value, configurable: true, writable: false, enumerable: true });
    } catch {
      missed.push(name);
    }
  };
  put(scope, 'localStorage', shims.storage);
  put(scope, 'BroadcastChannel', shims.BroadcastChannel);
  if (scope.navigator) put(scope.navigator, 'locks', shims.locks);
  else missed.push('navigator.locks');
  return missed;
}

/** Dispatches a `storage` event (another tab wrote the shared storage) on `scope`. */
export function storageEvent(scope, { key, oldValue, newValue, storageArea }) {
  const event = new Event('storage');
  for (const [name, value] of Object.entries({ key, oldValue, newValue, storageArea, url: '' })) {
    Object.defineProperty(event, name, { value, enumerable: true });
  }
  scope.dispatchEvent(event);
  if (typeof scope.onstorage === 'function') scope.onstorage(event);
}
