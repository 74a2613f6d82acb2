// Grades a module in the page against lib/grader.js's checks: a check with
// one order (a guest, a valid token) is one run to its end
// (module-runner.js); a check with several requests is explored over every
// order (explore-client.js: the lab's explorer delivers, the page runs the
// module's tabs), under each policy of ORDER_POLICIES. Fills the score card
// row by row through `onRows`.

import { CHECKS, ORDER_POLICIES, gradeRow, gradeOrders, orderSettings } from './lib/grader.js';
import { runToEnd } from './module-runner.js';
import { exploreToEnd, ModuleFailed } from './explore-client.js';

/** "message (line 4)" */
function failure(failed) {
  return `${failed.message}${failed.line ? ` (line ${failed.line})` : ''}`;
}

async function gradeOneOrder(check, settings, source, onModuleError) {
  try {
    const { last, failed } = await runToEnd(settings, { source });
    if (failed) onModuleError(failed);
    const error = failed ? failure(failed) : last && last.type !== 'done' ? last.message : null;
    return gradeRow(check, { verdict: last && last.verdict, error });
  } catch (error) {
    return gradeRow(check, { error: error && error.message ? error.message : String(error) });
  }
}

async function gradeEveryOrder(check, module, source, onModuleError, makeLink) {
  const results = [];
  for (const policy of ORDER_POLICIES) {
    const settings = { ...orderSettings(check, policy), module };
    try {
      results.push({ policy, exploration: await exploreToEnd({ settings }, { client: { source } }) });
    } catch (error) {
      if (error instanceof ModuleFailed) onModuleError({ message: error.message, line: error.line });
      const why = error instanceof ModuleFailed ? failure(error) : error && error.message ? error.message : String(error);
      results.push({ policy, error: `${policy}: ${why}` });
      break;
    }
  }
  const row = gradeOrders(check, results);
  if (row.counterexample) row.link = await makeLink(row.counterexample.settings).catch(() => null);
  return row;
}

/**
 * Grades `source` (named `module` on the timeline). `onRows(rows, done)`
 * after each check; `stillWanted()` false stops it (a newer grading owns
 * the card); `onModuleError(failed)` when the module itself failed;
 * `makeLink(settings)`: a counterexample's `#s=…` link (or null).
 * Resolves with the rows.
 */
export async function gradeModule(source, { module, onRows, stillWanted = () => true, onModuleError = () => {}, makeLink = async () => null }) {
  const rows = [];
  for (const check of CHECKS) {
    const row = check.orders
      ? await gradeEveryOrder(check, module, source, onModuleError, makeLink)
      : await gradeOneOrder(check, { ...check.settings, module }, source, onModuleError);
    if (!stillWanted()) return rows;
    rows.push(row);
    onRows([...rows], rows.length === CHECKS.length);
  }
  return rows;
}
