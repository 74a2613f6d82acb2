// The room as one in Chromium, against `refresh-race serve --classroom
// --room-host 127.0.0.1`: three attendees join, the instructor runs case 3
// with the naive client and pushes its setup; every seat's page says the
// instructor changed it, runs it with its own lab (an attendee's code in the
// editor untouched), and the instructor's results panel, in presenter mode
// at 1280×720, counts 3 seats with the counts the seats' own verdicts show;
// a seat that loses its connection and reloads keeps its number and its
// run; closing the room tells every seat.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/room.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { startServer, launchBrowser, openLab, REPO } from './harness.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const SHOTS = path.join(REPO, 'docs', 'screenshots');

let server;
let browser;

before(async () => {
  server = await startServer({ classroom: true });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** An attendee: a browser context of its own (its own cookies), joined through the link. */
async function attendee() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(server.room.joinUrl);
  await page.waitForSelector('body[data-ready="true"]');
  await page.locator('[data-room-seat][data-seat]').waitFor();
  const seat = Number(await page.getAttribute('[data-room-seat]', 'data-seat'));
  return { context, page, errors, seat };
}

/** The editor's text, as CodeMirror holds it. */
function editorText(page) {
  return page.locator('[data-code-panel] [data-editor] .cm-editor').evaluate((el) => el.querySelector('.cm-content').innerText);
}

async function audit(page, selector) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  return page.evaluate(async (sel) => {
    const result = await window.axe.run(sel, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
  }, selector);
}

test('push a setup: every seat runs it, the results count 3 seats; a seat rejoins; closing tells every seat', async () => {
  const seats = [await attendee(), await attendee(), await attendee()];
  assert.deepEqual(seats.map((s) => s.seat).sort(), [1, 2, 3], 'three seats, numbered');
  for (const s of seats) assert.equal(await s.page.textContent('[data-room-seat]'), `Seat ${s.seat}`);

  // Seat 1 has code of its own in the editor, not saved anywhere but the page.
  const learner = seats[0].page;
  await learner.click('[data-action="code"]');
  await learner.click('[data-action="own-code"]');
  await learner.locator('[data-code-panel][data-mode="own"]').waitFor();
  await learner.locator('[data-editor] .cm-content').click();
  await learner.keyboard.press('Control+End');
  await learner.keyboard.type('\n// my own idea, not saved yet');
  const before = await editorText(learner);
  assert.match(before, /my own idea/);

  // The instructor, projecting: presenter mode, 1280×720.
  const { page, errors } = await openLab(browser, server.url, { width: 1280, height: 720, bypassCSP: true });
  try {
    await page.click('[data-action="presenter"]');
    await page.locator('body[data-theme="presenter"]').waitFor();
    await page.selectOption('[data-control="strategy"]', 'naive');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 20_000 });
    await page.locator('[data-action="room-results"]:not([hidden])').waitFor();
    await page.click('[data-action="room-results"]');
    await page.locator('[data-room-results][data-seats="3"]').waitFor();
    assert.equal(await page.getAttribute('[data-room-results]', 'data-runs'), '0');

    await page.click('[data-action="push-to-room"]');
    await page.locator('[data-room-note]', { hasText: 'Pushed' }).waitFor();
    assert.match(await page.textContent('[data-room-note]'), /Pushed to every seat: expired-refreshable: naive client, strict server/);

    // Each seat: the banner, its own run of the pushed setup, its verdict.
    const verdicts = [];
    for (const s of seats) {
      const banner = s.page.locator('[data-room-banner][data-state="pushed"]');
      await banner.waitFor();
      assert.match(await banner.textContent(), /The instructor changed the setup to expired-refreshable: naive client, strict server.*Your code in the editor is kept/);
      const timeline = s.page.locator('[data-timeline][data-state="done"]');
      await timeline.waitFor({ timeout: 20_000 });
      assert.equal(await timeline.getAttribute('data-strategy'), 'naive');
      const v = timeline.locator('[data-verdict]');
      verdicts.push({ calls: Number(await v.getAttribute('data-refresh-calls')), logouts: Number(await v.getAttribute('data-logouts')) });
    }
    assert.equal(await editorText(learner), before, 'the learner\'s unsaved code is kept');
    const loggedOut = verdicts.filter((v) => v.logouts > 0).length;
    assert.equal(loggedOut, 3, 'naive case 3 logs every seat out');

    // The results panel: 3 seats ran it, as their verdicts say.
    const results = page.locator(`[data-room-results][data-seats="3"][data-runs="3"][data-logged-out="${loggedOut}"]`);
    await results.waitFor({ timeout: 5_000 });
    const byCalls = new Map();
    for (const v of verdicts) byCalls.set(v.calls, (byCalls.get(v.calls) ?? 0) + 1);
    const bars = await page.locator('[data-room-histogram] [data-calls]').evaluateAll((els) => els.map((el) => [Number(el.getAttribute('data-calls')), Number(el.getAttribute('data-bar-seats'))]));
    assert.deepEqual(bars, [...byCalls.entries()].sort((a, b) => a[0] - b[0]));
    assert.equal(await page.textContent('[data-room-headline]'), `3 of 3 seats ran it · ${loggedOut} logged out`);
    const rows = await page.locator('[data-room-seat-list] [data-seat]').evaluateAll((els) => els.map((el) => el.getAttribute('data-seat-runs')));
    assert.deepEqual(rows, ['1', '1', '1']);

    // Projected: it fits 1280×720 and axe finds nothing.
    await page.screenshot({ path: path.join(SHOTS, 'room-results-presenter.png') });
    const box = await page.locator('[data-room-results]').boundingBox();
    assert.ok(box.y + box.height <= 720, `the results end at ${box.y + box.height}px`);
    assert.deepEqual(await audit(page, '#room-results'), [], 'axe: the results panel');

    // Seat 2 loses its connection, comes back and reloads: the same seat, its run kept, nothing run twice.
    const back = seats[1];
    await back.context.setOffline(true);
    await back.context.setOffline(false);
    await back.page.reload();
    await back.page.waitForSelector('body[data-ready="true"]');
    await back.page.locator(`[data-room-seat][data-seat="${back.seat}"]`).waitFor();
    // Following the join link again is the same seat too.
    await back.page.goto(server.room.joinUrl);
    await back.page.waitForSelector('body[data-ready="true"]');
    await back.page.locator(`[data-room-seat][data-seat="${back.seat}"]`).waitFor();
    const state = await back.page.evaluate(() => fetch('/lab/room').then((r) => r.json()));
    assert.deepEqual([state.seat, state.runs], [back.seat, 1], 'same seat, same run');
    assert.equal(await back.page.locator('[data-timeline][data-state="running"]').count(), 0, 'the push is not run again');
    await page.locator('[data-room-results][data-seats="3"][data-runs="3"]').waitFor();

    // A seat cannot push or read the room's results.
    const refused = await back.page.evaluate(async () => [
      (await fetch('/lab/classroom/push', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"step":"fix-it"}' })).status,
      (await fetch('/lab/classroom/results')).status,
    ]);
    assert.deepEqual(refused, [403, 403]);

    // A lesson step pushed: every seat's lesson card opens at it.
    await page.selectOption('[data-control="push-step"]', 'fix-it');
    await page.click('[data-action="push-step"]');
    for (const s of seats) {
      await s.page.locator('[data-lesson][data-current="fix-it"]').waitFor();
      assert.match(await s.page.textContent('[data-room-banner-text]'), /The instructor opened lesson step 3/);
    }
    assert.equal(await page.textContent('[data-room-pushed]'), 'Pushed: lesson step 3');

    // Close the room: every seat's page says so.
    await page.click('#room-results [data-action="close-room"]');
    for (const s of seats) {
      const banner = s.page.locator('[data-room-banner][data-state="closed"]');
      await banner.waitFor();
      assert.match(await banner.textContent(), /The instructor closed the room/);
    }
    const reached = await seats[2].page.evaluate(() => fetch('/lab/room').then(() => true, () => false));
    assert.equal(reached, false, 'nobody listens on the room\'s port');
    assert.deepEqual(errors, [], 'no errors on the instructor\'s page');
    for (const s of seats) assert.deepEqual(s.errors, [], `no errors on seat ${s.seat}`);
  } finally {
    await page.close();
    for (const s of seats) await s.context.close();
  }
});
