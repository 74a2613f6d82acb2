import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPair, comparePlan, compareLabel, compareTitle } from '../../ui/lib/compare.js';

const STRATEGIES = ['naive', 'queue', 'single-flight'];
const POLICIES = ['strict', 'family', 'grace', 'none', 'non-atomic'];

test('default client pair: your client against single-flight (naive when you chose single-flight)', () => {
  assert.deepEqual(defaultPair('strategies', STRATEGIES, 'naive'), ['naive', 'single-flight']);
  assert.deepEqual(defaultPair('strategies', STRATEGIES, 'queue'), ['queue', 'single-flight']);
  assert.deepEqual(defaultPair('strategies', STRATEGIES, 'single-flight'), ['naive', 'single-flight']);
  assert.deepEqual(defaultPair('strategies', STRATEGIES, 'unknown'), ['naive', 'single-flight']);
});

test('default policy pair: your policy against family (strict when you chose family)', () => {
  assert.deepEqual(defaultPair('policies', POLICIES, 'strict'), ['strict', 'family']);
  assert.deepEqual(defaultPair('policies', POLICIES, 'grace'), ['grace', 'family']);
  assert.deepEqual(defaultPair('policies', POLICIES, 'family'), ['strict', 'family']);
});

test('a lab that lacks a default name gets another of its own names', () => {
  assert.deepEqual(defaultPair('policies', ['strict', 'none'], 'strict'), ['strict', 'none']);
  assert.deepEqual(defaultPair('strategies', ['queue', 'single-flight'], 'naive'), ['queue', 'single-flight']);
});

test('a plan varies one thing only', () => {
  assert.deepEqual(comparePlan({ by: 'strategies', a: 'naive', b: 'single-flight', strategy: 'queue', policy: 'family' }), [
    { strategy: 'naive', policy: 'family', label: 'naive' },
    { strategy: 'single-flight', policy: 'family', label: 'single-flight' },
  ]);
  assert.deepEqual(comparePlan({ by: 'policies', a: 'strict', b: 'family', strategy: 'naive', policy: 'grace' }), [
    { strategy: 'naive', policy: 'strict', label: 'strict' },
    { strategy: 'naive', policy: 'family', label: 'family' },
  ]);
});

test('labels say what is compared and what is kept', () => {
  assert.equal(compareLabel({ a: 'strict', b: 'family' }), 'strict ⇄ family');
  assert.match(compareTitle({ by: 'policies', a: 'strict', b: 'family', strategy: 'naive', policy: 'x' }), /strict server against family server, both with the naive client/);
  assert.match(compareTitle({ by: 'strategies', a: 'naive', b: 'single-flight', strategy: 'x', policy: 'strict' }), /naive client against single-flight client, both against the strict server/);
});

test('a runtime comparison runs one strategy in the engine and in the page', async () => {
  const { comparePlan: plan, compareBy, defaultPair: pair } = await import('../../ui/lib/compare.js');
  assert.deepEqual(plan({ by: 'runtimes', a: 'rust', b: 'browser', strategy: 'queue', policy: 'strict' }), [
    { strategy: 'queue', policy: 'strict', runtime: 'rust', label: 'queue in rust' },
    { strategy: 'queue', policy: 'strict', runtime: 'browser', label: 'queue in browser' },
  ]);
  assert.deepEqual(pair('runtimes', ['rust', 'browser'], 'browser'), ['rust', 'browser']);
  assert.equal(compareBy('runtimes'), 'runtimes');
  assert.equal(compareBy('nonsense'), 'strategies');
});

test('in the browser runtime a client comparison offers the libraries, and a library faces its other version', async () => {
  const { compareNames } = await import('../../ui/lib/compare.js');
  const builtins = ['naive', 'single-flight'];
  assert.deepEqual(compareNames('strategies', builtins, 'rust'), builtins);
  assert.deepEqual(compareNames('policies', ['strict'], 'browser'), ['strict']);
  const names = compareNames('strategies', builtins, 'browser');
  assert.ok(names.includes('supabase-auth@2.106') && names.includes('oidc-client-ts@3'));
  assert.deepEqual(defaultPair('strategies', names, 'supabase-auth@2.106'), ['supabase-auth@2.106', 'supabase-auth@2.119']);
  assert.deepEqual(defaultPair('strategies', names, 'supabase-auth@2.119'), ['supabase-auth@2.119', 'supabase-auth@2.106']);
  assert.deepEqual(defaultPair('strategies', names, 'axios-auth-refresh@3'), ['axios-auth-refresh@3', 'axios-auth-refresh@5']);
  // One version only on the bench: the usual other side.
  assert.deepEqual(defaultPair('strategies', names, 'oidc-client-ts@3'), ['oidc-client-ts@3', 'single-flight']);
  // Not offered (the Rust runtime): no library pair.
  assert.deepEqual(defaultPair('strategies', builtins, 'supabase-auth@2.106'), ['naive', 'single-flight']);
});
