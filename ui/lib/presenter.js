// Presenter mode and the page scale: what P and Ctrl +/−/0 do, and what the
// browser keeps of them. No DOM: app.js reads the keys and localStorage,
// asks here, and paints.
//
// The theme (`dark`, `presenter`) and the scale (the root font size times
// one of SCALE_STEPS, like a browser's zoom levels) are kept in
// localStorage, so a reload keeps them (in the desktop window only while it
// is open: each launch serves the page on a new port, a new origin). The
// page scales with CSS, not the browser's zoom: WebKitGTK in the desktop
// window does not zoom by itself.

import { THEMES, themeName } from './colors.js';

export const THEME_KEY = 'refresh-race.theme';
export const SCALE_KEY = 'refresh-race.scale';

/** Page scales Ctrl + and Ctrl − step through (1 is Ctrl 0's). */
export const SCALE_STEPS = [0.67, 0.75, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2];

/**
 * Each theme's own type size, times the user's scale: presenter type is
 * larger (the root font; every rem and the timeline's geometry follow it).
 */
export const THEME_TYPE_SCALE = { dark: 1, presenter: 1.12 };

/** The theme kept in storage (text or null): a known name, else the default. */
export function parseTheme(text) {
  return themeName(text);
}

/** P: the other theme. */
export function toggleTheme(theme) {
  return themeName(theme) === 'presenter' ? THEMES[0] : 'presenter';
}

/** The scale kept in storage (text or null): the nearest step, 1 when unreadable. */
export function parseScale(text) {
  const value = Number(text);
  if (text == null || text === '' || !Number.isFinite(value) || value <= 0) return 1;
  return nearestStep(value);
}

function nearestStep(value) {
  let best = SCALE_STEPS[0];
  for (const step of SCALE_STEPS) if (Math.abs(step - value) < Math.abs(best - value)) best = step;
  return best;
}

/**
 * The scale after Ctrl + (`direction` 1) or Ctrl − (-1): the next step,
 * held at the ends; Ctrl 0 (`direction` 0) is 1.
 */
export function stepScale(scale, direction) {
  if (direction === 0) return 1;
  const index = SCALE_STEPS.indexOf(nearestStep(Number(scale) || 1));
  const next = Math.max(0, Math.min(SCALE_STEPS.length - 1, index + Math.sign(direction)));
  return SCALE_STEPS[next];
}

/** The factor on the root font size: the theme's type times the user's scale. */
export function rootScale(theme, scale) {
  return Number(((THEME_TYPE_SCALE[themeName(theme)] ?? 1) * (Number(scale) || 1)).toFixed(4));
}

/** "125%", or '' at 100 % (nothing to say). */
export function scaleLabel(scale) {
  const percent = Math.round((Number(scale) || 1) * 100);
  return percent === 100 ? '' : `${percent}%`;
}

/**
 * What a keydown means for the view, or null:
 * - `scale-up`, `scale-down`, `scale-reset`: Ctrl (⌘ on a Mac) with + / = ,
 *   − / _ , 0 (main row or keypad), wherever the focus is, like a browser's zoom;
 * - `presenter`: P alone, when the focus is not in a field that takes
 *   letters (`inField`: an input, select, textarea or contenteditable).
 * AltGr arrives as Ctrl+Alt on some systems: with Alt, nothing.
 * @param {{key: string, code?: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean, repeat?: boolean}} event
 * @param {{inField?: boolean}} [where]
 */
export function viewKeyAction(event, { inField = false } = {}) {
  if (!event || event.altKey) return null;
  const key = String(event.key ?? '');
  const code = String(event.code ?? '');
  if (event.ctrlKey || event.metaKey) {
    if (key === '+' || key === '=' || code === 'NumpadAdd') return 'scale-up';
    if (key === '-' || key === '_' || key === '−' || code === 'NumpadSubtract') return 'scale-down';
    if (key === '0' || code === 'Digit0' || code === 'Numpad0') return 'scale-reset';
    return null;
  }
  if ((key === 'p' || key === 'P') && !inField && !event.repeat) return 'presenter';
  return null;
}
