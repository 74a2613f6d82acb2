// A run as a link: `#s=1.DATA`, the format src/link.rs reads and writes.
// DATA is the JSON {settings, source?} compressed as zlib (deflate with an
// Adler-32 checksum: a link edited by hand or cut short is refused as
// damaged, not read as another setup) in base64url without padding. `1` is
// the format's version; the bounds come from GET /lab/options (one home: the
// engine's). A link is input from anyone: bounded before it is unpacked,
// checked like the controls before anything runs. No DOM: app.js and
// links.js wire it.

import { validateControls, controlValues, valuesForPolicy } from './validate.js';
import { MAX_MODULE_BYTES } from './module-size.js';

/** Where a link's setup starts in a URL. */
export const FRAGMENT_PREFIX = '#s=';
/** Where the page keeps the last setup it ran (a link fragment, without a module). */
export const SETUP_KEY = 'refresh-race.setup';
/** The keys a link's JSON may have. */
const KEYS = new Set(['settings', 'source']);
/** What a delivered leg looks like: `secret#1>`, `tab2/refresh#1<`, `refresh#2=`. */
const LEG = /^[a-z0-9/#-]{1,40}[<>=]$/;

/** The link bounds of /lab/options' `limits`, or null when they are missing. */
export function linkLimits(raw) {
  if (!raw || typeof raw !== 'object') return null;
  const whole = (v) => (Number.isInteger(v) && v > 0 ? v : null);
  const limits = { version: whole(raw.link_version), maxChars: whole(raw.max_link_chars), maxJsonBytes: whole(raw.max_link_json_bytes) };
  return Object.values(limits).every((v) => v != null) ? limits : null;
}

const refused = (message) => ({ ok: false, message: `The link was refused: ${message}` });

function toBase64Url(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  let binary;
  try {
    binary = atob(padded);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  // Unused low bits of the last character must be zero (as the engine's decoder demands).
  if (toBase64Url(bytes) !== text) return null;
  return bytes;
}

/** Reads a stream to its end, or stops once it passed `max` bytes (then `null`). */
async function readBounded(stream, max) {
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

async function deflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * The fragment of a link to `{ settings, source? }`: `{ ok, fragment }`, or
 * `{ ok: false, message }` when it would not fit in a link.
 */
export async function encodeLink({ settings, source = null }, limits) {
  const json = JSON.stringify(source == null ? { settings } : { settings, source });
  const fragment = `${FRAGMENT_PREFIX}${limits.version}.${toBase64Url(await deflate(new TextEncoder().encode(json)))}`;
  if (fragment.length > limits.maxChars) {
    return {
      ok: false,
      message: `This run's link would be ${fragment.length} characters long: at most ${limits.maxChars} fit in a link.${source == null ? '' : ' Its module is the long part: share the module as a file (Save in the code panel).'}`,
    };
  }
  return { ok: true, fragment };
}

/**
 * Reads a link (a URL or its fragment): `{ ok: true, link: { settings,
 * source } }`, `{ ok: false, none: true }` when it holds no setup at all,
 * or `{ ok: false, message }` naming what was refused.
 */
export async function decodeLink(text, limits) {
  const at = typeof text === 'string' ? text.indexOf(FRAGMENT_PREFIX) : -1;
  if (at < 0) return { ok: false, none: true, message: 'The link holds no setup (no #s= part).' };
  const fragment = text.slice(at);
  if (fragment.length > limits.maxChars) {
    return refused(`it is ${fragment.length} characters long, and at most ${limits.maxChars} are read.`);
  }
  const body = fragment.slice(FRAGMENT_PREFIX.length).split('&')[0];
  const dot = body.indexOf('.');
  if (dot < 0) return refused('it is damaged (no version before the data): was it edited or cut short?');
  const version = body.slice(0, dot);
  if (version !== String(limits.version)) {
    return refused(`it is of format ${version.slice(0, 12)}, and this Refresh Race reads format ${limits.version} links.`);
  }
  const bytes = fromBase64Url(body.slice(dot + 1));
  if (!bytes) return refused('it is damaged (not base64url): was it edited or cut short?');
  let json;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
    json = await readBounded(stream, limits.maxJsonBytes);
  } catch {
    return refused('it is damaged (its data does not unpack, or its checksum does not hold): was it edited or cut short?');
  }
  if (!json) return refused(`it unpacks to more than ${limits.maxJsonBytes} bytes.`);
  let link;
  try {
    link = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch {
    return refused('its data is not JSON.');
  }
  if (!link || typeof link !== 'object' || Array.isArray(link)) return refused('its data is not a setup.');
  const unknown = Object.keys(link).filter((key) => !KEYS.has(key));
  if (unknown.length) return refused(`it has parts this Refresh Race does not know (${unknown.slice(0, 3).join(', ')}).`);
  if (!link.settings || typeof link.settings !== 'object' || Array.isArray(link.settings)) return refused('it has no settings.');
  if (link.source != null) {
    if (typeof link.source !== 'string') return refused('its module is not text.');
    const size = new TextEncoder().encode(link.source).length;
    if (size > MAX_MODULE_BYTES) return refused(`its module is ${size} bytes, and a module may be at most ${MAX_MODULE_BYTES}.`);
  }
  return { ok: true, link: { settings: link.settings, source: link.source ?? null } };
}

/**
 * Checks a link's settings as the controls would (names the lab offers,
 * numbers within the lab's limits): `{ ok: true }` or `{ ok: false,
 * message }`. The lab checks the whole of them again when the run starts.
 * `offered`: `{ cases, strategies, policies, networks, modes, crossTabs,
 * runtimes, modules }` (modules: the names a browser run's module may have).
 */
export function checkLinkSettings(settings, { limits, offered, knobs = null }) {
  const named = [
    ['case', settings.case, offered.cases],
    ['client', settings.strategy, offered.strategies],
    ['server policy', settings.policy, offered.policies],
    ['network', settings.network, offered.networks],
    ['mode', settings.mode, offered.modes],
    ['cross-tab', settings.cross_tab, offered.crossTabs],
    ['runtime', settings.runtime ?? 'rust', offered.runtimes],
  ];
  for (const [what, value, names] of named) {
    if (value === undefined && what !== 'case') continue;
    if (typeof value !== 'string' || !names.includes(value)) {
      return refused(`its ${what} "${String(value).slice(0, 40)}" is not one this lab offers (${names.join(', ')}).`);
    }
  }
  if (settings.module != null && (typeof settings.module !== 'string' || !offered.modules.includes(settings.module))) {
    return refused(`its module "${String(settings.module).slice(0, 40)}" is not one this lab offers (${offered.modules.join(', ')}).`);
  }
  const d = controlValues(settings);
  const values = Object.fromEntries(Object.entries({
    ...d.values,
    overlap: settings.overlap_s,
    reuseCount: settings.reuse_count,
  }).filter(([, v]) => v !== undefined));
  const check = validateControls(valuesForPolicy(values, knobs), limits);
  if (!check.ok) return refused(check.message);
  for (const key of ['deliver', 'drop']) {
    const legs = settings[key];
    if (legs === undefined) continue;
    if (!Array.isArray(legs) || legs.some((leg) => typeof leg !== 'string' || !LEG.test(leg))) {
      return refused(`its ${key === 'deliver' ? 'delivery order' : 'lost answers'} are not legs of a run (like secret#1>).`);
    }
  }
  if (Array.isArray(settings.deliver) && settings.deliver.length && settings.network === 'timer') {
    return refused('it has a delivery order but the timer delivers: an order needs network step or hand.');
  }
  return { ok: true };
}

/**
 * The settings a link gives a run on screen: its settings (as the lab
 * echoed them), its delivery order when it was held (step or hand), and
 * every answer the network lost (the settings' and those dropped by hand).
 */
export function runLinkSettings(settings, delivered = [], drops = []) {
  const out = { ...settings };
  const held = out.network === 'step' || out.network === 'hand';
  out.deliver = held ? [...delivered] : [];
  const lost = [...new Set([...(settings.drop || []), ...drops.map((d) => d.lost)])];
  if (lost.length) out.drop = lost;
  else delete out.drop;
  return out;
}

/**
 * What opening a link does, from its contents: the settings to run (the
 * order taken out: the run opens at its start), the order to offer, and
 * whether it waits for the learner (a module never runs on its own).
 */
export function openPlan(link) {
  const order = Array.isArray(link.settings.deliver) ? [...link.settings.deliver] : [];
  const settings = { ...link.settings, deliver: [] };
  return {
    settings,
    order,
    source: link.source,
    waitsForRun: link.source != null,
  };
}

/**
 * The next leg of `order` to deliver once `delivered` legs went, or null
 * when the order is done or the run left it (a leg off the order).
 */
export function nextInOrder(order, delivered) {
  if (!Array.isArray(order) || !Array.isArray(delivered) || delivered.length >= order.length) return null;
  for (let i = 0; i < delivered.length; i++) if (delivered[i] !== order[i]) return null;
  return order[delivered.length];
}
