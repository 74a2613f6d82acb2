// The code panel beside the timeline: a strategy module's source (read-only,
// the line that produced the current event marked, the module's state next
// to it), or the learner's own interceptor in an editor, with its score card.
// It paints what app.js hands it and reports clicks; whether a module is fit
// to run is decided in lib/module-check.js. Closed unless its button
// (`data-action="code"`, found by aria-controls) opens it. The editor is
// code-editor.js's, the score card score-card.js's; the editor and the
// module checker load when first needed (code-parts.js).

import { h } from './dom.js';
import { deferredEditor, loadChecker } from './code-parts.js';
import { paintScoreCard } from './score-card.js';
import { MAX_MODULE_BYTES } from './lib/module-size.js';

/** Where the last own module is kept between visits. */
export const OWN_MODULE_KEY = 'refresh-race.interceptor';
/** The name a saved module gets. */
export const SAVE_NAME = 'interceptor.js';
/** How long typing must pause before the module is checked (and stored) again. */
const CHECK_DELAY_MS = 250;

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
 * @param {(id: string) => void} [options.onShowCounterexample] a row's "Show me" was clicked
 * @param {string} options.template                          the own module when nothing is stored (the naive strategy)
 */
export function mountCodePanel(root, { onRun, onGrade, onOpenCheck, onShowCounterexample = () => {}, template = '' }) {
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

  // ---- the editor (CodeMirror once the panel first opens) ----
  const editor = deferredEditor(editorBox, {
    onDocChanged: () => {
      if (mode === 'own') ownChanged();
    },
  });
  /** lib/module-check.js's checkModule, once it has been loaded. */
  let checkModule = null;

  function dispatchMarks() {
    editor.mark(marks);
  }

  function setDoc(source) {
    editor.setDoc(source);
  }

  function setMode(next, { source, ariaLabel }) {
    mode = next;
    root.setAttribute('data-mode', next);
    tools.hidden = next !== 'own';
    ownButton.hidden = next === 'own';
    editor.configure(next !== 'own', ariaLabel);
    setDoc(source);
  }

  // ---- own module: checked and kept as it is typed ----
  // A refused file's message: it stays until the module changes, so a check
  // of the module still in the editor (the parser's first load may finish
  // after the refusal) does not wipe it.
  let refusal = null;

  function ownChanged() {
    refusal = null;
    ownSource = editor.text();
    clearTimeout(checkTimer);
    checkTimer = setTimeout(checkNow, CHECK_DELAY_MS);
  }

  /** Checks the own module now; `keep`: also stores it (not for the untouched template, so a newer one shows next time). */
  function checkNow({ keep = true } = {}) {
    clearTimeout(checkTimer);
    checkTimer = null;
    if (mode !== 'own') return;
    if (keep) store(ownSource);
    if (!checkModule) {
      // The first check loads the parser, then checks what is there by then.
      const source = ownSource;
      loadChecker().then((checker) => {
        checkModule = checker.checkModule;
        if (mode === 'own' && !checkTimer && ownSource === source) checkNow({ keep: false });
      }, (err) => api.showError({ message: `The module checker did not load: ${err.message}`, line: null }));
      return;
    }
    const result = checkModule(ownSource);
    if (refusal) api.showError({ message: refusal, line: null });
    else api.showError(result.ok ? null : { message: result.message, line: result.line });
  }

  function say(text) {
    status.textContent = text;
  }

  async function loadFile(file) {
    if (!file) return;
    const refuse = (message) => {
      refusal = message;
      api.showError({ message, line: null });
    };
    if (file.size > MAX_MODULE_BYTES) {
      refuse(`${file.name} is ${kib(file.size)}: a module may be at most ${kib(MAX_MODULE_BYTES)}.`);
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
      refuse(`${file.name} is not a text file: load a JavaScript module (.js or .mjs).`);
      return;
    }
    if (mode !== 'own') api.showOwn();
    refusal = null;
    setDoc(text);
    checkNow();
    say(`Loaded ${file.name}`);
  }

  function save() {
    const source = editor.text();
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
    const shown = target && target.closest('[data-action="show-counterexample"]');
    if (shown && root.contains(shown)) {
      onShowCounterexample(shown.getAttribute('data-for-check'));
      return;
    }
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
        editor.focus();
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
      editor.load().then(() => editor.requestMeasure(), // it was laid out while hidden
        (err) => api.showError({ message: `The editor did not load: ${err.message}`, line: null }));
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
      refusal = null;
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
      return editor.text();
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
      const line = Number.isInteger(n) && n >= 1 && n <= editor.lines() ? n : null;
      marks.current = line;
      if (line == null) root.removeAttribute('data-current-line');
      else root.setAttribute('data-current-line', String(line));
      editor.mark(marks, line);
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
    /**
     * Paints the score card from [{id, title, pass, why, orders?, …}]
     * (score-card.js); null hides it. `total`: the rows still to come
     * keep it running.
     */
    showGrade(rows, total) {
      paintScoreCard(grade, rows, total);
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
