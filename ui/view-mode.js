// The view: the theme (dark, or presenter mode's light, larger type), the
// page scale (Ctrl +/−/0) and the fold (what waits under More). Theme and
// scale are kept in localStorage; what the keys mean is decided in
// lib/presenter.js, the palette comes from lib/colors.js.

import { cssVariables } from './lib/colors.js';
import { THEME_KEY, SCALE_KEY, parseTheme, toggleTheme, parseScale, stepScale, rootScale, scaleLabel } from './lib/presenter.js';

export function readStored(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage off (private mode): the defaults
  }
}

export function store(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // storage full or off: the choice lasts as long as the page
  }
}

/**
 * Mounts the view's buttons' state. `onRestyle()` is called after the theme
 * or the scale changed (the timelines' geometry follows them).
 */
export function mountViewMode({ presenterButton, advancedButton, scaleNote, onRestyle }) {
  const view = { theme: parseTheme(readStored(THEME_KEY)), scale: parseScale(readStored(SCALE_KEY)) };

  /** Paints the theme (the palette's CSS variables, from their one home) and the scale. */
  function apply() {
    const root = document.documentElement;
    for (const [name, value] of Object.entries(cssVariables(view.theme))) root.style.setProperty(name, value);
    root.style.setProperty('--root-scale', String(rootScale(view.theme, view.scale)));
    document.body.setAttribute('data-theme', view.theme);
    presenterButton.setAttribute('aria-pressed', view.theme === 'presenter' ? 'true' : 'false');
    const label = scaleLabel(view.scale);
    scaleNote.textContent = label;
    scaleNote.hidden = !label;
    onRestyle();
  }

  /** Unfolds (or folds again) what the first screen keeps under More. */
  function setAdvanced(open) {
    document.body.toggleAttribute('data-advanced', open);
    advancedButton.setAttribute('aria-expanded', open ? 'true' : 'false');
  }

  return {
    apply,
    setAdvanced,
    toggleAdvanced: () => setAdvanced(!document.body.hasAttribute('data-advanced')),
    /** P and the presenter button: the other theme, folded. */
    togglePresenter() {
      view.theme = toggleTheme(view.theme);
      store(THEME_KEY, view.theme);
      setAdvanced(false);
      apply();
    },
    /** Ctrl + (1), Ctrl − (−1), Ctrl 0 (0). */
    scale(direction) {
      view.scale = stepScale(view.scale, direction);
      store(SCALE_KEY, String(view.scale));
      apply();
    },
  };
}
