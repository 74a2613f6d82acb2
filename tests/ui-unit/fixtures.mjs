// The engine-recorded fixtures (tests/ui-unit/fixtures/, written by
// scripts/record-fixtures.mjs, checked by `cargo test --test it fixtures::`),
// turned into what the UI consumes: the lab's stream messages.

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createReplay } from '../../ui/lib/replay.js';
import { reduceMessages } from '../../ui/lib/reducer.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Names of the recorded runs (every fixture but options.json). */
export const RUNS = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f !== 'options.json')
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

/**
 * `recorded` laid over `defaults`, key by key into objects: a fixture
 * records only the settings that differ from the defaults.
 */
export function withDefaults(recorded, defaults) {
  const out = { ...defaults };
  for (const [key, value] of Object.entries(recorded ?? {})) {
    const base = defaults[key];
    const nested = value && base && typeof value === 'object' && typeof base === 'object' && !Array.isArray(value);
    out[key] = nested ? withDefaults(value, base) : value;
  }
  return out;
}

/** A recorded run report, its settings whole: `{ settings, events, verdict, lab_now_ms }`. */
export function report(name) {
  const recorded = JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8'));
  return { ...recorded, settings: withDefaults(recorded.settings, options().defaults) };
}

/** The run as a saved file's text, as a person would pick it for "Replay a saved run". */
export function reportText(name) {
  return `${JSON.stringify(report(name), null, 2)}\n`;
}

/** What GET /lab/options answered when the fixtures were recorded. */
export function options() {
  return JSON.parse(readFileSync(path.join(DIR, 'options.json'), 'utf8'));
}

/** The stream messages of a run, as the lab would have sent them (via the replay). */
export function messages(name) {
  const replay = createReplay(report(name));
  return [replay.start(), ...replay.due(Infinity)];
}

/** A run folded through the reducer. */
export function reduced(name) {
  return reduceMessages(messages(name));
}

/** The recorded verdict without its sentence: what the live tally must equal. */
export function tallyOf(verdict) {
  const { sentence, ...rest } = verdict;
  return rest;
}

/** The recorded events of `kind` (and, optionally, on `lane`). */
export function eventsOf(name, kind, lane) {
  return report(name).events.filter((e) => e.kind === kind && (lane == null || e.lane === lane));
}
