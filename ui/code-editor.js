// The code panel's editor: CodeMirror 6 (ui/vendor/codemirror.js, bundled
// by scripts/vendor-ui.mjs) in a shadow root, with two line marks (the
// step's current line, an error's line) and the theme's colours.
// Highlighting is by CSS class (tok-keyword, …), coloured with the theme's
// variables, in both themes.

import {
  EditorState, Compartment, StateField, StateEffect,
  EditorView, Decoration, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars, history, defaultKeymap, historyKeymap,
  syntaxHighlighting, indentOnInput, bracketMatching, javascript, classHighlighter,
} from './vendor/codemirror.js';

// The two line marks: the step's current line and the line of an error.
export const setMarks = StateEffect.define();
const marksField = StateField.define({
  create: () => Decoration.none,
  update(marks, tr) {
    let next = marks.map(tr.changes);
    for (const effect of tr.effects) {
      if (!effect.is(setMarks)) continue;
      const ranges = [];
      for (const [line, cls] of [[effect.value.current, 'cm-step-line'], [effect.value.error, 'cm-error-line']]) {
        if (line != null && line >= 1 && line <= tr.state.doc.lines) {
          ranges.push(Decoration.line({ class: cls }).range(tr.state.doc.line(line).from));
        }
      }
      next = Decoration.set(ranges, true);
    }
    return next;
  },
  provide: (field) => EditorView.decorations.from(field),
});

// The editor's look, in the theme's CSS variables (they reach into the
// shadow root; code-panel.css does not). Highlighting is by
// classHighlighter's classes (tok-keyword, …).
const editorTheme = EditorView.theme({
  '&': { height: '100%', background: 'var(--well)', color: 'var(--text)', fontSize: '.85rem' },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '-2px' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.45' },
  '.cm-content': { caretColor: 'var(--accent)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--accent)' },
  '.cm-gutters': { background: 'var(--sunk)', color: 'var(--muted)', borderRight: '1px solid var(--line)' },
  // The cursor's line only while the editor has the focus: unfocused, it would read as a mark.
  '&.cm-focused .cm-activeLine': { background: 'var(--row-odd)' },
  '&.cm-focused .cm-activeLineGutter': { background: 'var(--panel-2)', color: 'var(--text)' },
  '.cm-activeLine, .cm-activeLineGutter': { background: 'transparent' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground': { background: 'var(--violet-bg)' },
  '&.cm-focused .cm-matchingBracket': { outline: '1px solid var(--violet)', background: 'none' },
  '.cm-step-line': { background: 'var(--gold-bg)', boxShadow: 'inset 4px 0 0 var(--accent)' },
  '.cm-error-line': { background: 'var(--bad-bg)', boxShadow: 'inset 4px 0 0 var(--bad-bright)' },
  '.tok-keyword, .tok-modifier, .tok-operatorKeyword': { color: 'var(--violet-text)', fontWeight: '700' },
  '.tok-string, .tok-string2': { color: 'var(--ok-text)' },
  '.tok-number, .tok-bool, .tok-atom': { color: 'var(--warn-text)' },
  '.tok-comment': { color: 'var(--muted)', fontStyle: 'italic' },
  '.tok-variableName.tok-definition, .tok-propertyName.tok-definition': { color: 'var(--jwt-payload)' },
  '.tok-propertyName': { color: 'var(--info-text)' },
  '.tok-punctuation, .tok-operator': { color: 'var(--soft-text)' },
  '.tok-invalid': { color: 'var(--bad-text)' },
});

/**
 * Mounts an editor in `box` (its shadow root). `onDocChanged()` after each
 * edit. Returns `{ view, setReadOnly(bool), setLabel(text), setDoc(text),
 * setMarks({current, error}) }`.
 */
export function mountEditor(box, { onDocChanged }) {
  const readOnly = new Compartment();
  const label = new Compartment();
  // In a shadow root: there CodeMirror's style-mod puts its styles in a
  // constructed stylesheet (adoptedStyleSheets), which the page's CSP
  // (style-src 'self') allows; in the document it would add a <style>
  // element, which that CSP blocks (see editorTheme).
  const shadow = box.attachShadow({ mode: 'open' });
  const view = new EditorView({
    parent: shadow,
    root: shadow,
    state: EditorState.create({
      doc: '',
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        // No Tab binding: Tab leaves the editor, so the keyboard is never trapped.
        keymap.of([...defaultKeymap, ...historyKeymap]),
        javascript(),
        syntaxHighlighting(classHighlighter),
        editorTheme,
        EditorView.lineWrapping,
        marksField,
        readOnly.of(EditorState.readOnly.of(true)),
        label.of(EditorView.contentAttributes.of({ 'aria-label': 'Strategy source' })),
        // Said out loud, although contenteditable is focusable anyway: checkers
        // (axe's scrollable-region-focusable) look for a tabindex.
        EditorView.contentAttributes.of({ tabindex: '0' }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onDocChanged();
        }),
      ],
    }),
  });
  return {
    view,
    /** Read-only (a strategy's source) or editable (the learner's module), with its label. */
    configure(readOnlyNow, ariaLabel) {
      view.dispatch({
        effects: [
          readOnly.reconfigure(EditorState.readOnly.of(readOnlyNow)),
          label.reconfigure(EditorView.contentAttributes.of({ 'aria-label': ariaLabel })),
        ],
      });
    },
    setDoc(source) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: source } });
    },
    /** Marks lines ({current, error}, 1-based or null); `scrollTo`: a line to bring into view. */
    mark(marks, scrollTo = null) {
      const effects = [setMarks.of({ ...marks })];
      if (scrollTo != null) effects.push(EditorView.scrollIntoView(view.state.doc.line(scrollTo).from, { y: 'center' }));
      view.dispatch({ effects });
    },
  };
}
