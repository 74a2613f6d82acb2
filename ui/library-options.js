// The options of a library on the bench (ui/lib/libraries.js): a small
// toggle beside the client control, shown only when the client is a
// library, that opens a panel floating over the page (so nothing under it
// moves and the verdict stays where it is): the library's own description
// and options (defaults, README words), and `data-control="library-options"`
// where the learner writes them as JSON. Checking is the pure
// `checkOptions`; this file only paints.

import { checkOptions, describeOptions, libraryOverrides } from './lib/libraries.js';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children);
  return node;
}

/** Mounts into `root` ([data-library-options]). `onChange()` after each edit. */
export function mountLibraryOptions(root, { onChange = () => {} } = {}) {
  let library = null;
  const texts = new Map(); // library name → its options text, kept while the page lives

  const toggle = el('button', { type: 'button', class: 'library-options-toggle', 'data-action': 'library-options', 'aria-expanded': 'false', 'aria-controls': 'library-options-panel' }, 'options');
  const panel = el('div', { class: 'library-options-panel', id: 'library-options-panel', role: 'group', 'aria-labelledby': 'library-options-title', hidden: true });
  const title = el('h2', { id: 'library-options-title', class: 'library-options-title' });
  const close = el('button', { type: 'button', class: 'library-options-close', 'data-action': 'close-library-options', 'aria-label': 'Close the library options' }, '✕');
  const summary = el('p', { class: 'library-summary', 'data-library-summary': true });
  const input = el('textarea', {
    'data-control': 'library-options', name: 'library-options', rows: 3, spellcheck: 'false',
    'aria-describedby': 'library-options-help library-options-error', placeholder: '{} — the library\'s defaults',
  });
  const help = el('p', { id: 'library-options-help', class: 'library-options-help' }, 'JSON, e.g. {"statusCodes": [401]}. Empty: the library\'s defaults. Applies to the next run.');
  const error = el('p', { id: 'library-options-error', class: 'library-options-error', 'data-library-options-error': true, role: 'alert', hidden: true });
  const docs = el('dl', { class: 'library-docs', 'data-library-docs': true });
  const label = el('label', { class: 'library-options-label' }, 'options (JSON)', input);
  panel.append(el('div', { class: 'library-options-head' }, title, close), summary, label, help, error, docs);
  root.append(toggle, panel);

  function setOpen(open) {
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) input.focus();
  }

  function paintCheck() {
    const check = library ? checkOptions(library, input.value) : { ok: true };
    error.hidden = check.ok;
    error.textContent = check.ok ? '' : check.message;
    input.toggleAttribute('aria-invalid', !check.ok);
    root.toggleAttribute('data-invalid', !check.ok);
    return check;
  }

  toggle.addEventListener('click', () => setOpen(panel.hidden));
  close.addEventListener('click', () => {
    setOpen(false);
    toggle.focus();
  });
  root.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !panel.hidden) {
      event.stopPropagation();
      setOpen(false);
      toggle.focus();
    }
  });
  input.addEventListener('input', () => {
    if (library) texts.set(library.name, input.value);
    paintCheck();
    onChange();
  });
  // Keys typed here are the learner's, not the page's shortcuts (1–4, P, Space…).
  input.addEventListener('keydown', (event) => event.stopPropagation());

  return {
    /** Shows the toggle for `next` (a library of ui/lib/libraries.js), or hides everything (null). */
    show(next) {
      library = next;
      root.hidden = !library;
      paintOverrides(library);
      if (!library) {
        setOpen(false);
        return;
      }
      root.setAttribute('data-library', library.name);
      title.replaceChildren(`${library.package} ${library.version} `, el('a', { href: library.docs, target: '_blank', rel: 'noopener' }, 'README'));
      summary.textContent = library.summary;
      input.value = texts.get(library.name) ?? '';
      docs.replaceChildren(...describeOptions(library).flatMap((option) => [
        el('dt', { 'data-option': option.name }, el('code', {}, option.name), ` (default ${option.default})`),
        el('dd', {}, option.doc),
      ]));
      toggle.title = `Options of ${library.package} ${library.version}, as its README documents them`;
      paintCheck();
    },
    /** Sets the options of `lib` (an object, or null for its defaults), as a link carries them. */
    set(lib, options) {
      texts.set(lib.name, options && Object.keys(options).length ? JSON.stringify(options) : '');
      if (library && library.name === lib.name) {
        input.value = texts.get(lib.name);
        paintCheck();
      }
    },
    /** The options to run with: `{ ok, options }` or `{ ok: false, message }`. */
    read() {
      return paintCheck();
    },
    open() {
      setOpen(true);
    },
  };
}

/**
 * Marks the controls whose value a library run does not use (its own
 * settings: token lifetime, mode): the value it runs with beside the
 * control (`data-library-override`), the reason in its title.
 */
function paintOverrides(library) {
  for (const note of document.querySelectorAll('[data-library-override]')) note.remove();
  for (const control of document.querySelectorAll('[data-library-overridden]')) {
    control.removeAttribute('data-library-overridden');
    control.title = control.dataset.titleBeforeLibrary ?? '';
    delete control.dataset.titleBeforeLibrary;
  }
  for (const { control: name, value, words } of libraryOverrides(library)) {
    const control = document.querySelector(`[data-control="${name}"]`);
    if (!control) continue;
    control.dataset.titleBeforeLibrary = control.title;
    control.setAttribute('data-library-overridden', value);
    control.title = words;
    control.after(el('span', { class: 'library-override', 'data-library-override': name, title: words }, `library: ${value}${name === 'access-ttl' ? ' s' : ''}`));
  }
}

/**
 * Paints the client picker (`select`) with `groups` (ui/lib/libraries.js
 * `pickerGroups`): one `<optgroup>` each (`data-group`; the libraries' also
 * `data-libraries`), keeping the picked value when it is still offered.
 */
export function paintClientPicker(select, groups) {
  const current = select.value;
  select.replaceChildren(...groups.map((group) => {
    const node = el('optgroup', { label: group.label, 'data-group': group.key, 'data-libraries': group.key === 'libraries' });
    node.append(...group.options.map((option) => {
      const item = new Option(option.label, option.value);
      if (option.title) item.title = option.title;
      return item;
    }));
    return node;
  }));
  if ([...select.options].some((option) => option.value === current)) select.value = current;
}
