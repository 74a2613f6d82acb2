// The code panel's heavy parts, fetched and compiled the first time they
// are needed instead of with the page, which a first run never needs:
// the editor (code-editor.js over vendor/codemirror.js, ~800 KB) when the
// panel first opens, the module checker (lib/module-check.js over
// vendor/acorn.js, ~200 KB) when a learner's module is first checked.
// Same-origin module imports: the page's CSP (script-src 'self') allows them.

let checker = null;

/** lib/module-check.js, imported once. */
export function loadChecker() {
  checker ??= import('./lib/module-check.js');
  return checker;
}

/** How many documents set before the editor exists are replayed into it (its undo history). */
const REPLAYED_DOCS = 4;

/**
 * An editor that exists only once `load()` is called (the panel opened):
 * until then it keeps what it was told (the document, read-only or not,
 * its label, the marks) and hands it to CodeMirror on load, so the panel
 * talks to it the same way before and after. `onDocChanged()` after each
 * `setDoc` and each edit, as CodeMirror calls it.
 */
export function deferredEditor(box, { onDocChanged }) {
  let real = null;
  let loading = null;
  let replaying = false;
  // What the editor shows once it exists.
  const want = { docs: [''], readOnly: true, label: 'Strategy source', marks: { current: null, error: null }, scrollTo: null };
  const doc = () => want.docs[want.docs.length - 1];

  return {
    /** Imports CodeMirror and mounts it with what was set so far; resolves once it is there. */
    load() {
      loading ??= import('./code-editor.js').then(({ mountEditor }) => {
        real = mountEditor(box, { onDocChanged: () => { if (!replaying) onDocChanged(); } });
        // Already reported when they were set: replayed silently, in order,
        // so Ctrl+Z steps back through them as it would have.
        replaying = true;
        try {
          for (const text of want.docs) real.setDoc(text);
        } finally {
          replaying = false;
        }
        real.configure(want.readOnly, want.label);
        real.mark(want.marks, want.scrollTo != null && want.scrollTo <= real.view.state.doc.lines ? want.scrollTo : null);
        want.docs = [];
        return real;
      });
      return loading;
    },
    configure(readOnly, label) {
      if (real) real.configure(readOnly, label);
      else Object.assign(want, { readOnly, label });
    },
    setDoc(text) {
      if (real) {
        real.setDoc(text);
        return;
      }
      want.docs.push(text);
      if (want.docs.length > REPLAYED_DOCS) want.docs.shift();
      // A new document carries no marks (CodeMirror maps them away with the old text).
      Object.assign(want, { marks: { current: null, error: null }, scrollTo: null });
      onDocChanged();
    },
    /** The document's text. */
    text() {
      return real ? real.view.state.doc.toString() : doc();
    },
    /** How many lines the document has. */
    lines() {
      return real ? real.view.state.doc.lines : doc().split(/\r\n?|\n/).length;
    },
    /** Marks lines ({current, error}, 1-based or null); `scrollTo`: a line to bring into view. */
    mark(marks, scrollTo = null) {
      if (real) real.mark(marks, scrollTo);
      else Object.assign(want, { marks: { ...marks }, scrollTo });
    },
    focus() {
      this.load().then((editor) => editor.view.focus());
    },
    /** Lays the editor out again (it was laid out while hidden). */
    requestMeasure() {
      if (real) real.view.requestMeasure();
    },
  };
}
