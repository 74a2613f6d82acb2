import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  linkLimits, encodeLink, decodeLink, checkLinkSettings, runLinkSettings, openPlan, nextInOrder, FRAGMENT_PREFIX,
} from '../../ui/lib/link.js';
import { limitsFromOptions, knobsOf } from '../../ui/lib/validate.js';
import { MAX_MODULE_BYTES } from '../../ui/lib/module-check.js';
import { options, report } from './fixtures.mjs';

const lab = options();
const bounds = linkLimits(lab.limits);
const limits = limitsFromOptions(lab.limits);
const offered = {
  cases: lab.cases,
  strategies: lab.strategies,
  policies: lab.policies.map((p) => (typeof p === 'string' ? p : p.name)),
  networks: lab.networks,
  modes: lab.modes,
  crossTabs: lab.cross_tabs,
  runtimes: lab.runtimes,
  modules: ['your interceptor', 'axios-auth-refresh@5'],
};
const knobsFor = (policy) => knobsOf(lab.policies.find((p) => p && p.name === policy) ?? null);
// Settings as the engine wrote them into a recorded run.
const queue = report('expired-refreshable-queue-strict').settings;
const held = { ...report('expired-refreshable-naive-family').settings, network: 'hand', deliver: ['secret#1>', 'secret#2>', 'secret#1<'] };

async function deflated(json) {
  const stream = new Blob([new TextEncoder().encode(json)]).stream().pipeThrough(new CompressionStream('deflate'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  return Buffer.from(bytes).toString('base64url');
}

test('the lab hands the page the link format and its bounds', () => {
  assert.deepEqual(bounds, { version: 1, maxChars: 32768, maxJsonBytes: 163840 });
  assert.equal(linkLimits({ ...lab.limits, max_link_chars: 0 }), null);
  assert.equal(linkLimits(undefined), null);
});

test('a link reads back as it was written: settings, order and module', async () => {
  const source = 'export function createClient() {}\n// "quotes", </script>, ünïcödé\n';
  const made = await encodeLink({ settings: held, source }, bounds);
  assert.ok(made.ok, made.message);
  assert.ok(made.fragment.startsWith(`${FRAGMENT_PREFIX}1.`), made.fragment);
  assert.match(made.fragment.slice(5), /^[A-Za-z0-9_-]+$/, 'base64url, no padding');
  for (const text of [made.fragment, `http://127.0.0.1:3000/${made.fragment}`]) {
    const read = await decodeLink(text, bounds);
    assert.ok(read.ok, read.message);
    assert.deepEqual(read.link, { settings: held, source });
  }
  const plain = await decodeLink((await encodeLink({ settings: queue }, bounds)).fragment, bounds);
  assert.deepEqual(plain.link, { settings: queue, source: null });
});

test('every changed character of a link is refused as damaged', async () => {
  const { fragment } = await encodeLink({ settings: held }, bounds);
  const start = `${FRAGMENT_PREFIX}1.`.length;
  let refused = 0;
  for (let at = start; at < fragment.length; at++) {
    const edited = fragment.slice(0, at) + (fragment[at] === 'A' ? 'B' : 'A') + fragment.slice(at + 1);
    const read = await decodeLink(edited, bounds);
    assert.equal(read.ok, false, `character ${at} changed and the link still read`);
    assert.match(read.message, /^The link was refused: it is damaged .*edited or cut short\?$/);
    refused += 1;
  }
  assert.equal(refused, fragment.length - start);
  const cut = await decodeLink(fragment.slice(0, -3), bounds);
  assert.match(cut.message, /damaged/);
});

test('another version, too long, too large once unpacked, not a setup: each says what was refused', async () => {
  const { fragment } = await encodeLink({ settings: queue }, bounds);
  assert.equal((await decodeLink(fragment.replace('#s=1.', '#s=2.'), bounds)).message,
    'The link was refused: it is of format 2, and this Refresh Race reads format 1 links.');
  const long = `#s=1.${'A'.repeat(bounds.maxChars)}`;
  assert.equal((await decodeLink(long, bounds)).message,
    `The link was refused: it is ${long.length} characters long, and at most ${bounds.maxChars} are read.`);
  const bomb = `#s=1.${await deflated(JSON.stringify({ settings: queue, source: ' '.repeat(bounds.maxJsonBytes) }))}`;
  assert.ok(bomb.length < bounds.maxChars, 'a small link');
  assert.equal((await decodeLink(bomb, bounds)).message, `The link was refused: it unpacks to more than ${bounds.maxJsonBytes} bytes.`);
  const extra = `#s=1.${await deflated(JSON.stringify({ settings: queue, run: 'now' }))}`;
  assert.match((await decodeLink(extra, bounds)).message, /parts this Refresh Race does not know \(run\)/);
  const notJson = `#s=1.${await deflated('settings=1')}`;
  assert.equal((await decodeLink(notJson, bounds)).message, 'The link was refused: its data is not JSON.');
  const bigModule = `#s=1.${await deflated(JSON.stringify({ settings: queue, source: 'x'.repeat(MAX_MODULE_BYTES + 1) }))}`;
  assert.match((await decodeLink(bigModule, bounds)).message, new RegExp(`its module is ${MAX_MODULE_BYTES + 1} bytes`));
  const none = await decodeLink('http://127.0.0.1:3000/', bounds);
  assert.equal(none.ok, false);
  assert.equal(none.none, true);
});

test('a link too long to share says so when it is made, naming the module', async () => {
  // Text that does not compress: each line a different number in base 36.
  const source = Array.from({ length: 6000 }, (_, i) => `// ${(i * 7919).toString(36)} ${(i * 104729).toString(36)}`).join('\n');
  const made = await encodeLink({ settings: queue, source }, bounds);
  assert.equal(made.ok, false);
  assert.match(made.message, /^This run's link would be \d+ characters long: at most 32768 fit in a link\. Its module is the long part/);
});

test('a link\'s settings are checked like the controls before anything runs', () => {
  const check = (settings) => checkLinkSettings(settings, { limits, offered, knobs: knobsFor(settings.policy) });
  assert.deepEqual(check(queue), { ok: true });
  assert.deepEqual(check(held), { ok: true });
  assert.equal(check({ ...queue, secret: 0 }).message, 'The link was refused: Secret requests must be between 1 and 10000 (got 0).');
  assert.equal(check({ ...queue, latency_ms: { ...queue.latency_ms, refresh: 99999 } }).message,
    'The link was refused: Refresh latency (ms) must be between 0 and 10000 (got 99999).');
  assert.match(check({ ...queue, policy: 'sometimes' }).message, /^The link was refused: its server policy "sometimes" is not one this lab offers \(strict, family/);
  assert.match(check({ ...queue, strategy: 'greedy' }).message, /its client "greedy"/);
  assert.match(check({ ...queue, module: 'evil.js', runtime: 'browser' }).message, /its module "evil.js" is not one this lab offers/);
  assert.equal(check({ ...queue, deliver: ['secret#1>'] }).message,
    'The link was refused: it has a delivery order but the timer delivers: an order needs network step or hand.');
  assert.match(check({ ...held, deliver: ['secret#1>', '<img src=x>'] }).message, /its delivery order are not legs of a run/);
  assert.match(check({ ...queue, tabs: 9 }).message, /Tabs must be between 1 and 8 \(got 9\)/);
});

test('a run on screen becomes a link with its order and the answers it lost', () => {
  const drops = [{ lost: 'refresh#1<', at: 2 }];
  const settings = runLinkSettings({ ...held, deliver: [] }, ['secret#1>', 'secret#1<', 'secret#1>'], drops);
  assert.deepEqual(settings.deliver, ['secret#1>', 'secret#1<', 'secret#1>']);
  assert.deepEqual(settings.drop, ['refresh#1<']);
  const timer = runLinkSettings(queue, [], []);
  assert.deepEqual(timer.deliver, []);
  assert.equal('drop' in timer, false);
});

test('opening a link starts at the start of its order; a module waits for Run', () => {
  const plan = openPlan({ settings: held, source: null });
  assert.deepEqual(plan.order, held.deliver);
  assert.deepEqual(plan.settings.deliver, []);
  assert.equal(plan.settings.network, 'hand');
  assert.equal(plan.waitsForRun, false);
  assert.equal(openPlan({ settings: queue, source: 'export {}' }).waitsForRun, true);
  assert.equal(nextInOrder(held.deliver, []), 'secret#1>');
  assert.equal(nextInOrder(held.deliver, ['secret#1>', 'secret#2>']), 'secret#1<');
  assert.equal(nextInOrder(held.deliver, ['secret#2>']), null, 'the run left the order');
  assert.equal(nextInOrder(held.deliver, held.deliver), null, 'the order is played');
});
