// What the Export menu sends: the run report, rebuilt from the lab's stream
// messages (`start`, `event`s, `done`) the page received. No DOM: tested
// with `node --test`.
//
// The report has the shape `refresh-race run --json` prints and
// `POST /lab/export/{format}` reads: `{ settings, events, verdict,
// lab_now_ms }` (docs/lab-api.md).

/** The formats the lab exports, in menu order. */
export const EXPORT_FORMATS = [
  { format: 'har', label: 'HAR', hint: 'for the DevTools Network panel', extension: 'har' },
  { format: 'trace', label: 'Trace', hint: 'for Perfetto / chrome://tracing', extension: 'trace.json' },
  { format: 'mermaid', label: 'Mermaid', hint: 'sequence diagram for slides', extension: 'mmd' },
  { format: 'svg', label: 'SVG', hint: 'the timeline as a picture', extension: 'svg' },
  { format: 'png', label: 'PNG', hint: 'the timeline as an image', extension: 'png' },
  { format: 'json', label: 'JSON', hint: 'the run report (replayable)', extension: 'json' },
];

/** An empty collector for one run's messages. */
export function createCollector() {
  return { status: 'idle', settings: null, events: [], verdict: null, labNowMs: null };
}

/** Feeds one stream message (live or replayed) to the collector. */
export function collect(collector, message) {
  if (!message || typeof message !== 'object') return collector;
  switch (message.type) {
    case 'start':
      collector.status = 'running';
      collector.settings = message.settings && typeof message.settings === 'object' ? message.settings : {};
      break;
    case 'event':
      if (message.event && typeof message.event === 'object') collector.events.push(message.event);
      break;
    case 'done':
      collector.status = 'done';
      collector.verdict = message.verdict ?? null;
      collector.labNowMs = typeof message.lab_now_ms === 'number' ? message.lab_now_ms : null;
      break;
    case 'error':
      collector.status = 'error';
      break;
    default:
      break;
  }
  return collector;
}

/** The run report once the run is done; `null` before, or when it failed. */
export function reportOf(collector) {
  if (!collector || collector.status !== 'done') return null;
  return {
    settings: collector.settings ?? {},
    events: collector.events,
    verdict: collector.verdict,
    lab_now_ms: collector.labNowMs,
  };
}

/**
 * The file name a `Content-Disposition: attachment; filename="..."` header
 * gives, or `fallback`. Path separators are dropped: the name is a name.
 */
export function fileNameFrom(disposition, fallback) {
  if (typeof disposition === 'string') {
    const match = /filename\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(disposition);
    const name = match && (match[1] ?? match[2]);
    const clean = name ? name.replace(/[\\/]/g, '').trim() : '';
    if (clean && clean !== '.' && clean !== '..') return clean;
  }
  return fallback;
}
