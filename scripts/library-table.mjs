#!/usr/bin/env node
// Writes docs/libraries.md: what each real interceptor library on the bench
// (ui/lib/libraries.js) does against each server policy, from real runs —
// the library's vendored code in a Worker of headless Chromium, its
// requests through the lab's `refresh-race serve` (as
// tests/e2e/parity.test.mjs drives them), never typed by hand.
//
// For every library × option set × policy, case 3 (an expired, refreshable
// token):
//   - timer: the default schedule (3 secret + 3 public requests, no jitter);
//   - jitter (strict, default options only: each run takes seconds): the
//     same with up to JITTER_MS of seeded jitter per lane and route, seeds
//     1..SEEDS — how often the library refreshes more than once when the
//     network is less tidy;
//   - every order: 2 secret requests held by the network (the hand
//     network, one tab), every order in which it can deliver them explored
//     (POST /lab/explore, the page running each explored run's tab as a
//     Worker, as the Explore drawer does): how many orders lose a request,
//     how many log the user out, out of how many (exact; "at least" when
//     the budget cut it), and the shortest order that loses a request,
//     replayed once more to check it does.
// Option sets: the library's defaults, then each boolean option it
// documents flipped, one at a time.
//
//   cargo build && node scripts/library-table.mjs     (CARGO_TARGET_DIR or REFRESH_RACE_BIN as for the e2e tests)
//   node scripts/library-table.mjs --policies=strict,family   (only these; default: every policy the lab offers)
//   node scripts/library-table.mjs --libraries=supabase-auth@2.106,supabase-auth@2.119
//                          (measure only these; the other sections are kept as they are)
//   In two parts at once (each process its own lab and Chromium), then the page:
//   node scripts/library-table.mjs --libraries=A,B --save=/tmp/one.json
//   node scripts/library-table.mjs --libraries=C,D --no-sanity --save=/tmp/two.json
//   node scripts/library-table.mjs --merge=/tmp/one.json,/tmp/two.json
//
// First, a sanity check: the lab's JavaScript built-ins explored the same
// way in the page count what `refresh-race explore` counts for their Rust
// twins (a library has no twin); the table is not written if they differ.
//
// Libraries measured in tabs (they carry run `settings`, maybe none:
// supabase-auth, the RTK Query recipe) get another table: 1 and 3 tabs, on the timer and
// stepped in due order, their defaults and their `lock` choice flipped.

import { writeFileSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startServer, launchBrowser, openLab, serverBinary, REPO } from '../tests/e2e/harness.mjs';
import { LIBRARIES, libraryRun } from '../ui/lib/libraries.js';
import { lossSummary, lossText } from '../ui/lib/explore.js';

// The jitter of a lane is drawn per lane and route (src/network.rs): a 401
// lands after the first refresh and its retry only when the spread beats
// them (350 ms plus their own jitter), so it takes a wide jitter to see it.
const JITTER_MS = 2000;
const SEEDS = 20;

/** What every order is explored of: two secret requests, held by hand from the start. */
const HELD = { secret: 2, public: 0, network: 'hand', deliver: [] };
/** Longest exploration of one row (past it the row says "at least"). */
const BUDGET_S = 300;
/** The built-ins checked against their Rust twins (client, policy). */
const SANITY = [['naive', 'strict'], ['queue', 'strict'], ['single-flight', 'strict'], ['queue', 'family']];

/** The library's defaults, then each boolean option flipped (a session library: its lock choice flipped). */
function optionSets(library) {
  if (library.settings) {
    return [{}, ...Object.entries(library.options)
      .filter(([, option]) => option.type === 'choice')
      .map(([name, option]) => ({ [name]: option.values.find((v) => v !== option.default) }))];
  }
  const flips = Object.entries(library.options)
    .filter(([, option]) => option.type === 'boolean')
    .map(([name, option]) => ({ [name]: !option.default }));
  return [{}, ...flips];
}

const BASE = { case: 'expired-refreshable', strategy: 'naive', runtime: 'browser', jitter_ms: 0 };

/** `--merge=A.json,B.json`: the page from parts saved with `--save=` (every library in one of them). */
function merge(files) {
  const parts = files.map((file) => JSON.parse(readFileSync(file, 'utf8')));
  const rows = parts.flatMap((p) => p.rows).map((r) => ({ ...r, library: LIBRARIES.find((l) => l.name === r.library) }));
  const missing = LIBRARIES.filter((l) => !rows.some((r) => r.library === l));
  if (missing.length) throw new Error(`no rows for ${missing.map((l) => l.name).join(', ')}`);
  writeFileSync(path.join(REPO, 'docs', 'libraries.md'), render(rows, parts[0].policies, new Map(), parts.flatMap((p) => p.sanity)));
  console.log(`docs/libraries.md: ${rows.length} rows from ${files.length} parts`);
}

async function main() {
  const merging = process.argv.find((arg) => arg.startsWith('--merge='));
  if (merging) {
    merge(merging.slice('--merge='.length).split(','));
    return;
  }
  const began = performance.now();
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const { page } = await openLab(browser, server.url);
    const options = await page.evaluate(() => fetch('/lab/options').then((r) => r.json()));
    const offered = options.policies.map((p) => p.name);
    const asked = process.argv.find((arg) => arg.startsWith('--policies='));
    const policies = asked ? asked.slice('--policies='.length).split(',') : offered;
    const unknown = policies.filter((p) => !offered.includes(p));
    if (unknown.length) throw new Error(`the lab offers no policy ${unknown.join(', ')} (it offers ${offered.join(', ')})`);
    const run = async (settings, libraryOptions, tries = 3, builtin = null) => {
      const { last, failed } = await page.evaluate(async ([settings, libraryOptions, builtin]) => {
        const { runToEnd } = await import('/module-runner.js');
        return runToEnd(settings, { options: libraryOptions, builtin });
      }, [{ ...BASE, ...settings }, libraryOptions, builtin]);
      // A Worker that could not answer the watchdog in time on a loaded
      // machine measured nothing: run it again (a library that really
      // loops trips it every time).
      if (failed && /without yielding|never returned/.test(failed.message) && tries > 1) {
        process.stderr.write(`(again: ${failed.message})\n`);
        return run(settings, libraryOptions, tries - 1, builtin);
      }
      // A run that failed three times is a cell that says so, not a lost table.
      if (!last || last.type !== 'done') {
        const why = (failed ?? last ?? {}).message ?? 'no end';
        process.stderr.write(`FAILED ${JSON.stringify(settings)} ${JSON.stringify(libraryOptions)}: ${why}\n`);
        return { error: why };
      }
      return last.verdict;
    };
    /**
     * Explores every order of `settings` (held by hand) in the page; `{
     * summary, seconds, replay }` or `{ error, seconds }`. The shortest
     * losing order is run once more (stepped) to check it loses as the
     * exploration says.
     */
    const explore = async (settings, libraryOptions, builtin = null, tries = 3) => {
      const body = { settings: { ...BASE, ...settings, ...HELD }, budget_s: BUDGET_S };
      const started = performance.now();
      const answer = await page.evaluate(async ([body, client]) => {
        const { exploreToEnd } = await import('/explore-client.js');
        try {
          return { exploration: await exploreToEnd(body, { client }) };
        } catch (error) {
          return { error: error && error.message ? error.message : String(error) };
        }
      }, [body, { ...(builtin ? { builtin } : {}), options: libraryOptions }]);
      const seconds = (performance.now() - started) / 1000;
      // The lab's places for explorations are busy only for a moment after
      // the last one ended; a Worker that could not answer the watchdog in
      // time on a loaded machine measured nothing (as for run() above).
      if (answer.error && /explorations are already running|without yielding/.test(answer.error) && tries > 1) {
        process.stderr.write(`(again: ${answer.error})\n`);
        await new Promise((resolve) => { setTimeout(resolve, 1000); });
        return explore(settings, libraryOptions, builtin, tries - 1);
      }
      if (answer.error) return { error: answer.error, seconds };
      const summary = lossSummary(answer.exploration);
      let replay = null;
      if (summary.shortest) {
        const v = await run({ ...settings, ...HELD, network: 'step', deliver: summary.shortest }, libraryOptions, 3, builtin);
        const o = summary.shortestOutcome;
        replay = { ok: !v.error && v.refresh_calls === o.refresh_calls && v.failed === o.failed && (v.logouts > 0) === o.logged_out, verdict: `${outcome(v)}` };
      }
      return { exploration: answer.exploration, summary, seconds, replay };
    };
    const explored = [];
    const note = (what, e) => {
      explored.push(e);
      process.stderr.write(`${what}: every order ${e.error ? `not explored (${e.error})` : `${lossText(e.summary)} [${e.exploration.states} states, ${e.exploration.runs} runs]`} in ${e.seconds.toFixed(1)} s${e.replay && !e.replay.ok ? ` REPLAY MISMATCH ${e.replay.verdict}` : ''}\n`);
    };

    // The built-ins in the page against their Rust twins: the same counts, or no table.
    const sanity = [];
    for (const [strategy, policy] of process.argv.includes('--no-sanity') ? [] : SANITY) {
      const e = await explore({ strategy, policy }, null, strategy);
      note(`sanity ${strategy} ${policy}`, e);
      if (e.error) throw new Error(`sanity: ${strategy} under ${policy} was not explored in the page: ${e.error}`);
      const twin = JSON.parse(execFileSync(serverBinary(), ['explore', '--case', BASE.case, '--client', strategy, '--policy', policy, '--secret', '2', '--public', '0', '--json'], { encoding: 'utf8' }));
      const cli = lossSummary(twin);
      const inPage = e.summary;
      const same = ['orders', 'exact', 'failing', 'lost', 'loggedOut', 'hang'].every((k) => cli[k] === inPage[k]);
      if (!same) throw new Error(`sanity: ${strategy} under ${policy}: the page explored ${JSON.stringify(inPage)}, the Rust twin ${JSON.stringify(cli)}`);
      sanity.push({ strategy, policy, page: e, cli });
    }

    const rows = [];
    const only = process.argv.find((arg) => arg.startsWith('--libraries='));
    const measured = only ? only.slice('--libraries='.length).split(',') : LIBRARIES.map((l) => l.name);
    const stranger = measured.filter((name) => !LIBRARIES.some((l) => l.name === name));
    if (stranger.length) throw new Error(`no library ${stranger.join(', ')} on the bench`);
    for (const library of LIBRARIES.filter((l) => measured.includes(l.name))) {
      for (const set of optionSets(library)) {
        for (const policy of policies) {
          const module = library.name;
          const every = await explore(libraryRun({ policy }, library, set), set);
          note(`${module} ${JSON.stringify(set)} ${policy}`, every);
          if (library.settings) {
            const base = { module, policy, ...library.settings, secret: 2, public: 0 };
            const tabs = {};
            for (const n of [1, 3]) {
              tabs[`timer${n}`] = await run({ ...base, tabs: n }, set);
              tabs[`step${n}`] = await run({ ...base, tabs: n, network: 'step' }, set);
            }
            rows.push({ library, set, policy, tabs, every });
            process.stderr.write(`${module} ${JSON.stringify(set)} ${policy}: ${Object.entries(tabs).map(([k, v]) => `${k} ${outcome(v)}`).join(', ')}\n`);
            continue;
          }
          const timer = await run({ module, policy }, set);
          let jitter = null;
          if (policy === 'strict' && Object.keys(set).length === 0) {
            let twice = 0;
            let lost = 0;
            for (let seed = 1; seed <= SEEDS; seed += 1) {
              const v = await run({ module, policy, jitter_ms: JITTER_MS, seed }, set);
              if (v.error) throw new Error(`jitter seed ${seed}: ${v.error}`);
              if (v.refresh_calls > 1) twice += 1;
              if (v.failed > 0) lost += 1;
            }
            jitter = { twice, lost };
          }
          rows.push({ library, set, policy, timer, jitter, every });
          process.stderr.write(`${module} ${JSON.stringify(set)} ${policy}: timer ${outcome(timer)}\n`);
        }
      }
    }
    const ok = explored.filter((e) => !e.error);
    const took = (performance.now() - began) / 1000;
    process.stderr.write(`${rows.length} rows in ${took.toFixed(0)} s; ${ok.length} explorations, ${(ok.reduce((n, e) => n + e.seconds, 0) / Math.max(1, ok.length)).toFixed(1)} s each on average (longest ${Math.max(0, ...ok.map((e) => e.seconds)).toFixed(1)} s)\n`);
    const save = process.argv.find((arg) => arg.startsWith('--save='));
    if (save) {
      // Measured in parts (two processes share the work): each saves its rows, --merge writes the page.
      const lean = rows.map((r) => ({ ...r, library: r.library.name, every: { ...r.every, exploration: undefined } }));
      writeFileSync(save.slice('--save='.length), JSON.stringify({ policies, sanity: sanity.map((r) => ({ ...r, page: { ...r.page, exploration: undefined } })), rows: lean }));
      console.log(`${save.slice('--save='.length)}: ${rows.length} rows`);
      return;
    }
    const kept = only ? keptSections(LIBRARIES.filter((l) => !measured.includes(l.name))) : new Map();
    writeFileSync(path.join(REPO, 'docs', 'libraries.md'), render(rows, policies, kept, sanity));
    console.log(`docs/libraries.md: ${rows.length} rows`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

const optionsText = (set) => (Object.keys(set).length ? Object.entries(set).map(([k, v]) => `\`${k}: ${JSON.stringify(v)}\``).join(', ') : 'defaults');
const outcome = (v) => (v.error ? `run failed: ${v.error.replace(/\|/g, '\\|')}` : `${v.refresh_calls} / ${v.failed} / ${v.logouts}`);

/** The sections of libraries not measured this time, as docs/libraries.md has them. */
function keptSections(libraries) {
  const text = readFileSync(path.join(REPO, 'docs', 'libraries.md'), 'utf8');
  const kept = new Map();
  for (const library of libraries) {
    const head = `## ${library.package} ${library.version} (\`${library.name}\`)`;
    const start = text.indexOf(head);
    if (start < 0) throw new Error(`docs/libraries.md has no section for ${library.name}: measure it too`);
    const next = text.indexOf('\n## ', start + head.length);
    const footer = text.indexOf('\nPolicies measured:', start);
    const end = [next, footer].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), text.length);
    kept.set(library.name, text.slice(start, end).trimEnd().split('\n'));
  }
  return kept;
}

/** A row's exploration in a cell: "k of M orders lose a request, j log out", or why it was not explored. */
function everyCell(every) {
  if (every.error) return `not explored: ${every.error.replace(/\|/g, '\\|')}`;
  const mismatch = every.replay && !every.replay.ok ? ` (replayed, its shortest order gave ${every.replay.verdict})` : '';
  return `${lossText(every.summary)}${mismatch}`;
}

/** The shortest order that loses a request, as a `deliver` list. */
const shortestCell = (every) => (every.summary && every.summary.shortest ? `\`${every.summary.shortest.join(',')}\`` : '—');

function render(rows, policies, kept = new Map(), sanity = []) {
  const lines = [
    '# Does your library survive?',
    '',
    '<!-- Generated by scripts/library-table.mjs from real runs: do not edit by hand. -->',
    '',
    'Real interceptor libraries, vendored unmodified at pinned versions',
    '(`ui/lib/libraries.js`, `ui/vendor/`), set up as their READMEs show and run',
    'in the browser runtime against the lab\'s server: case 3, a token expired',
    '1 s ago and still refreshable. The run cells are **refresh calls / requests',
    'lost / logouts**, measured.',
    '',
    '- **timer**: 3 secret + 3 public requests on the default schedule (secret',
    '  150 ms, public 100 ms, refresh 200 ms, no jitter).',
    `- **jitter** (strict, defaults): the same with up to ${JITTER_MS} ms of seeded jitter per`,
    `  lane and route, seeds 1–${SEEDS}: in how many runs the library refreshed more than once,`,
    '  and in how many a request was lost.',
    '- **every order**: 2 secret requests held by the network (one tab), and',
    '  every order in which the network can deliver their legs explored, each',
    '  run to its end (the lab\'s explorer, docs/design.md; the library runs in',
    '  a Worker of the page for every explored run): how many of the orders',
    '  lose a request and how many log the user out. The count of orders is',
    '  exact (each order counted once, none sampled; orders that reach the same',
    '  state share their futures); "at least" marks an exploration the budget',
    `  (${BUDGET_S} s) cut short. Under \`non-atomic\` a refresh has a third leg, its`,
    '  commit (`secret#1=`), and so more orders.',
    '- **shortest losing order**: the shortest of those orders that loses a',
    '  request, as a `deliver` list. Replay it with `network: "step"` (or',
    '  `"hand"`) and that list, or by hand in the app; the table\'s script',
    '  replays each one once more and checks it loses as explored.',
    '',
    'In a page a tab has at most three exchanges on the wire (a browser\'s',
    'connection limit, docs/design.md): on the timer the refresh waits behind',
    'the public requests, so the 401s of the burst all land while it is out.',
    'The held orders are where the libraries differ: a library that survives',
    'the timer can still lose a request in some order of the same two',
    'requests, and the count says in how many.',
    '',
    'Option sets: each library\'s defaults, then each boolean option it',
    'documents flipped, one at a time. Server policies: see the README.',
    '',
  ];
  const unexplored = rows.filter((r) => r.every && r.every.error);
  // Sections kept from the last generation (--libraries measured others):
  // their rows count too, and a cell of theirs may say "not explored".
  const keptRows = [...kept.values()].flat().filter((line) => /^\| (defaults|`)/.test(line));
  const keptUnexplored = keptRows.filter((line) => line.includes('| not explored'));
  if (unexplored.length || keptUnexplored.length) {
    const diverged = unexplored.filter((r) => /did not replay the same way/.test(r.every.error));
    const others = unexplored.filter((r) => !diverged.includes(r));
    lines.push(`**Not explored: ${unexplored.length + keptUnexplored.length} of ${rows.length + keptRows.length} rows**, said in their cells.`);
    if (diverged.length) {
      const names = [...new Set(diverged.map((r) => `${r.library.name} ${optionsText(r.set)}`))];
      lines.push(
        `${diverged.length} did not replay the same way (${names.join('; ')}): the explorer`,
        'replays a prefix in a fresh run for each state it explores and needs it to',
        'reach the same state again. These do not: the same prefix, run again in the',
        'page, can reach another state, so something in the library\'s run depends',
        'on timing the lab does not hold (not found yet), and their orders are not',
        'counted. Their timer and jitter cells stand.',
      );
    }
    if (others.length) lines.push(`${others.length} failed otherwise: ${[...new Set(others.map((r) => r.every.error))].join('; ')}.`);
    lines.push('');
  }
  const hanging = rows.filter((r) => r.every && r.every.summary && r.every.summary.hang > 0);
  if (hanging.length) {
    lines.push(
      `**Hanging orders are not exact yet** (${[...new Set(hanging.map((r) => `${r.library.name} under ${r.policy}`))].join(', ')}):`,
      'an order hangs when a request never finishes, and which orders the',
      'explorer finds hanging in the page depends on timing it does not hold:',
      'on the loaded machine that measured this table, ky-recipe under',
      '`family` had 33 hanging orders in one generation and 58 in the next.',
      ...(hanging.every((r) => r.every.summary.lost === r.every.summary.orders)
        ? ['In those rows every order loses a request either way.'] : []),
      '',
    );
  }
  if (sanity.length) {
    lines.push(
      '### A check first: the lab\'s own clients',
      '',
      'A library has no twin in the Rust engine, but the lab\'s built-in',
      'strategies have one in JavaScript. Explored the same way in the page, they',
      'count what `refresh-race explore --secret 2 --public 0` counts for the Rust',
      'strategy (the script stops before writing this page if they differ):',
      '',
      '| client | policy | in the page (JavaScript) | `refresh-race explore` (Rust) |',
      '|---|---|---|---|',
      ...sanity.map((r) => `| ${r.strategy} | ${r.policy} | ${lossText(r.page.summary)} | ${lossText(r.cli)} |`),
      '',
    );
  }
  for (const library of LIBRARIES) {
    if (kept.has(library.name)) {
      lines.push(...kept.get(library.name), '');
      continue;
    }
    lines.push(`## ${library.package} ${library.version} (\`${library.name}\`)`, '', `[README](${library.docs}) — “${library.summary}”`, '');
    if (library.settings) {
      const own = Object.entries(library.settings).map(([k, v]) => `\`${k}: ${v}\``).join(', ');
      lines.push(`Run with ${own || 'the lab\'s defaults'}; 2 secret requests per tab; each tab one client. **1 tab / 3 tabs**, on the timer and stepped in due order (held, exact); every order of 1 tab's 2 requests, explored.`, '');
      lines.push('| options | policy | 1 tab, timer | 1 tab, due order | 3 tabs, timer | 3 tabs, due order | every order (1 tab) | shortest losing order |', '|---|---|---|---|---|---|---|---|');
      for (const row of rows.filter((r) => r.library === library)) {
        const t = row.tabs;
        lines.push(`| ${optionsText(row.set)} | ${row.policy} | ${outcome(t.timer1)} | ${outcome(t.step1)} | ${outcome(t.timer3)} | ${outcome(t.step3)} | ${everyCell(row.every)} | ${shortestCell(row.every)} |`);
      }
      lines.push('');
      continue;
    }
    lines.push('| options | policy | timer | jitter (strict, defaults) | every order | shortest losing order |', '|---|---|---|---|---|---|');
    for (const row of rows.filter((r) => r.library === library)) {
      const jitter = row.jitter ? `${row.jitter.twice} of ${SEEDS} refreshed twice or more; ${row.jitter.lost} of ${SEEDS} lost requests` : '';
      lines.push(`| ${optionsText(row.set)} | ${row.policy} | ${outcome(row.timer)} | ${jitter} | ${everyCell(row.every)} | ${shortestCell(row.every)} |`);
    }
    lines.push('');
  }
  lines.push(`Policies measured: ${policies.join(', ')}. Regenerate: \`cargo build && node scripts/library-table.mjs\`.`, '');
  return lines.join('\n');
}

await main();
