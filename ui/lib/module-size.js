// How large a learner's module may be. Its own file, without the parser:
// a link's checks (lib/link.js) need the bound at page load, the parser
// (lib/module-check.js, acorn) only once a module is checked.

/** The largest module the panel loads from a file or a link (a strategy is a page of code). */
export const MAX_MODULE_BYTES = 64 * 1024;
