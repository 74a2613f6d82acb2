// The page's end of `POST lab/explore` (docs/lab-api.md): streams the
// exploration's lines (progress, then its result) and, for a client that
// runs in the page (the browser runtime), runs the tabs of each run the
// explorer opens: an `attach` line starts them as Workers
// (page-runtime.js), a `detach` line stops them. The explorer drives the
// deliveries; the page only plays the client. Shared by the Explore drawer
// and the grader.

import { createLineSplitter } from './lib/ndjson.js';
import { startTab } from './page-runtime.js';
import { libraryNamed } from './lib/libraries.js';

/** A module that could not load in an explored run: the exploration stops with it. */
export class ModuleFailed extends Error {
  constructor(failed) {
    super(failed.message);
    this.line = failed.line ?? null;
  }
}

/**
 * POST lab/explore with `body` ({settings, budget_s?}); calls `onMessage`
 * per progress/result/error line. `client`: what runs in the page for a
 * browser-runtime setup, `{ source }` (a learner's module) or `{ builtin }`
 * (ui/strategies/<name>.js); by default the library the settings' `module`
 * names, else their strategy. Rejects with the lab's message when it
 * refuses, with a ModuleFailed when the module could not load (one that
 * fails in some order ends that order in an `error` class), with an
 * AbortError when `signal` aborts. Every tab it started is stopped when it
 * returns.
 */
export async function exploreLab(body, { signal, onMessage, client = {} }) {
  const tabs = new Map();
  const local = new AbortController();
  const stopAll = () => {
    for (const tab of tabs.values()) tab.stop();
    tabs.clear();
  };
  let moduleFailed = null;
  const relay = () => local.abort();
  if (signal) {
    if (signal.aborted) local.abort();
    else signal.addEventListener('abort', relay, { once: true });
  }
  const library = libraryNamed(body.settings?.module);
  const attach = (message) => {
    const run = message.run;
    const builtin = client.source ? null : client.builtin ?? library?.file ?? message.settings.strategy;
    // The explored run's tab traffic goes without credentials (its routes
    // need none): the browser then keeps it in a socket pool of its own.
    // In the page's pool (6 connections per host) a held run on screen (its
    // stream and held requests) and the exploration's stream leave too few
    // for an explored run's requests and reports, and it never settles.
    const page = { ...message.page, credentials: 'omit' };
    tabs.set(run, startTab({ run, settings: message.settings, page }, {
      source: client.source ?? null,
      builtin,
      // A library's options: the client's, else those the settings carry (as a run's tab takes them).
      options: client.options ?? message.settings.module_options ?? null,
      onEnded: (failed) => {
        tabs.delete(run);
        // A module that throws (or loops) in one order ends that order in
        // an error: the page told the lab, which counts it as a class of
        // its own and explores on. One that cannot load fails every order
        // alike: the exploration stops and says where.
        if (failed && failed.load && !moduleFailed) {
          moduleFailed = new ModuleFailed(failed);
          local.abort();
        }
      },
    }));
  };
  try {
    const response = await fetch('lab/explore', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify(body),
      signal: local.signal,
    });
    if (!response.ok) {
      let message = `The lab refused the exploration (HTTP ${response.status}).`;
      try {
        const answer = await response.json();
        if (answer && typeof answer.message === 'string') message = answer.message;
      } catch {
        // not JSON: the status line says enough
      }
      throw new Error(message);
    }
    const splitter = createLineSplitter((line) => {
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        onMessage({ type: 'error', message: `unreadable line from the lab: ${line.slice(0, 80)}` });
        return;
      }
      if (message.type === 'attach') attach(message);
      else if (message.type === 'detach') {
        tabs.get(message.run)?.stop();
        tabs.delete(message.run);
      } else onMessage(message);
    });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      splitter.push(decoder.decode(value, { stream: true }));
    }
    splitter.push(decoder.decode());
    splitter.end();
  } catch (error) {
    if (moduleFailed) throw moduleFailed;
    throw error;
  } finally {
    if (signal) signal.removeEventListener('abort', relay);
    stopAll();
  }
  if (moduleFailed) throw moduleFailed;
}

/** Explores to the end; resolves with the exploration (or rejects as exploreLab). */
export async function exploreToEnd(body, { signal, client, onProgress = () => {} } = {}) {
  let exploration = null;
  let error = null;
  await exploreLab(body, {
    signal,
    client,
    onMessage: (message) => {
      if (message.type === 'progress') onProgress(message);
      else if (message.type === 'result') exploration = message.exploration;
      else if (message.type === 'error') error = message.message;
    },
  });
  if (error) throw new Error(error);
  if (!exploration) throw new Error('the lab ended the exploration without a result');
  return exploration;
}
