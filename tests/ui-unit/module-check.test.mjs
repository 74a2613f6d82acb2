// ui/lib/module-check.js: the learner's module checked before it runs (the
// syntax errors are acorn's own, with their real places), and the line of a
// runtime error read from real V8 stacks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkModule, stackLine, MISSING_REQUEST, MAX_MODULE_BYTES } from '../../ui/lib/module-check.js';

const NAIVE = `// one refresh per 401
export async function request(req, api) {
  const first = await api.send(req, api.token());
  if (first.status !== 401) return first;
  const fresh = await api.refresh(api.token());
  if (!fresh.ok) { api.logout(fresh.reason); return fresh; }
  api.store(fresh.token);
  return api.send(req, fresh.token);
}
`;

test('a well-formed module passes, in each way of exporting request', () => {
  for (const source of [
    NAIVE,
    'export function request(req, api) { return api.send(req, api.token()); }',
    'export const request = async (req, api) => api.send(req, api.token());',
    'export let request = function (req, api) { return { status: 200 }; };',
    'async function go(req, api) { return { status: 200 }; }\nexport { go as request };',
    'const request = (req, api) => ({ status: 200 });\nexport { request };',
    // Only known at run time: a name or a call may well be a function.
    'function make() { return async () => ({ status: 200 }); }\nexport const request = make();',
    // Module state and helpers beside it are what a queue strategy needs.
    'let isRefreshing = false;\nconst queue = [];\nexport async function request(req, api) { return { status: isRefreshing ? queue.length : 200 }; }',
  ]) {
    assert.deepEqual(checkModule(source), { ok: true }, source);
  }
});

test('a syntax error comes with acorn\'s message and its 1-based line and column', () => {
  // Line 3, `)` where an expression is due: the 11th character (acorn's 0-based column 10).
  const source = 'export async function request(req, api) {\n  const a = 1;\n  if (a ==) return { status: 200 };\n}\n';
  assert.deepEqual(checkModule(source), {
    ok: false,
    message: 'line 3, column 11: Unexpected token',
    line: 3,
    column: 11,
  });
  // An unclosed brace is found at the end of the file.
  const unclosed = checkModule('export function request(req, api) {\n  return 1;\n');
  assert.equal(unclosed.ok, false);
  assert.equal(unclosed.line, 3);
  assert.equal(unclosed.column, 1);
  assert.equal(unclosed.message, 'line 3, column 1: Unexpected token');
  // Module code is strict: `with` is refused where it stands.
  const strict = checkModule('export function request(req, api) {\n  with (req) { return 1; }\n}');
  assert.deepEqual([strict.line, strict.column], [2, 3]);
  assert.match(strict.message, /^line 2, column 3: /);
  // Top-level await parses (ecmaVersion latest, a module).
  assert.deepEqual(checkModule('const ready = await Promise.resolve(1);\nexport const request = async () => ({ status: ready });'), { ok: true });
});

test('acorn\'s own message is kept, its "(line:col)" suffix dropped', () => {
  const result = checkModule('export function request(req, api) {\n  let x = 1;\n  let x = 2;\n}');
  assert.equal(result.message, "line 3, column 7: Identifier 'x' has already been declared");
  assert.deepEqual([result.line, result.column], [3, 7]);
});

test('a module without a named request export is refused', () => {
  for (const source of [
    '',
    'async function request(req, api) { return { status: 200 }; }',
    'export function requests(req, api) {}',
    'export const handler = { request() {} };',
  ]) {
    assert.deepEqual(checkModule(source), { ok: false, message: MISSING_REQUEST, line: null, column: null }, source);
  }
  const asDefault = checkModule('\nexport default async function request(req, api) { return { status: 200 }; }');
  assert.equal(asDefault.ok, false);
  assert.equal(asDefault.line, 2);
  assert.match(asDefault.message, /^line 2, column 1: the module must export a function named request\(req, api\); a default export does not count/);
});

test('request must be a function', () => {
  const cases = [
    ['export const request = 42;', 1, 14, /not a value/],
    ['export const request = { send() {} };', 1, 14, /not a value/],
    ['\n\nexport let request;', 3, 12, /without a value/],
    ['export class request {}', 1, 8, /not a class/],
    ['export function* request(req, api) {}', 1, 8, /not a generator/],
    ['const request = "no";\nexport { request };', 2, 10, /not a value/],
  ];
  for (const [source, line, column, why] of cases) {
    const result = checkModule(source);
    assert.equal(result.ok, false, source);
    assert.deepEqual([result.line, result.column], [line, column], source);
    assert.match(result.message, why, source);
    assert.ok(result.message.startsWith(`line ${line}, column ${column}: `), result.message);
  }
});

test('imports are refused, static, dynamic and re-exports, at their place', () => {
  const cases = [
    ["import { x } from './x.js';\nexport function request() {}", 1, 1],
    ["export function request(req, api) {\n  return import('./evil.js');\n}", 2, 10],
    ["export * from './x.js';\nexport function request() {}", 1, 1],
    ["export function request() {}\nexport { y } from './y.js';", 2, 1],
  ];
  for (const [source, line, column] of cases) {
    const result = checkModule(source);
    assert.equal(result.ok, false, source);
    assert.deepEqual([result.line, result.column], [line, column], source);
    assert.match(result.message, /import is not allowed: the module runs alone in a Worker/);
  }
});

test('MAX_MODULE_BYTES is 64 KiB', () => {
  assert.equal(MAX_MODULE_BYTES, 65536);
});

/** A module at a data: URL (its URL is what V8 prints in the stack), imported for real. */
async function importModule(source) {
  const url = `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`;
  return { url, module: await import(url) };
}

test('stackLine finds the line of a real V8 error thrown in the module', async () => {
  const { url, module } = await importModule(`export async function request(req, api) {
  const token = api.token();
  if (!token) {
    throw new Error('no token');
  }
  return { status: 200 };
}
`);
  const error = await module.request({}, { token: () => null }).then(() => null, (e) => e);
  assert.ok(error instanceof Error);
  assert.match(error.stack, /^\s+at .*data:text\/javascript;base64,/m, 'a V8 stack naming the module');
  assert.equal(stackLine(error.stack, url), 4);
});

test('stackLine skips frames outside the module: the module line that called them', async () => {
  const { url, module } = await importModule(`function helper(api) {
  return api.send({ route: '/api/secret' }, 't1');
}
export function request(req, api) {
  return helper(api);
}
`);
  let error = null;
  try {
    module.request({}, { send() { throw new TypeError('send failed'); } });
  } catch (e) {
    error = e;
  }
  assert.ok(error);
  const frames = error.stack.split('\n').filter((l) => l.trim().startsWith('at '));
  assert.ok(!frames[0].includes(url), 'the first frame is the test\'s own send()');
  assert.equal(stackLine(error.stack, url), 2, 'helper\'s call of api.send');
  // A runtime TypeError from the module's own code.
  const { url: url2, module: m2 } = await importModule('export function request(req, api) {\n  return req.nothing.there;\n}\n');
  let typeError = null;
  try { m2.request({}, {}); } catch (e) { typeError = e; }
  assert.equal(stackLine(typeError.stack, url2), 2);
});

test('stackLine reads JavaScriptCore frames and tells URLs apart', () => {
  // The shape WebKit (the desktop window) prints: function@url:line:column.
  const url = 'blob:http://127.0.0.1:41234/6b1f0d2e-3c55-4d0e-9d8e-1f2a3b4c5d6e';
  const jsc = [
    `send@http://127.0.0.1:41234/worker/runner.js:40:18`,
    `request@${url}:12:5`,
    `@${url}:20:1`,
  ].join('\n');
  assert.equal(stackLine(jsc, url), 12);
  // Another module whose URL starts the same is not this one.
  assert.equal(stackLine(`request@${url}0:7:1`, url), null);
  const v8 = `Error: x\n    at ${url}:3:9\n    at async run (http://127.0.0.1:41234/worker/runner.js:50:3)`;
  assert.equal(stackLine(v8, url), 3);
  assert.equal(stackLine('Error: x\n    at run (http://127.0.0.1:41234/worker/runner.js:50:3)', url), null);
  assert.equal(stackLine(undefined, url), null);
  assert.equal(stackLine('', url), null);
});
