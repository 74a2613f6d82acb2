// The Worker of one browser tab: loads a strategy module (a built-in file,
// or the learner's source as a blob module) and runs it with the tab
// harness of ui/lib/page-tab.js. The module runs here and only here: no
// DOM, and before it loads, every way to the network but the harness's own
// private `fetch` is taken away, so a module can talk to nothing but its
// run's API, and only through `api` (docs/security.md, "Learner code").

import { createTab, lanesOf, ModuleError, initialStorage } from '../lib/page-tab.js';
import { stackLine } from '../lib/stack-line.js';
import { createShims } from '../lib/tab-shims.js';
import { installShims, storageEvent } from './shims.js';
import { watchTimers } from './timers.js';
import { watchReads } from './reads.js';
import { watchMemory, MEMORY_CEILING_MB } from './memory.js';

// What the harness uses, captured before any module runs: a module shares
// this realm and may patch any prototype (String.prototype.replace,
// Response.prototype.json, JSON.parse...), so the harness reaches its run
// only through these originals.
const tell = self.postMessage.bind(self);
const fetchOriginal = self.fetch.bind(self);
const callOf = (fn) => Function.prototype.call.bind(fn);
const statusOf = callOf(Object.getOwnPropertyDescriptor(Response.prototype, 'status').get);
const textOf = callOf(Response.prototype.text);
const startsWith = callOf(String.prototype.startsWith);
const includes = callOf(String.prototype.includes);
const parseJson = JSON.parse;
const freeze = Object.freeze;

/**
 * The harness's fetch: only to the run's own API and report URLs (no dot
 * segments or escapes that could lead elsewhere), and its answer read with
 * the captured originals into a plain, frozen object.
 */
function fetchFor(page) {
  const api = `${page.api}/`;
  const report = page.report;
  // `await`, not `.then`: awaiting a native promise reads no property a
  // module could have patched.
  return async (url, init) => {
    if (typeof url !== 'string' || !(url === report || startsWith(url, api)) || includes(url, '/.') || includes(url, '%') || includes(url, '\\')) {
      throw new TypeError(`the harness fetches only its run's API, not ${url}`);
    }
    // An explored run's tab asks for no credentials (explore-client.js: a socket pool of its own).
    const response = await fetchOriginal(url, page.credentials ? { ...init, credentials: page.credentials } : init);
    const status = statusOf(response);
    const text = await textOf(response);
    return freeze({
      status,
      ok: status >= 200 && status < 300,
      json: async () => parseJson(text),
    });
  };
}

/** Removes a capability from `target` and every prototype of it that carries it. */
function takeAwayFrom(target, name) {
  for (let scope = target; scope; scope = Object.getPrototypeOf(scope)) {
    if (Object.prototype.hasOwnProperty.call(scope, name)) {
      try {
        delete scope[name];
      } catch {
        // non-configurable: shadow it instead
      }
    }
  }
  if (name in target) {
    try {
      Object.defineProperty(target, name, { value: undefined, configurable: false, writable: false });
    } catch {
      // already gone
    }
  }
}
const takeAway = (name) => takeAwayFrom(self, name);
// The network, other threads, and storage that outlives the run (the
// origin's file system, 10 GB of it, is reachable through navigator.storage).
for (const name of ['fetch', 'XMLHttpRequest', 'WebSocket', 'WebSocketStream', 'EventSource', 'WebTransport', 'importScripts', 'Worker', 'SharedWorker', 'BroadcastChannel', 'indexedDB', 'caches', 'cookieStore', 'requestFileSystem', 'webkitRequestFileSystem', 'webkitRequestFileSystemSync', 'webkitResolveLocalFileSystemURL', 'FileSystemHandle', 'FileSystemFileHandle', 'FileSystemDirectoryHandle', 'FileSystemSyncAccessHandle', 'StorageManager']) {
  takeAway(name);
}
for (const name of ['storage', 'locks', 'serviceWorker']) {
  takeAwayFrom(self.navigator, name);
}

let moduleUrl = null;
let lastLine = null;
// What the tab shares with the run's other tabs, through the page: set up
// when the run starts, before the module loads, so a library finds them.
let shims = null;
let tabRef = null;
// Messages of the page that came before the run did (a tab that starts
// after another wrote the storage): taken in once the shims exist.
const early = [];

function describe(error) {
  const line = stackLine(error && error.stack, moduleUrl) ?? (error instanceof ModuleError ? lastLine : null);
  const message = error && error.message ? error.message : String(error);
  const name = error && error.name && !(error instanceof ModuleError) ? `${error.name}: ` : '';
  return { message: `${name}${message}`, line };
}

async function run({ page, settings, builtin, source, options, tab: tabNo = 1, tabs = 1 }) {
  shims = createShims({
    tab: tabNo,
    post: (message) => tell({ type: 'hub', message }),
    initial: initialStorage(page),
    onTaken: () => tabRef?.tookIn(),
    onStorage: (event) => storageEvent(self, event),
  });
  installShims(self, shims);
  const timers = watchTimers(self);
  const reads = watchReads(self);
  // A module that keeps allocating while it yields answers every ping: the
  // page stops it at the ceiling instead of the browser running out.
  watchMemory(self, { ceilingMb: MEMORY_CEILING_MB, onOver: (bytes) => tell({ type: 'memory', mb: MEMORY_CEILING_MB, bytes }) });
  for (const message of early.splice(0)) shims.receive(message);
  moduleUrl = builtin
    ? new URL(`../strategies/${builtin}.js`, import.meta.url).href
    : URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  let module;
  try {
    module = await import(moduleUrl);
  } catch (error) {
    return { failed: describe(error), load: true };
  }
  if (typeof module.request !== 'function') {
    return { failed: { message: 'the module must export a function named request(req, api)', line: null }, load: true };
  }
  // A library's adapter takes the library's options (ui/lib/libraries.js
  // checked them) before its first request.
  // The start line's page rides along (a library that reads the clock
  // learns the lab's from it).
  if (typeof module.configure === 'function') module.configure(options ?? {}, page);
  const state = () => {
    if (typeof module.state !== 'function') return null;
    try {
      return JSON.parse(JSON.stringify(module.state()));
    } catch {
      return null;
    }
  };
  const tab = createTab({
    page,
    tab: tabNo,
    tabs,
    shared: shims,
    oauth: settings.mode === 'oauth',
    fetch: fetchFor(page),
    later: (fn) => timers.real(fn, 0),
    after: (ms, fn) => timers.real(fn, ms),
    busy: () => timers.pending() > 0 || reads.pending() > 0,
    hooks: {
      call: ({ lane, op, attempt }) => {
        lastLine = stackLine(new Error().stack, moduleUrl);
        tell({ type: 'call', lane, op, attempt, line: lastLine });
      },
      changed: () => tell({ type: 'state', state: state(), token: tab.token() !== null }),
    },
  });
  tabRef = tab;
  try {
    await tab.run(module.request, lanesOf(settings, tabNo));
    return { failed: null };
  } catch (error) {
    return { failed: describe(error) };
  }
}

self.addEventListener('message', async ({ data }) => {
  if (!data || typeof data !== 'object') return;
  if (data.type === 'ping') {
    tell({ type: 'pong', at: data.at });
    return;
  }
  if (data.type === 'hub') {
    if (shims) shims.receive(data.message);
    else early.push(data.message);
    return;
  }
  if (data.type === 'run') {
    const outcome = await run(data);
    tell({ type: 'ended', ...outcome });
  }
});

// Booted: the page's watchdog starts judging this Worker from here. Its
// scripts can take seconds to load on a busy machine; that is not a module
// that never yields.
tell({ type: 'pong', at: null });

// An error nobody awaited (a module's stray promise): the run cannot be trusted any more.
self.addEventListener('unhandledrejection', (event) => {
  tell({ type: 'ended', failed: describe(event.reason) });
});
