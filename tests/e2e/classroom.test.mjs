// Classroom mode in Chromium, against `refresh-race serve --classroom
// --room-host 127.0.0.1` (the room always on loopback in tests): an
// attendee joins through the printed URL and runs case 3; a browser
// without the code gets only the join page; the instructor's share panel
// shows the room that is already open, its QR code, and the attendee's
// seat in the roster. Opening a room that fails is played with the lab's
// answers stubbed in the page, so no test ever binds a room-facing address.
//
//   cargo build && node --test --test-concurrency=1 tests/e2e/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, openLab } from './harness.mjs';

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

/** A fresh browser context (its own cookies) with one page collecting errors. */
async function freshPage() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return { context, page, errors };
}

test('the server printed a loopback join URL with a code', () => {
  assert.ok(server.room, 'the classroom line was printed');
  assert.match(server.room.joinUrl, /^http:\/\/127\.0\.0\.1:\d+\/join\?code=[A-Z2-9]{10}$/);
  assert.notEqual(server.room.url, server.url, 'the room has its own port');
});

test('an attendee joins through the printed URL, lands on the lab and runs case 3', async () => {
  const { context, page, errors } = await freshPage();
  try {
    // The page asks the lab whether it is the instructor's: on the room's address, no.
    const probe = page.waitForResponse((r) => new URL(r.url()).pathname === '/lab/classroom/status');
    await page.goto(server.room.joinUrl);
    assert.equal(page.url(), server.room.url, 'the join link redirects to the lab');
    await page.waitForSelector('body[data-ready="true"]');
    const status = await probe;
    assert.deepEqual([status.status(), await status.json()], [200, { role: 'attendee', open: true, seat: 1 }]);
    // The roster stays the instructor's.
    assert.equal(await page.evaluate(() => fetch('/lab/classroom').then((r) => r.status)), 403);
    errors.length = 0; // that refusal's line in the console
    assert.equal(await page.locator('[data-action="share-room"]').isHidden(), true, 'no share button for attendees');
    assert.equal(await page.locator('[data-classroom]').isHidden(), true);

    await page.click('[data-case="expired-refreshable"]');
    const timeline = page.locator('[data-timeline][data-state="done"]');
    await timeline.waitFor({ timeout: 20_000 });
    assert.equal(await timeline.getAttribute('data-strategy'), 'naive');
    const verdict = timeline.locator('[data-verdict]');
    assert.equal(await verdict.getAttribute('data-refresh-calls'), '3');
    assert.equal(await page.locator('[data-error]').isHidden(), true);
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await context.close();
  }
});

test('without the code the room shows only the join page; the APIs answer 401; a wrong code is refused', async () => {
  const { context, page } = await freshPage();
  try {
    const response = await page.goto(server.room.url);
    assert.equal(response.status(), 200);
    await page.locator('[data-join]').waitFor();
    assert.equal(await page.locator('[data-timeline], [data-case]').count(), 0, 'none of the lab');
    const answers = await page.evaluate(async () => Promise.all(['/lab/options', '/lab/classroom', '/api/public'].map(async (path) => {
      const r = await fetch(path);
      return { path, status: r.status, body: await r.json() };
    })));
    for (const answer of answers) {
      assert.equal(answer.status, 401, answer.path);
      assert.equal(answer.body.error, 'not_joined', answer.path);
    }
    // O and 1 are not in the codes' alphabet: never the room's code.
    await page.fill('[data-join-code]', 'WRONG1');
    const [joined] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/join'),
      page.click('[data-join] button[type="submit"]'),
    ]);
    assert.equal(joined.status(), 403);
    const error = page.locator('[data-join-error]');
    await error.waitFor();
    assert.match(await error.textContent(), /not this room's code/);
    assert.equal(await page.locator('[data-join]').count(), 1, 'still only the join page');
    assert.deepEqual(await context.cookies(), [], 'no seat');
  } finally {
    await context.close();
  }
});

test('the instructor\'s share panel shows the open room, its QR code and the roster, read again while open', async () => {
  const { page, errors } = await openLab(browser, server.url, { width: 1400, height: 1000 });
  const opened = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/lab/classroom/open') opened.push(r.method());
  });
  const context = page.context();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
  let second = null;
  try {
    const button = page.locator('[data-action="share-room"]');
    await page.locator('[data-action="share-room"][data-room-open="true"]').waitFor();
    assert.equal(await button.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.locator('[data-classroom]').isHidden(), true, 'closed until asked for');
    // In the masthead's one line, beside Challenges: the page does not move down for it.
    const [share, challenges] = await Promise.all([button.boundingBox(), page.locator('[data-action="challenges"]').boundingBox()]);
    assert.ok(Math.abs(share.y - challenges.y) < 2 && share.x > challenges.x, 'beside the Challenges button');

    await button.click();
    const panel = page.locator('[data-classroom][data-state="open"]');
    await panel.waitFor();
    assert.equal(await button.getAttribute('aria-expanded'), 'true');
    assert.equal(await page.locator('[data-room-code]').textContent(), server.room.code);
    const joinUrl = page.locator('[data-join-url]');
    assert.equal(await joinUrl.getAttribute('data-join-url'), server.room.joinUrl);
    assert.equal(await joinUrl.textContent(), server.room.joinUrl);

    // The QR code: an <svg> drawn from the lab's SVG, square, black on white.
    const qr = await page.locator('[data-room-qr] svg').evaluate((svg) => {
      const box = svg.getBoundingClientRect();
      return {
        viewBox: svg.getAttribute('viewBox'),
        role: svg.getAttribute('role'),
        paths: svg.querySelectorAll('path').length,
        fills: [...svg.querySelectorAll('rect, path')].map((e) => e.getAttribute('fill')),
        scripts: svg.querySelectorAll('script, foreignObject').length,
        width: box.width,
        height: box.height,
      };
    });
    assert.match(qr.viewBox, /^0 0 (\d+) \1$/);
    assert.equal(qr.role, 'img');
    assert.ok(qr.paths >= 1);
    assert.deepEqual([...new Set(qr.fills)].sort(), ['#000', '#fff']);
    assert.equal(qr.scripts, 0);
    assert.ok(qr.width >= 160 && Math.abs(qr.width - qr.height) < 1, `square and large enough: ${qr.width}×${qr.height}`);

    // The attendee of the first test: seat 1, one run done.
    const seat = page.locator('[data-roster] [data-seat="1"]');
    await seat.waitFor();
    assert.equal(await seat.getAttribute('data-runs-done'), '1');
    assert.equal(await seat.getAttribute('data-runs-live'), '0');
    assert.match(await seat.textContent(), /Seat 1.*1 run done/);

    // Another attendee joins while the panel is open: the roster shows them
    // within a poll or two.
    second = await freshPage();
    await second.page.goto(server.room.joinUrl);
    await second.page.waitForSelector('body[data-ready="true"]');
    await page.locator('[data-roster] [data-seat="2"][data-runs-done="0"]').waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('[data-roster]').getAttribute('data-seats'), '2');

    // The panel floats over the page: nothing under it moved.
    assert.equal(await page.locator('[data-classroom]').evaluate((el) => getComputedStyle(el).position), 'fixed');

    // Copy the link.
    await page.click('[data-action="copy-join-url"]');
    await page.locator('[data-copy-status]', { hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), server.room.joinUrl);

    // Escape closes it and gives the focus back to the button.
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('[data-classroom]').isHidden(), true);
    assert.equal(await button.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-action')), 'share-room');

    assert.deepEqual(opened, [], 'the open room was shown, not another one opened');
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    if (second) await second.context.close();
    await page.close();
  }
});

test('a room that cannot be opened says why in the page\'s error area; trying again opens it', async () => {
  // The lab's answers are stubbed in the page: nothing is bound for real.
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const origin = new URL(server.url).origin;
  const fakeJoin = 'http://127.0.0.1:9/join?code=ABCDEF';
  const room = {
    code: 'ABCDEF',
    join_url: fakeJoin,
    qr_svg: '<?xml version="1.0" standalone="yes"?><svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="20" height="20" viewBox="0 0 20 20" onload="alert(1)"><script>alert(2)</script><rect x="0" y="0" width="20" height="20" fill="#fff"/><path fill="#000" d="M8 8h4v4H8V8"/></svg>',
    limits: { max_attendees: 60, runs_per_attendee: 2, requests_per_run: 200, api_events: 1000 },
    seats: [{ number: 1, runs_live: 1, runs_done: 4, solved: ['queue-refreshes-twice'] }],
  };
  let open = false;
  const posts = [];
  await page.route(`${origin}/lab/classroom/status`, (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: JSON.stringify({ role: 'instructor', open }),
  }));
  await page.route(`${origin}/lab/classroom`, (route) => route.fulfill(open
    ? { status: 200, contentType: 'application/json', body: JSON.stringify(room) }
    : { status: 404, contentType: 'application/json', body: JSON.stringify({ error: 'not_found', message: 'no classroom is open' }) }));
  await page.route(`${origin}/lab/classroom/open`, (route) => {
    posts.push(route.request().postData());
    if (posts.length === 1) {
      return route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'internal', message: 'cannot find this machine\'s address on the room\'s network; give one with --room-host' }) });
    }
    open = true;
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(room) });
  });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('dialog', (dialog) => { errors.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
  try {
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    const button = page.locator('[data-action="share-room"]');
    await button.waitFor();
    assert.equal(await button.getAttribute('data-room-open'), 'false');
    await button.click();
    await page.locator('[data-classroom][data-state="failed"]').waitFor();
    const error = page.locator('[data-error]');
    assert.equal(await error.isVisible(), true);
    assert.match(await error.textContent(), /Could not open the lab to the room: cannot find this machine's address/);
    assert.equal(posts.length, 1, 'one try, no loop');
    assert.equal(posts[0], null, 'no body: the machine\'s own address');

    await page.click('[data-action="open-room"]');
    await page.locator('[data-classroom][data-state="open"]').waitFor();
    assert.equal(await page.locator('[data-room-code]').textContent(), 'ABCDEF');
    assert.equal(await error.isHidden(), true, 'the message went once the room opened');
    // Only what a QR code needs survived the copy.
    const svg = await page.locator('[data-room-qr] svg').evaluate((el) => ({
      onload: el.getAttribute('onload'),
      scripts: el.querySelectorAll('script').length,
      children: [...el.children].map((c) => c.localName),
    }));
    assert.deepEqual(svg, { onload: null, scripts: 0, children: ['rect', 'path'] });
    // The roster names solved challenges by their titles.
    const seat = page.locator('[data-seat="1"]');
    assert.equal(await seat.getAttribute('data-solved'), 'queue-refreshes-twice');
    await page.locator('[data-seat="1"] [data-challenge-solved="queue-refreshes-twice"]', { hasText: 'Make the queue refresh twice' }).waitFor();
    assert.match(await seat.textContent(), /4 runs done · 1 running/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

// Last: it closes the room the other tests use.
test('the instructor removes a seat and closes the room; the room\'s port stops answering', async () => {
  const attendee = await freshPage();
  const { page, errors } = await openLab(browser, server.url, { width: 1400, height: 1000 });
  try {
    await attendee.page.goto(server.room.joinUrl);
    await attendee.page.waitForSelector('body[data-ready="true"]');
    const seat = await attendee.page.evaluate(() => fetch('/lab/classroom/status').then((r) => r.json()).then((b) => b.seat));
    assert.ok(Number.isInteger(seat), 'the attendee has a seat');

    await page.click('[data-action="share-room"]');
    const row = page.locator(`[data-roster] [data-seat="${seat}"]`);
    await row.waitFor();
    await page.click(`[data-action="remove-seat"][data-seat-number="${seat}"]`);
    await row.waitFor({ state: 'detached' });
    assert.equal(await attendee.page.evaluate(() => fetch('/lab/options').then((r) => r.status)), 401, 'a removed seat is no seat');

    await page.click('[data-action="close-room"]');
    await page.locator('[data-classroom][data-state="closed"]').waitFor();
    assert.match(await page.textContent('[data-classroom-status]'), /not open to the room/);
    assert.equal(await page.locator('[data-action="open-room"]').isVisible(), true, 'it can be opened again');
    const reached = await fetch(server.room.url).then(() => true, () => false);
    assert.equal(reached, false, 'nobody listens on the room\'s port');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await attendee.context.close();
  }
});
