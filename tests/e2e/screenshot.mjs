// Saves a PNG of the lab after a naive case-3 run (or a comparison, a
// replay, or a walk through one token's life).
//
//   node tests/e2e/screenshot.mjs out.png [--compare] [--policy=NAME] [--width=1280] [--height=720]
//        [--compare-by=policies --a=strict --b=family]    compare two server policies
//        [--replay=run.json]                              replay a saved run (refresh-race run --json)
//        [--walk]                                         log in, +5 s, call /api/secret in the walk panel
//        [--walk=dead]                                    … then refresh, +10 s twice, refresh (400 window_over)
//        [--hand]                                         hand mode, queue client, held mid-race (tray, hidden state)
//        [--solved]                                       the queue challenge played by clicking legs, solved
//        [--classroom]                                    serve --classroom (room on 127.0.0.1): two attendees join
//                                                         (one runs case 3, one solves the queue challenge), then
//                                                         the instructor's "Share with the room" panel with its roster
//        [--presenter]                                    presenter mode (P): the light theme, larger type
//        [--tabs=3 --cross-tab=none|lock]                 several tabs sharing one stored token
//        [--mode=oauth]                                   OAuth refresh tokens (--mode=article: the default)
//        [--inspect=r2]                                   then pick that token in the inspector
//        [--secret=N --public=N]                          requests per tab
//        [--code=MODULE.js]                               the code panel open beside the run, MODULE.js loaded as your own interceptor
//        [--code-step=N]                                  the queue client's JavaScript in the page, case 3 stepped N legs:
//                                                         the code panel marks the line of the latest exchange, with the module's state
//        [--grade=MODULE.js]                              MODULE.js loaded as your own interceptor and graded: the score card
//        [--viewport]                                     only the window (default: the full page)
//        [--element=SELECTOR]                             only this element (default: the full page)
//
// Starts its own `refresh-race serve` (see harness.mjs for which binary).

import path from 'node:path';
import { startServer, launchBrowser, openLab } from './harness.mjs';

const args = process.argv.slice(2);
const out = args.find((a) => !a.startsWith('--'));
if (!out) {
  console.error('usage: node tests/e2e/screenshot.mjs OUT.png [--compare] [--compare-by=policies --a=NAME --b=NAME] [--policy=NAME] [--replay=FILE] [--walk] [--hand] [--solved] [--presenter] [--viewport] [--element=SELECTOR] [--width=N] [--height=N]');
  process.exit(2);
}
const flag = (name, fallback) => {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
const compareBy = flag('compare-by', null);
const compare = args.includes('--compare') || compareBy != null;
const replay = flag('replay', null);
const walk = args.includes('--walk') || flag('walk', null) != null;
const hand = args.includes('--hand');
const solved = args.includes('--solved');
const element = flag('element', null);
const classroom = args.includes('--classroom');
const presenter = args.includes('--presenter');
const code = flag('code', null);
const codeStep = flag('code-step', null);
const gradeModule = flag('grade', null);

/** Clicks the tray card of `leg` and waits until the lab delivered it (or the run ended). */
async function clickLeg(page, leg, exchange) {
  const before = Number(await page.getAttribute('[data-timeline]', 'data-delivered'));
  await page.click(`[data-tray]:not([aria-busy]) [data-leg="${leg}"]${exchange ? `[data-exchange="${exchange}"]` : ''}`);
  await page.waitForFunction((n) => {
    const t = document.querySelector('[data-timeline]');
    return !document.querySelector('[data-tray][aria-busy]') && (t.getAttribute('data-state') === 'done' || Number(t.getAttribute('data-delivered')) === n);
  }, before + 1);
}

/** Plays the queue challenge by clicking legs until the lab says it is solved. */
async function solveQueueChallenge(page) {
  await page.click('[data-action="challenges"]');
  await page.click('[data-challenge="queue-refreshes-twice"] [data-action="play"]');
  await page.locator('[data-timeline][data-held="true"][data-delivered="0"]').waitFor();
  for (const [leg, exchange] of [['secret#1>', 'request'], ['secret#1<', 'request'], ['secret#1>', 'refresh'], ['secret#1<', 'refresh']]) await clickLeg(page, leg, exchange);
  while ((await page.getAttribute('[data-timeline]', 'data-state')) !== 'done') {
    const card = page.locator('[data-tray] [data-leg]').first();
    await clickLeg(page, await card.getAttribute('data-leg'), await card.getAttribute('data-exchange'));
  }
  await page.locator('[data-challenge-current][data-solved="true"]').waitFor();
}

/** An attendee in a context of their own: joins through the room's link. */
async function attendee(browser, joinUrl) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(joinUrl);
  await page.waitForSelector('body[data-ready="true"]');
  return { context, page };
}

const server = await startServer({ classroom });
let browser;
try {
  browser = await launchBrowser();
  if (classroom) {
    const ada = await attendee(browser, server.room.joinUrl);
    await ada.page.click('[data-case="expired-refreshable"]');
    await ada.page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
    const bob = await attendee(browser, server.room.joinUrl);
    await solveQueueChallenge(bob.page);
    await attendee(browser, server.room.joinUrl); // a third who has not run anything yet
  }
  const { page, errors } = await openLab(browser, server.url, {
    width: Number(flag('width', 1280)),
    height: Number(flag('height', 720)),
  });
  if (presenter) {
    // Unfolded while the scenario sets its controls, folded again for the picture.
    await page.click('[data-action="presenter"]');
    await page.locator('body[data-theme="presenter"]').waitFor();
    await page.click('[data-action="advanced"]');
  }
  await page.selectOption('[data-control="strategy"]', flag('strategy', 'naive'));
  await page.selectOption('[data-control="policy"]', flag('policy', 'strict'));
  if (flag('secret', null)) await page.fill('[data-control="secret-count"]', flag('secret', null));
  if (flag('public', null)) await page.fill('[data-control="public-count"]', flag('public', null));
  if (flag('tabs', null) || flag('mode', null)) {
    await page.click('[data-action="more-scenario"]');
    if (flag('tabs', null)) await page.fill('[data-control="tabs"]', flag('tabs', null));
    if (flag('cross-tab', null)) await page.selectOption('[data-control="cross-tab"]', flag('cross-tab', null));
    if (flag('mode', null)) await page.selectOption('[data-control="mode"]', flag('mode', null));
  }
  if (hand) {
    // Three secret requests and a public one, by hand: secret#1 got its 401
    // and the server accepted its refresh, whose answer is still on its way;
    // meanwhile secret#2's 401 came back and it waits in the queue.
    await page.selectOption('[data-control="strategy"]', 'queue');
    await page.fill('[data-control="secret-count"]', '3');
    await page.fill('[data-control="public-count"]', '1');
    await page.selectOption('[data-control="network"]', 'hand');
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-held="true"][data-delivered="0"]').waitFor();
    for (const [leg, exchange] of [['secret#1>', 'request'], ['secret#1<', 'request'], ['secret#1>', 'refresh'], ['public#1>', 'request'], ['secret#2>', 'request'], ['secret#2<', 'request']]) {
      await clickLeg(page, leg, exchange);
    }
  } else if (solved) {
    await solveQueueChallenge(page);
  } else if (replay) {
    await page.setInputFiles('[data-control="replay-file"]', path.resolve(replay));
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 120_000 });
  } else if (walk) {
    await page.click('[data-action="walk-login"]');
    await page.locator('[data-token-state="valid"]').waitFor();
    await page.click('[data-action="walk-secret"]');
    await page.click('[data-action="time-travel"][data-seconds="5"]');
    await page.locator('[data-token-state="refreshable"]').waitFor();
    await page.click('[data-action="walk-secret"]');
    await page.locator('[data-walk-result="secret"][data-status="401"]').waitFor();
    if (flag('walk', null) === 'dead') {
      const idle = () => page.locator('[data-walk]:not([aria-busy])').waitFor();
      await page.click('[data-action="walk-refresh"]');
      await idle();
      await page.click('[data-action="time-travel"][data-seconds="10"]');
      await idle();
      await page.click('[data-action="time-travel"][data-seconds="10"]');
      await idle();
      await page.click('[data-action="walk-refresh"]');
      await idle();
      await page.locator('[data-token-state="dead"]').waitFor();
    }
  } else if (codeStep) {
    await page.selectOption('[data-control="runtime"]', 'browser');
    await page.selectOption('[data-control="strategy"]', 'queue');
    await page.fill('[data-control="public-count"]', '0');
    await page.selectOption('[data-control="network"]', 'step');
    await page.click('[data-action="code"]');
    await page.locator('[data-code-panel][data-mode="module"] [data-code-name]:has-text("queue.js")').waitFor();
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-held="true"]').waitFor({ timeout: 30_000 });
    for (let n = 1; n <= Number(codeStep); n += 1) {
      await page.click('[data-controls] [data-action="step"]');
      await page.waitForFunction((count) => {
        const t = document.querySelector('[data-timeline]');
        return !document.querySelector('[data-tray][aria-busy]') && Number(t.getAttribute('data-delivered')) === count;
      }, n, { timeout: 30_000 });
    }
    await page.locator('[data-code-panel][data-current-line]').waitFor();
  } else if (gradeModule) {
    await page.click('[data-action="code"]');
    await page.click('[data-action="own-code"]');
    await page.setInputFiles('[data-control="code-file"]', path.resolve(gradeModule));
    await page.locator('[data-code-status]:not(:empty)').waitFor();
    await page.click('[data-action="grade"]');
    await page.locator('[data-grade][data-state="done"]').waitFor({ timeout: 300_000 });
    const failing = await page.locator('[data-check][data-pass="false"]').first();
    if (await failing.count()) await failing.click();
    else await page.click('[data-check="several-requests"]');
    await page.locator('[data-timeline][data-runtime="browser"]:is([data-state="done"], [data-held="true"])').waitFor({ timeout: 30_000 });
    await page.locator('[data-grade]').evaluate((card) => { card.scrollTop = 0; });
  } else if (compare) {
    if (compareBy) {
      await page.selectOption('[data-control="compare-by"]', compareBy);
      if (flag('a', null)) await page.selectOption('[data-control="compare-a"]', flag('a', null));
      if (flag('b', null)) await page.selectOption('[data-control="compare-b"]', flag('b', null));
    } else {
      await page.click('[data-case="expired-refreshable"]');
      await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
    }
    await page.click('[data-action="compare"]');
    await page.waitForFunction((count) => document.querySelectorAll('[data-timeline][data-state="done"]').length === count, 2, { timeout: 30_000 });
  } else {
    await page.click('[data-case="expired-refreshable"]');
    await page.locator('[data-timeline][data-state="done"]').waitFor({ timeout: 30_000 });
  }
  if (classroom) {
    await page.click('[data-action="share-room"]');
    await page.locator('[data-classroom][data-state="open"] [data-roster] [data-seat="3"]').waitFor();
  }
  if (flag('inspect', null)) {
    await page.click(`[data-inspector] [data-token="${flag('inspect', null)}"]`);
    await page.locator('[data-token-kind]').waitFor();
  }
  if (code) {
    await page.click('[data-action="code"]');
    await page.click('[data-action="own-code"]');
    await page.setInputFiles('[data-control="code-file"]', path.resolve(code));
    await page.locator('[data-code-status]:not(:empty)').waitFor();
  }
  if (presenter) await page.click('[data-action="advanced"]');
  // The pointer rests off the page; animations show their end (a pulse its first frame).
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  if (element) await page.locator(element).first().screenshot({ path: out, animations: 'disabled' });
  else await page.screenshot({ path: out, fullPage: !args.includes('--viewport'), animations: 'disabled' });
  if (errors.length) console.error('page errors:', errors);
  console.log(`saved ${out}`);
} finally {
  if (browser) await browser.close();
  await server.stop();
}
