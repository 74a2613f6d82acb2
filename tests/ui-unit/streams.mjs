// Runs played over the lab's network, recorded by scripts/record-streams.mjs
// (tests/ui-unit/streams/*.ndjson): the stream messages in the order the
// page received them, with `{"type":"command"}` lines where a network
// command was sent.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'streams');

/** Every line of a recorded stream, parsed. */
export function streamLines(name) {
  return readFileSync(path.join(DIR, `${name}.ndjson`), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

/** Only the lab's messages (no command lines). */
export function streamMessages(name) {
  return streamLines(name).filter((m) => m.type !== 'command');
}
