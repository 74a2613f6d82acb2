// NDJSON framing: text chunks in, whole lines out. No DOM.
//
// A network chunk can end in the middle of a line (or of a UTF-8 character:
// the caller decodes with a streaming TextDecoder). This keeps the partial
// tail until the next chunk completes it.

/** Returns `{ push(text), end() }`; `onLine` gets each non-empty line. */
export function createLineSplitter(onLine) {
  let buffer = '';
  return {
    push(text) {
      buffer += text;
      let from = 0;
      let newline;
      while ((newline = buffer.indexOf('\n', from)) >= 0) {
        const line = buffer.slice(from, newline).replace(/\r$/, '');
        from = newline + 1;
        if (line.trim() !== '') onLine(line);
      }
      buffer = buffer.slice(from);
    },
    end() {
      const line = buffer.replace(/\r$/, '');
      buffer = '';
      if (line.trim() !== '') onLine(line);
    },
  };
}
