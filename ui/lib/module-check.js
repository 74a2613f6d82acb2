// Checks a learner's strategy module before it runs, and finds the line of
// a runtime error in a stack. Pure: no DOM, no Worker (node-tested; the
// code panel and the Worker both use it).
//
// The module contract (docs/design.md, "Clients in the page"): one ES module, run alone in a Worker,
// that exports `request(req, api)`. So an import is refused (there is nothing
// to import in the Worker, and everything the module may use comes in `api`),
// and `request` must be exported by name and be a function.

import { parse } from '../vendor/acorn.js';

export { MAX_MODULE_BYTES } from './module-size.js';

export const MISSING_REQUEST = 'the module must export a function named request(req, api)';

/** `line 3, column 5: why` (1-based), or just `why` without a place. */
function located(message, line, column) {
  if (line == null) return message;
  return column == null ? `line ${line}: ${message}` : `line ${line}, column ${column}: ${message}`;
}

function fail(message, line = null, column = null) {
  return { ok: false, message: located(message, line, column), line, column };
}

function failAt(message, node) {
  return fail(message, node.loc.start.line, node.loc.start.column + 1);
}

/** Every node under `node` (acorn's tree is plain objects), depth first, until `visit` returns something. */
function find(node, visit) {
  if (!node || typeof node.type !== 'string') return null;
  const hit = visit(node);
  if (hit) return hit;
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const child of value) {
        const found = find(child, visit);
        if (found) return found;
      }
    } else if (value && typeof value === 'object' && typeof value.type === 'string') {
      const found = find(value, visit);
      if (found) return found;
    }
  }
  return null;
}

/** Why a value node cannot be called, or null when it is (or may be: a name or a call is only known at run time). */
function notAFunction(init) {
  if (!init) return 'request is declared without a value: it must be a function';
  switch (init.type) {
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return init.generator ? 'request must be a function, not a generator' : null;
    case 'ClassExpression':
      return 'request must be a function, not a class';
    case 'Literal':
    case 'TemplateLiteral':
    case 'ObjectExpression':
    case 'ArrayExpression':
      return 'request must be a function, not a value';
    default:
      return null;
  }
}

/** The top-level declaration of `name` (function, class or variable declarator), or null. */
function topLevelBinding(body, name) {
  for (const statement of body) {
    const decl = statement.type === 'ExportNamedDeclaration' ? statement.declaration : statement;
    if (!decl) continue;
    if ((decl.type === 'FunctionDeclaration' || decl.type === 'ClassDeclaration') && decl.id && decl.id.name === name) return decl;
    if (decl.type === 'VariableDeclaration') {
      const declarator = decl.declarations.find((d) => d.id.type === 'Identifier' && d.id.name === name);
      if (declarator) return declarator;
    }
  }
  return null;
}

/** Why the declaration exported as `request` is not a function, or null. */
function bindingProblem(binding) {
  if (binding.type === 'FunctionDeclaration') return binding.generator ? 'request must be a function, not a generator' : null;
  if (binding.type === 'ClassDeclaration') return 'request must be a function, not a class';
  return notAFunction(binding.init); // a VariableDeclarator
}

/**
 * Checks `source` against the module contract.
 * @returns {{ok: true} | {ok: false, message: string, line: number|null, column: number|null}}
 *   line and column are 1-based; the message starts with them when there are.
 */
export function checkModule(source) {
  let ast;
  try {
    ast = parse(String(source), { sourceType: 'module', ecmaVersion: 'latest', locations: true });
  } catch (error) {
    if (error instanceof SyntaxError && error.loc) {
      // acorn says "Unexpected token (3:4)": its place again, 0-based column.
      const why = error.message.replace(/\s*\(\d+:\d+\)$/, '');
      return fail(why, error.loc.line, error.loc.column + 1);
    }
    throw error;
  }

  const imported = find(ast, (node) => {
    if (node.type === 'ImportDeclaration' || node.type === 'ImportExpression') return node;
    if ((node.type === 'ExportNamedDeclaration' || node.type === 'ExportAllDeclaration') && node.source) return node;
    return null;
  });
  if (imported) {
    return failAt('import is not allowed: the module runs alone in a Worker, and everything it may use comes in api', imported);
  }

  let exported = null; // the node that exports the name `request`, and the declaration behind it
  for (const statement of ast.body) {
    if (statement.type !== 'ExportNamedDeclaration') continue;
    const decl = statement.declaration;
    if (decl) {
      const binding = topLevelBinding([decl], 'request');
      if (binding) exported = { at: binding, binding };
    }
    for (const spec of statement.specifiers || []) {
      const name = spec.exported.type === 'Identifier' ? spec.exported.name : spec.exported.value;
      if (name === 'request') exported = { at: spec, binding: topLevelBinding(ast.body, spec.local.name) };
    }
  }
  if (!exported) {
    const asDefault = ast.body.find((s) => s.type === 'ExportDefaultDeclaration');
    return asDefault
      ? failAt(`${MISSING_REQUEST}; a default export does not count: write export async function request(req, api)`, asDefault)
      : fail(MISSING_REQUEST);
  }
  // acorn refuses an export of an undeclared name, so a binding is there.
  const problem = exported.binding ? bindingProblem(exported.binding) : null;
  return problem ? failAt(problem, exported.at) : { ok: true };
}

// The stack reader lives on its own so the tab's Worker can use it without
// loading the parser.
export { stackLine } from './stack-line.js';
