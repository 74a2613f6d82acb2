import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ROSTER_POLL_MS, phaseFromProbe, phaseFromStatus, canShare, parseJoinUrl, seatFrom, roomFrom, seatRow, rosterSummary,
  limitsLine, codeGroups, openErrorMessage, initialState, panelState, afterProbe, afterRoster, afterOpen, afterClose, toggle, startOpening, nextStep,
  QR_ELEMENTS, qrAttributeAllowed, qrViewBox,
} from '../../ui/lib/classroom.js';
import { challengesFromOptions } from '../../ui/lib/challenges.js';
import { options } from './fixtures.mjs';

// What GET /lab/classroom answers (the shape of web::RoomInfo).
const ROOM = {
  code: 'K7M2QX',
  join_url: 'http://192.0.2.10:41234/join?code=K7M2QX',
  qr_svg: '<?xml version="1.0" standalone="yes"?><svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="259" height="259" viewBox="0 0 259 259" shape-rendering="crispEdges"><rect x="0" y="0" width="259" height="259" fill="#fff"/><path fill="#000" d="M28 28h7v7H28V28"/></svg>',
  limits: { max_attendees: 60, runs_per_attendee: 2, requests_per_run: 200, api_events: 1000 },
  seats: [
    { number: 2, runs_live: 1, runs_done: 0, solved: [] },
    { number: 1, runs_live: 0, runs_done: 3, solved: ['queue-refreshes-twice', 'logout-two-requests'] },
  ],
};
const titles = new Map(challengesFromOptions(options().challenges).map((c) => [c.id, c.title]));

test('whose page: the status route says instructor (open or not) or attendee; anything else offers nothing', () => {
  assert.equal(phaseFromProbe(200, { role: 'instructor', open: true }), 'open');
  assert.equal(phaseFromProbe(200, { role: 'instructor', open: false }), 'closed');
  assert.equal(phaseFromProbe(200, { role: 'attendee', open: true, seat: 3 }), 'attendee');
  assert.equal(phaseFromProbe(401, { error: 'not_joined' }), 'attendee');
  assert.equal(phaseFromProbe(404, null), 'unavailable', 'an engine without classroom mode');
  assert.equal(phaseFromProbe(0, null), 'unavailable', 'no answer');
  assert.equal(phaseFromProbe(200, { role: 'someone' }), 'unavailable');
  assert.equal(phaseFromProbe(200, null), 'unavailable');
  // The roster route: 200 open, 404 none, 403 on the room's address.
  assert.deepEqual([200, 404, 403, 401, 500].map(phaseFromStatus), ['open', 'closed', 'attendee', 'attendee', 'unavailable']);
  assert.deepEqual(['open', 'closed', 'opening', 'failed'].filter(canShare), ['open', 'closed', 'opening', 'failed']);
  assert.deepEqual(['unknown', 'attendee', 'unavailable'].filter(canShare), []);
});

test('a join URL: its origin, host, port and code; anything else is not one', () => {
  assert.deepEqual(parseJoinUrl(' http://192.0.2.10:41234/join?code=K7M2QX '), {
    url: 'http://192.0.2.10:41234/join?code=K7M2QX',
    origin: 'http://192.0.2.10:41234',
    host: '192.0.2.10',
    port: 41234,
    code: 'K7M2QX',
  });
  assert.equal(parseJoinUrl('http://[fe80::1]/join?code=AB').port, 80);
  assert.equal(parseJoinUrl('http://[fe80::1]/join?code=AB').host, '[fe80::1]');
  for (const bad of ['', 'nonsense', 'ftp://h/join?code=X', 'http://h/', 'http://h/join', 'http://h/join?code=', 'javascript:alert(1)//join?code=1', null, 42]) {
    assert.equal(parseJoinUrl(bad), null, String(bad));
  }
});

test('the room from the lab\'s answer: checked, seats in joining order', () => {
  const room = roomFrom(ROOM);
  assert.equal(room.code, 'K7M2QX');
  assert.equal(room.joinUrl, ROOM.join_url);
  assert.ok(room.qrSvg.includes('<svg'));
  assert.deepEqual(room.limits, { maxAttendees: 60, runsPerAttendee: 2, requestsPerRun: 200 });
  assert.deepEqual(room.seats.map((s) => s.number), [1, 2]);
  assert.deepEqual(room.seats[0], { number: 1, runsLive: 0, runsDone: 3, solved: ['queue-refreshes-twice', 'logout-two-requests'] });
  assert.equal(roomFrom({ ...ROOM, join_url: 'not a url' }), null);
  assert.equal(roomFrom({ ...ROOM, code: '' }), null);
  assert.equal(roomFrom(null), null);
  assert.equal(roomFrom({ error: 'not_found' }), null);
  // Unreadable seats are dropped, odd counts read as 0, solved ids deduplicated.
  const odd = roomFrom({ ...ROOM, qr_svg: 7, limits: null, seats: [null, { number: 0 }, { number: 4, runs_live: -1, runs_done: 'x', solved: ['a', 'a', 3] }] });
  assert.deepEqual(odd.seats, [{ number: 4, runsLive: 0, runsDone: 0, solved: ['a'] }]);
  assert.equal(odd.qrSvg, '');
  assert.deepEqual(odd.limits, { maxAttendees: 0, runsPerAttendee: 0, requestsPerRun: 0 });
  assert.equal(seatFrom({ number: 1.5 }), null);
});

test('roster rows: runs done and running, solved challenges by their titles', () => {
  const [one, two] = roomFrom(ROOM).seats;
  assert.deepEqual(seatRow(one, titles), {
    number: 1,
    label: 'Seat 1',
    runs: '3 runs done',
    solved: [{ id: 'queue-refreshes-twice', title: 'Make the queue refresh twice' }, { id: 'logout-two-requests', title: 'Log the user out' }],
    state: 'active',
  });
  assert.equal(seatRow(two, titles).runs, '1 running');
  assert.equal(seatRow(two, titles).state, 'running');
  assert.equal(seatRow({ number: 3, runsLive: 0, runsDone: 0, solved: [] }).runs, 'joined, no run yet');
  assert.equal(seatRow({ number: 3, runsLive: 0, runsDone: 0, solved: [] }).state, 'new');
  assert.equal(seatRow({ number: 3, runsLive: 2, runsDone: 1, solved: [] }).runs, '1 run done · 2 running');
  // Without titles (options not loaded yet) the id stands in.
  assert.deepEqual(seatRow({ number: 5, runsLive: 0, runsDone: 1, solved: ['new-one'] }).solved, [{ id: 'new-one', title: 'new-one' }]);

  assert.equal(rosterSummary([]), 'Nobody has joined yet.');
  assert.equal(rosterSummary(roomFrom(ROOM).seats), '2 attendees · 3 runs done · 1 running now · 1 solved a challenge.');
  assert.equal(rosterSummary([{ number: 1, runsLive: 0, runsDone: 1, solved: [] }]), '1 attendee · 1 run done.');
});

test('the code is shown in groups of five', () => {
  assert.deepEqual(codeGroups('H2EC7C6PPK'), ['H2EC7', 'C6PPK']);
  assert.deepEqual(codeGroups('ABCDEF'), ['ABCDEF'], 'a short code stays whole');
  assert.deepEqual(codeGroups(''), []);
});

test('the limits line and the message when the room cannot be opened', () => {
  assert.equal(limitsLine(roomFrom(ROOM).limits), 'Each attendee has their own runs, lab clock and tokens: 2 runs at a time, 200 requests a run; up to 60 seats.');
  assert.equal(limitsLine({ maxAttendees: 0, runsPerAttendee: 1, requestsPerRun: 10 }), 'Each attendee has their own runs, lab clock and tokens: 1 run at a time, 10 requests a run.');
  assert.equal(limitsLine(null), '');
  assert.equal(openErrorMessage(500, { error: 'internal', message: 'cannot open the classroom on 192.0.2.1: Address in use' }),
    'Could not open the lab to the room: cannot open the classroom on 192.0.2.1: Address in use');
  assert.equal(openErrorMessage(502, null), 'Could not open the lab to the room (HTTP 502).');
  assert.equal(openErrorMessage(0, null), 'Could not open the lab to the room: the lab did not answer.');
});

test('the panel\'s steps: show an open room, open one once when none is, poll while shown', () => {
  let s = initialState();
  assert.equal(nextStep(s), 'none');
  // The instructor's page, a room already open (serve --classroom).
  s = afterProbe(s, 200, { role: 'instructor', open: true });
  assert.equal(s.phase, 'open');
  assert.equal(nextStep(s), 'none', 'nothing while the panel is closed');
  s = toggle(s);
  assert.equal(s.shown, true);
  assert.equal(nextStep(s), 'read', 'the open room is read, not another one opened');
  assert.equal(panelState(s), 'reading');
  s = afterRoster(s, 200, ROOM);
  assert.equal(panelState(s), 'open');
  assert.equal(s.room.code, 'K7M2QX');
  assert.equal(nextStep(s), 'poll');
  s = afterProbe(s, 200, { role: 'instructor', open: true });
  assert.equal(s.room.code, 'K7M2QX', 'a probe keeps the room on screen');
  // A blip keeps the room on screen; closing stops the polling.
  s = afterRoster(s, 0, null);
  assert.equal(s.room.code, 'K7M2QX');
  s = toggle(s);
  assert.equal(nextStep(s), 'none');

  // No room yet: showing the panel opens one, once.
  let t = afterProbe(initialState(), 200, { role: 'instructor', open: false });
  assert.equal(t.phase, 'closed');
  t = toggle(t, true);
  assert.equal(nextStep(t), 'open');
  t = startOpening(t);
  assert.equal(nextStep(t), 'none', 'no second POST while one is on its way');
  assert.equal(afterProbe(t, 200, { role: 'instructor', open: false }), t, 'a probe answered meanwhile changes nothing');
  assert.equal(afterRoster(t, 404, null), t);
  const failed = afterOpen(t, 500, { message: 'no address' });
  assert.equal(failed.phase, 'failed');
  assert.equal(nextStep(failed), 'none', 'a failure is not retried in a loop');
  assert.equal(afterProbe(failed, 200, { role: 'instructor', open: false }).phase, 'failed');
  // "Try again", or closing and showing the panel again, tries again.
  assert.equal(nextStep(toggle(toggle(failed, false), true)), 'open');
  const opened = afterOpen(startOpening(failed), 200, ROOM);
  assert.equal(opened.phase, 'open');
  assert.equal(opened.room.joinUrl, ROOM.join_url);
  assert.equal(nextStep(opened), 'poll');
  assert.equal(afterOpen(t, 200, { nonsense: true }).phase, 'failed', 'an answer that is not a room');
  // Closed behind our back after we opened it: say so, do not reopen by ourselves.
  const gone = afterRoster(opened, 404, null);
  assert.equal(gone.phase, 'closed');
  assert.equal(gone.room, null);
  assert.equal(nextStep(gone), 'none');

  // The instructor closes the room: nothing on screen, not reopened by
  // itself; showing the panel again opens a new one.
  const closed = afterClose(opened);
  assert.deepEqual([closed.phase, closed.room, nextStep(closed)], ['closed', null, 'none']);
  assert.equal(nextStep(toggle(toggle(closed, false), true)), 'open');

  // An attendee's page never shares.
  const a = afterProbe(initialState(), 200, { role: 'attendee', open: true, seat: 2 });
  assert.equal(canShare(a.phase), false);
  assert.equal(nextStep(toggle(a, true)), 'none');
  assert.ok(ROSTER_POLL_MS >= 1000 && ROSTER_POLL_MS <= 5000, 'every few seconds');
});

test('the QR code keeps only what a QR code needs', () => {
  assert.deepEqual([...QR_ELEMENTS].sort(), ['g', 'path', 'rect', 'svg']);
  for (const [name, value] of [['viewBox', '0 0 259 259'], ['d', 'M28 28h7v7H28V28'], ['fill', '#000'], ['shape-rendering', 'crispEdges'], ['width', '259']]) {
    assert.equal(qrAttributeAllowed(name, value), true, name);
  }
  for (const [name, value] of [['onload', 'alert(1)'], ['style', 'fill:red'], ['href', '#x'], ['xlink:href', 'javascript:alert(1)'], ['fill', 'url(https://example.org/x)'], ['fill', 'javascript:x'], ['d', '"><script>']]) {
    assert.equal(qrAttributeAllowed(name, value), false, `${name}=${value}`);
  }
  assert.equal(qrViewBox({ viewBox: ' 0 0 259 259 ', width: '1', height: '1' }), '0 0 259 259');
  assert.equal(qrViewBox({ viewBox: null, width: '240', height: '240' }), '0 0 240 240');
  assert.equal(qrViewBox({ viewBox: 'nonsense', width: '240px', height: '240px' }), '0 0 240 240');
  assert.equal(qrViewBox({ viewBox: null, width: null, height: null }), null);
});
