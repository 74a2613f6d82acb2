// One registry of the page's actions: each has a name, the keys that
// trigger it, when its button is enabled and what it does. Buttons,
// keyboard and presenter mode all go through it, so a key and its button
// never disagree about what they mean.
//
// Pure: a key is read from a plain object with KeyboardEvent's fields
// (key, code, ctrlKey, metaKey, altKey, shiftKey, repeat) plus two the page
// knows: inField (typing in an input, select, textarea or editor) and
// onButton (focus on a button, where Space presses it).

/**
 * @typedef {object} ActionSpec
 * @property {string} name
 * @property {(key: object, ctx: object) => boolean} [key] does this key mean this action now?
 * @property {(ctx: object) => boolean} [enabled] is its button enabled? (default: always)
 * @property {(...args: any[]) => any} perform
 * @property {boolean} [anywhere] also in fields and with Ctrl/Meta/Alt held (the page's own zoom)
 * @property {boolean} [repeat] a held key repeats it (otherwise a repeat does nothing)
 * @property {string} [title] what it does, for a tooltip or a list of keys
 */

/** A new, empty registry. Actions are matched against keys in the order they were defined. */
export function createActions() {
  const specs = new Map();

  function spec(name) {
    const found = specs.get(name);
    if (!found) throw new Error(`no action named ${JSON.stringify(name)}`);
    return found;
  }

  return {
    /** Adds an action; a name is defined once. */
    define(action) {
      if (!action || typeof action.name !== 'string' || !action.name) throw new Error('an action needs a name');
      if (typeof action.perform !== 'function') throw new Error(`the action ${action.name} needs perform()`);
      if (specs.has(action.name)) throw new Error(`the action ${action.name} is defined twice`);
      specs.set(action.name, Object.freeze({ ...action }));
      return this;
    },
    has(name) {
      return specs.has(name);
    },
    /** The names, in definition order. */
    names() {
      return [...specs.keys()];
    },
    /** The action's title (empty when it has none). */
    title(name) {
      return spec(name).title ?? '';
    },
    /** Whether the action's button is enabled in `ctx`. */
    enabled(name, ctx) {
      const { enabled } = spec(name);
      return enabled ? !!enabled(ctx) : true;
    },
    /** Does the action (a button's press, a key's, the presenter's); returns what perform returned. */
    perform(name, ...args) {
      return spec(name).perform(...args);
    },
    /**
     * The action a key triggers in `ctx`, or null (the page keeps the key).
     * The first action (in definition order) whose key matches wins; a
     * repeat of a key whose action does not repeat triggers nothing.
     */
    forKey(key, ctx) {
      if (!key) return null;
      const guarded = !!(key.ctrlKey || key.metaKey || key.altKey || key.inField);
      for (const action of specs.values()) {
        if (!action.key) continue;
        if (guarded && !action.anywhere) continue;
        if (!action.key(key, ctx)) continue;
        if (key.repeat && !action.repeat) return null;
        return action.name;
      }
      return null;
    },
  };
}
