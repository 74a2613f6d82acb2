// The vendored bundles in ui/vendor/ (scripts/vendor-ui.mjs) were built from
// the versions package.json pins: each bundle's header names every package
// it holds with its version, and each has its licence beside it. Fails when
// package.json moved on and nobody ran `node scripts/vendor-ui.mjs`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VENDOR = path.join(REPO, 'ui', 'vendor');
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8'));

/** The version package.json pins for `name`; an npm alias (`npm:axios-auth-refresh@5.0.2`) pins its target's. */
function pinned(name) {
  const spec = pkg.devDependencies[name];
  return spec && spec.startsWith('npm:') ? spec.slice(spec.lastIndexOf('@') + 1) : spec;
}

/** `//   @codemirror/view 6.43.15 (MIT, licenses/@codemirror/view.LICENSE)` lines of a bundle's header. */
function headerPackages(file) {
  const text = readFileSync(path.join(VENDOR, file), 'utf8');
  const header = text.slice(0, text.indexOf('\n// node_modules/'));
  const bundler = /Bundled with esbuild (\S+?),/.exec(header);
  const packages = [...header.matchAll(/^\/\/ {3}(\S+) (\S+) \((\S+), (licenses\/\S+)\)$/gm)]
    .map(([, name, version, licence, file]) => ({ name, version, licence, file }));
  return { bundler: bundler && bundler[1], packages };
}

for (const [file, direct] of [
  ['codemirror.js', ['@codemirror/state', '@codemirror/view', '@codemirror/commands', '@codemirror/language', '@codemirror/lang-javascript', '@lezer/highlight']],
  ['acorn.js', ['acorn']],
  ['axios.js', ['axios']],
  ['axios-auth-refresh-5.js', ['axios-auth-refresh-5']],
  ['axios-auth-refresh-3.js', ['axios-auth-refresh-3']],
  ['supabase-auth-js-2-106.js', ['supabase-auth-js-2-106']],
  ['supabase-auth-js-2-119.js', ['supabase-auth-js-2-119']],
  ['rtk-query.js', ['@reduxjs/toolkit']],
  ['async-mutex.js', ['async-mutex']],
  ['ky.js', ['ky']],
  ['oidc-client-ts-3.js', ['oidc-client-ts']],
]) {
  test(`ui/vendor/${file} was built from the versions package.json pins`, () => {
    const { bundler, packages } = headerPackages(file);
    assert.equal(bundler, pkg.devDependencies.esbuild, 'built with the pinned esbuild');
    const names = packages.map((p) => p.name);
    for (const name of direct) {
      assert.ok(names.includes(name), `${name} is in the bundle's header`);
      assert.match(pinned(name) ?? '', /^\d+\.\d+\.\d+$/, `${name} is pinned to one version in package.json`);
    }
    for (const p of packages) {
      // Direct dependencies: package.json's pin; the packages they bring: the lock file's.
      const wanted = pinned(p.name) ?? lock.packages[`node_modules/${p.name}`]?.version;
      assert.equal(p.version, wanted, `${p.name}: the bundle has ${p.version}, package.json / package-lock.json ${wanted}`);
      assert.ok(existsSync(path.join(VENDOR, p.file)), `${p.file} is there`);
      assert.ok(readFileSync(path.join(VENDOR, p.file), 'utf8').length > 100, `${p.file} holds a licence`);
    }
  });
}
