// The code panel (ui/code-panel.js) in headless Chromium: closed by default,
// opened by its toggle; the own interceptor loaded from a file, its syntax
// error shown with its line (and the line marked), kept in localStorage over
// a reload, saved as a download equal to the editor's text; the read-only
// mode's marked line, state and score card through the panel's API; the
// page's CSP (style-src 'self') leaves the editor styled; it never pushes
// the verdict below the fold; axe-core finds nothing in either theme.
//
//   cargo build && node --test tests/e2e/code-panel.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { useLab, verdictInFlow } from './harness.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const KEY = 'refresh-race.interceptor';

const GOOD = `// single-flight: one refresh, everyone awaits it
let flight = null;

export async function request(req, api) {
  const first = await api.send(req, api.token());
  if (first.status !== 401) return first;
  flight ??= api.refresh(api.token()).finally(() => { flight = null; });
  const fresh = await flight;
  if (!fresh.ok) { api.logout(fresh.reason); return fresh; }
  api.store(fresh.token);
  return api.send(req, fresh.token);
}
`;
// Line 4: the call's `)` is missing: the `;` (48th character) is unexpected.
const BROKEN = `let flight = null;

export async function request(req, api) {
  const first = await api.send(req, api.token();
  return first;
}
`;

const lab = useLab();

/** The editor's text, as CodeMirror holds it (in the editor's shadow root). */
function editorText(page, panel = '[data-code-panel]') {
  return page.locator(`${panel} [data-editor] .cm-editor`).evaluate(async (el) => {
    const { EditorView } = await import('./vendor/codemirror.js');
    return EditorView.findFromDOM(el).state.doc.toString();
  });
}

async function loadFile(page, name, text, mimeType = 'text/javascript') {
  await page.setInputFiles('[data-control="code-file"]', { name, mimeType, buffer: Buffer.isBuffer(text) ? text : Buffer.from(text) });
}

async function openPanel(page) {
  await page.click('[data-action="code"]');
  await page.locator('[data-code-panel]:not([hidden])').waitFor();
  // The editor loads when the panel first opens (code-parts.js).
  await page.locator('[data-code-panel] [data-editor] .cm-editor').waitFor();
}

/** Opens the panel on the learner's own module (it opens on the picked strategy's source). */
async function openOwn(page) {
  await openPanel(page);
  await page.click('[data-action="own-code"]');
  await page.locator('[data-code-panel][data-mode="own"]').waitFor();
}

/** With GOOD kept in the editor (a reload), loads a file past the size limit; resolves once the refusal shows. */
async function refuseHugeFile(page) {
  await page.evaluate(([key, text]) => localStorage.setItem(key, text), [KEY, GOOD]);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await openOwn(page);
  await loadFile(page, 'huge.js', `// ${'x'.repeat(64 * 1024)}\n`);
  await page.locator('[data-code-error]:not([hidden])').waitFor();
}

async function audit(page, where) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}) ${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 300)}`));
  }, TAGS);
  return violations.map((v) => `[${where}] ${v}`);
}

test('closed by default; the toggle opens it; a file loads; a syntax error names its line and marks it', async () => {
  const { page, errors } = await lab.open({ width: 1400, height: 1000 });
  try {
    await page.evaluate((key) => localStorage.removeItem(key), KEY);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.locator('[data-code-panel]').isHidden(), true, 'closed until asked for');
    assert.equal(await page.getAttribute('[data-action="code"]', 'aria-expanded'), 'false');
    await openPanel(page);
    assert.equal(await page.getAttribute('[data-action="code"]', 'aria-expanded'), 'true');
    // It opens on the picked strategy's JavaScript, read-only.
    await page.locator('[data-code-panel][data-mode="module"] [data-code-name]:has-text("naive.js")').waitFor();
    await page.click('[data-action="own-code"]');
    assert.equal(await page.getAttribute('[data-code-panel]', 'data-mode'), 'own');
    // The untouched template is not stored: a newer one shows next time.
    assert.equal(await page.evaluate((key) => localStorage.getItem(key), KEY), null);

    await loadFile(page, 'broken.js', BROKEN);
    const error = page.locator('[data-code-error]');
    await page.locator('[data-code-error][data-line="4"]').waitFor();
    assert.equal(await error.textContent(), 'line 4, column 48: Unexpected token');
    assert.equal(await editorText(page), BROKEN, 'the file is in the editor as it was');
    // The error's line is marked in the editor: the 4th line.
    const marked = await page.locator('[data-editor] .cm-line.cm-error-line').evaluateAll((lines) => lines.map((l) => l.textContent));
    assert.deepEqual(marked, ['  const first = await api.send(req, api.token();']);

    // Fixing it by typing clears the error (the live check, debounced).
    await page.locator('[data-editor] .cm-line').nth(3).click();
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type(')');
    await page.locator('[data-code-error]').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('[data-editor] .cm-error-line').count(), 0);
    assert.match(await editorText(page), /api\.send\(req, api\.token\(\)\);/);

    await loadFile(page, 'single-flight.mjs', GOOD);
    await page.waitForFunction(() => document.querySelector('[data-code-status]').textContent === 'Loaded single-flight.mjs');
    assert.equal(await editorText(page), GOOD);
    assert.equal(await error.isHidden(), true);
    assert.equal(await page.evaluate((key) => localStorage.getItem(key), KEY), GOOD, 'a loaded file is kept');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('files that are too large or not text are refused, the editor kept', async () => {
  const { page, errors } = await lab.open();
  try {
    await refuseHugeFile(page);
    assert.equal(await page.textContent('[data-code-error]'), 'huge.js is 65 KiB: a module may be at most 64 KiB.');
    assert.equal(await editorText(page), GOOD);
    // PNG bytes: not UTF-8 text.
    await loadFile(page, 'picture.js', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x00]), 'image/png');
    await page.waitForFunction(() => document.querySelector('[data-code-error]').textContent.startsWith('picture.js'));
    assert.equal(await page.textContent('[data-code-error]'), 'picture.js is not a text file: load a JavaScript module (.js or .mjs).');
    assert.equal(await editorText(page), GOOD);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('a refused file stays said when the module checker finishes loading after it', async () => {
  const { page, errors } = await lab.open();
  try {
    // The checker's module is held until the refusal is on screen: its
    // first check (of the module kept in the editor) then finishes last.
    let release = null;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/lib/module-check.js', async (route) => {
      await held;
      await route.continue();
    });
    await refuseHugeFile(page);
    const checked = page.waitForResponse('**/lib/module-check.js');
    release();
    await checked;
    // The check of GOOD ran (the checker is loaded); the refusal is still there.
    await page.waitForFunction(() => import('./lib/module-check.js').then(() => true));
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    assert.equal(await page.textContent('[data-code-error]'), 'huge.js is 65 KiB: a module may be at most 64 KiB.');
    assert.equal(await page.isHidden('[data-code-error]'), false);
    assert.equal(await editorText(page), GOOD);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('the module is kept in localStorage over a reload; Save downloads exactly the editor\'s text', async () => {
  const { page, errors } = await lab.open();
  try {
    await page.evaluate((key) => localStorage.removeItem(key), KEY);
    await openOwn(page);
    await loadFile(page, 'single-flight.js', GOOD);
    // Typing is kept too, once the typing pauses.
    await page.locator('[data-editor] .cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('// mine\n');
    const expected = `${GOOD}// mine\n`;
    await page.waitForFunction(([key, text]) => localStorage.getItem(key) === text, [KEY, expected]);

    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await openOwn(page);
    assert.equal(await editorText(page), expected, 'restored after the reload');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="save-code"]')]);
    assert.equal(download.suggestedFilename(), 'interceptor.js');
    assert.equal(await readFile(await download.path(), 'utf8'), expected);
    assert.equal(await page.textContent('[data-code-status]'), 'Downloaded interceptor.js');

    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('read-only mode: the strategy source, a marked line, the module\'s state, a score card whose rows call back', async () => {
  const { page, errors } = await lab.open();
  try {
    // A second panel on the same page, mounted through the module's API.
    await page.evaluate(async (template) => {
      const { mountCodePanel } = await import('./code-panel.js');
      const root = document.createElement('section');
      root.id = 'api-panel';
      root.className = 'code-panel';
      document.querySelector('.stage').append(root);
      window.opened = [];
      window.apiPanel = mountCodePanel(root, {
        template,
        onRun: () => {},
        onGrade: () => {},
        onOpenCheck: (id) => window.opened.push(id),
      });
      window.apiPanel.open();
      window.apiPanel.showModule('queue', template);
      window.apiPanel.markLine(6);
      window.apiPanel.showState({ isRefreshing: true, queue: 2, token: 't1' });
      window.apiPanel.showGrade([
        { id: 'case-3', title: 'Case 3: expired, refreshable', pass: true, why: 'one refresh, every request ok' },
        { id: 'late-401', title: 'A late 401', pass: false, why: 'refreshed t1 again after t2 came back' },
      ]);
    }, GOOD);
    const panel = page.locator('#api-panel');
    assert.equal(await panel.getAttribute('data-mode'), 'module');
    assert.equal(await panel.getAttribute('data-current-line'), '6');
    assert.equal(await page.evaluate(() => window.apiPanel.isOwn()), false);
    assert.equal(await panel.locator('[data-code-name]').textContent(), 'queue.js');
    assert.equal(await panel.locator('.cm-step-line').textContent(), '  if (first.status !== 401) return first;');
    // Read-only: typing changes nothing.
    await panel.locator('.cm-content').click();
    await page.keyboard.type('xyz');
    assert.equal(await page.evaluate(() => window.apiPanel.getSource()), GOOD);
    assert.equal(await editorText(page, '#api-panel'), GOOD);
    assert.equal(await panel.locator('.code-tools').isHidden(), true, 'no load/save/run in read-only mode');

    const state = await panel.locator('[data-state] [data-field]').evaluateAll((rows) => rows.map((r) => [r.dataset.field, r.querySelector('dd').textContent]));
    assert.deepEqual(state, [['isRefreshing', 'true'], ['queue', '2'], ['token', '"t1"']]);

    const grade = panel.locator('[data-grade]');
    assert.equal(await grade.getAttribute('data-passed'), '1');
    assert.equal(await grade.getAttribute('data-total'), '2');
    assert.equal(await grade.locator('[data-check="late-401"]').getAttribute('data-pass'), 'false');
    await grade.locator('[data-check="late-401"]').click();
    // The keyboard opens a check too.
    await grade.locator('[data-check="case-3"]').focus();
    await page.keyboard.press('Enter');
    assert.deepEqual(await page.evaluate(() => window.opened), ['late-401', 'case-3']);

    await page.evaluate(() => {
      window.apiPanel.markLine(null);
      window.apiPanel.showState(null);
      window.apiPanel.showGrade(null);
      window.apiPanel.showError({ message: 'line 2: boom', line: 2 });
    });
    assert.equal(await panel.getAttribute('data-current-line'), null);
    assert.equal(await panel.locator('[data-state]').isHidden(), true);
    assert.equal(await grade.isHidden(), true);
    assert.equal(await panel.locator('.cm-error-line').textContent(), 'let flight = null;');
    assert.equal(await panel.locator('[data-code-error]').textContent(), 'line 2: boom');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('a first run loads neither the editor nor the parser; opening the panel loads the editor, a module\'s check the parser', async () => {
  const { page, errors } = await lab.open();
  try {
    /** Which of the heavy vendor files the page has fetched so far. */
    const fetched = () => page.evaluate(() => performance.getEntriesByType('resource')
      .map((entry) => new URL(entry.name).pathname)
      .filter((path) => path === '/vendor/codemirror.js' || path === '/vendor/acorn.js')
      .sort());
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"] [data-verdict]').waitFor({ timeout: 20_000 });
    assert.deepEqual(await fetched(), [], 'a run needs neither');
    await openPanel(page);
    assert.deepEqual(await fetched(), ['/vendor/codemirror.js'], 'the panel shows the strategy in the editor');
    await page.click('[data-action="own-code"]');
    await loadFile(page, 'broken.js', BROKEN);
    await page.locator('[data-code-error][data-line="4"]').waitFor();
    assert.deepEqual(await fetched(), ['/vendor/acorn.js', '/vendor/codemirror.js'], 'checking a module loads the parser');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test('the page\'s CSP leaves the editor styled (CodeMirror\'s styles in a constructed sheet), no violation', async () => {
  // No bypassCSP: the lab's own Content-Security-Policy applies.
  const { page, errors } = await lab.open();
  try {
    const violations = [];
    await page.exposeFunction('reportViolation', (v) => violations.push(v));
    await page.evaluate(() => document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`)));
    await openPanel(page);
    const styled = await page.locator('[data-editor]').evaluate((host) => {
      const editor = host.shadowRoot.querySelector('.cm-editor');
      const gutters = host.shadowRoot.querySelector('.cm-gutters');
      return {
        editor: getComputedStyle(editor).display, // CodeMirror's base theme: flex
        gutters: getComputedStyle(gutters).display,
        styleElements: document.querySelectorAll('style').length + host.shadowRoot.querySelectorAll('style').length,
        adopted: host.shadowRoot.adoptedStyleSheets.length,
      };
    });
    assert.deepEqual(styled, { editor: 'flex', gutters: 'flex', styleElements: 0, adopted: 1 });
    assert.deepEqual(violations, []);
    assert.deepEqual(errors, [], 'no CSP report in the console');
  } finally {
    await page.close();
  }
});

test('keyboard: Tab reaches the controls and leaves the editor; Escape closes the panel', async () => {
  const { page, errors } = await lab.open();
  try {
    await page.focus('[data-action="code"]');
    await page.keyboard.press('Enter');
    await page.locator('[data-code-panel]:not([hidden])').waitFor();
    await page.focus('[data-action="own-code"]');
    await page.keyboard.press('Enter');
    await page.locator('[data-code-panel][data-mode="own"]').waitFor();
    // Focus moves into the editor and out again by Tab alone.
    await page.locator('[data-editor] .cm-content').focus();
    await page.keyboard.press('Tab');
    const inEditor = await page.evaluate(() => !!(document.activeElement && document.activeElement.closest('[data-editor]')));
    assert.equal(inEditor, false, 'Tab left the editor (no trap)');
    // The toolbar's controls are all in the tab order.
    const focusable = await page.locator('[data-code-panel] .code-tools :is(button, input)').evaluateAll((els) => els.map((e) => e.tabIndex));
    assert.ok(focusable.length >= 5 && focusable.every((t) => t >= 0), JSON.stringify(focusable));
    await page.focus('[data-action="save-code"]');
    await page.keyboard.press('Escape');
    await page.locator('[data-code-panel]').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-action')), 'code', 'focus back on the toggle');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

for (const [width, height, theme] of [[1280, 720, 'presenter'], [1600, 1000, 'dark'], [1600, 1000, 'presenter']]) {
  test(`${width}×${height} ${theme}: opening the panel beside a finished run keeps its verdict on screen`, async () => {
    const { page, errors } = await lab.open({ width, height, folded: true }); // the first screen (the rest under More)
    try {
      if (theme === 'presenter') await page.click('[data-action="presenter"]');
      await page.locator(`body[data-theme="${theme}"]`).waitFor();
      await page.selectOption('[data-control="strategy"]', 'naive');
      await page.click('[data-case="expired-refreshable"]');
      await page.locator('[data-timeline][data-state="done"] [data-verdict]').waitFor({ timeout: 20_000 });
      const bottom = async () => (await verdictInFlow(page.locator('[data-verdict]'))).bottom;
      const closed = await bottom();
      await openPanel(page);
      const open = await bottom();
      const panel = await page.locator('[data-code-panel]').boundingBox();
      const timeline = await page.locator('[data-timeline]').boundingBox();
      assert.ok(closed <= height, `the verdict fits with the panel closed (${closed})`);
      assert.ok(open <= height, `the verdict still fits with the panel open (${open} > ${height})`);
      assert.ok(panel.x >= timeline.x + timeline.width, 'the panel is beside the timeline, not over it');
      assert.ok(panel.y + panel.height <= height, 'the panel fits the window');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
}

for (const theme of ['dark', 'presenter']) {
  test(`axe: the code panel has no WCAG 2 A/AA violations in the ${theme} theme`, async () => {
    const { page, errors } = await lab.open({ bypassCSP: true });
    try {
      if (theme === 'presenter') {
        await page.click('[data-action="presenter"]');
        await page.click('[data-action="advanced"]');
      }
      await page.locator(`body[data-theme="${theme}"]`).waitFor();
      await openPanel(page);
      await loadFile(page, 'broken.js', BROKEN); // the error line and message on screen
      await page.locator('[data-code-error][data-line="4"]').waitFor();
      const found = await audit(page, `${theme}: own module with a syntax error`);
      // Read-only with a marked line, state and a score card.
      await page.evaluate(async (source) => {
        const { mountCodePanel } = await import('./code-panel.js');
        const root = document.createElement('section');
        root.id = 'api-panel';
        root.className = 'code-panel';
        document.querySelector('.stage').append(root);
        const panel = mountCodePanel(root, { template: source, onRun() {}, onGrade() {}, onOpenCheck() {} });
        panel.open();
        panel.showModule('queue', source);
        panel.markLine(3);
        panel.showState({ isRefreshing: true, queue: 2, token: 't1' });
        panel.showGrade([{ id: 'a', title: 'Case 3', pass: true, why: 'one refresh' }, { id: 'b', title: 'Late 401', pass: false, why: 'two refreshes' }]);
      }, GOOD);
      found.push(...await audit(page, `${theme}: read-only, marked line, state, score card`));
      assert.deepEqual(found, [], `axe found:\n${found.join('\n')}`);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
}
