// Browser tests of the network controls against a real `refresh-race
// serve`, in headless Debian chromium: playing a challenge by clicking legs,
// pausing and stepping a timer run, refused commands, undo, the grouped
// tray, the impossible challenge, and the layout at 1600×1000.
// Hooks: docs/ui-hooks.md.
//
//   cargo build && node --test tests/e2e/network.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, launchBrowser, openLab, serverBinary, verdictInFlow } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** Opens the lab (a fresh browser context: empty localStorage), runs `fn(page)`, fails on page errors. */
async function withPage(fn, options) {
  const { page, errors } = await openLab(browser, server.url, options);
  try {
    await fn(page, errors);
    // Chromium logs every refused fetch (409 and the like) as a console error; the tests that expect one say so.
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await page.close();
  }
}

const timeline = (page) => page.locator('[data-timeline]');
const tray = (page) => page.locator('[data-tray]');

/** The tray's cards as the page shows them: [leg, exchange, direction, text]. */
function trayCards(page) {
  return page.locator('[data-tray] [data-leg]').evaluateAll((els) => els.map((el) => [
    el.getAttribute('data-leg'), el.getAttribute('data-exchange'), el.getAttribute('data-direction'), el.textContent.trim(),
  ]));
}

/** How many legs the lab says were delivered, as the timeline shows it. */
async function deliveredCount(page) {
  return Number(await timeline(page).getAttribute('data-delivered'));
}

/** Waits until the held run has had `n` deliveries and no command is on its way. */
function settledAt(page, n) {
  return page.locator(`[data-timeline][data-held="true"][data-delivered="${n}"]`).waitFor()
    .then(() => page.locator(`[data-tray][data-delivered="${n}"]:not([aria-busy])`).waitFor());
}

/**
 * Clicks the tray card of `leg` (of `exchange`), then waits for the lab to
 * have delivered it: one more delivery in the tray, or the run over.
 */
async function clickLeg(page, leg, exchange) {
  const before = await deliveredCount(page);
  const card = page.locator(`[data-tray]:not([aria-busy]) [data-leg="${leg}"]${exchange ? `[data-exchange="${exchange}"]` : ''}`);
  await card.click();
  await page.waitForFunction((n) => {
    const t = document.querySelector('[data-timeline]');
    const busy = document.querySelector('[data-tray][aria-busy]');
    return t && !busy && (t.getAttribute('data-state') === 'done' || Number(t.getAttribute('data-delivered')) === n);
  }, before + 1);
}

/** Sets the run controls (values by data-control). */
async function setControls(page, values) {
  for (const [control, value] of Object.entries(values)) {
    const el = page.locator(`[data-control="${control}"]`);
    if (await el.evaluate((e) => e.tagName === 'SELECT')) await el.selectOption(String(value));
    else await el.fill(String(value));
  }
}

test('be the network: the queue challenge, played by clicking legs only, is solved', async () => {
  await withPage(async (page) => {
    await page.click('[data-action="challenges"]');
    const card = page.locator('[data-challenge="queue-refreshes-twice"]');
    assert.equal(await card.getAttribute('data-solved'), 'false');
    await card.locator('[data-action="hint"]').click();
    assert.match(await card.locator('[data-hint]').textContent(), /Finish one request's whole refresh/);
    await card.locator('[data-action="play"]').click();
    await settledAt(page, 0);
    assert.equal(await page.locator('[data-challenges]').isVisible(), false, 'Play closes the panel');
    assert.equal(await page.locator('[data-challenge-current="queue-refreshes-twice"]').isVisible(), true);
    assert.equal(await timeline(page).getAttribute('data-strategy'), 'queue');
    assert.equal(await timeline(page).getAttribute('data-network'), 'hand');

    // Both first requests are in flight, held, and drawn as held bars.
    assert.deepEqual((await trayCards(page)).map((c) => c.slice(0, 3)).sort(), [
      ['secret#1>', 'request', 'to-server'], ['secret#2>', 'request', 'to-server'],
    ]);
    assert.equal(await timeline(page).locator('[data-kind="request"][data-held="to-server"]').count(), 2);
    const tab = page.locator('[data-tab-state]');
    assert.deepEqual(await tab.evaluate((el) => [el.dataset.token, el.dataset.strategy, el.dataset.isRefreshing, el.dataset.waiting]), ['t1', 'queue', 'false', '0']);

    // secret#1 goes first: its request, its 401 back, its refresh, the refresh's answer.
    await clickLeg(page, 'secret#1>', 'request');
    assert.deepEqual((await trayCards(page)).find((c) => c[0] === 'secret#1<'), ['secret#1<', 'request', 'to-client', '←secret#1 ← 401 expired']);
    await clickLeg(page, 'secret#1<', 'request');
    // The queue's flag is up: secret#1 refreshes, and its refresh leg pulses on the timeline.
    assert.equal(await tab.getAttribute('data-is-refreshing'), 'true');
    const refreshBar = timeline(page).locator('[data-kind="refresh"][data-held="to-server"]');
    assert.equal(await refreshBar.count(), 1);
    assert.equal(await refreshBar.locator('.bar-body').evaluate((el) => getComputedStyle(el).animationName), 'held-pulse');
    await clickLeg(page, 'secret#1>', 'refresh');
    await clickLeg(page, 'secret#1<', 'refresh');
    // t2 is stored and the flag is down again before secret#2's 401 comes back.
    assert.deepEqual(await tab.evaluate((el) => [el.dataset.token, el.dataset.isRefreshing]), ['t2', 'false']);

    // Then the rest, in whatever order the tray offers.
    for (let i = 0; i < 20 && (await timeline(page).getAttribute('data-state')) !== 'done'; i++) {
      // An empty tray: the last leg is delivered and the run is ending.
      const [next] = await trayCards(page);
      if (!next) break;
      await clickLeg(page, next[0], next[1]);
    }
    await page.locator('[data-timeline][data-state="done"]').waitFor();
    const verdict = timeline(page).locator('[data-verdict]');
    assert.equal(await verdict.getAttribute('data-refresh-calls'), '2');

    // Solved, from the lab's done message: the card and the moment in the rail.
    await page.locator('[data-challenge="queue-refreshes-twice"][data-solved="true"]').waitFor({ state: 'attached' });
    assert.equal(await page.locator('[data-challenge-current="queue-refreshes-twice"][data-solved="true"] [data-solved-moment]').isVisible(), true);
    assert.equal(await page.locator('[data-rail]').isVisible(), true, 'the rail stays for the solved moment');
    assert.equal(await tray(page).isVisible(), false, 'nothing is held any more');
    assert.equal(await page.locator('[data-challenges-count]').textContent(), '1/7');

    // Progress is kept in the browser's storage.
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('refresh-race.challenges')));
    assert.deepEqual(stored.solved, ['queue-refreshes-twice']);
    assert.equal(stored.tries['queue-refreshes-twice'], 1);

    // The caption is the narration of the last event; ← walks back through the run.
    const events = Number(await page.getAttribute('[data-log]', 'data-events'));
    const caption = page.locator('[data-caption]');
    const last = await caption.textContent();
    await page.locator('h1').click();
    await page.keyboard.press('ArrowLeft');
    await page.locator(`[data-caption][data-cursor="${events}/${events}"]`).waitFor();
    assert.equal(await caption.textContent(), last);
    assert.equal(await page.locator('[data-timeline] .event-cursor').count(), 2, 'marked over the request lanes and the pinned lanes');
    await page.keyboard.press('ArrowLeft');
    await page.locator(`[data-caption][data-cursor="${events - 1}/${events}"]`).waitFor();
    assert.notEqual(await caption.textContent(), last);

    // A new page keeps the progress.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.locator('[data-challenge="queue-refreshes-twice"]').getAttribute('data-solved'), 'true');
    assert.equal(await page.locator('[data-challenges-count]').textContent(), '1/7');
  });
});

test('the caption follows the engine\'s narration of the same delivery order', async () => {
  await withPage(async (page) => {
    let body = null;
    page.on('request', (request) => {
      if (request.method() === 'POST' && /\/lab\/runs$/.test(request.url())) body = JSON.parse(request.postData());
    });
    await setControls(page, { strategy: 'queue', 'secret-count': 2, 'public-count': 0, network: 'hand' });
    await page.click('[data-case="expired-refreshable"]');
    await settledAt(page, 0);
    assert.equal(body.network, 'hand');
    // Always the last card (the leg a timer would deliver last): an order of our own.
    const delivered = [];
    for (let n = 0; (await timeline(page).getAttribute('data-state')) !== 'done'; n++) {
      const [leg, exchange] = (await trayCards(page)).at(-1);
      await clickLeg(page, leg, exchange);
      delivered.push(leg);
      assert.ok(n < 20, 'the run ends');
    }
    await page.locator('[data-timeline][data-state="done"]').waitFor();
    const captions = [];
    const events = Number(await page.getAttribute('[data-log]', 'data-events'));
    await page.locator('h1').click();
    for (let i = 0; i < events; i++) {
      await page.keyboard.press('ArrowRight');
      await page.locator(`[data-caption][data-cursor="${i + 1}/${events}"]`).waitFor();
      captions.push(await page.locator('[data-caption]').textContent());
    }
    // The same order, replayed headless by the CLI, tells the same story.
    const report = JSON.parse(execFileSync(serverBinary(), [
      'run', '--client', 'queue', '--secret', '2', '--public', '0', '--network', 'hand', '--deliver', delivered.join(','), '--json',
    ], { encoding: 'utf8' }));
    assert.deepEqual(report.delivered, delivered);
    assert.deepEqual(captions, report.narration);
  });
});

test('pause a slow timer run: nothing moves while paused, and each step delivers exactly one leg', async () => {
  await withPage(async (page) => {
    await setControls(page, {
      strategy: 'naive', 'secret-count': 2, 'public-count': 1, speed: '0.05',
      'latency-secret': 40, 'latency-public': 30, 'latency-refresh': 40, network: 'timer',
    });
    assert.equal(await tray(page).isVisible(), false, 'no tray before anything is held');
    await page.click('[data-case="expired-refreshable"]');
    // The run's id is known once its stream started: then it can be paused.
    await page.locator('[data-timeline][data-run]:not([data-run=""])').waitFor();
    await page.click('[data-controls] [data-action="pause"]');
    await page.locator('[data-timeline][data-held="true"]').waitFor();
    await page.locator('[data-tray]:not([aria-busy])').waitFor();
    assert.equal(await timeline(page).getAttribute('data-state'), 'running');
    assert.equal(await page.locator('[data-controls] [data-action="resume"]').isEnabled(), true);
    assert.equal(await page.locator('[data-controls] [data-action="pause"]').isEnabled(), false);

    const snapshot = () => page.evaluate(() => ({
      bars: document.querySelectorAll('[data-kind]').length,
      delivered: Number(document.querySelector('[data-timeline]').getAttribute('data-delivered')),
      events: Number(document.querySelector('[data-log]').getAttribute('data-events')),
      legs: [...document.querySelectorAll('[data-tray] [data-leg]')].map((el) => el.getAttribute('data-leg')),
      now: document.querySelector('[data-timeline] .now-cursor')?.getAttribute('x1'),
    }));
    const paused = await snapshot();
    assert.ok(paused.legs.length > 0);
    // Longer than the whole run would take on the timer: (40 + 40 + 40) ms / 0.05 = 2.4 s.
    // Waiting is the point here: nothing may happen meanwhile.
    await page.waitForTimeout(3_000);
    assert.deepEqual(await snapshot(), paused, 'no new bar, event or delivery, the now-cursor stands still');
    assert.equal(await timeline(page).getAttribute('data-state'), 'running');

    // Each step: exactly one more leg delivered, the first of the tray (the next due).
    let before = paused;
    for (const how of ['button', 'key', 'button']) {
      const next = before.legs[0];
      if (how === 'button') await page.click('[data-controls] [data-action="step"]');
      else await page.keyboard.press('ArrowRight');
      await settledAt(page, before.delivered + 1);
      const after = await snapshot();
      assert.equal(after.delivered, before.delivered + 1, `${how}: one leg`);
      // A delivered leg's id cannot come back at once (its lane's next leg goes the other way).
      assert.equal(after.legs.includes(next), false, `${how}: ${next} went`);
      before = after;
    }

    // Space resumes the timer: the run finishes by itself.
    await page.locator('h1').click();
    await page.keyboard.press(' ');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
    assert.equal(await tray(page).isVisible(), false);
    assert.equal(await timeline(page).locator('[data-verdict]').getAttribute('data-refresh-calls'), '2');
  });
});

test('a refused delivery shows the lab\'s message, changes nothing, and the page goes on', async () => {
  await withPage(async (page, errors) => {
    await setControls(page, { strategy: 'naive', 'secret-count': 2, 'public-count': 0, network: 'hand' });
    await page.click('[data-case="expired-refreshable"]');
    await settledAt(page, 0);
    const before = { cards: await trayCards(page), bars: await page.locator('[data-kind]').count() };
    // A stale card: its leg is no longer (here: never was) in flight.
    await page.locator('[data-tray] [data-leg]').first().evaluate((el) => el.setAttribute('data-leg', 'secret#9>'));
    await page.locator('[data-tray] [data-leg="secret#9>"]').click();
    const error = page.locator('[data-error]');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /^no leg secret#9> is in flight \(in flight now: secret#[12]>, secret#[12]>\)$/);
    assert.equal(await error.getAttribute('role'), 'alert');
    await page.locator('[data-tray]:not([aria-busy])').waitFor();
    assert.equal(await deliveredCount(page), 0);
    assert.equal(await page.locator('[data-kind]').count(), before.bars);
    // Still responsive: a real leg is delivered, and the error goes.
    const real = before.cards[1][0];
    await clickLeg(page, real, 'request');
    assert.equal(await deliveredCount(page), 1);
    assert.equal(await error.isVisible(), false);
    const unexpected = errors.filter((e) => !/status of 409/.test(e));
    errors.length = 0;
    errors.push(...unexpected);
  });
});

test('undo gives the previous tray: the same run by hand, every delivery but the last', async () => {
  await withPage(async (page) => {
    await setControls(page, { strategy: 'queue', 'secret-count': 2, 'public-count': 0, network: 'hand' });
    await page.click('[data-case="expired-refreshable"]');
    await settledAt(page, 0);
    const trays = [await trayCards(page)];
    assert.equal(await page.locator('[data-controls] [data-action="undo"]').isEnabled(), false, 'nothing to undo yet');
    await clickLeg(page, 'secret#1>', 'request');
    trays.push(await trayCards(page));
    await clickLeg(page, 'secret#1<', 'request');
    trays.push(await trayCards(page));
    const tab = await page.locator('[data-tab-state]').getAttribute('data-is-refreshing');
    assert.equal(tab, 'true');

    let body = null;
    page.on('request', (request) => {
      if (request.method() === 'POST' && /\/lab\/runs$/.test(request.url())) body = JSON.parse(request.postData());
    });
    await page.click('[data-controls] [data-action="undo"]');
    await settledAt(page, 1);
    assert.deepEqual(body.deliver, ['secret#1>']);
    assert.equal(body.network, 'hand');
    assert.deepEqual(await trayCards(page), trays[1], 'the tray before the last delivery');
    assert.equal(await page.locator('[data-timeline]').count(), 1);
    assert.equal(await page.locator('[data-tab-state]').getAttribute('data-is-refreshing'), 'false');

    // Z undoes once more.
    await page.locator('h1').click();
    await page.keyboard.press('z');
    await settledAt(page, 0);
    assert.deepEqual(body.deliver, []);
    assert.deepEqual(await trayCards(page), trays[0]);
  });
});

test('with many legs in flight the tray groups them by lane kind and direction', async () => {
  await withPage(async (page) => {
    await setControls(page, { strategy: 'single-flight', 'secret-count': 30, 'public-count': 3, network: 'hand' });
    await page.click('[data-case="expired-refreshable"]');
    await settledAt(page, 0);
    assert.equal(await page.locator('[data-tray] [data-leg]').count(), 0, 'no card per leg');
    const groups = () => page.locator('[data-tray] [data-action="deliver-all"]').evaluateAll((els) => els.map((el) => [el.getAttribute('data-filter'), el.textContent.trim()]));
    // In due order: public requests (100 ms) before secret ones (150 ms).
    assert.deepEqual(await groups(), [
      ['public#*>', '→deliver all public#* requests (3)'],
      ['secret#*>', '→deliver all secret#* requests (30)'],
    ]);
    await page.locator('[data-tray] [data-action="deliver-all"][data-filter="secret#*>"]').click();
    await settledAt(page, 30);
    assert.deepEqual((await groups()).map((g) => g[0]).sort(), ['public#*>', 'secret#*<']);
    assert.match((await groups()).find((g) => g[0] === 'secret#*<')[1], /deliver all secret#\* answers \(30\)/);
  });
});

test('the impossible challenge: Give up, or three runs, and the panel says why', async () => {
  await withPage(async (page) => {
    await page.click('[data-action="challenges"]');
    const card = page.locator('[data-challenge="break-single-flight"]');
    assert.equal(await card.getAttribute('data-possible'), 'false');
    assert.equal(await card.locator('[data-why]').count(), 0);
    for (let run = 1; run <= 3; run++) {
      if (run > 1) await page.click('[data-action="challenges"]');
      await card.locator('[data-action="play"]').click();
      await settledAt(page, 0);
      // Everything in flight, again and again, until the run is over.
      for (;;) {
        // The last answers can end the run on their own: wait for the end or legs to deliver.
        await page.waitForFunction(() => {
          const t = document.querySelector('[data-timeline]');
          const all = document.querySelector('[data-controls] [data-action="deliver-all"]');
          return t && (t.getAttribute('data-state') === 'done' || (all && !all.disabled));
        });
        if ((await timeline(page).getAttribute('data-state')) === 'done') break;
        const before = await deliveredCount(page);
        await page.click('[data-controls] [data-action="deliver-all"]');
        await page.waitForFunction((n) => {
          const t = document.querySelector('[data-timeline]');
          return t.getAttribute('data-state') === 'done' || (Number(t.getAttribute('data-delivered')) > n && !document.querySelector('[data-tray][aria-busy]'));
        }, before);
      }
      assert.equal(await card.getAttribute('data-solved'), 'false');
      assert.equal(await timeline(page).locator('[data-verdict]').getAttribute('data-refresh-calls'), '1');
      const why = page.locator('[data-challenge-current] .challenge-why');
      assert.equal(await why.count(), run === 3 ? 1 : 0, `after ${run} runs`);
    }
    await page.click('[data-action="challenges"]');
    assert.match(await card.locator('[data-why]').textContent(), /It cannot be done/);
    assert.equal(await card.locator('[data-action="give-up"]').count(), 0, 'nothing left to give up');
  });
  await withPage(async (page) => {
    await page.click('[data-action="challenges"]');
    const card = page.locator('[data-challenge="break-single-flight"]');
    await card.locator('[data-action="give-up"]').click();
    assert.match(await card.locator('[data-why]').textContent(), /It cannot be done/);
    // Escape closes the panel.
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('[data-challenges]').isVisible(), false);
  });
});

test('at 1600×1000 the verdict stays above the fold with the rail, the caption and the challenges open', async () => {
  await withPage(async (page) => {
    const verdictBottom = async () => (await verdictInFlow(page.locator('[data-verdict]'))).bottom;
    // The first screen: the default case 3, six lanes, on the timer.
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor();
    const plain = await verdictBottom();
    assert.ok(plain <= 1000, `timer run: verdict ends at ${plain}`);
    // Held: the rail opens beside the timeline, not above or under it.
    await setControls(page, { network: 'step' });
    await page.click('[data-case="expired-refreshable"]');
    await settledAt(page, 0);
    assert.equal(await page.locator('[data-rail]').isVisible(), true);
    const held = await verdictBottom();
    assert.ok(held <= 1000, `held run: verdict ends at ${held}`);
    const rail = await page.locator('[data-rail]').boundingBox();
    const line = await timeline(page).boundingBox();
    assert.ok(rail.x >= line.x + line.width, 'the rail is beside the timeline');
    assert.ok(rail.y + rail.height <= 1000, 'the whole tray is on screen');
    // The challenges panel lies over the page: nothing under it moves.
    await page.click('[data-action="challenges"]');
    await page.locator('[data-challenges]').waitFor();
    assert.equal(await verdictBottom(), held);
  }, { width: 1600, height: 1000, folded: true }); // the first screen (the rest under More)
});
