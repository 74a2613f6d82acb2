// One tab's side of what its browser shares between tabs (ui/lib/tab-hub.js
// is the page's side): a storage area (`localStorage`), Web Locks
// (`navigator.locks`) and `BroadcastChannel`, each behaving as the
// browser's own for the code of the tab, but relayed through the page so
// that a held run stays deterministic. Nothing here reaches the browser's
// real storage, locks or channels.
//
// The storage reads a local copy of the shared area, which the page keeps
// current: a write updates the copy at once and goes to the page, which
// sends a `storage` event to every *other* tab (as a browser does). Lock
// requests are granted by the page in the order they reach it.
//
// Pure: `post(message)` (to the page) is injected; the Worker installs the
// objects in its global scope (ui/worker/shims.js).

/** The DOMException a Web Locks request is rejected with (a Worker has DOMException; node tests too). */
function domError(message, name) {
  return typeof DOMException === 'function' ? new DOMException(message, name) : Object.assign(new Error(message), { name });
}

/**
 * The shims of tab `tab`.
 *   post(message)   sends to the page (the hub); `taken` is added to every message
 *   onTaken()       after a message of the page was acted on (the tab reports then)
 *   initial         the storage area when the run starts ({ key: value }, as the hub's)
 *   onStorage(ev)   a `storage` event for this tab ({ key, oldValue, newValue, storageArea })
 */
export function createShims({ tab, post, initial = {}, onTaken = () => {}, onStorage = () => {} }) {
  let taken = 0;
  let nextId = 1;
  const copy = new Map(Object.entries(initial));
  const pending = new Map(); // lock request id → { resolve, reject, callback, signal, aborted, name, mode, lane }
  const channels = new Set();
  const wireWaiters = [];
  const reports = new Map(); // report id → resolve
  let nextChannel = 1;

  const send = (message) => post({ ...message, taken });

  // --- storage ------------------------------------------------------------
  const storage = Object.freeze({
    get length() {
      return copy.size;
    },
    key(index) {
      return [...copy.keys()][index] ?? null;
    },
    getItem(key) {
      const k = String(key);
      return copy.has(k) ? copy.get(k) : null;
    },
    setItem(key, value) {
      const k = String(key);
      const v = String(value);
      copy.set(k, v);
      send({ op: 'set', key: k, value: v });
    },
    removeItem(key) {
      const k = String(key);
      if (!copy.has(k)) return;
      copy.delete(k);
      send({ op: 'set', key: k, value: null });
    },
    clear() {
      for (const k of [...copy.keys()]) this.removeItem(k);
    },
  });

  // --- locks --------------------------------------------------------------
  function settleGranted(id) {
    const request = pending.get(id);
    if (!request) return;
    if (request.aborted) {
      // Aborted on the way: the grant comes back unused.
      pending.delete(id);
      send({ op: 'unlock', id });
      return;
    }
    request.state = 'held';
    let result;
    try {
      result = Promise.resolve(request.callback({ name: request.name, mode: request.mode }));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (value) => {
        if (pending.delete(id)) send({ op: 'unlock', id });
        request.resolve(value);
      },
      (error) => {
        if (pending.delete(id)) send({ op: 'unlock', id });
        request.reject(error);
      },
    );
  }

  const locks = Object.freeze({
    /**
     * navigator.locks.request(name, [options], callback): resolves with
     * what `callback(lock)` resolves with, the lock held until then.
     * Options: mode ('exclusive' | 'shared'), ifAvailable, steal, signal;
     * `lane` (the lab's) names who asked, for the timeline.
     */
    request(name, optionsOrCallback, maybeCallback) {
      const callback = typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback;
      const options = typeof optionsOrCallback === 'function' ? {} : (optionsOrCallback ?? {});
      if (typeof callback !== 'function') return Promise.reject(new TypeError("navigator.locks.request: the last argument must be a callback"));
      const lockName = String(name);
      if (lockName.startsWith('-')) return Promise.reject(domError('lock names starting with "-" are reserved', 'NotSupportedError'));
      const mode = options.mode === 'shared' ? 'shared' : 'exclusive';
      if (options.steal && options.ifAvailable) return Promise.reject(domError('steal and ifAvailable cannot both be set', 'NotSupportedError'));
      const signal = options.signal ?? null;
      if (signal && signal.aborted) return Promise.reject(signal.reason ?? domError('the request was aborted', 'AbortError'));
      const id = nextId;
      nextId += 1;
      return new Promise((resolve, reject) => {
        const request = { id, name: lockName, mode, callback, resolve, reject, signal, aborted: false, state: 'asked', lane: options.lane ?? null, onQueued: options.onQueued ?? null };
        pending.set(id, request);
        if (signal) {
          signal.addEventListener('abort', () => {
            if (request.state === 'held' || !pending.has(id)) return;
            request.aborted = true;
            send({ op: 'abort', id });
            reject(signal.reason ?? domError('the request was aborted', 'AbortError'));
          }, { once: true });
        }
        send({ op: 'lock', id, name: lockName, mode, ifAvailable: Boolean(options.ifAvailable), steal: Boolean(options.steal), lane: request.lane });
      });
    },
    /** What is held and waited for: the page knows; a tab sees its own. */
    async query() {
      const mine = [...pending.values()];
      const shape = (r) => ({ name: r.name, mode: r.mode, clientId: `tab${tab}` });
      return { held: mine.filter((r) => r.state === 'held').map(shape), pending: mine.filter((r) => r.state !== 'held').map(shape) };
    },
  });

  // --- BroadcastChannel -----------------------------------------------------
  class LabBroadcastChannel extends EventTarget {
    #closed = false;
    #id;

    constructor(name) {
      super();
      if (arguments.length === 0) throw new TypeError("BroadcastChannel: a name is required");
      this.name = String(name);
      this.onmessage = null;
      this.#id = nextChannel;
      nextChannel += 1;
      channels.add(this);
    }

    get labId() {
      return this.#id;
    }

    postMessage(data) {
      if (this.#closed) throw domError('the channel is closed', 'InvalidStateError');
      // What a browser does: a structured clone, so the receivers get their own copy.
      send({ op: 'broadcast', name: this.name, channel: this.#id, data: structuredClone(data) });
    }

    close() {
      this.#closed = true;
      channels.delete(this);
    }

    deliver(data) {
      if (this.#closed) return;
      const event = new MessageEvent('message', { data });
      if (typeof this.onmessage === 'function') this.onmessage.call(this, event);
      this.dispatchEvent(event);
    }
  }

  // --- messages of the page -------------------------------------------------
  function receive(message) {
    if (!message || typeof message !== 'object') return;
    if (message.op === 'reported') {
      const resolve = reports.get(message.id);
      reports.delete(message.id);
      if (resolve) resolve({ ok: message.ok, status: message.status, message: message.message });
      return;
    }
    taken += 1;
    switch (message.op) {
      case 'storage':
        if (message.newValue === null) copy.delete(message.key);
        else copy.set(message.key, message.newValue);
        onStorage({ key: message.key, oldValue: message.oldValue, newValue: message.newValue, storageArea: storage });
        break;
      case 'lock-granted':
        settleGranted(message.id);
        break;
      case 'lock-queued': {
        const request = pending.get(message.id);
        if (request && request.onQueued) request.onQueued();
        break;
      }
      case 'lock-unavailable': {
        const request = pending.get(message.id);
        pending.delete(message.id);
        if (request) {
          // ifAvailable: the callback runs with no lock.
          Promise.resolve().then(() => request.callback(null)).then(request.resolve, request.reject);
        }
        break;
      }
      case 'lock-aborted':
        pending.delete(message.id);
        break;
      case 'lock-stolen': {
        const request = pending.get(message.id);
        pending.delete(message.id);
        if (request) request.reject(domError(`the lock ${request.name} was stolen`, 'AbortError'));
        break;
      }
      case 'broadcast':
        for (const channel of [...channels]) {
          const self = message.from.tab === tab && message.from.channel === channel.labId;
          if (channel.name === message.name && !self) channel.deliver(structuredClone(message.data));
        }
        break;
      case 'wire-granted': {
        const next = wireWaiters.shift();
        if (next) next();
        break;
      }
      default:
        break;
    }
    onTaken();
  }

  return {
    storage,
    locks,
    BroadcastChannel: LabBroadcastChannel,
    receive,
    /** Messages of the page acted on so far (the tab's reports carry it). */
    taken: () => taken,
    /** Lock requests not granted yet (a tab waiting for one is not stuck). */
    waitingForLocks: () => [...pending.values()].filter((r) => r.state !== 'held' && !r.aborted).map((r) => ({ name: r.name, lane: r.lane })),
    /** Locks this tab holds now. */
    held: () => [...pending.values()].filter((r) => r.state === 'held').map((r) => ({ name: r.name, lane: r.lane })),
    /** A place on the page's wire: resolves when the page grants it. */
    wire() {
      return new Promise((resolve) => {
        wireWaiters.push(resolve);
        send({ op: 'wire' });
      });
    },
    wireFree() {
      send({ op: 'wire-free' });
    },
    /** Sends a report through the page; resolves with the lab's { ok, status, message }. */
    report(body) {
      const id = nextId;
      nextId += 1;
      return new Promise((resolve) => {
        reports.set(id, resolve);
        send({ op: 'report', id, ...body });
      });
    },
  };
}
