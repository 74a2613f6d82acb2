#!/usr/bin/env node
// Records runs played over the lab's network, as the page receives them:
//   tests/ui-unit/streams/<name>.ndjson
// one line per message of the run's NDJSON stream (start, event, network,
// done), in the order they arrived, with a `{"type":"command", ...}` line
// where a network command was sent (the reducer ignores that type). The UI's
// unit tests fold these through the reducer, the view clock and the tray.
//
// Which lane wins and which legs exist follow from the delivery order, so
// the messages are the same on every recording; the times (`t_us`) are
// the machine's.
//
// usage: node scripts/record-streams.mjs           rewrite the recordings
//        node scripts/record-streams.mjs --check   fail when a recording is
//          stale (scripts/bless.sh --check): the same kinds of line in the
//          same order and the same lines as a multiset, with what timing
//          decides taken out (times, lab clock readings, signatures, due
//          times, and which of the parallel lanes got which number and
//          attempt id, as in `cargo test --test it fixtures::`), up to a
//          `resume`: from there the timer decides, not the recording
// env:   REFRESH_RACE_BIN   use this binary and skip `cargo build`
//        CARGO_TARGET_DIR   where cargo builds (default: target)

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(REPO, 'tests', 'ui-unit', 'streams');

function binary() {
  if (process.env.REFRESH_RACE_BIN) return path.resolve(process.env.REFRESH_RACE_BIN);
  execFileSync('cargo', ['build', '-p', 'refresh-race'], { cwd: REPO, stdio: 'inherit' });
  return path.resolve(REPO, process.env.CARGO_TARGET_DIR || 'target', 'debug', 'refresh-race');
}

async function serve(bin) {
  const child = spawn(bin, ['serve', '--port', '0', '--ui-dir', path.join(REPO, 'ui')], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited early (code ${code})`)));
  });
  return { base, stop: () => child.kill('SIGTERM') };
}

/**
 * Streams one run; `next(message, lines)` is called for every message and
 * returns the command to send now (or null). Commands are sent one at a
 * time; the next message is read once the lab answered.
 */
async function record(base, settings, next) {
  const lines = [];
  const response = await fetch(`${base}/lab/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(settings) });
  if (!response.ok) throw new Error(`POST /lab/runs answered ${response.status}: ${await response.text()}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let run = null;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const message = JSON.parse(line);
      lines.push(line);
      if (message.type === 'start') run = message.run;
      const command = next(message, lines);
      if (command) {
        lines.push(JSON.stringify({ type: 'command', command }));
        const answer = await fetch(`${base}/lab/runs/${run}/network`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(command) });
        if (!answer.ok) throw new Error(`${JSON.stringify(command)} answered ${answer.status}: ${await answer.text()}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The queue challenge by hand: secret#1's whole refresh before secret#2's 401, then the rest in due order. */
function queueChallenge() {
  const script = [['secret#1>', 'request'], ['secret#1<', 'request'], ['secret#1>', 'refresh'], ['secret#1<', 'refresh']];
  return (message) => {
    if (message.type !== 'network' || !message.network.paused || message.network.legs.length === 0) return null;
    const [id, exchange] = script.shift() ?? [];
    const leg = id ? message.network.legs.find((l) => l.id === id && l.exchange === exchange) : message.network.legs[0];
    if (!leg) throw new Error(`${id} (${exchange}) is not in flight`);
    return { command: 'deliver', leg: leg.id };
  };
}

/** A slow timer run: paused before its first leg, stepped twice, resumed. */
function pausedTimer() {
  const plan = [{ command: 'step' }, { command: 'step' }, { command: 'resume' }];
  return (message) => {
    if (message.type === 'start') return { command: 'pause' };
    if (message.type !== 'network' || !message.network.paused) return null;
    return plan.shift() ?? null;
  };
}

const RUNS = [
  ['queue-challenge', { case: 'expired-refreshable', strategy: 'queue', policy: 'strict', secret: 2, public: 0, network: 'hand' }, queueChallenge],
  ['paused-timer', { case: 'expired-refreshable', strategy: 'naive', policy: 'strict', secret: 2, public: 1, speed: 0.05, latency_ms: { secret: 40, public: 30, refresh: 40 } }, pausedTimer],
];

/** Fields that differ between two recordings of the same run. */
const VOLATILE = new Set(['seq', 't_us', 'lab_now_ms', 'token', 'iat', 'exp', 'refresh_until', 'due_ms', 'run', 'attempt']);

/**
 * A recording without what timing decides: `order`, each line's type (a
 * command's name); `lines`, every line stripped and with lane numbers
 * masked (`secret#2` → `secret#n`), sorted.
 */
function stable(text) {
  const strip = (value) => {
    if (Array.isArray(value)) return value.map(strip).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    if (typeof value === 'string') return value.replace(/#\d+/g, '#n');
    if (!value || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).filter(([key]) => !VOLATILE.has(key)).map(([key, v]) => [key, strip(v)]));
  };
  const all = text.trim().split('\n').map((line) => JSON.parse(line));
  const resume = all.findIndex((m) => m.type === 'command' && m.command.command === 'resume');
  const parsed = resume >= 0 ? all.slice(0, resume + 1) : all;
  return {
    order: parsed.map((m) => (m.type === 'command' ? `command ${m.command.command}` : m.type)),
    lines: parsed.map((m) => JSON.stringify(strip(m))).sort(),
  };
}

const check = process.argv.includes('--check');
const bin = binary();
const lab = await serve(bin);
const stale = [];
try {
  mkdirSync(OUT, { recursive: true });
  for (const [name, settings, player] of RUNS) {
    const text = await record(lab.base, settings, player());
    const file = path.join(OUT, `${name}.ndjson`);
    if (check) {
      const want = stable(readFileSync(file, 'utf8'));
      const got = stable(text);
      const where = path.relative(REPO, file);
      if (want.order.join() !== got.order.join()) {
        stale.push(`${where}: lines\n  recorded: ${want.order.join(', ')}\n  now:      ${got.order.join(', ')}`);
      }
      const only = (a, b) => a.filter((line) => !b.includes(line));
      for (const line of only(want.lines, got.lines)) stale.push(`${where}: recorded only: ${line}`);
      for (const line of only(got.lines, want.lines)) stale.push(`${where}: now only:      ${line}`);
      continue;
    }
    writeFileSync(file, text);
    const done = text.trim().split('\n').map((l) => JSON.parse(l)).find((m) => m.type === 'done');
    console.log(`${name}: ${done ? done.verdict.sentence : 'no done line'}`);
  }
} finally {
  lab.stop();
}
if (stale.length) {
  console.error(`stale recordings (rerun node scripts/record-streams.mjs, review the diff):\n${stale.join('\n')}`);
  process.exit(1);
}
if (check) console.log(`streams: ${RUNS.length} recordings current`);
