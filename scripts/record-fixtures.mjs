#!/usr/bin/env node
// Records the UI's test fixtures from the engine itself:
//   tests/ui-unit/fixtures/<name>.json  one `refresh-race run --json` report each,
//                                       its settings cut to what differs from
//                                       the defaults (one new setting then
//                                       changes options.json, not every file)
//   tests/ui-unit/fixtures/options.json what `GET /lab/options` answers
//
// The unit tests (tests/ui-unit/*.test.mjs) load these files, and
// `cargo test --test it fixtures::` reruns the engine with each file's settings
// and fails once the engine no longer produces what a file describes. So the
// files are never written or edited by hand: change the list below, rerun
// this script, review the diff, commit.
//
// usage: node scripts/record-fixtures.mjs
// env:   REFRESH_RACE_BIN   use this binary and skip `cargo build`
//        CARGO_TARGET_DIR   where cargo builds (default: target)

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(REPO, 'tests', 'ui-unit', 'fixtures');

// Seeded jitter spreads parallel lanes tens of milliseconds apart, so which
// lane wins a refresh, and in which order answers come back, is fixed by
// the due times (tests/golden/naive-seed7.txt relies on the same seed).
// The check (`cargo test --test it fixtures::`) replays each timer run on the
// step network, which delivers in exactly that due order, so it compares
// exactly with no second try. Without the jitter, three refreshes would be
// due within a millisecond and the recording would depend on the scheduler.
const SEEDED = ['--jitter', '80', '--seed', '7'];

/** name → arguments of `refresh-race run`, and what the fixture shows. */
const RUNS = [
  ['expired-refreshable-naive-strict', ['--case', 'expired-refreshable', '--client', 'naive', '--policy', 'strict'], 'the race: three refreshes with t1, two rejected as reused'],
  ['expired-refreshable-queue-strict', ['--case', 'expired-refreshable', '--client', 'queue', '--policy', 'strict'], "the article's queue: one refresh, two requests wait"],
  ['expired-refreshable-queue-strict-late', ['--case', 'expired-refreshable', '--client', 'queue', '--policy', 'strict', '--late'], "the queue's weakness: a late 401 refreshes again"],
  ['expired-refreshable-single-flight-strict', ['--case', 'expired-refreshable', '--client', 'single-flight', '--policy', 'strict'], 'the fix: one refresh, everyone retries with t2'],
  ['expired-refreshable-single-flight-strict-late', ['--case', 'expired-refreshable', '--client', 'single-flight', '--policy', 'strict', '--late'], 'the late 401 retries with the new token instead of refreshing'],
  ['expired-refreshable-naive-family', ['--case', 'expired-refreshable', '--client', 'naive', '--policy', 'family'], "reuse detection revokes the winner's t2 too"],
  ['expired-refreshable-naive-grace', ['--case', 'expired-refreshable', '--client', 'naive', '--policy', 'grace'], 'a race nobody loses: three refreshes accepted'],
  ['guest-naive-strict', ['--case', 'guest', '--client', 'naive', '--policy', 'strict'], 'no token: secret requests fail with 401 missing, no refresh'],
  ['valid-naive-strict', ['--case', 'valid', '--client', 'naive', '--policy', 'strict'], 'a valid token: no refresh, all green'],
  ['expired-not-refreshable-naive-strict', ['--case', 'expired-not-refreshable', '--client', 'naive', '--policy', 'strict'], 'the window is over: every refresh is refused window_over'],
  // Stepped in due order: which tab wins is then the same on every recording.
  ['three-tabs-single-flight-strict', ['--case', 'expired-refreshable', '--client', 'single-flight', '--policy', 'strict', '--tabs', '3', '--public', '1', '--network', 'step'], 'three tabs, single-flight in each: the tabs race each other, a losing tab logs them all out'],
  ['three-tabs-single-flight-lock', ['--case', 'expired-refreshable', '--client', 'single-flight', '--policy', 'strict', '--tabs', '3', '--public', '1', '--cross-tab', 'lock', '--network', 'step'], 'a cross-tab lock and a re-read: one refresh for three tabs'],
  ['wake-three-tabs-single-flight', ['--case', 'valid', '--client', 'single-flight', '--policy', 'strict', '--tabs', '3', '--secret', '1', '--public', '0', '--network', 'step', '--sleep-at', '1000', '--sleep-s', '8'], 'the laptop sleeps past exp: three tabs wake and refresh at once'],
  ['hang-storage-lock-closed-tab', ['--case', 'expired-refreshable', '--client', 'naive', '--policy', 'strict', '--tabs', '2', '--secret', '1', '--public', '0', '--cross-tab', 'storage-lock', '--network', 'hand', '--deliver', 'secret#1>,secret#1<,tab2/secret#1>,tab2/secret#1<', '--close', '1@4'], 'tab 1 closed while it held a lock kept in localStorage: tab 2 waits forever'],
  ['expired-refreshable-proactive-strict', ['--case', 'expired-refreshable', '--client', 'proactive', '--policy', 'strict'], "the overdue timer refreshes beside the 401s' own refresh"],
  ['expired-refreshable-naive-strict-oauth', ['--case', 'expired-refreshable', '--client', 'naive', '--policy', 'strict', '--mode', 'oauth'], 'OAuth mode: three refreshes of the refresh token r2, two rejected as reused'],
  ['expired-refreshable-naive-supabase-oauth', ['--case', 'expired-refreshable', '--client', 'naive', '--policy', 'supabase', '--mode', 'oauth'], "Supabase's rule: the reused parent r2 gets the active r4 back, nobody fails"],
  ['lost-answer-single-flight-strict', ['--case', 'expired-refreshable', '--client', 'single-flight', '--policy', 'strict', '--drop', 'refresh#1<'], "the refresh answer is lost: the server rotated t1, the tab never hears and keeps it"],
  ['slow-public-naive-strict', ['--case', 'expired-refreshable', '--client', 'naive', '--policy', 'strict', '--secret', '1', '--public', '1', '--latency-public', '600'], 'a public request still in flight when its token is rotated away'],
];

function binary() {
  if (process.env.REFRESH_RACE_BIN) return path.resolve(process.env.REFRESH_RACE_BIN);
  execFileSync('cargo', ['build', '-p', 'refresh-race'], { cwd: REPO, stdio: 'inherit' });
  return path.resolve(REPO, process.env.CARGO_TARGET_DIR || 'target', 'debug', 'refresh-race');
}

/** What of `value` differs from `base`, key by key into objects; undefined when nothing. */
function differs(value, base) {
  if (value && base && typeof value === 'object' && typeof base === 'object' && !Array.isArray(value) && !Array.isArray(base)) {
    const out = {};
    for (const [key, v] of Object.entries(value)) {
      const d = key in base ? differs(v, base[key]) : v;
      if (d !== undefined) out[key] = d;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return JSON.stringify(value) === JSON.stringify(base) ? undefined : value;
}

/**
 * Each lane's events in order, and the client's and server's as a
 * multiset, times, signatures and attempt ids aside: what
 * `cargo test --test it fixtures::` compares after replaying on the step network.
 */
function story(report) {
  const lanes = {};
  for (const { seq, t_us: t, attempt, token, iat, exp, refresh_until: until, lab_now_ms: lab, ...rest } of report.events) {
    (lanes[rest.lane] ??= []).push(JSON.stringify(rest));
  }
  for (const lane of ['client', 'server']) lanes[lane]?.sort();
  return JSON.stringify(Object.entries(lanes).sort(([a], [b]) => a.localeCompare(b)));
}

/** A recording whose timer run went in due order: what the step network plays exactly. */
const TRIES = 5;

function recordRun(bin, name, args, defaults) {
  const run = (extra) => {
    const stdout = execFileSync(bin, ['run', ...args, ...SEEDED, ...extra, '--json'], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const report = JSON.parse(stdout); // refuse to write something that is not JSON
    if (!report.settings || !Array.isArray(report.events) || !report.verdict) throw new Error(`${name}: not a run report`);
    return report;
  };
  let report = run([]);
  // A timer run on a busy machine may deliver two legs due close together
  // out of order; the step network cannot. Keep a run that went as due.
  // (The UI's tests also read the times: review the diff, and rerun
  // node --test tests/ui-unit/ after re-recording.)
  if (report.settings.network === 'timer') {
    const due = story(run(['--network', 'step']));
    for (let i = 1; story(report) !== due; i++) {
      if (i === TRIES) throw new Error(`${name}: ${TRIES} timer runs, none in due order (is the machine very busy?)`);
      report = run([]);
    }
  }
  // Only what differs from the defaults; the readers expand it again
  // (tests/ui-unit/fixtures.mjs, tests/it/fixtures.rs).
  report.settings = differs(report.settings, defaults) ?? {};
  writeFileSync(path.join(OUT, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  return report.verdict.sentence;
}

/** GET /lab/options from a `refresh-race serve` on a free port. */
async function recordOptions(bin) {
  const child = spawn(bin, ['serve', '--port', '0', '--ui-dir', path.join(REPO, 'ui')], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const base = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited early (code ${code})`)));
    });
    const response = await fetch(`${base}/lab/options`);
    if (!response.ok) throw new Error(`GET /lab/options answered ${response.status}`);
    const text = await response.text();
    JSON.parse(text);
    // The server's bytes: re-serialising would turn 1.0 into 1.
    writeFileSync(path.join(OUT, 'options.json'), text);
    return JSON.parse(text);
  } finally {
    child.kill('SIGTERM');
  }
}

const bin = binary();
mkdirSync(OUT, { recursive: true });
// Start clean, so a fixture dropped from the list does not linger.
for (const file of readdirSync(OUT)) if (file.endsWith('.json')) rmSync(path.join(OUT, file));
const options = await recordOptions(bin);
console.log('options: GET /lab/options');
for (const [name, args, what] of RUNS) {
  const sentence = recordRun(bin, name, args, options.defaults);
  console.log(`${name}: ${what}\n    ${sentence}`);
}
console.log(`\nwrote ${RUNS.length + 1} files to ${path.relative(REPO, OUT)}/; check them with: cargo test --test it fixtures::`);
