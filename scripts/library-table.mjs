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
//   - worst hand-made order: 2 secret requests held by the network, each
//     order of ORDERS played, then the rest stepped in due order; the worst
//     outcome (requests lost, then logouts, then refresh calls) and its order.
// Option sets: the library's defaults, then each boolean option it
// documents flipped, one at a time.
//
//   cargo build && node scripts/library-table.mjs     (CARGO_TARGET_DIR or REFRESH_RACE_BIN as for the e2e tests)
//   node scripts/library-table.mjs --policies=strict,family   (only these; default: every policy the lab offers)
//   node scripts/library-table.mjs --libraries=supabase-auth@2.106,supabase-auth@2.119
//                          (measure only these; the other sections are kept as they are)
//
// Libraries measured in tabs (they carry run `settings`, maybe none:
// supabase-auth, the RTK Query recipe) get another table: 1 and 3 tabs, on the timer and
// stepped in due order, their defaults and their `lock` choice flipped.

import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, openLab, REPO } from '../tests/e2e/harness.mjs';
import { LIBRARIES } from '../ui/lib/libraries.js';

// The jitter of a lane is drawn per lane and route (src/network.rs): a 401
// lands after the first refresh and its retry only when the spread beats
// them (350 ms plus their own jitter), so it takes a wide jitter to see it.
const JITTER_MS = 2000;
const SEEDS = 20;

/** Hand-made orders of two secret requests (legs: `lane>` to the server, `lane<` back). */
const ORDERS = [
  { id: 'due', what: 'every leg in due order', deliver: [] },
  { id: 'refresh-out', what: "secret#2's 401 lands while secret#1's refresh is at the server", deliver: ['secret#1>', 'secret#1<', 'secret#1>', 'secret#2>', 'secret#2<'] },
  { id: 'retry-out', what: "secret#2's 401 lands after the refresh answer, while secret#1's retry is out", deliver: ['secret#1>', 'secret#1<', 'secret#1>', 'secret#1<', 'secret#2>', 'secret#2<'] },
  { id: 'all-over', what: "secret#2's 401 lands after secret#1's refresh and retry are over", deliver: ['secret#1>', 'secret#1<', 'secret#1>', 'secret#1<', 'secret#1>', 'secret#1<', 'secret#2>', 'secret#2<'] },
];

/**
 * An order as played against `policy`: under `non-atomic` a refresh has a
 * third leg, its commit (`secret#1=`), delivered right after the refresh
 * reaches the server (the refresh is secret#1's second leg to the server).
 */
function orderFor(order, policy) {
  if (policy !== 'non-atomic') return order.deliver;
  const out = [];
  let sent = 0;
  for (const leg of order.deliver) {
    out.push(leg);
    if (leg === 'secret#1>' && (sent += 1) === 2) out.push('secret#1=');
  }
  return out;
}

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

/** True when `a` is worse than `b`, compared in order (lost, logouts, refresh calls); a tie keeps the earlier order. */
function worse(a, b) {
  const i = a.findIndex((n, k) => n !== b[k]);
  return i >= 0 && a[i] > b[i];
}

const BASE = { case: 'expired-refreshable', strategy: 'naive', runtime: 'browser', jitter_ms: 0 };

async function main() {
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
    const run = async (settings, libraryOptions, tries = 3) => {
      const { last, failed } = await page.evaluate(async ([settings, libraryOptions]) => {
        const { runToEnd } = await import('/module-runner.js');
        return runToEnd(settings, { options: libraryOptions });
      }, [{ ...BASE, ...settings }, libraryOptions]);
      // A Worker that could not answer the watchdog in time on a loaded
      // machine measured nothing: run it again (a library that really
      // loops trips it every time).
      if (failed && /without yielding/.test(failed.message) && tries > 1) {
        process.stderr.write(`(again: ${failed.message})\n`);
        return run(settings, libraryOptions, tries - 1);
      }
      if (!last || last.type !== 'done') throw new Error(`${JSON.stringify(settings)} ${JSON.stringify(libraryOptions)}: ${JSON.stringify(failed ?? last)}`);
      return last.verdict;
    };
    const rows = [];
    const only = process.argv.find((arg) => arg.startsWith('--libraries='));
    const measured = only ? only.slice('--libraries='.length).split(',') : LIBRARIES.map((l) => l.name);
    const stranger = measured.filter((name) => !LIBRARIES.some((l) => l.name === name));
    if (stranger.length) throw new Error(`no library ${stranger.join(', ')} on the bench`);
    for (const library of LIBRARIES.filter((l) => measured.includes(l.name))) {
      for (const set of optionSets(library)) {
        for (const policy of policies) {
          const module = library.name;
          if (library.settings) {
            const base = { module, policy, ...library.settings, secret: 2, public: 0 };
            const tabs = {};
            for (const n of [1, 3]) {
              tabs[`timer${n}`] = await run({ ...base, tabs: n }, set);
              tabs[`step${n}`] = await run({ ...base, tabs: n, network: 'step' }, set);
            }
            rows.push({ library, set, policy, tabs });
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
              if (v.refresh_calls > 1) twice += 1;
              if (v.failed > 0) lost += 1;
            }
            jitter = { twice, lost };
          }
          let worst = null;
          for (const order of ORDERS) {
            const v = await run({ module, policy, secret: 2, public: 0, network: 'step', ...(order.deliver.length ? { deliver: orderFor(order, policy) } : {}) }, set);
            const score = [v.failed, v.logouts, v.refresh_calls];
            if (!worst || worse(score, worst.score)) {
              worst = { order, v, score };
            }
          }
          rows.push({ library, set, policy, timer, jitter, worst });
          process.stderr.write(`${module} ${JSON.stringify(set)} ${policy}: timer ${timer.refresh_calls}/${timer.failed}/${timer.logouts}, worst ${worst.order.id} ${worst.score.join('/')}\n`);
        }
      }
    }
    const kept = only ? keptSections(LIBRARIES.filter((l) => !measured.includes(l.name))) : new Map();
    writeFileSync(path.join(REPO, 'docs', 'libraries.md'), render(rows, policies, kept));
    console.log(`docs/libraries.md: ${rows.length} rows`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

const optionsText = (set) => (Object.keys(set).length ? Object.entries(set).map(([k, v]) => `\`${k}: ${JSON.stringify(v)}\``).join(', ') : 'defaults');
const outcome = (v) => `${v.refresh_calls} / ${v.failed} / ${v.logouts}`;

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

function render(rows, policies, kept = new Map()) {
  const lines = [
    '# Does your library survive?',
    '',
    '<!-- Generated by scripts/library-table.mjs from real runs: do not edit by hand. -->',
    '',
    'Real interceptor libraries, vendored unmodified at pinned versions',
    '(`ui/lib/libraries.js`, `ui/vendor/`), set up as their READMEs show and run',
    'in the browser runtime against the lab\'s server: case 3, a token expired',
    '1 s ago and still refreshable. Each cell is **refresh calls / requests lost /',
    'logouts**, measured.',
    '',
    '- **timer**: 3 secret + 3 public requests on the default schedule (secret',
    '  150 ms, public 100 ms, refresh 200 ms, no jitter).',
    `- **jitter** (strict, defaults): the same with up to ${JITTER_MS} ms of seeded jitter per`,
    `  lane and route, seeds 1–${SEEDS}: in how many runs the library refreshed more than once,`,
    '  and in how many a request was lost.',
    '- **worst hand-made order**: 2 secret requests held by the network, each',
    '  of the orders below played (then the rest in due order); the worst',
    '  outcome (most requests lost, then logouts, then refresh calls) and the',
    '  order that gave it. Replay one with `network: "step"` and its `deliver`',
    '  list, or by hand in the app. Under `non-atomic` the refresh\'s commit',
    '  (`secret#1=`) follows right after the refresh reaches the server.',
    '',
    '| order | what happens | deliver |',
    '|---|---|---|',
    ...ORDERS.map((o) => `| \`${o.id}\` | ${o.what} | ${o.deliver.length ? `\`${o.deliver.join(',')}\`` : '(none: step)'} |`),
    '',
    'In a page a tab has at most three exchanges on the wire (a browser\'s',
    'connection limit, docs/design.md): on the timer the refresh waits behind',
    'the public requests, so the 401s of the burst all land while it is out.',
    'The orders above are where the libraries differ.',
    '',
    'Option sets: each library\'s defaults, then each boolean option it',
    'documents flipped, one at a time. Server policies: see the README.',
    '',
  ];
  for (const library of LIBRARIES) {
    if (kept.has(library.name)) {
      lines.push(...kept.get(library.name), '');
      continue;
    }
    lines.push(`## ${library.package} ${library.version} (\`${library.name}\`)`, '', `[README](${library.docs}) — “${library.summary}”`, '');
    if (library.settings) {
      const own = Object.entries(library.settings).map(([k, v]) => `\`${k}: ${v}\``).join(', ');
      lines.push(`Run with ${own || 'the lab\'s defaults'}; 2 secret requests per tab; each tab one client. **1 tab / 3 tabs**, on the timer and stepped in due order (held, exact).`, '');
      lines.push('| options | policy | 1 tab, timer | 1 tab, due order | 3 tabs, timer | 3 tabs, due order |', '|---|---|---|---|---|---|');
      for (const row of rows.filter((r) => r.library === library)) {
        const t = row.tabs;
        lines.push(`| ${optionsText(row.set)} | ${row.policy} | ${outcome(t.timer1)} | ${outcome(t.step1)} | ${outcome(t.timer3)} | ${outcome(t.step3)} |`);
      }
      lines.push('');
      continue;
    }
    lines.push('| options | policy | timer | jitter (strict, defaults) | worst hand-made order | order |', '|---|---|---|---|---|---|');
    for (const row of rows.filter((r) => r.library === library)) {
      const jitter = row.jitter ? `${row.jitter.twice} of ${SEEDS} refreshed twice or more; ${row.jitter.lost} of ${SEEDS} lost requests` : '';
      lines.push(`| ${optionsText(row.set)} | ${row.policy} | ${outcome(row.timer)} | ${jitter} | ${outcome(row.worst.v)} | \`${row.worst.order.id}\` |`);
    }
    lines.push('');
  }
  lines.push(`Policies measured: ${policies.join(', ')}. Regenerate: \`cargo build && node scripts/library-table.mjs\`.`, '');
  return lines.join('\n');
}

await main();
