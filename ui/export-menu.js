// The Export menu: the last finished run as HAR, a Chrome trace, a Mermaid
// diagram, an SVG or PNG timeline, or its JSON report.
//
// The page keeps the run's stream messages (lib/export-report.js), posts
// the rebuilt report to `POST lab/export/{format}` and hands the answer to
// the browser as a download (a blob URL on an `<a download>`). In the
// desktop app the shell decides where downloads land (the Downloads
// folder) and tells the page with a `refresh-race:download` event.
//
// Hooks: `data-action="export"` opens the menu; `data-export="har|trace|
// mermaid|svg|png|json"` are its items; `data-export-status` says what
// happened.

import { h } from './dom.js';
import { EXPORT_FORMATS, createCollector, collect, reportOf, fileNameFrom } from './lib/export-report.js';

/** Event the desktop shell dispatches on `window` when a download ended. */
export const DOWNLOAD_EVENT = 'refresh-race:download';
/** How many times an export refused with 429 (another export running) is tried. */
const EXPORT_TRIES = 5;

export class ExportMenu {
  /** `root` holds the `data-action="export"` button; the menu is built here. */
  constructor(root) {
    this.root = root;
    this.button = root.querySelector('[data-action="export"]');
    this.status = root.querySelector('[data-export-status]');
    this.collector = null;
    this.list = h('div', { class: 'export-list', id: 'export-list', role: 'menu', hidden: true, 'aria-label': 'Export the last run as' },
      ...EXPORT_FORMATS.map(({ format, label, hint }) => h('button', {
        type: 'button',
        role: 'menuitem',
        class: 'export-item',
        'data-export': format,
        title: `Download the run as ${label}: ${hint}`,
      }, h('span', { class: 'export-label' }, label), h('span', { class: 'export-hint' }, hint))));
    root.append(this.list);
    this.button.setAttribute('aria-controls', 'export-list');
    this.button.setAttribute('aria-haspopup', 'menu');
    this.button.setAttribute('aria-expanded', 'false');

    this.button.addEventListener('click', () => this.toggle());
    this.list.addEventListener('click', (event) => {
      const item = event.target instanceof Element ? event.target.closest('[data-export]') : null;
      if (item) this.download(item.dataset.export);
    });
    root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.list.hidden) {
        event.stopPropagation();
        this.close();
        this.button.focus();
      }
    });
    document.addEventListener('click', (event) => {
      if (!this.list.hidden && event.target instanceof Node && !root.contains(event.target)) this.close();
    });
    window.addEventListener(DOWNLOAD_EVENT, (event) => {
      const detail = event.detail || {};
      if (detail.ok && detail.path) this.say(`Saved to ${detail.path}`, 'ok');
      else if (detail.ok === false) this.say(`The download failed${detail.path ? `: ${detail.path}` : ''}.`, 'error');
    });
    this.update();
  }

  /** A new run (or comparison, or replay) started: nothing to export yet. */
  reset() {
    this.collector = createCollector();
    this.close();
    this.say('');
    this.update();
  }

  /** One stream message of the run to export (the top timeline's). */
  observe(message) {
    if (!this.collector) this.collector = createCollector();
    collect(this.collector, message);
    if (message && (message.type === 'done' || message.type === 'error')) this.update();
  }

  /** The report to export, or null while there is none. */
  get report() {
    return reportOf(this.collector);
  }

  update() {
    const ready = this.report !== null;
    this.button.disabled = !ready;
    this.root.dataset.state = ready ? 'ready' : (this.collector && this.collector.status === 'error' ? 'failed' : 'waiting');
    this.button.title = ready
      ? 'Export the last run: HAR, trace, Mermaid, SVG, PNG or JSON'
      : 'Export becomes available once a run is done';
    if (!ready) this.close();
  }

  toggle() {
    if (this.list.hidden) this.open();
    else this.close();
  }

  open() {
    if (this.button.disabled) return;
    this.list.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    const first = this.list.querySelector('[data-export]');
    if (first) first.focus();
  }

  close() {
    this.list.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
  }

  say(text, tone = '') {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.dataset.tone = tone;
  }

  /** Asks the lab for `format` and saves the answer as a download. */
  async download(format) {
    const report = this.report;
    const spec = EXPORT_FORMATS.find((f) => f.format === format);
    if (!report || !spec) return;
    this.close();
    this.say(`Exporting ${spec.label}…`);
    let response;
    // The lab renders one export at a time (a busy room): a 429 waits its
    // Retry-After and tries again, a few times, saying so.
    for (let attempt = 1; ; attempt++) {
      try {
        response = await fetch(`lab/export/${encodeURIComponent(format)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(report),
        });
      } catch (error) {
        this.say(`Cannot reach the lab: ${error && error.message ? error.message : error}`, 'error');
        return;
      }
      if (response.status !== 429 || attempt >= EXPORT_TRIES) break;
      const wait = Math.min(Math.max(Number(response.headers.get('retry-after')) || 2, 1), 10);
      this.say(`The lab is busy with another export: trying again in ${wait} s…`);
      await new Promise((resolve) => { setTimeout(resolve, wait * 1000); });
    }
    if (!response.ok) {
      let message = `The lab could not export ${spec.label} (HTTP ${response.status}).`;
      try {
        const body = await response.json();
        if (body && typeof body.message === 'string') message = body.message;
      } catch {
        // not JSON: keep the status line
      }
      this.say(message, 'error');
      return;
    }
    const blob = await response.blob();
    const name = fileNameFrom(response.headers.get('content-disposition'), `refresh-race.${spec.extension}`);
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    // The browser reads the blob after the click returns: free it later.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    this.root.dataset.lastExport = format;
    this.say(`Downloaded ${name}`, 'ok');
  }
}
