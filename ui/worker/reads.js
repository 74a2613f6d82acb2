// A library that reads the body of a Response it made is still at work
// while the read is pending: ky reads a refused answer's body before it
// throws its HTTPError (readResponseText, a reader.read() loop), and its
// `.json()` reads the refresh's answer before the token is stored and the
// request retried; the browser hands a body over tasks later, under load
// more than the harness's quiet tasks. `watchReads` counts the body reads
// still pending, a stream's reader.read() and a Response's or Request's
// text()/json()/… alike, so the harness does not tell a held run it caught
// up meanwhile (as watchTimers does for short timers): the lab would read a
// state the module has not finished writing, its request not yet done.

/** The body-reading methods of Response and Request (Body mixin). */
const BODY_READS = ['text', 'json', 'arrayBuffer', 'blob', 'bytes', 'formData'];

/**
 * Wraps `scope`'s ReadableStreamDefaultReader.read and the body reads of
 * its Response and Request; returns { pending() }.
 */
export function watchReads(scope) {
  let pending = 0;
  const done = () => {
    pending -= 1;
  };
  const watch = (proto, name) => {
    const original = proto && proto[name];
    if (typeof original !== 'function') return;
    try {
      Object.defineProperty(proto, name, {
        value: function watchedRead(...args) {
          const result = original.apply(this, args);
          pending += 1;
          Promise.resolve(result).then(done, done);
          return result;
        },
        configurable: true,
        writable: true,
      });
    } catch {
      // a scope that keeps its own: the harness then cannot see them
    }
  };
  watch(scope.ReadableStreamDefaultReader && scope.ReadableStreamDefaultReader.prototype, 'read');
  for (const type of [scope.Response, scope.Request]) {
    for (const name of BODY_READS) watch(type && type.prototype, name);
  }
  return { pending: () => pending };
}
