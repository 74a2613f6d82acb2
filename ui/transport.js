// How the UI starts a run and receives its events: POST lab/runs, then read
// the NDJSON body line by line while the run is live (docs/lab-api.md).
// Relative URLs only, so the same page works from `refresh-race serve` and
// inside the desktop window (which loads the embedded server's URL).
// Aborting the signal cancels the fetch, and the server cancels the run.

import { createLineSplitter } from './lib/ndjson.js';

/** The lab refused a run (400 invalid_setting / bad_json) or could not be reached. */
export class LabError extends Error {
  constructor(message, { status = 0, code = null } = {}) {
    super(message);
    this.name = 'LabError';
    this.status = status;
    this.code = code;
  }
}

/** GET lab/options: defaults, names, policies with the systems they mirror, limits. */
export async function fetchOptions({ signal } = {}) {
  const response = await fetch('lab/options', { signal, headers: { accept: 'application/json' } });
  if (!response.ok) throw new LabError(`lab/options answered HTTP ${response.status}`, { status: response.status });
  return response.json();
}

/**
 * Starts a run and calls `onMessage` for every message of its stream, in
 * order, as it arrives. Resolves when the stream ends; rejects with a
 * LabError when the lab refuses the settings, with an AbortError when
 * `signal` aborts.
 */
export async function runLab(settings, { signal, onMessage }) {
  let response;
  try {
    response = await fetch('lab/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify(settings),
      signal,
    });
  } catch (error) {
    if (error && error.name === 'AbortError') throw error;
    throw new LabError(`Cannot reach the lab: ${error && error.message ? error.message : error}`);
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON: fall back to the status line
    }
    const message = body && typeof body.message === 'string' && body.message
      ? body.message
      : `The lab refused the run (HTTP ${response.status}).`;
    throw new LabError(message, { status: response.status, code: body && body.error });
  }

  const deliver = (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      message = { type: 'error', message: `unreadable line from the lab: ${line.slice(0, 80)}` };
    }
    onMessage(message);
  };
  const splitter = createLineSplitter(deliver);
  if (!response.body) {
    splitter.push(await response.text());
    splitter.end();
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      splitter.push(decoder.decode(value, { stream: true }));
    }
    splitter.push(decoder.decode());
    splitter.end();
  } finally {
    reader.releaseLock();
  }
}

/**
 * POST lab/runs/{run}/network with one command (`{"command":"pause"}`,
 * `{"command":"deliver","leg":"secret#1>"}`, ...). Resolves with the
 * NetworkView once the run settled; rejects with a LabError carrying the
 * lab's message when it refuses (409 unknown_leg, 404 unknown_run, ...).
 */
export async function networkCommand(run, command, { signal } = {}) {
  let response;
  try {
    response = await fetch(`lab/runs/${encodeURIComponent(run)}/network`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(command),
      signal,
    });
  } catch (error) {
    if (error && error.name === 'AbortError') throw error;
    throw new LabError(`Cannot reach the lab: ${error && error.message ? error.message : error}`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status line says enough
  }
  if (!response.ok) {
    const message = body && typeof body.message === 'string' && body.message
      ? body.message
      : `The lab refused the command (HTTP ${response.status}).`;
    throw new LabError(message, { status: response.status, code: body && body.error });
  }
  return body;
}
