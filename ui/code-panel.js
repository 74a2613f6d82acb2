// The code panel beside the timeline: a strategy module's source (read-only,
// the line that produced the current event marked, the module's state next
// to it), or the learner's own interceptor in an editor, with its score card.
// It paints what app.js hands it and reports clicks; whether a module is fit
// to run is decided in lib/module-check.js. Closed unless its button
// (`data-action="code"`, found by aria-controls) opens it.
//
// The editor is CodeMirror 6 (ui/vendor/codemirror.js, bundled by
// scripts/vendor-ui.mjs). Highlighting is by CSS class (tok-keyword, …), so
// code-panel.css colours it with the theme's variables, in both themes.

import {
  EditorState, Compartment, StateField, StateEffect,
  EditorView, Decoration, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars, history, defaultKeymap, historyKeymap,
  syntaxHighlighting, indentOnInput, bracketMatching, javascript, classHighlighter,
} from './vendor/codemirror.js';
import { h } from './dom.js';
import { checkModule, MAX_MODULE_BYTES } from './lib/module-check.js';

/** Where the last own module is kept between visits. */
export const OWN_MODULE_KEY = 'refresh-race.interceptor';
/** The name a saved module gets. */
export const SAVE_NAME = 'interceptor.js';
/** How long typing must pause before the module is checked (and stored) again. */
const CHECK_DELAY_MS = 250;

// The two line marks: the step's current line and the line of an error.
const setMarks = StateEffect.define();
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

function readStored() {
  try {
    return window.localStorage.getItem(OWN_MODULE_KEY);
  } catch {
    return null; // storage off (private mode): the template
  }
}

function store(source) {
  try {
    window.localStorage.setItem(OWN_MODULE_KEY, source);
  } catch {
    // storage full or off: the module lasts as long as the page
  }
}

/** A state value as the module would print it: strings quoted, the rest as JSON. */
function formatValue(value) {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** "70 KiB" */
function kib(bytes) {
  return `${Math.ceil(bytes / 1024)} KiB`;
}

/**
 * Mounts the panel in `root` (an empty element with an id, `hidden`).
 * @param {HTMLElement} root
 * @param {object} options
 * @param {(source: string) => void} options.onRun          Run pressed (own mode), with the module's source
 * @param {(source: string) => void} options.onGrade        Grade pressed (own mode), with the module's source
 * @param {(id: string) => void} options.onOpenCheck        a score card row was clicked
 * @param {string} options.template                          the own module when nothing is stored (the naive strategy)
 */
export function mountCodePanel(root, { onRun, onGrade, onOpenCheck, template = '' }) {
  const toggle = root.id ? document.querySelector(`[data-action="code"][aria-controls="${root.id}"]`) : null;
  const marks = { current: null, error: null };
  let mode = 'module';
  let ownSource = readStored() ?? template;
  let checkTimer = null;

  // ---- the panel's parts ----
  const title = h('h2', { class: 'code-title', id: `${root.id || 'code-panel'}-title` }, 'Client code');
  const name = h('span', { class: 'code-name', 'data-code-name': '' });
  const closeButton = h('button', { type: 'button', class: 'code-close', 'data-action': 'close-code', 'aria-label': 'Close the code panel', title: 'Close the code panel' }, '✕');
  const ownButton = h('button', { type: 'button', class: 'code-own-button', 'data-action': 'own-code', title: 'Write your own interceptor and grade it' }, h('span', { 'aria-hidden': 'true' }, '✎ '), 'Write your own');
  const fileInput = h('input', { type: 'file', class: 'sr-only', 'data-control': 'code-file', name: 'code-file', accept: '.js,.mjs,text/javascript' });
  const tools = h('div', { class: 'code-tools', role: 'group', 'aria-label': 'Your interceptor' },
    h('span', { class: 'code-tools-part' },
      h('label', { class: 'code-button code-file', title: `Load a .js or .mjs module (at most ${kib(MAX_MODULE_BYTES)}) into the editor` }, 'Load…', fileInput),
      h('button', { type: 'button', class: 'code-button', 'data-action': 'save-code', title: `Download the module as ${SAVE_NAME}` }, 'Save'),
      h('button', { type: 'button', class: 'code-button', 'data-action': 'reset-code', title: 'Replace the module with the starting template (the naive strategy)' }, 'Template')),
    h('span', { class: 'code-tools-part code-tools-run' },
      h('button', { type: 'button', class: 'code-button code-run', 'data-action': 'run-code', title: 'Play the current case with this module' }, '▶ Run'),
      h('button', { type: 'button', class: 'code-button code-grade-button', 'data-action': 'grade', title: 'Run the fixed checks and show a score card' }, 'Grade')));
  const status = h('output', { class: 'code-status', 'data-code-status': '', 'aria-live': 'polite' });
  const error = h('p', { class: 'code-error', 'data-code-error': '', role: 'alert', hidden: true });
  const state = h('dl', { class: 'code-state', 'data-state': '', 'aria-label': 'The module\'s state', hidden: true });
  const editorBox = h('div', { class: 'code-editor', 'data-editor': '' });
  const grade = h('section', { class: 'code-grade', 'data-grade': '', 'aria-label': 'Score card', hidden: true });

  root.replaceChildren(
    h('header', { class: 'code-head' }, title, name, ownButton, closeButton),
    tools, status, error, state, editorBox, grade);
  root.setAttribute('aria-labelledby', title.id);

  // ---- the editor ----
  const readOnly = new Compartment();
  const label = new Compartment();
  // In a shadow root: there CodeMirror's style-mod puts its styles in a
  // constructed stylesheet (adoptedStyleSheets), which the page's CSP
  // (style-src 'self') allows; in the document it would add a <style>
  // element, which that CSP blocks (see editorTheme).
  const shadow = editorBox.attachShadow({ mode: 'open' });
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
          if (update.docChanged && mode === 'own') ownChanged();
        }),
      ],
    }),
  });

  function dispatchMarks() {
    view.dispatch({ effects: setMarks.of({ ...marks }) });
  }

  function setDoc(source) {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: source } });
  }

  function setMode(next, { source, ariaLabel }) {
    mode = next;
    root.setAttribute('data-mode', next);
    tools.hidden = next !== 'own';
    ownButton.hidden = next === 'own';
    view.dispatch({
      effects: [
        readOnly.reconfigure(EditorState.readOnly.of(next !== 'own')),
        label.reconfigure(EditorView.contentAttributes.of({ 'aria-label': ariaLabel })),
      ],
    });
    setDoc(source);
  }

  // ---- own module: checked and kept as it is typed ----
  function ownChanged() {
    ownSource = view.state.doc.toString();
    clearTimeout(checkTimer);
    checkTimer = setTimeout(checkNow, CHECK_DELAY_MS);
  }

  /** Checks the own module now; `keep`: also stores it (not for the untouched template, so a newer one shows next time). */
  function checkNow({ keep = true } = {}) {
    clearTimeout(checkTimer);
    checkTimer = null;
    if (mode !== 'own') return;
    if (keep) store(ownSource);
    const result = checkModule(ownSource);
    api.showError(result.ok ? null : { message: result.message, line: result.line });
  }

  function say(text) {
    status.textContent = text;
  }

  async function loadFile(file) {
    if (!file) return;
    if (file.size > MAX_MODULE_BYTES) {
      api.showError({ message: `${file.name} is ${kib(file.size)}: a module may be at most ${kib(MAX_MODULE_BYTES)}.`, line: null });
      return;
    }
    let text;
    try {
      // fatal: bytes that are not UTF-8 text (an image, a zip) are refused, not shown as garbage.
      text = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
    } catch {
      text = null;
    }
    if (text == null || text.includes('\u0000')) {
      api.showError({ message: `${file.name} is not a text file: load a JavaScript module (.js or .mjs).`, line: null });
      return;
    }
    if (mode !== 'own') api.showOwn();
    setDoc(text);
    checkNow();
    say(`Loaded ${file.name}`);
  }

  function save() {
    const source = view.state.doc.toString();
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    const link = h('a', { href: url, download: SAVE_NAME, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    // The browser reads the blob after the click returns: free it later.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    say(`Downloaded ${SAVE_NAME}`);
  }

  // ---- clicks ----
  root.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const action = target && target.closest('[data-action]');
    const check = target && target.closest('[data-check]');
    if (check && root.contains(check)) {
      onOpenCheck(check.getAttribute('data-check'));
      return;
    }
    if (!action || !root.contains(action)) return;
    switch (action.getAttribute('data-action')) {
      case 'close-code':
        api.close();
        if (toggle) toggle.focus();
        break;
      case 'own-code':
        api.showOwn();
        view.focus();
        break;
      case 'save-code':
        save();
        break;
      case 'reset-code':
        setDoc(template);
        checkNow();
        say('The starting template is back (the previous module is gone unless you saved it).');
        break;
      case 'run-code':
        if (checkTimer) checkNow();
        onRun(api.getSource());
        break;
      case 'grade':
        if (checkTimer) checkNow();
        onGrade(api.getSource());
        break;
      default:
        break;
    }
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    // Cleared so picking the same file again loads it again.
    loadFile(file).finally(() => { fileInput.value = ''; });
  });
  root.addEventListener('keydown', (event) => {
    // In the editor Escape is the editor's (it drops a selection).
    const inEditor = document.activeElement instanceof Element && !!document.activeElement.closest('.cm-editor');
    if (event.key === 'Escape' && !event.defaultPrevented && !inEditor) {
      api.close();
      if (toggle) toggle.focus();
    }
  });
  if (toggle) toggle.addEventListener('click', () => (root.hidden ? api.open() : api.close()));

  const api = {
    open() {
      root.hidden = false;
      if (toggle) toggle.setAttribute('aria-expanded', 'true');
      view.requestMeasure(); // it was laid out while hidden
    },
    close() {
      root.hidden = true;
      if (toggle) toggle.setAttribute('aria-expanded', 'false');
    },
    /** Shows a strategy module's source, read-only. */
    showModule(strategy, source) {
      if (mode === 'own' && checkTimer) checkNow();
      const moduleName = String(strategy);
      name.textContent = `${moduleName}.js`;
      name.removeAttribute('title');
      title.textContent = 'Client code';
      marks.current = null;
      marks.error = null;
      setMode('module', { source: String(source), ariaLabel: `Source of the ${moduleName} strategy (read-only)` });
      api.markLine(null);
      api.showError(null);
      say('');
    },
    /** Switches to the learner's own module (stored, or the template), editable. */
    showOwn() {
      title.textContent = 'Your own interceptor';
      name.textContent = '';
      marks.current = null;
      setMode('own', { source: ownSource, ariaLabel: 'Your interceptor module (JavaScript)' });
      api.markLine(null);
      checkNow({ keep: false });
    },
    getSource() {
      return view.state.doc.toString();
    },
    /** Puts a module that came from elsewhere (a link) in the editor, checked and kept, not run; `note` says so. */
    loadOwn(text, note) {
      if (mode !== 'own') api.showOwn();
      setDoc(String(text));
      checkNow();
      say(note);
    },
    /** Marks line `n` (1-based) as the one that produced the current event; null unmarks. */
    markLine(n) {
      const line = Number.isInteger(n) && n >= 1 && n <= view.state.doc.lines ? n : null;
      marks.current = line;
      if (line == null) root.removeAttribute('data-current-line');
      else root.setAttribute('data-current-line', String(line));
      const effects = [setMarks.of({ ...marks })];
      if (line != null) effects.push(EditorView.scrollIntoView(view.state.doc.line(line).from, { y: 'center' }));
      view.dispatch({ effects });
    },
    /** Shows the module's state ({isRefreshing: true, queue: 2, …}) beside its source; null hides it. */
    showState(obj) {
      if (!obj || typeof obj !== 'object') {
        state.hidden = true;
        state.replaceChildren();
        return;
      }
      state.hidden = false;
      state.replaceChildren(...Object.entries(obj).map(([key, value]) => h('div', { class: 'code-state-row', 'data-field': key },
        h('dt', {}, key),
        h('dd', {}, h('code', { class: `code-value v-${typeof value}` }, formatValue(value))))));
    },
    /** Shows an error (a syntax error, a runtime error) and marks its line; null clears it. */
    showError(err) {
      const line = err && Number.isInteger(err.line) && err.line >= 1 ? err.line : null;
      if (!err) {
        error.hidden = true;
        error.textContent = '';
        error.removeAttribute('data-line');
      } else {
        error.hidden = false;
        error.textContent = err.message;
        if (line == null) error.removeAttribute('data-line');
        else error.setAttribute('data-line', String(line));
      }
      root.toggleAttribute('data-has-error', !!err);
      if (marks.error !== line) {
        marks.error = line;
        dispatchMarks();
      }
    },
    /** Paints the score card from [{id, title, pass, why}]; null hides it. */
    showGrade(rows) {
      if (!Array.isArray(rows)) {
        grade.hidden = true;
        grade.replaceChildren();
        grade.removeAttribute('data-passed');
        grade.removeAttribute('data-total');
        return;
      }
      const passed = rows.filter((r) => r.pass).length;
      grade.hidden = false;
      grade.setAttribute('data-passed', String(passed));
      grade.setAttribute('data-total', String(rows.length));
      grade.classList.toggle('all-pass', rows.length > 0 && passed === rows.length);
      grade.replaceChildren(
        h('h3', { class: 'code-grade-title' }, 'Score ', h('b', {}, `${passed}/${rows.length}`),
          h('span', { class: 'code-grade-sub' }, ' · a check opens its timeline')),
        h('ul', { class: 'code-checks' }, ...rows.map((row) => h('li', {},
          h('button', {
            type: 'button',
            class: `code-check ${row.pass ? 'pass' : 'fail'}`,
            'data-check': row.id,
            'data-pass': row.pass ? 'true' : 'false',
          },
          h('span', { class: 'code-check-mark', 'aria-hidden': 'true' }, row.pass ? '✓' : '✗'),
          h('span', { class: 'sr-only' }, row.pass ? 'passed: ' : 'failed: '),
          h('span', { class: 'code-check-title' }, row.title),
          h('span', { class: 'code-check-why' }, row.why))))));
    },
    isOwn() {
      return mode === 'own';
    },
    /** The starting template arrived (it is fetched): it replaces an untouched one. */
    setTemplate(text) {
      const untouched = ownSource === template;
      template = String(text);
      if (!untouched) return;
      ownSource = template;
      if (mode === 'own') setDoc(template);
    },
  };

  api.close();
  root.setAttribute('data-mode', mode);
  tools.hidden = true;
  return api;
}
