#!/usr/bin/env node
// Regenerates the UI's vendored modules from the npm devDependencies:
//
//   ui/vendor/codemirror.js  the editor (CodeMirror 6), one ES module
//   ui/vendor/acorn.js       the JavaScript parser (precise syntax errors)
//   ui/vendor/axios.js, ui/vendor/axios-auth-refresh-<major>.js,
//   ui/vendor/supabase-auth-js-<version>.js, ui/vendor/oidc-client-ts-3.js
//                            the real interceptor and auth libraries the
//                            browser runtime puts on the bench
//                            (ui/lib/libraries.js)
//   ui/vendor/licenses/<package>.LICENSE  the licence of each bundled package
//
// The page has no bundler and loads ES modules as they are, so each vendored
// library is bundled once here (esbuild, unminified so it stays readable and
// diffable) and committed. The versions live in package.json only; each
// bundle's header names the versions it was built from, and
// tests/ui-unit/vendor.test.mjs fails when they drift apart.
//
//   npm ci && node scripts/vendor-ui.mjs

import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync, rmSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(REPO, 'ui', 'vendor');

// What the code panel needs from CodeMirror, and nothing else (esbuild drops
// the rest): a lean editor (no autocomplete popups or search panel to explain
// in a workshop), JavaScript highlighting by CSS class (the page's CSS
// variables colour it, in both themes), and line decorations.
const BUNDLES = [
  {
    file: 'codemirror.js',
    what: 'CodeMirror 6, the parts ui/code-panel.js uses',
    entry: `
export { EditorState, Compartment, StateField, StateEffect } from '@codemirror/state';
export {
  EditorView, Decoration, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars,
} from '@codemirror/view';
export { history, defaultKeymap, historyKeymap } from '@codemirror/commands';
export { syntaxHighlighting, indentOnInput, bracketMatching, indentUnit } from '@codemirror/language';
export { javascript } from '@codemirror/lang-javascript';
export { classHighlighter } from '@lezer/highlight';
`,
  },
  {
    file: 'acorn.js',
    what: 'acorn, the JavaScript parser ui/lib/module-check.js uses',
    entry: `export { parse, version } from 'acorn';\n`,
  },
  // The libraries on the bench (ui/lib/libraries.js, docs/libraries.md): their
  // own code, unmodified, only wrapped as ES modules. Each library imports
  // axios from the one vendored axios.js, as an app has one axios; two majors
  // of one library sit side by side through npm aliases in package.json
  // (`axios-auth-refresh-5` is `npm:axios-auth-refresh@5.0.2`).
  {
    file: 'axios.js',
    what: 'axios, the HTTP client the interceptor libraries plug into (browser build; the strategies give it an adapter that calls api.send)',
    entry: `export { default, AxiosError, AxiosHeaders, CanceledError, VERSION } from 'axios';\n`,
  },
  {
    file: 'axios-auth-refresh-5.js',
    what: 'axios-auth-refresh 5.x (its ESM build), importing ./axios.js',
    entry: `export { default, createAuthRefresh } from 'axios-auth-refresh-5';\n`,
    sharesAxios: true,
  },
  {
    file: 'axios-auth-refresh-3.js',
    what: 'axios-auth-refresh 3.x (its UMD build, which requires axios), importing ./axios.js',
    entry: `export { default } from 'axios-auth-refresh-3';\n`,
    sharesAxios: true,
  },
  // Supabase's auth client (GoTrue) at two versions side by side (npm
  // aliases again): 2.106, the last whose browser default serialises
  // refreshes with a Web Lock, and the newest, lockless one.
  {
    file: 'supabase-auth-js-2-106.js',
    what: '@supabase/auth-js 2.106.x (its ESM build): GoTrueClient and its navigatorLock',
    entry: `export { GoTrueClient, navigatorLock, processLock, AuthError, isAuthError } from 'supabase-auth-js-2-106';\n`,
  },
  // The Redux Toolkit docs' recipe "Preventing multiple unauthorized
  // errors": RTK Query's fetchBaseQuery and async-mutex's Mutex.
  {
    file: 'rtk-query.js',
    what: "@reduxjs/toolkit's RTK Query fetchBaseQuery (the base query the recipe wraps)",
    entry: `export { fetchBaseQuery } from '@reduxjs/toolkit/query';\n`,
  },
  {
    file: 'async-mutex.js',
    what: 'async-mutex, the Mutex the RTK Query recipe serialises its refresh with',
    entry: `export { Mutex } from 'async-mutex';\n`,
  },
  // ky, for the refresh recipe its README gives (an afterResponse hook).
  {
    file: 'ky.js',
    what: 'ky, the fetch-based HTTP client whose README gives the afterResponse refresh recipe',
    entry: `export { default } from 'ky';\n`,
  },
  // oidc-client-ts 3.x: UserManager refreshes through signinSilent() with
  // the refresh-token grant (RFC 6749 §6), against the lab's OAuth mode.
  {
    file: 'oidc-client-ts-3.js',
    what: 'oidc-client-ts 3.x (its ESM build, with jwt-decode): UserManager, User, WebStorageStateStore',
    entry: `export { UserManager, User, WebStorageStateStore, InMemoryWebStorage, Log, Version } from 'oidc-client-ts';\n`,
  },
  {
    file: 'supabase-auth-js-2-119.js',
    what: '@supabase/auth-js 2.119.x (its ESM build): GoTrueClient, lockless',
    entry: `export { GoTrueClient, navigatorLock, processLock, AuthError, isAuthError } from 'supabase-auth-js-2-119';\n`,
  },
];

/**
 * `axios` inside a library's bundle is the vendored ./axios.js, not a second
 * copy. An ES module import stays an import; a CommonJS `require("axios")`
 * (3.x's UMD) gets the module namespace ({ default: axios, ... }), which is
 * what its webpack interop reads (`.default`).
 */
const sharedAxios = {
  name: 'shared-axios',
  setup(build) {
    build.onResolve({ filter: /^axios$/ }, (args) => (args.kind === 'require-call'
      ? { path: 'axios', namespace: 'shared-axios' }
      : { path: './axios.js', external: true }));
    build.onLoad({ filter: /.*/, namespace: 'shared-axios' }, () => ({
      contents: `export * from './axios.js'; export { default } from './axios.js';\n`,
      loader: 'js',
      resolveDir: OUT,
    }));
    build.onResolve({ filter: /^\.\/axios\.js$/ }, () => ({ path: './axios.js', external: true }));
  },
};

const pkgJson = (name) => JSON.parse(readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8'));

/** The package a bundled input belongs to: `node_modules/@a/b/dist/x.js` → `@a/b`. */
function packageOf(input) {
  const parts = input.split('/');
  const i = parts.lastIndexOf('node_modules');
  if (i < 0) return null;
  return parts[i + 1].startsWith('@') ? `${parts[i + 1]}/${parts[i + 2]}` : parts[i + 1];
}

function licenseFile(name) {
  const dir = path.join(REPO, 'node_modules', name);
  const found = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  if (!found) throw new Error(`${name} ships no LICENSE file: add its licence by hand before vendoring it`);
  return path.join(dir, found);
}

const esbuildVersion = pkgJson('esbuild').version;
rmSync(path.join(OUT, 'licenses'), { recursive: true, force: true });
mkdirSync(path.join(OUT, 'licenses'), { recursive: true });

for (const bundle of BUNDLES) {
  const result = await build({
    stdin: { contents: bundle.entry, resolveDir: REPO, sourcefile: `vendor-entry:${bundle.file}`, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: false,
    legalComments: 'inline',
    charset: 'utf8',
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: bundle.sharesAxios ? [sharedAxios] : [],
  });
  const names = [...new Set(Object.keys(result.metafile.inputs).map(packageOf).filter(Boolean))].sort();
  const lines = names.map((name) => {
    const meta = pkgJson(name);
    const target = path.join(OUT, 'licenses', `${name}.LICENSE`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, readFileSync(licenseFile(name)));
    return `//   ${name} ${meta.version} (${meta.license}, licenses/${name}.LICENSE)`;
  });
  const header = [
    `// ui/vendor/${bundle.file}: ${bundle.what}.`,
    '// Generated by scripts/vendor-ui.mjs (do not edit; run it again after changing',
    `// the versions in package.json). Bundled with esbuild ${esbuildVersion}, unminified, from:`,
    ...lines,
    '',
  ].join('\n');
  writeFileSync(path.join(OUT, bundle.file), header + result.outputFiles[0].text);
  console.log(`ui/vendor/${bundle.file}: ${names.length} packages, ${Math.round(result.outputFiles[0].text.length / 1024)} KiB`);
}

if (!existsSync(path.join(OUT, 'licenses'))) throw new Error('no licences written');
