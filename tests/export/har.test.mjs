// The HAR export against the HAR 1.2 JSON Schema of the `har-schema`
// package (the one `har-validator` uses), validated by ajv, for runs of
// every shape the engine makes; plus the numbers Chrome DevTools' importer
// insists on (every numeric field present, −1 when unknown).
//
//   cargo build && node --test tests/export/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO } from '../e2e/harness.mjs';
import { FIXTURE, RUNS, runExport, exportFile } from './run-exports.mjs';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const addFormats = require('ajv-formats');
const harSchemas = require('har-schema');
const draft06 = require('ajv/dist/refs/json-schema-draft-06.json');

function validator() {
  // har-schema is draft-06 and uses a few keywords of its own ("optional",
  // "min"), which strict mode would refuse; every standard keyword applies.
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addMetaSchema(draft06);
  addFormats(ajv);
  for (const [name, schema] of Object.entries(harSchemas)) {
    if (name !== 'har') ajv.addSchema(schema);
  }
  return ajv.compile(harSchemas.har);
}

const validate = validator();

function assertValid(har, name) {
  const ok = validate(har);
  assert.ok(ok, `${name}: ${JSON.stringify(validate.errors, null, 2)}`);
}

const NUMBERS = [
  ['time'],
  ['request', 'headersSize'], ['request', 'bodySize'],
  ['response', 'status'], ['response', 'headersSize'], ['response', 'bodySize'], ['response', 'content', 'size'],
  ...['blocked', 'dns', 'connect', 'send', 'wait', 'receive', 'ssl'].map((t) => ['timings', t]),
];

function assertDevToolsNumbers(har, name) {
  for (const [i, entry] of har.log.entries.entries()) {
    for (const pathParts of NUMBERS) {
      const value = pathParts.reduce((v, k) => (v == null ? v : v[k]), entry);
      assert.equal(typeof value, 'number', `${name}: entry ${i} ${pathParts.join('.')} = ${value}`);
      assert.ok(Number.isFinite(value) && value >= -1, `${name}: entry ${i} ${pathParts.join('.')} = ${value}`);
    }
    assert.ok(!Number.isNaN(Date.parse(entry.startedDateTime)), `${name}: entry ${i} date`);
    assert.equal(typeof entry.comment, 'string');
  }
  for (const page of har.log.pages) {
    assert.equal(page.pageTimings.onContentLoad, -1);
    assert.equal(page.pageTimings.onLoad, -1);
  }
}

test('the schema catches a broken HAR (the check can fail)', () => {
  const har = JSON.parse(exportFile('har', FIXTURE));
  assertValid(har, 'fixture');
  const broken = structuredClone(har);
  delete broken.log.entries[0].timings.wait;
  broken.log.entries[1].response.status = '401';
  assert.equal(validate(broken), false);
  const messages = validate.errors.map((e) => `${e.instancePath} ${e.message}`);
  assert.ok(messages.some((m) => m.includes('/log/entries/0/timings') && m.includes('wait')), messages.join('\n'));
  assert.ok(messages.some((m) => m.includes('/log/entries/1/response/status')), messages.join('\n'));
});

test('the golden HAR of the recorded naive race is valid HAR 1.2', () => {
  const har = JSON.parse(readFileSync(path.join(REPO, 'tests', 'golden', 'export', 'naive-seed7.har'), 'utf8'));
  assertValid(har, 'golden');
  assertDevToolsNumbers(har, 'golden');
  assert.equal(har.log.entries.length, 10);
});

for (const [name, args] of RUNS) {
  test(`HAR of a real run is valid HAR 1.2: ${name}`, () => {
    const har = JSON.parse(runExport('har', args));
    assertValid(har, name);
    assertDevToolsNumbers(har, name);
    assert.ok(har.log.entries.length >= 6, name);
    // A bearer token appears by its jti only.
    for (const entry of har.log.entries) {
      for (const h of entry.request.headers) {
        if (h.name === 'Authorization') assert.match(h.value, /^Bearer <JWT jti=t\d+>$/);
      }
    }
  });
}
