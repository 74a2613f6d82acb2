import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLane, compareLanes, orderLanes, splitLanes, tabGroups, visibleRange, mergeMarkers, fitLabels, textWidth } from '../../ui/lib/layout.js';

test('parses lane names', () => {
  assert.deepEqual(parseLane('secret#12'), { name: 'secret#12', group: 'secret', prefix: 'secret', tab: 1, index: 12, request: true });
  assert.deepEqual(parseLane('tab3/public#2'), { name: 'tab3/public#2', group: 'public', prefix: 'public', tab: 3, index: 2, request: true });
  assert.equal(parseLane('timer#1').group, 'timer');
  assert.equal(parseLane('server').group, 'server');
  assert.equal(parseLane('server').request, false);
  assert.equal(parseLane('late#1').group, 'late');
  assert.equal(parseLane('tab2#3').group, 'other');
});

test('orders secret, public, late, then client and server; numeric within a group', () => {
  const names = ['server', 'public#2', 'late#1', 'secret#10', 'client', 'secret#2', 'public#1', 'secret#1'];
  assert.deepEqual(orderLanes(names), ['secret#1', 'secret#2', 'secret#10', 'public#1', 'public#2', 'late#1', 'client', 'server']);
  assert.ok(compareLanes('secret#9', 'secret#10') < 0);
  assert.ok(compareLanes('server', 'client') > 0);
  assert.deepEqual(orderLanes(['secret#1', 'secret#1']), ['secret#1'], 'no duplicates');
});

test('several tabs: rows by tab, client and server after them all', () => {
  const names = ['server', 'tab2/secret#1', 'timer#1', 'tab10/secret#1', 'client', 'tab2/public#1', 'secret#2', 'secret#1'];
  assert.deepEqual(orderLanes(names), ['secret#1', 'secret#2', 'timer#1', 'tab2/secret#1', 'tab2/public#1', 'tab10/secret#1', 'client', 'server']);
});

test('tab groups: the first row of each tab opens it, even tabs are shaded; one tab has no groups', () => {
  const groups = tabGroups(['secret#1', 'secret#2', 'tab2/secret#1', 'tab2/secret#2', 'tab3/secret#1']);
  assert.deepEqual(groups.map((g) => [g.tab, g.opens, g.shaded]), [
    [1, true, false], [1, false, false], [2, true, true], [2, false, true], [3, true, false],
  ]);
  assert.deepEqual(tabGroups(['secret#1', 'public#1']).map((g) => g.opens || g.shaded), [false, false]);
  assert.deepEqual(tabGroups([]), []);
});

test('splits request rows from the pinned client/server rows', () => {
  const { requests, pinned } = splitLanes(['server', 'secret#1', 'client', 'public#1']);
  assert.deepEqual(requests, ['secret#1', 'public#1']);
  assert.deepEqual(pinned, ['client', 'server']);
});

test('visible range windows a 10,000-row list', () => {
  assert.deepEqual(visibleRange({ rowCount: 10_000, rowHeight: 36, scrollTop: 0, viewportHeight: 360, overscan: 2 }), { first: 0, end: 12 });
  assert.deepEqual(visibleRange({ rowCount: 10_000, rowHeight: 36, scrollTop: 36_000, viewportHeight: 360, overscan: 2 }), { first: 998, end: 1012 });
  assert.deepEqual(visibleRange({ rowCount: 10_000, rowHeight: 36, scrollTop: 359_900, viewportHeight: 360, overscan: 2 }), { first: 9995, end: 10_000 });
  assert.deepEqual(visibleRange({ rowCount: 0, rowHeight: 36, scrollTop: 0, viewportHeight: 360 }), { first: 0, end: 0 });
  const { first, end } = visibleRange({ rowCount: 10_000, rowHeight: 36, scrollTop: 5_000, viewportHeight: 500 });
  assert.ok(end - first < 30, 'only a screenful of rows, not 10,000');
});

test('merges markers that would overlap, per key', () => {
  const markers = [
    { t: 0, k: 'rejected' },
    { t: 5, k: 'rejected' },
    { t: 6, k: 'issued' },
    { t: 100, k: 'rejected' },
  ];
  const merged = mergeMarkers(markers, { x: (m) => m.t, key: (m) => m.k, px: 10 });
  assert.deepEqual(merged.map((m) => [m.key, m.x, m.count]), [['rejected', 0, 2], ['issued', 6, 1], ['rejected', 100, 1]]);
});

test('labels shrink to fit before the next marker, or are dropped', () => {
  const items = [
    { x: 0, textX: 10, widths: [100, 40] },
    { x: 60, textX: 70, widths: [30, 20] },
    { x: 90, textX: 100, widths: [50, 20] },
    { x: 200, textX: 210, widths: [500, 80] },
  ];
  assert.deepEqual(fitLabels(items, { gap: 4, end: 300 }), [1, -1, 0, 1]);
});

test('text width estimates grow with length, size and boldness', () => {
  assert.equal(textWidth('abcd', 10), 24);
  assert.ok(textWidth('LOGGED OUT', 16, 0.78) > textWidth('LOGGED OUT', 16));
});

test('placeRow keeps boxes apart in order, moving only the ones that would overlap', async () => {
  const { placeRow } = await import('../../ui/lib/layout.js');
  assert.deepEqual(placeRow([{ x: 10, width: 30 }, { x: 20, width: 50 }, { x: 200, width: 10 }], { gap: 4 }), [10, 44, 200]);
  assert.deepEqual(placeRow([{ x: 10, width: 30 }, { x: 12, width: 10 }, { x: 13, width: 10 }], { gap: 2 }), [10, 42, 54]);
  assert.deepEqual(placeRow([]), []);
  // Past the end, the last boxes move left, still apart; the others stay.
  assert.deepEqual(placeRow([{ x: 10, width: 30 }, { x: 90, width: 30 }, { x: 95, width: 20 }], { gap: 4, end: 130 }), [10, 76, 110]);
  assert.deepEqual(placeRow([{ x: 5, width: 30 }], { end: 20 }), [0]);
});
