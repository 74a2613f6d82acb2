// Runs in the desktop window before the page's own scripts (kept.rs fills in
// the four values). Puts the keys the shell kept back into localStorage, then
// sends every later write of a refresh-race.* key to the shell's `keep`
// command, so the learner's work outlives the window's origin, which changes
// with the port at every launch.
(() => {
  const ORIGIN = __ORIGIN__;
  const PREFIX = __PREFIX__;
  const KEPT = __ITEMS__;
  const NOTE = __NOTE__;
  if (window.location.origin !== ORIGIN) return; // not the lab's page: leave it alone
  let storage;
  try {
    storage = window.localStorage;
  } catch {
    return; // storage off: nothing to restore or keep
  }
  // Once per launch (a reload keeps this tab's sessionStorage, and its
  // localStorage is already current): the shell's copy wins, it has every
  // write of the earlier launches.
  let restored = false;
  try {
    restored = window.sessionStorage.getItem('refresh-race.kept-restored') === '1';
    window.sessionStorage.setItem('refresh-race.kept-restored', '1');
  } catch {
    // no sessionStorage: restore on every load
  }
  if (!restored) {
    for (let i = storage.length - 1; i >= 0; i--) {
      const key = storage.key(i);
      if (key && key.startsWith(PREFIX) && !Object.hasOwn(KEPT, key)) storage.removeItem(key);
    }
    for (const [key, value] of Object.entries(KEPT)) {
      try {
        storage.setItem(key, value);
      } catch {
        // storage full: the page starts without this key
      }
    }
  }

  const send = (key, value) => {
    const ipc = window.__TAURI_INTERNALS__;
    if (!ipc || typeof ipc.invoke !== 'function') return;
    ipc.invoke('keep', { key, value }).catch((error) => {
      console.warn(`refresh-race: ${key} is not kept across launches: ${error}`);
    });
  };
  const ours = (store, key) => store === storage && String(key).startsWith(PREFIX);
  const proto = Storage.prototype;
  const setItem = proto.setItem;
  const removeItem = proto.removeItem;
  const clear = proto.clear;
  proto.setItem = function keptSetItem(key, value) {
    setItem.call(this, key, value);
    if (ours(this, key)) send(String(key), String(value));
  };
  proto.removeItem = function keptRemoveItem(key) {
    removeItem.call(this, key);
    if (ours(this, key)) send(String(key), null);
  };
  proto.clear = function keptClear() {
    const keys = [];
    for (let i = 0; i < this.length; i++) keys.push(this.key(i));
    clear.call(this);
    for (const key of keys) if (ours(this, key)) send(key, null);
  };

  if (NOTE && !restored) {
    // The page listens by then (module scripts run before DOMContentLoaded).
    window.addEventListener('DOMContentLoaded', () => {
      window.dispatchEvent(new CustomEvent('refresh-race:kept', { detail: { message: NOTE } }));
    }, { once: true });
  }
})();
