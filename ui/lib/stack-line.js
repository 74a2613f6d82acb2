// Which line of a learner's module a stack trace points at: for runtime
// errors and the code panel's marks. Pure, no DOM, no parser: the tab's
// Worker imports it (ui/lib/module-check.js re-exports it).

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The 1-based line of the first stack frame inside the module at
 * `moduleUrl`, or null when no frame is. Reads V8's frames
 * (`    at request (blob:http://x/uuid:12:5)`, `    at blob:http://x/uuid:12:5`)
 * and JavaScriptCore's and Firefox's (`request@blob:http://x/uuid:12:5`).
 */
export function stackLine(stack, moduleUrl) {
  if (typeof stack !== 'string' || !moduleUrl) return null;
  // The URL, then :line:column, then the frame's end: `)` or the end of the line.
  const frame = new RegExp(`${escapeRegExp(String(moduleUrl))}:(\\d+):(\\d+)\\)?\\s*$`);
  for (const line of stack.split('\n')) {
    const match = frame.exec(line);
    if (match) return Number(match[1]);
  }
  return null;
}
