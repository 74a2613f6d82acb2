// Shared by the export tests: runs the CLI (the same binary the e2e tests
// serve) and returns what `refresh-race run ... --export FORMAT` prints.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO, serverBinary } from '../e2e/harness.mjs';

/** The recorded seeded run the Rust goldens are made from. */
export const FIXTURE = path.join(REPO, 'tests', 'golden', 'export', 'naive-seed7.report.json');

/** Runs of every shape the exports have to draw: `[name, run arguments]`. */
export const RUNS = [
  ['case 1 guest, naive', ['--case', 'guest', '--client', 'naive']],
  ['case 2 valid, queue', ['--case', 'valid', '--client', 'queue']],
  ['case 3 naive race', ['--client', 'naive', '--jitter', '80', '--seed', '7']],
  ['case 3 queue, late request', ['--client', 'queue', '--late', '--jitter', '80', '--seed', '7']],
  ['case 3 single-flight', ['--client', 'single-flight']],
  ['case 3 naive, family policy', ['--client', 'naive', '--policy', 'family', '--jitter', '80', '--seed', '7']],
  ['case 3 naive, grace policy', ['--client', 'naive', '--policy', 'grace']],
  ['case 4 window over', ['--case', 'expired-not-refreshable', '--client', 'naive']],
  ['case 3, 300 requests', ['--client', 'single-flight', '--secret', '200', '--public', '100']],
];

/** `refresh-race run ARGS --export FORMAT` → its stdout (text). */
export function runExport(format, args) {
  return execFileSync(serverBinary(), ['run', ...args, '--export', format], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** `refresh-race export FORMAT FILE` → its stdout (Buffer). */
export function exportFile(format, file) {
  return execFileSync(serverBinary(), ['export', format, file], { maxBuffer: 64 * 1024 * 1024 });
}
