// The Mermaid export against Mermaid's own parser, and the SVG and PNG
// exports against a browser's: all in headless Debian chromium (through
// playwright-core, as the e2e tests). The rendered diagram of the recorded
// naive race is saved for the README when WRITE_SCREENSHOTS=1:
//
//   cargo build && WRITE_SCREENSHOTS=1 node --test tests/export/mermaid.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, launchBrowser } from '../e2e/harness.mjs';
import { FIXTURE, RUNS, runExport, exportFile } from './run-exports.mjs';

const MERMAID = path.join(REPO, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');
const SCREENSHOT = path.join(REPO, 'docs', 'screenshots', 'mermaid-case-3-naive.png');

let browser;
let page;

before(async () => {
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.setContent('<!doctype html><html><body style="margin:0;background:#fff"><div id="out"></div></body></html>');
  await page.addScriptTag({ path: MERMAID });
  await page.evaluate(() => window.mermaid.initialize({ startOnLoad: false, theme: 'default', securityLevel: 'strict' }));
});

after(async () => {
  if (browser) await browser.close();
});

/** Mermaid's verdict on `text`: `{ ok, type }` or `{ ok: false, error }`. */
function parse(text) {
  return page.evaluate(async (source) => {
    try {
      const result = await window.mermaid.parse(source);
      return { ok: true, type: result && result.diagramType };
    } catch (error) {
      return { ok: false, error: String(error && error.message ? error.message : error) };
    }
  }, text);
}

test('the parser refuses what the export avoids (the check can fail)', async () => {
  const bad = [
    'sequenceDiagram\n    participant tab\n    participant server\n    par burst\n        tab->>server: hi\n',
    'sequenceDiagram\n    tab->>server: ok\n    end\n',
  ];
  for (const text of bad) {
    const result = await parse(text);
    assert.equal(result.ok, false, text);
  }
});

for (const [name, args] of RUNS) {
  test(`Mermaid's parser accepts the diagram: ${name}`, async () => {
    const text = runExport('mermaid', args);
    const result = await parse(text);
    assert.ok(result.ok, `${name}: ${result.error}\n${text}`);
    assert.equal(result.type, 'sequence');
  });
}

test('the recorded naive race renders: lanes, tokens and crossed-out refusals', async () => {
  const text = exportFile('mermaid', FIXTURE).toString('utf8');
  const rendered = await page.evaluate(async (source) => {
    const { svg } = await window.mermaid.render('race', source);
    const out = document.getElementById('out');
    out.innerHTML = svg;
    const root = out.querySelector('svg');
    root.style.maxWidth = 'none';
    root.setAttribute('width', String(Math.ceil(root.viewBox.baseVal.width)));
    const texts = [...root.querySelectorAll('text, .messageText, .noteText, .loopText, foreignObject')]
      .map((el) => el.textContent.trim())
      .filter(Boolean);
    return {
      texts,
      width: root.getBoundingClientRect().width,
      height: root.getBoundingClientRect().height,
      crosses: root.querySelectorAll('[marker-end*="crosshead"]').length,
      messages: root.querySelectorAll('.messageText').length,
    };
  }, text);
  const target = process.env.WRITE_SCREENSHOTS
    ? SCREENSHOT
    : path.join(mkdtempSync(path.join(os.tmpdir(), 'rr-mermaid-')), 'mermaid-case-3-naive.png');
  await page.locator('#out svg').screenshot({ path: target });
  const png = readFileSync(target);
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');

  const all = rendered.texts.join('\n');
  // The entities came back as `#`, and the jti names are on the arrows.
  assert.match(all, /secret#1–3: GET \/api\/secret with t1/);
  assert.match(all, /secret#2, secret#3: refresh with t1/);
  assert.match(all, /200, new token t2/);
  assert.match(all, /400 reused \(×2\)/);
  assert.match(all, /logged out: the refresh of t1 was refused/);
  assert.equal(rendered.messages, 10, all);
  // The 401s and the refused refreshes are drawn with a cross.
  assert.equal(rendered.crosses, 2, all);
  // Slide-sized: it fits a 1920 × 1080 slide at 1:1.
  assert.ok(rendered.width <= 1920 && rendered.height <= 1080, `${rendered.width} × ${rendered.height}`);

});

test('the SVG export is an image the browser draws, and the PNG decodes at its size', async () => {
  const svg = exportFile('svg', FIXTURE).toString('utf8');
  const png = exportFile('png', FIXTURE);
  const sizes = await page.evaluate(async ({ svgText, pngBase64 }) => {
    const parsed = new DOMParser().parseFromString(svgText, 'image/svg+xml');
    const parseError = parsed.querySelector('parsererror');
    const load = (src) => new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve({ width: img.naturalWidth, height: img.naturalHeight });
      img.onerror = () => reject(new Error(`cannot load ${src.slice(0, 40)}`));
      img.src = src;
    });
    const svgUrl = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
    return {
      parseError: parseError ? parseError.textContent : null,
      declared: [parsed.documentElement.getAttribute('width'), parsed.documentElement.getAttribute('height')],
      svg: await load(svgUrl),
      png: await load(`data:image/png;base64,${pngBase64}`),
    };
  }, { svgText: svg, pngBase64: png.toString('base64') });
  assert.equal(sizes.parseError, null);
  assert.equal(sizes.svg.width, 1280);
  assert.equal(String(sizes.svg.height), sizes.declared[1]);
  assert.deepEqual(sizes.png, sizes.svg);
  if (process.env.WRITE_SCREENSHOTS) {
    writeFileSync(path.join(REPO, 'docs', 'screenshots', 'export-timeline-case-3-naive.png'), png);
  }
});
